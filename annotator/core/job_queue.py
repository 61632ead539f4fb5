"""Queueing jobs so that a broker outage does not fail the request that asked for one.

Jobs are sent after the request's transaction commits. If the broker (Redis) is down at that
moment, the write has already happened: raising would answer 500 for a change that was made
and lose the job. Instead the job waits in this process and a retry thread sends it once the
broker is back (jobs still waiting when the process stops are lost; the thumbnail backfill sent
at startup recovers those, and a command whose job never ran stays queued, visibly).
"""

import logging
import threading
import time
from typing import Any

logger = logging.getLogger(__name__)

RETRY_INTERVAL_SECONDS = 1.0


class _Retrier:
    """One thread that resends jobs the broker refused, oldest first, until they go out."""

    def __init__(self) -> None:
        self._waiting: list[tuple[Any, tuple[Any, ...]]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, task, args: tuple[Any, ...]) -> None:
        with self._lock:
            self._waiting.append((task, args))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="job-retrier", daemon=True)
                self._thread.start()

    def waiting(self) -> int:
        with self._lock:
            return len(self._waiting)

    def _run(self) -> None:
        while True:
            time.sleep(RETRY_INTERVAL_SECONDS)
            with self._lock:
                if not self._waiting:
                    self._thread = None
                    return
                task, args = self._waiting[0]
            try:
                task.apply_async(args=args, retry=False)
            except Exception:  # noqa: BLE001 - still down; try again after the interval
                continue
            with self._lock:
                self._waiting.pop(0)
            logger.info("job %s sent after the broker came back", task.name)


_retrier = _Retrier()


def job_send(task, *args: Any) -> None:
    """Queue `task(*args)`; if the broker cannot take it now, keep it and resend it later."""
    try:
        task.apply_async(args=args)
    except Exception:  # noqa: BLE001 - kombu raises its own OperationalError, redis its errors
        logger.warning("the broker refused job %s; it will be resent when the broker is back", task.name)
        _retrier.submit(task, args)


def jobs_waiting() -> int:
    """How many jobs wait for the broker in this process."""
    return _retrier.waiting()
