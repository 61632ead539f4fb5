"""Working a task: item statuses, the pull queue with leases, and the review loop.

- Each item of a task is one TaskItem row, held by an assignment or (pulling tasks) by nobody:
  the queue. Pulling locks queue rows with `select_for_update(skip_locked=True)` on
  PostgreSQL, so concurrent pulls never hand one item to two annotators; SQLite serialises
  writing transactions, which gives the same guarantee.
- A pulled item nobody has touched (no annotation change, no status) for TASK_LEASE_SECONDS
  goes back to the queue, checked whenever someone pulls from the task.
- The review loop: an item completed in an annotation task enters the task's QA tasks (for
  the statuses they take, `completed` by default). A reviewer approves it there, or raises an
  issue on one of its annotations: that reopens the item in the annotator's assignment, first
  in their queue, and parks it in QA as `issue` until it is completed again, when it returns
  to the same reviewer.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone

from annotator.accounts.models import User
from annotator.annotations.models import Annotation, AnnotationChange
from annotator.annotations.validation import completion_errors, recipe_rules
from annotator.core.dql.paging import Page, page_of
from annotator.core.errors import BadRequest, Forbidden, NotFound
from annotator.core.permissions import role_allows
from annotator.tasks.models import Assignment, Task, TaskItem, TaskItemStatusChange
from annotator.tasks.services import TASK_WORK_RELATED, assignment_require, task_announce, task_require

ISSUE = "issue"
OPERATIONS = ("create", "delete")


def _announce(task: Task, *user_ids: str) -> None:
    task_announce(task, user_ids, event="task.progress")


# --- statuses ----------------------------------------------------------------------------------------
def _may_set(task: Task, task_item: TaskItem, user: User) -> None:
    role = task.project.viewer_role
    if role_allows(role, "task.update"):
        return  # managers set any item's status
    operation = "item.review" if task.type == Task.Type.QA else "item.status.set"
    if not role_allows(role, operation):
        raise Forbidden(f"Your role ({role}) does not allow {operation}.")
    if task_item.assignment is None or task_item.assignment.annotator_id != user.id:
        raise Forbidden("The item is not in your assignment.")


def _allowed_statuses(task: Task) -> set[str]:
    return {action["action"] for action in task.available_actions or []}


@transaction.atomic
def item_statuses_set(
    *, user: User, task_id: str, item_ids: Any, status: Any, operation: str = "create", assignment_id: str | None = None
) -> dict[str, dict[str, Any]]:
    """Set (operation create) or clear (delete) items' status in a task; {itemId: {status, lastStatus}}.

    Completing an item in an annotation task first checks the recipe's mandatory attributes.
    """
    task = task_require(user=user, task_id=task_id, operation="task.view", related=TASK_WORK_RELATED)
    if operation not in OPERATIONS:
        raise BadRequest("operation is create or delete.", details={"field": "operation"})
    if not isinstance(item_ids, list) or not item_ids or len(item_ids) > 1000:
        raise BadRequest("itemIds is a list of 1 to 1000 item ids.", details={"field": "itemIds"})
    if operation == "create" and status not in _allowed_statuses(task):
        allowed = ", ".join(sorted(_allowed_statuses(task)))
        raise BadRequest(f"status must be one of the task's actions: {allowed}.", details={"field": "status"})
    rows = {
        t.item_id: t
        for t in TaskItem.objects.select_for_update(of=("self",))
        .select_related("assignment")
        .filter(task=task, item_id__in=[i for i in item_ids if isinstance(i, str)])
    }
    missing = [i for i in item_ids if i not in rows]
    if missing:
        raise NotFound(f"Not in this task: {', '.join(map(str, missing[:5]))}.", details={"itemIds": missing[:50]})
    if assignment_id is not None and any(t.assignment_id != assignment_id for t in rows.values()):
        raise BadRequest("The items are not in that assignment.", details={"field": "assignmentId"})
    completing = operation == "create" and status == "completed" and task.type == Task.Type.ANNOTATION
    rules = recipe_rules(task.dataset) if completing else None
    result = {}
    for item_id in item_ids:
        task_item = rows[item_id]
        _may_set(task, task_item, user)
        previous = task_item.status
        new = status if operation == "create" else None
        if rules is not None:
            _check_complete(rules, task_item)
        _set(task, task_item, new, user)
        result[item_id] = {"status": new, "lastStatus": previous}
    return result


def _check_complete(rules, task_item: TaskItem) -> None:
    problems = completion_errors(rules=rules, annotations=Annotation.objects.filter(item_id=task_item.item_id))
    if problems:
        raise BadRequest(
            "The item has annotations missing mandatory attributes.",
            code="incomplete",
            details={"itemId": task_item.item_id, "problems": problems},
        )


def _set(task: Task, task_item: TaskItem, status: str | None, user: User) -> None:
    """Record one status change and follow the review loop."""
    previous = task_item.status
    if status == previous:
        return
    now = timezone.now()
    task_item.status, task_item.status_by, task_item.status_at = status, user, now
    if status is not None:
        task_item.reopened_at = None
        if task.type == Task.Type.ANNOTATION:
            # The holder who completes it did the work; a manager completing it for them does not.
            holds = task_item.assignment is not None and task_item.assignment.annotator_id == user.id
            if holds or task_item.annotated_by_id is None:
                task_item.annotated_by = user
        else:
            task_item.reviewed_by = user
    task_item.save(update_fields=["status", "status_by", "status_at", "reopened_at", "annotated_by", "reviewed_by"])
    TaskItemStatusChange.objects.create(
        task_item=task_item, status=status, previous=previous, assignment=task_item.assignment, actor=user
    )
    holder = task_item.assignment.annotator_id if task_item.assignment else None
    _announce(task, holder)
    if task.type == Task.Type.ANNOTATION:
        _feed_qa(task, task_item, status)


def _feed_qa(task: Task, task_item: TaskItem, status: str | None) -> None:
    """An annotation item reaching a QA task's status enters it (or returns to its reviewer)."""
    for qa in Task.objects.filter(parent=task):
        if status not in (qa.qa_statuses or ["completed"]):
            continue
        existing = (
            TaskItem.objects.select_for_update(of=("self",))
            .select_related("assignment")
            .filter(task=qa, item_id=task_item.item_id)
            .first()
        )
        if existing is not None:
            if existing.status == ISSUE:  # fixed: back to the reviewer who raised it
                existing.status = None
                existing.reopened_at = timezone.now()
                existing.save(update_fields=["status", "reopened_at"])
                _announce(qa, existing.assignment.annotator_id if existing.assignment else None)
            continue
        holder = None
        if qa.allocation == Task.Allocation.DISTRIBUTION:
            holder = _lightest_assignment(qa)
        TaskItem.objects.create(task=qa, item_id=task_item.item_id, assignment=holder)
        _announce(qa, holder.annotator_id if holder else None)


