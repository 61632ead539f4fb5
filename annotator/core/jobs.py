from celery import shared_task


@shared_task(name="core.ping", ignore_result=False)
def ping(payload: str = "pong") -> str:
    """Echo; proves a worker is consuming the broker (health checks and tests)."""
    return payload
