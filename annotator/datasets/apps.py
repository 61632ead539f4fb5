from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "annotator.datasets"
    label = "datasets"

    def ready(self) -> None:
        from annotator.datasets import commands  # noqa: F401 - registers the clone and merge handlers
