from django.conf import settings
from django.db import models

from annotator.core.fields import EntityIdField, JSONField


class Command(models.Model):
    """The row behind every long operation: status, progress, error and result.

    Statuses are dtlpy's CommandsStatus values, which the SDK's wait loop understands.
    """

    class Status(models.TextChoices):
        CREATED = "created"
        IN_PROGRESS = "in-progress"
        SUCCESS = "success"
        FAILED = "failed"
        ABORTED = "aborted"
        TIMEOUT = "timeout"

    TERMINAL = frozenset({Status.SUCCESS, Status.FAILED, Status.ABORTED, Status.TIMEOUT})

    id = EntityIdField()
    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE, related_name="commands")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    type = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    progress = models.PositiveSmallIntegerField(default=0)
    spec = JSONField(default=dict, blank=True)
    result = JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"{self.type} {self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL
