from django.conf import settings
from django.db import models

from annotator.core.ids import ID_LENGTH, new_id


class EntityIdField(models.CharField):
    """Primary key holding a 24-hex, creation-ordered id (see core.ids)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", ID_LENGTH)
        kwargs.setdefault("primary_key", True)
        kwargs.setdefault("default", new_id)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)


def author_field() -> models.ForeignKey:
    """Who wrote a row (creator, updater, status setter): a user reference with no index and no
    database constraint. PostgreSQL checks each constraint row by row at commit, which made bulk
    writes (imports, big tasks) markedly slower, and Django applies SET_NULL itself when a user
    is deleted."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
