from django.conf import settings
from django.db import models

from annotator.core.fields import EntityIdField, JSONField, author_field


class Task(models.Model):
    """An annotation or QA task over items of one dataset, handed out as assignments.

    Allocation is `distribution` (items split among assignees by load at creation) or
    `pulling` (annotators take `batch_size` items at a time from the task's queue, never
    holding more than `max_batch_workload` unfinished ones).
    """

    class Type(models.TextChoices):
        ANNOTATION = "annotation"
        QA = "qa"

    class Allocation(models.TextChoices):
        DISTRIBUTION = "distribution"
        PULLING = "pulling"

    id = EntityIdField()
    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE, related_name="tasks")
    dataset = models.ForeignKey("datasets.Dataset", on_delete=models.CASCADE, related_name="tasks")
    recipe = models.ForeignKey("ontologies.Recipe", on_delete=models.SET_NULL, null=True, related_name="tasks")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="qa_tasks")
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.ANNOTATION)
    allocation = models.CharField(max_length=16, choices=Allocation.choices, default=Allocation.DISTRIBUTION)
    query = JSONField(null=True, blank=True)  # the DQL that chose the items, as given
    due_date = models.FloatField(null=True, blank=True)  # epoch milliseconds, as dtlpy sends it
    priority = models.PositiveSmallIntegerField(default=2)  # 1 low, 2 medium, 3 high (Dataloop)
    batch_size = models.PositiveIntegerField(default=5)
    max_batch_workload = models.PositiveIntegerField(default=7)
    # [{"action": "completed", "displayName": "Completed", "color": "#…"}, …]
    available_actions = JSONField(default=list, blank=True)
    # The parent task's statuses that bring an item into this QA task.
    qa_statuses = JSONField(default=list, blank=True)
    status = models.CharField(max_length=32, default="open")
    description = models.TextField(blank=True, default="")
    metadata = JSONField(default=dict, blank=True)
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint("project", "name", name="task_name_unique_in_project")]

    def __str__(self) -> str:
        return self.name


class Assignment(models.Model):
    """One annotator's share of a task."""

    id = EntityIdField()
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="assignments")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    # Percent of the task's items, for distribution; None for pulling.
    load = models.FloatField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint("task", "annotator", name="assignment_one_per_annotator")]

    def __str__(self) -> str:
        return f"{self.task_id}:{self.annotator_id}"


class TaskItem(models.Model):
    """An item in a task: who holds it (its assignment, or the queue when None) and its status.

    `status` is None while the item is open. An item reopened by a reviewer's issue gets
    `reopened_at`, which puts it first in its annotator's queue.
    """

    # Foreign keys carry no index of their own: the composite indexes below cover every lookup,
    # and each extra index (plus its `_like` twin) slowed filling a 100,000-item task several-fold.
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="task_items", db_index=False)
    item = models.ForeignKey("datasets.Item", on_delete=models.CASCADE, related_name="task_items", db_index=False)
    assignment = models.ForeignKey(
        Assignment, on_delete=models.SET_NULL, null=True, blank=True, related_name="task_items", db_index=False
    )
    status = models.CharField(max_length=64, null=True, blank=True)
    status_by = author_field()
    status_at = models.DateTimeField(null=True, blank=True)
    leased_at = models.DateTimeField(null=True, blank=True)  # when pulled (pulling tasks)
    reopened_at = models.DateTimeField(null=True, blank=True)
    annotated_by = author_field()
    reviewed_by = author_field()

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint("task", "item", name="task_item_once")]
        indexes = [
            models.Index(fields=["assignment", "status"], name="task_item_by_assignment"),
            models.Index(fields=["task", "assignment", "status", "id"], name="task_item_queue"),
            models.Index(fields=["item", "task"], name="task_item_by_item"),
            # The pulling queue itself, in pulling order: PostgreSQL does not take `IS NULL` columns of
            # the composite index above as ordered, so it sorted a task's whole queue on every pull.
            models.Index(
                fields=["task", "id"],
                name="task_item_pull_queue",
                condition=models.Q(assignment__isnull=True, status__isnull=True),
            ),
            # Lease expiry runs on every pull: only pulled, open rows are worth indexing.
            models.Index(
                fields=["task", "leased_at"],
                name="task_item_leases",
                condition=models.Q(status__isnull=True, leased_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id}:{self.item_id}"


class TaskItemStatusChange(models.Model):
    """Who set which status on an item in a task, and when."""

    task_item = models.ForeignKey(TaskItem, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(max_length=64, null=True, blank=True)
    previous = models.CharField(max_length=64, null=True, blank=True)
    assignment = models.ForeignKey(Assignment, on_delete=models.SET_NULL, null=True, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.task_item_id}: {self.previous} -> {self.status}"
