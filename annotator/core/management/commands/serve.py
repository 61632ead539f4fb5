"""python manage.py serve: the ASGI app on uvicorn, plus the embedded worker when configured."""

import os

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from annotator.core.worker import start_embedded_worker


class Command(BaseCommand):
    help = "Serve HTTP and websockets; in the embedded default also run the Celery worker in-process."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("WEB_CONCURRENCY", "1")),
            help="server processes (scale-out mode only: the embedded channel layer and broker live in one process)",
        )

    def handle(self, *args, host: str, port: int, workers: int, **options):
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        if workers > 1 and not settings.REDIS_URL:
            raise CommandError(
                "Several server processes need the scale-out mode (REDIS_URL): in the embedded default the "
                "channel layer and the broker live inside one process."
            )
        if workers > 1 and settings.CELERY_WORKER_EMBEDDED:
            raise CommandError(
                "Several server processes cannot share an embedded Celery worker (it would live in the parent, "
                "and /healthz in the children would never see it): set CELERY_WORKER_EMBEDDED=0 and run `make worker`."
            )
        if settings.CELERY_WORKER_EMBEDDED:
            start_embedded_worker()

        from annotator.celery import app

        for job in settings.STARTUP_JOBS:  # catch up on work whose messages may have been lost
            app.send_task(job)
        self.stdout.write(f"Annotator on http://{host}:{port}/  (API docs at /api/docs/)")
        uvicorn.run(
            "annotator.asgi:application",
            host=host,
            port=port,
            workers=workers,
            lifespan="off",
            log_level=settings.LOGGING["root"]["level"].lower(),
            proxy_headers=False,
        )
