from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from annotator.core.fields import EntityIdField, JSONField, author_field


class Dataset(models.Model):
    id = EntityIdField()
    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=200)
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    # Dataloop's metadata: {"system": {"recipes": [...], ...}, "user": {...}}
    metadata = JSONField(default=dict, blank=True)
    # Kept by services with F() expressions, so that lists need no COUNT per dataset.
    items_count = models.PositiveIntegerField(default=0)
    annotated_count = models.PositiveIntegerField(default=0)
    # Bumped in the same transaction by every write to the dataset's items, so that an item
    # count remembered under a version stays exact until the next write (selectors.item_page).
    items_version = models.PositiveBigIntegerField(default=0)
    # The project's "Binaries" dataset (Dataloop's name): export zips are stored there as items,
    # so that dtlpy downloads them as items. Lists and pages leave it out.
    system = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(Lower("name"), "project", name="dataset_name_unique_in_project")]

    def __str__(self) -> str:
        return self.name


class Blob(models.Model):
    """Stored bytes, content-addressed: two items with the same bytes share one blob."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.BigIntegerField()
    mimetype = models.CharField(max_length=100)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    has_thumbnail = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.sha256

    @property
    def relative_path(self) -> str:
        return f"blobs/{self.sha256[:2]}/{self.sha256[2:4]}/{self.sha256}"

    @property
    def thumbnail_relative_path(self) -> str:
        return f"thumbnails/{self.sha256[:2]}/{self.sha256[2:4]}/{self.sha256}.jpg"


class Item(models.Model):
    """A file or a folder (`dir`) in a dataset; `filename` is the full path, e.g. /a/b.png."""

    class Type(models.TextChoices):
        FILE = "file"
        DIR = "dir"

    id = EntityIdField()
    # No index of its own: (dataset, filename) and the other indexes below start with it.
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="items", db_index=False)
    type = models.CharField(max_length=8, choices=Type.choices, default=Type.FILE)
    filename = models.CharField(max_length=1024)
    name = models.CharField(max_length=255)
    dir = models.CharField(max_length=1024)
    hidden = models.BooleanField(default=False)
    blob = models.ForeignKey(
        Blob, on_delete=models.PROTECT, null=True, blank=True, related_name="items", db_index=False
    )
    # Dataloop's metadata: "system" (size, mimetype, width, height, originalname, refs, ...)
    # and "user" (free). System keys live in the JSON too, so DQL filters them alike.
    metadata = JSONField(default=dict, blank=True)
    description = models.TextField(blank=True)
    annotated = models.BooleanField(default=False)
    annotations_count = models.PositiveIntegerField(default=0)
    creator = author_field()
    updated_by = author_field()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["dataset", "filename"], name="item_path_unique_in_dataset")]
        indexes = [
            models.Index(fields=["dataset", "dir", "filename"], name="item_dataset_dir_filename"),
            models.Index(fields=["dataset", "type", "hidden", "id"], name="item_dataset_type_id"),
            # Plain btrees: a foreign key's own index on PostgreSQL comes with a second,
            # varchar_pattern_ops twin that no query uses and every insert keeps up.
            # Only items with bytes: what asks it (is this blob still used?) names a blob, and link
            # items (manifests, a million at a time) have none to keep up.
            models.Index(fields=["blob"], name="item_blob", condition=models.Q(blob__isnull=False)),
            models.Index(fields=["creator"], name="item_creator"),
            models.Index(fields=["updated_by"], name="item_updated_by"),
        ]

    def __str__(self) -> str:
        return self.filename
