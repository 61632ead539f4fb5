"""The Celery worker that runs inside the web process in the embedded default.

It is a real worker (the same WorkController that `celery worker` runs), consuming
kombu's in-memory transport on a thread pool, so background jobs behave the same as
in the scale-out mode, only without a separate process.
"""

import logging
import threading

from django.conf import settings

logger = logging.getLogger(__name__)
_started: "EmbeddedWorker | None" = None
_lock = threading.Lock()


class EmbeddedWorker:
    def __init__(self) -> None:
        from celery.worker import WorkController

        from annotator.celery import app

        self.controller = WorkController(
            app=app,
            hostname="embedded@%h",
            pool_cls="threads",
            concurrency=settings.CELERY_EMBEDDED_CONCURRENCY,
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
            loglevel=settings.LOGGING["loggers"]["celery"]["level"],
        )
        self.thread = threading.Thread(target=self.controller.start, name="celery-embedded", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def is_alive(self) -> bool:
        return self.thread.is_alive()

    def stop(self) -> None:
        self.controller.stop(in_sighandler=False)
        self.thread.join(timeout=10)


def start_embedded_worker() -> EmbeddedWorker:
    """Start the in-process worker once; later calls return the running one."""
    global _started
    with _lock:
        if _started is None or not _started.is_alive():
            _started = EmbeddedWorker()
            _started.start()
            logger.info("embedded Celery worker started (%s threads)", settings.CELERY_EMBEDDED_CONCURRENCY)
        return _started


def embedded_worker() -> EmbeddedWorker | None:
    return _started
