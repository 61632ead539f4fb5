from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "annotator.tasks"
    label = "tasks"

    def ready(self) -> None:
        # Registers the task-creation command and the DQL fields for tasks and item refs.
        from annotator.tasks import commands, resources  # noqa: F401
