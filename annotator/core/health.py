"""GET /healthz: the database, the channel layer and the broker, each timed."""

import asyncio
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from annotator.core.worker import embedded_worker

CHECK_TIMEOUT_SECONDS = 3


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def _layer_round_trip() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel("healthz.")
    await layer.send(channel, {"type": "healthz.ping"})
    message = await asyncio.wait_for(layer.receive(channel), timeout=CHECK_TIMEOUT_SECONDS)
    if message.get("type") != "healthz.ping":
        raise RuntimeError("channel layer returned a different message")


def _check_channel_layer() -> None:
    async_to_sync(_layer_round_trip)()


def _check_broker() -> None:
    from annotator.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)


def _check_embedded_worker() -> None:
    worker = embedded_worker()
    if worker is None or not worker.is_alive():
        raise RuntimeError("the embedded Celery worker is not running")


def _run(check) -> dict:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # noqa: BLE001 - a health check reports failures, it does not raise them
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


@require_GET
def healthz(request):
    checks = {
        "database": _run(_check_database),
        "channelLayer": _run(_check_channel_layer),
        "broker": _run(_check_broker),
    }
    if settings.CELERY_WORKER_EMBEDDED:
        checks["worker"] = _run(_check_embedded_worker)
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
    )