def _lightest_assignment(task: Task) -> Assignment | None:
    """The active assignment with the fewest open items (ties: the oldest)."""
    return (
        task.assignments.filter(active=True)
        .annotate(open_items=Count("task_items", filter=Q(task_items__status__isnull=True)))
        .order_by("open_items", "id")
        .first()
    )


def item_reopen_for_issue(*, user: User, item_id: str) -> None:
    """A reviewer raised an issue on an annotation of the item: reopen it wherever it was done.

    Called inside the annotation service's transaction.
    """
    now = timezone.now()
    done = (
        TaskItem.objects.select_for_update(of=("self",))
        .select_related("task", "assignment")
        .filter(item_id=item_id, task__type=Task.Type.ANNOTATION, status__isnull=False)
    )
    for task_item in done:
        task = task_item.task
        if task_item.assignment is None and task_item.annotated_by_id:
            task_item.assignment = Assignment.objects.filter(task=task, annotator_id=task_item.annotated_by_id).first()
        previous = task_item.status
        task_item.status, task_item.status_by, task_item.status_at, task_item.reopened_at = None, user, now, now
        task_item.save(update_fields=["status", "status_by", "status_at", "reopened_at", "assignment"])
        TaskItemStatusChange.objects.create(
            task_item=task_item, status=None, previous=previous, assignment=task_item.assignment, actor=user
        )
        parked = TaskItem.objects.filter(task__parent=task, item_id=item_id, status__isnull=True)
        parked.update(status=ISSUE, reviewed_by=user, status_by=user, status_at=now)
        _announce(task, task_item.assignment.annotator_id if task_item.assignment else None)


