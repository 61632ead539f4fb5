"""Commands: long operations run by Celery jobs, with status and live progress.

A service starts one with `command_start(...)`; after commit the `core.command_run` job
finds the handler registered for the command's type and runs it with a `Progress`.
Handlers commit their work in batches, report progress, and return a result dict.
Whatever a handler raises fails the command with a message; a worker that dies leaves a
stale heartbeat, and the command is then failed (on its next read or retry), never left
running forever.
"""

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from annotator.core.errors import NotFound
from annotator.core.events import broadcast, project_group
from annotator.core.ids import is_valid_id
from annotator.core.json import iso
from annotator.core.models import Command

logger = logging.getLogger(__name__)

CommandHandler = Callable[[Command, "Progress"], dict[str, Any]]
_HANDLERS: dict[str, CommandHandler] = {}


class CommandFailed(Exception):
    """Raised by a handler to fail its command with a message meant for the user, and
    optionally a result (an import's report of what it rejected) kept on the command."""

    def __init__(self, message: str, *, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.result = result


def command_handler(command_type: str) -> Callable[[CommandHandler], CommandHandler]:
    """Register the function that runs commands of `command_type`."""

    def register(handler: CommandHandler) -> CommandHandler:
        _HANDLERS[command_type] = handler
        return handler

    return register


# Spec keys for the worker only: where an upload waits on the server's disk.
PRIVATE_SPEC_KEYS = frozenset({"file"})


def command_json(command: Command) -> dict[str, Any]:
    spec = {key: value for key, value in command.spec.items() if key not in PRIVATE_SPEC_KEYS}
    return {
        "id": command.id,
        "url": f"{settings.API_BASE_PATH}/commands/{command.id}",
        "type": command.type,
        "status": command.status,
        "progress": command.progress,
        "spec": {**spec, **command.result},
        "error": command.error or None,
        "projectId": command.project_id,
        "createdAt": iso(command.created_at),
        "updatedAt": iso(command.updated_at),
    }


def _announce(command: Command) -> None:
    broadcast(project_group(command.project_id), "command.updated", command_json(command), coalesce=True)


def command_start(*, user, project, command_type: str, spec: dict[str, Any]) -> Command:
    """Create a command and queue its job after the surrounding transaction commits."""
    if command_type not in _HANDLERS:
        raise KeyError(f"no handler registered for command type {command_type!r}")
    from annotator.core.job_queue import job_send
    from annotator.core.jobs import command_run

    command = Command.objects.create(project=project, created_by=user, type=command_type, spec=spec)
    transaction.on_commit(lambda: job_send(command_run, command.id))
    _announce(command)
    return command


def command_record(*, user, project, command_type: str, spec: dict[str, Any]) -> Command:
    """A command for work already done in the request (dtlpy expects a Command back from some
    quick calls and reads their `spec`): created as succeeded, nothing queued. Not announced:
    the caller has it in the response, and nobody follows a command that never ran (with 1,000
    sockets on a project its fan-out held the next change's events back by ~0.4 s)."""
    now = timezone.now()
    command = Command.objects.create(
        project=project,
        created_by=user,
        type=command_type,
        spec=spec,
        status=Command.Status.SUCCESS,
        progress=100,
        finished_at=now,
        result={},
    )
    return command


class SilentProgress:
    """A Progress for work run without a command (in a request, a seed, a benchmark)."""

    def update(self, percent: float, *, force: bool = False) -> None:
        pass

    def beat(self) -> None:
        pass


class Progress:
    """What a handler reports through; writes are throttled, the last one always lands."""

    MIN_INTERVAL_SECONDS = 0.5

    def __init__(self, command: Command) -> None:
        self.command = command
        self._last_write = 0.0

    def update(self, percent: float, *, force: bool = False) -> None:
        value = max(0, min(99, int(percent)))  # 100 only when the command succeeds
        now = time.monotonic()
        if not force and (value == self.command.progress or now - self._last_write < self.MIN_INTERVAL_SECONDS):
            return
        self._last_write = now
        self.command.progress = value
        self.command.heartbeat_at = timezone.now()
        Command.objects.filter(pk=self.command.pk).update(
            progress=value, heartbeat_at=self.command.heartbeat_at, updated_at=self.command.heartbeat_at
        )
        _announce(self.command)

    def beat(self) -> None:
        """Prove the worker is alive during a long step without progress to report."""
        self.command.heartbeat_at = timezone.now()
        Command.objects.filter(pk=self.command.pk).update(heartbeat_at=self.command.heartbeat_at)


def _finish(command: Command, *, status: str, error: str = "", result: dict | None = None) -> None:
    now = timezone.now()
    command.status = status
    command.error = error[:5000]
    command.finished_at = now
    command.updated_at = now
    fields = ["status", "error", "finished_at", "updated_at"]
    if status == Command.Status.SUCCESS:
        command.progress = 100
        fields.append("progress")
    if status == Command.Status.SUCCESS or result is not None:
        command.result = result or {}
        fields.append("result")
    command.save(update_fields=fields)
    _announce(command)


def _claim(command_id: str) -> Command | None:
    """Mark the command in progress for this attempt; None if there is nothing to run."""
    with transaction.atomic():
        command = Command.objects.select_for_update().filter(pk=command_id).first()
        if command is None or command.is_terminal:
            return None
        if command.attempts >= settings.COMMAND_MAX_ATTEMPTS:
            # A previous attempt's worker died mid-run (the message came back to the queue).
            _finish(command, status=Command.Status.FAILED, error="The worker running this command stopped.")
            return None
        command.attempts += 1
        command.status = Command.Status.IN_PROGRESS
        command.heartbeat_at = timezone.now()
        command.save(update_fields=["attempts", "status", "heartbeat_at", "updated_at"])
    _announce(command)
    return command


def command_execute(*, command_id: str) -> None:
    """Run one attempt of a command (called by the job; safe to call twice)."""
    command = _claim(command_id)
    if command is None:
        return
    handler = _HANDLERS.get(command.type)
    if handler is None:
        _finish(command, status=Command.Status.FAILED, error=f"Unknown command type {command.type}.")
        return
    try:
        result = handler(command, Progress(command))
    except CommandFailed as exc:
        _finish(command, status=Command.Status.FAILED, error=str(exc), result=exc.result)
    except Exception as exc:
        logger.exception("command %s (%s) failed", command.id, command.type)
        _finish(command, status=Command.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
    else:
        _finish(command, status=Command.Status.SUCCESS, result=result)


def command_fail_stale(*, command: Command) -> Command:
    """Fail a running command whose worker has not been heard from within the lease."""
    lease = timedelta(seconds=settings.COMMAND_LEASE_SECONDS)
    if command.is_terminal or command.heartbeat_at is None or command.heartbeat_at > timezone.now() - lease:
        return command
    with transaction.atomic():
        locked = Command.objects.select_for_update().get(pk=command.pk)
        if not locked.is_terminal and locked.heartbeat_at and locked.heartbeat_at <= timezone.now() - lease:
            _finish(locked, status=Command.Status.FAILED, error="The worker running this command stopped responding.")
        return locked


def command_get(*, user, command_id: str) -> Command:
    """A command in a project the user belongs to (stale ones are failed on the way)."""
    from annotator.accounts.access import project_role

    command = Command.objects.filter(pk=command_id).first() if is_valid_id(command_id) else None
    if command is None or project_role(user=user, project_id=command.project_id) is None:
        raise NotFound("Command not found.")
    return command_fail_stale(command=command)
