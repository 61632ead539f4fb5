"""python manage.py serve: the ASGI app on uvicorn, plus the embedded worker when configured."""

import os

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand

from annotator.core.worker import start_embedded_worker


class Command(BaseCommand):
    help = "Serve HTTP and websockets; in the embedded default also run the Celery worker in-process."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))

    def handle(self, *args, host: str, port: int, **options):
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
            lifespan="off",
            log_level=settings.LOGGING["root"]["level"].lower(),
            proxy_headers=False,
        )