# --- the queue -----------------------------------------------------------------------------------------
def leases_expire(*, task: Task) -> int:
    """Return pulled items nobody touched within the lease to the queue; how many went back."""
    cutoff = timezone.now() - timedelta(seconds=settings.TASK_LEASE_SECONDS)
    touched = AnnotationChange.objects.filter(item_id=OuterRef("item_id"), at__gt=OuterRef("leased_at"))
    stale = TaskItem.objects.filter(
        task=task, status__isnull=True, leased_at__isnull=False, leased_at__lt=cutoff, reopened_at__isnull=True
    ).exclude(Exists(touched))
    return stale.update(assignment=None, leased_at=None)


def _open_items(assignment: Assignment):
    return TaskItem.objects.filter(assignment=assignment, status__isnull=True)


@transaction.atomic
def assignment_pull(*, user: User, task_id: str) -> list[TaskItem]:
    """Take up to `batch_size` items from a pulling task's queue, never holding more than
    `max_batch_workload` open ones. Each item goes to exactly one puller."""
    task = task_require(user=user, task_id=task_id, operation="assignment.work", related=TASK_WORK_RELATED)
    if task.allocation != Task.Allocation.PULLING:
        raise BadRequest("This task hands items out by distribution; there is nothing to pull.")
    assignment = Assignment.objects.filter(task=task, annotator=user, active=True).first()
    if assignment is None:
        raise Forbidden("You have no assignment in this task.")
    leases_expire(task=task)
    room = min(task.batch_size, task.max_batch_workload - _open_items(assignment).count())
    if room <= 0:
        return []
    taken = _take_from_queue(task, assignment, room)
    if not taken:
        return []
    _announce(task, user.id)
    return list(_with_items(TaskItem.objects.filter(pk__in=taken).order_by("id")))


def _take_from_queue(task: Task, assignment: Assignment, count: int) -> list[int]:
    """Give the first `count` queued items to `assignment`; their row ids."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        # One statement: rows another puller has locked are skipped, not waited for.
        table = TaskItem._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET assignment_id = %s, leased_at = %s WHERE id IN ("
                f"SELECT id FROM {table} WHERE task_id = %s AND assignment_id IS NULL AND status IS NULL "
                "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING id",
                [assignment.id, now, task.id, count],
            )
            return [row[0] for row in cursor.fetchall()]
    # SQLite: the write transaction already serialises pullers.
    queue = TaskItem.objects.filter(task=task, assignment=None, status__isnull=True).order_by("id")
    taken = list(queue.values_list("pk", flat=True)[:count])
    TaskItem.objects.filter(pk__in=taken).update(assignment=assignment, leased_at=now)
    return taken


def _with_items(queryset):
    """Task items with what `item_json` reads: the item, its authors and its task refs."""
    return queryset.select_related("item__creator", "item__updated_by").prefetch_related("item__task_items")


def assignment_queue(*, user: User, assignment_id: str, page: int, page_size: int) -> tuple[Page, int]:
    """A page of an assignment's open items in working order (reopened ones first, then by item
    id), and how many of all its open items are reopened. Paged: a reviewer's queue grows by
    every item the annotators complete, and reading it whole cost more with each one."""
    assignment = assignment_require(user=user, assignment_id=assignment_id, operation="task.view")
    if assignment.annotator_id != user.id and not role_allows(assignment.task.project.viewer_role, "task.update"):
        raise Forbidden("Only its annotator and the task's managers read an assignment's queue.")
    open_items = _open_items(assignment)
    counts = open_items.aggregate(total=Count("id"), reopened=Count("id", filter=Q(reopened_at__isnull=False)))
    queue_page = page_of(
        _with_items(_ordered(open_items)), page=page, page_size=page_size, count=lambda _queryset: counts["total"]
    )
    return queue_page, counts["reopened"]


def assignment_next(*, user: User, task_id: str) -> TaskItem | None:
    """The item to work on next in a task: the first open one held, else (pulling) a fresh pull."""
    task = task_require(user=user, task_id=task_id, operation="assignment.work", related=TASK_WORK_RELATED)
    assignment = Assignment.objects.filter(task=task, annotator=user, active=True).first()
    if assignment is None:
        raise Forbidden("You have no assignment in this task.")
    held = _with_items(_ordered(_open_items(assignment))).first()
    if held is None and task.allocation == Task.Allocation.PULLING:
        pulled = assignment_pull(user=user, task_id=task_id)
        held = pulled[0] if pulled else None
    return held


def _ordered(queryset):
    return queryset.order_by(F("reopened_at").desc(nulls_last=True), "id")
