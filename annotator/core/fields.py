import re

import orjson
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


# orjson reads integers past 64 bits as floats; text with such a number goes through the
# standard library, which keeps them exact (a float literal that long takes that path too).
_LONG_NUMBER = re.compile(r"\d{19}")


class JSONField(models.JSONField):
    """Django's JSONField, decoded with orjson: decoding took about an eighth of the server's
    CPU when listing annotations. Text orjson refuses (NaN, or a lone surrogate that SQLite
    kept) falls back to Django's own decoding, so every stored value reads as before.
    Migrations see Django's field: the column is the same."""

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.JSONField", args, kwargs

    def from_db_value(self, value, expression, connection):
        if self.decoder is None and isinstance(value, str) and not _LONG_NUMBER.search(value):
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                pass
        return super().from_db_value(value, expression, connection)
