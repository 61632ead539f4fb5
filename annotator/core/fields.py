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
