from celery import shared_task


@shared_task(name="core.ping", ignore_result=False)
def ping(payload: str = "pong") -> str:
    """Echo; proves a worker is consuming the broker (health checks and tests)."""
    return payload


@shared_task(name="core.command_run", acks_late=True, reject_on_worker_lost=True)
def command_run(command_id: str) -> None:
    """Run a Command. A redelivery after a worker died counts as another attempt."""
    from annotator.core.commands import command_execute

    command_execute(command_id=command_id)
