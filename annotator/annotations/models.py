from django.db import models

from annotator.core.fields import EntityIdField, JSONField, author_field


class Annotation(models.Model):
    """One annotation on an item, in the API's coordinates (masks as COCO RLE, see masks.py).

    `version` goes up by one on every change; a write that names an older version gets 409.
    """

    id = EntityIdField()
    # Foreign keys carry no index of their own where a composite index below starts with them:
    # every index costs each insert, and on PostgreSQL Django adds a second (`_like`) index per
    # text key, which no query here uses. An import writes 100,000 rows at a time.
    item = models.ForeignKey("datasets.Item", on_delete=models.CASCADE, related_name="annotations", db_index=False)
    # Denormalised from the item: dataset-wide queries (DQL, exports) need no join. No database
    # constraint: the item's already guarantees the dataset, and each is checked row by row.
    dataset = models.ForeignKey(
        "datasets.Dataset", on_delete=models.CASCADE, related_name="annotations", db_index=False, db_constraint=False
    )
    type = models.CharField(max_length=16)
    label = models.CharField(max_length=512)
    # Geometry as the API gives it (see geometry.py); for `binary`, {"size", "counts", "bbox"}.
    coordinates = JSONField(default=list, blank=True)
    # {"system": {"status", "attributes", "objectId", "parentId", ...}, "user": {...}}
    metadata = JSONField(default=dict, blank=True)
    description = models.TextField(blank=True, null=True)
    version = models.PositiveIntegerField(default=1)
    # (a third of a 100,000-annotation import's time had gone to checking these two at commit)
    creator = author_field()
    updated_by = author_field()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["item", "id"], name="annotation_item_id"),
            models.Index(fields=["creator"], name="annotation_creator"),
            models.Index(fields=["updated_by"], name="annotation_updated_by"),
            # `type` rides along so that dtlpy's default `type $in [...]` filter is answered from the
            # index too (PostgreSQL; SQLite ignores INCLUDE).
            models.Index(fields=["dataset", "label", "id"], include=["type"], name="annotation_dataset_label_id"),
            models.Index(fields=["dataset", "type", "id"], name="annotation_dataset_type_id"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.label}"


class AnnotationChange(models.Model):
    """History: one row per change to an annotation, kept after the annotation is deleted.

    `before` and `after` are the annotation's stored JSON (None before a creation and after
    a deletion), so that a deleted annotation can be restored exactly.
    """

    class Action(models.TextChoices):
        CREATED = "created"
        UPDATED = "updated"
        DELETED = "deleted"
        RESTORED = "restored"

    annotation_id = models.CharField(max_length=24)
    # No database constraint (see Annotation.creator): Django deletes history with its item.
    item = models.ForeignKey(
        "datasets.Item",
        on_delete=models.CASCADE,
        related_name="annotation_changes",
        db_index=False,
        db_constraint=False,
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    version = models.PositiveIntegerField()
    before = JSONField(null=True, blank=True)
    after = JSONField(null=True, blank=True)
    actor = author_field()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [  # plain btrees only: see Annotation
            models.Index(fields=["item", "id"], name="annotation_change_item_id"),
            models.Index(fields=["annotation_id", "id"], name="annotation_change_annotation"),
            models.Index(fields=["actor"], name="annotation_change_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.annotation_id} v{self.version}"
