from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "annotator.exchange"
    label = "exchange"

    def ready(self) -> None:
        from annotator.exchange import exporting, importing  # noqa: F401 - registers the command handlers
