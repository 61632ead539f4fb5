from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "annotator.annotations"
    label = "annotations"

    def ready(self) -> None:
        # Registers the bulk-operation command handlers and the annotation DQL query handler.
        from annotator.annotations import api, commands  # noqa: F401
