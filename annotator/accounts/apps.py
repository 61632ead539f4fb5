from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "annotator.accounts"
    label = "accounts"

    def ready(self) -> None:
        from annotator.accounts import checks, schema  # noqa: F401 - registers the checks and the OpenAPI auth extension
