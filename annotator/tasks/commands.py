"""Task creation as a Command: the request creates the task, the job fills it with items."""

from typing import Any

from annotator.core.commands import CommandFailed, Progress, command_handler
from annotator.core.models import Command
from annotator.tasks.models import Task
from annotator.tasks.services import task_fill


@command_handler("tasks.create")
def run_task_create(command: Command, progress: Progress) -> dict[str, Any]:
    task = Task.objects.select_related("dataset").filter(pk=command.spec["createdTaskId"]).first()
    if task is None:
        raise CommandFailed("The task was deleted before it was filled.")
    return {"createdTaskId": task.id, "itemsCount": task_fill(task=task, progress=progress)}
