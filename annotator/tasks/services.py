"""Writes to tasks and assignments: creation (a Command), items in and out, reassign, redistribute, delete.

Item statuses, the pull queue and the review loop are in queue.py.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet

from annotator.accounts.access import role_require
from annotator.accounts.models import Membership, User
from annotator.core.commands import command_record, command_start
from annotator.core.compiled import CompiledLookup
from annotator.core.dql import ITEMS, compile_query
from annotator.core.errors import BadRequest, Conflict, NotFound
from annotator.core.events import broadcast, project_group, user_group
from annotator.core.ids import is_valid_id
from annotator.core.models import Command
from annotator.core.permissions import role_allows
from annotator.datasets.models import Item
from annotator.datasets.services import dataset_require
from annotator.ontologies.models import Recipe
from annotator.tasks.allocation import check_loads, split_by_loads
from annotator.tasks.models import Assignment, Task, TaskItem

NAME_MAX = 200
BULK = 20000
DEFAULT_ACTIONS = {
    Task.Type.ANNOTATION: [
        {"action": "completed", "displayName": "Complete", "color": "#2f9e44"},
        {"action": "discard", "displayName": "Discard", "color": "#e03131"},
    ],
    Task.Type.QA: [
        {"action": "approved", "displayName": "Approve", "color": "#2f9e44"},
        {"action": "discard", "displayName": "Discard", "color": "#e03131"},
    ],
}


# --- events ----------------------------------------------------------------------------------------
def task_announce(task: Task, user_ids=(), *, event: str = "task.updated") -> None:
    """Tell the users whose assignments changed, and the project (dashboards), after commit."""
    for user_id in {u for u in user_ids if u}:
        broadcast(user_group(user_id), "assignment.changed", {"taskId": task.id})
    data = {"id": task.id, "name": task.name} if event == "task.updated" else {"id": task.id}
    # Dashboards refetch on either event, so a burst of pulls and completions sends one each.
    broadcast(project_group(task.project_id), event, data, coalesce=True)


# --- access ----------------------------------------------------------------------------------------
TASK_JSON_RELATED = ("creator", "dataset", "parent", "project__creator")  # what task_json reads
TASK_WORK_RELATED = ("dataset", "project")  # what pulling and item statuses read


# Every task route reads the task this way, with one of a few `related` sets: each compiled
# once (core/compiled.py).
@functools.cache
def _task_lookup(related: tuple[str, ...]) -> CompiledLookup:
    queryset = Task.objects.select_related(*related)
    return CompiledLookup(lambda task_id: queryset.filter(pk=task_id)[:1])


_ASSIGNMENT = CompiledLookup(
    lambda assignment_id: Assignment.objects.select_related("annotator").filter(pk=assignment_id)
)


def task_require(
    *, user: User, task_id: str, operation: str, for_update: bool = False, related: tuple[str, ...] = TASK_JSON_RELATED
) -> Task:
    """The task if `user` may perform `operation` in its project; 404 for strangers and unknown ids.

    Two queries (the task with its project, then the role); a lock adds one, taken after the check.
    `related` names what to join: the hot paths of annotators' work join less (each join of this
    six-table query cost about half a millisecond).
    """
    task = _task_lookup(related).first(task_id) if is_valid_id(task_id) else None
    if task is None:
        raise NotFound("Task not found.")
    task.project.viewer_role = role_require(user=user, project_id=task.project_id, operation=operation)
    if for_update:
        project = task.project
        task = Task.objects.select_related(*related).select_for_update(of=("self",)).get(pk=task_id)
        task.project = project
    return task


def assignment_require(*, user: User, assignment_id: str, operation: str) -> Assignment:
    """The assignment (with its annotator and task) if `user` may perform `operation` in the
    task's project; 404 for strangers and unknown ids."""
    assignment = _ASSIGNMENT.first(assignment_id) if is_valid_id(assignment_id) else None
    if assignment is None:
        raise NotFound("Assignment not found.")
    assignment.task = task_require(user=user, task_id=assignment.task_id, operation=operation)
    return assignment


# --- parsing -----------------------------------------------------------------------------------------
def parse_query(raw: Any, *, field: str = "query") -> dict[str, Any]:
    """An items DQL query given as an object or (as dtlpy sends it) a JSON string; checked."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise BadRequest(f"{field} is not valid JSON.", details={"field": field}) from exc
    if raw is None:
        raw = {"filter": {"$and": [{"hidden": False}, {"type": "file"}]}}
    if not isinstance(raw, dict):
        raise BadRequest(f"{field} must be a DQL query object.", details={"field": field})
    query = {k: v for k, v in raw.items() if k not in ("page", "pageSize", "sort")}
    query["resource"] = "items"
    compile_query(query, resource=ITEMS)  # a 400 naming the problem now, not in the job
    return query


def _members(project_id: str, people: list[Any], *, field: str) -> list[User]:
    """Project members named by email (any case) or id, who may work on assignments."""
    users = []
    for person in people:
        if not isinstance(person, str) or not person.strip():
            raise BadRequest(f"{field}: each assignee is an email or a user id.", details={"field": field})
        key = person.strip()
        membership = (
            Membership.objects.select_related("user")
            .filter(project_id=project_id)
            .filter(Q(user__email__iexact=key) | Q(user_id=key if is_valid_id(key) else None))
            .first()
        )
        if membership is None:
            raise BadRequest(f"{field}: {key} is not a member of the project.", details={"field": field, "user": key})
        if not role_allows(membership.role, "assignment.work"):
            raise BadRequest(f"{field}: {key} may not work on tasks.", details={"field": field, "user": key})
        if membership.user in users:
            raise BadRequest(f"{field}: {key} is named twice.", details={"field": field, "user": key})
        users.append(membership.user)
    return users


def parse_workload(raw: Any, project_id: str) -> list[tuple[User, float]]:
    if not isinstance(raw, list) or not all(isinstance(unit, dict) for unit in raw):
        raise BadRequest("workload is a list of {assigneeId, load}.", details={"field": "workload"})
    loads = [unit.get("load") for unit in raw]
    check_loads(loads)
    users = _members(project_id, [unit.get("assigneeId") for unit in raw], field="workload")
    return list(zip(users, [float(load) for load in loads], strict=True))


def _actions(raw: Any, task_type: str) -> list[dict[str, Any]]:
    if raw is None or raw == []:
        return DEFAULT_ACTIONS[task_type]
    if not isinstance(raw, list) or len(raw) > 20:
        raise BadRequest("availableActions is a list of {action, displayName, color}.")
    actions = []
    for entry in raw:
        entry = {"action": entry} if isinstance(entry, str) else entry
        action = entry.get("action") if isinstance(entry, dict) else None
        if not isinstance(action, str) or not action.strip() or len(action) > 64 or action in ("issue",):
            raise BadRequest("Each available action needs a name (not 'issue').", details={"field": "availableActions"})
        actions.append(
            {
                "action": action.strip(),
                "displayName": str(entry.get("displayName") or action)[:100],
                "color": str(entry.get("color") or "#FFFFFF")[:32],
            }
        )
    return actions


def _positive(value: Any, field: str, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
        raise BadRequest(f"{field} must be an integer from 1 to 10000.", details={"field": field})
    return value


def _due_date(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e15:
        raise BadRequest("dueDate is a time in epoch milliseconds.", details={"field": "dueDate"})
    return float(value)


# --- create --------------------------------------------------------------------------------------------
@transaction.atomic
def task_create_start(*, user: User, body: Any) -> Command:
    """Check the request, create the task and its assignments, and start the Command that fills
    it with items (so a 100,000-item task does not hold the request)."""
    if not isinstance(body, dict):
        raise BadRequest("The body is a JSON object.")
    dataset = dataset_require(user=user, dataset_id=body.get("datasetId") or "", operation="task.create")
    project = dataset.project
    if body.get("projectId") not in (None, project.id):
        raise BadRequest("projectId is not the dataset's project.", details={"field": "projectId"})
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX:
        raise BadRequest(f"name is text of 1 to {NAME_MAX} characters.", details={"field": "name"})
    name = name.strip()
    if Task.objects.filter(project=project, name=name).exists():
        raise Conflict(f"The project already has a task named {name!r}.")
    spec = body.get("spec") or {}
    task_type = spec.get("type", "annotation") if isinstance(spec, dict) else None
    if task_type not in Task.Type.values:
        raise BadRequest("spec.type is annotation or qa.", details={"field": "spec.type"})
    parent = None
    if task_type == Task.Type.QA:
        parent = Task.objects.filter(pk=spec.get("parentTaskId") or "", dataset=dataset).first()
        if parent is None or parent.type != Task.Type.ANNOTATION:
            raise BadRequest("A QA task needs spec.parentTaskId: an annotation task of this dataset.")
    recipe_id = body.get("recipeId") or ((dataset.metadata or {}).get("system") or {}).get("recipes", [None])[0]
    recipe = Recipe.objects.filter(pk=recipe_id or "", project=project).first()
    if recipe is None:
        raise BadRequest("recipeId names no recipe of this project.", details={"field": "recipeId"})
    priority = body.get("priority", 2)
    if priority not in (1, 2, 3):
        raise BadRequest("priority is 1 (low), 2 (medium) or 3 (high).", details={"field": "priority"})
    system = ((body.get("metadata") or {}).get("system") or {}) if isinstance(body.get("metadata"), dict) else {}
    pulling = system.get("batchSize") is not None or system.get("maxBatchWorkload") is not None
    query = parse_query(body.get("query"))
    if isinstance(body.get("itemIds"), list):  # our pages send ids; dtlpy sends them inside the query
        query = {"resource": "items", "filter": {"$and": [{"id": {"$in": body["itemIds"]}}]}}
        compile_query(query, resource=ITEMS)
    task = Task(
        project=project,
        dataset=dataset,
        recipe=recipe,
        parent=parent,
        name=name,
        type=task_type,
        allocation=Task.Allocation.PULLING if pulling else Task.Allocation.DISTRIBUTION,
        query=query,
        due_date=_due_date(body.get("dueDate")),
        priority=priority,
        available_actions=_actions(body.get("availableActions"), task_type),
        qa_statuses=["completed"] if task_type == Task.Type.QA else [],
        creator=user,
    )
    if pulling:
        task.batch_size = _positive(system.get("batchSize"), "batchSize", 5)
        task.max_batch_workload = _positive(system.get("maxBatchWorkload"), "maxBatchWorkload", 7)
        if task.max_batch_workload < task.batch_size:
            raise BadRequest("maxBatchWorkload cannot be below batchSize.", details={"field": "maxBatchWorkload"})
        allowed = system.get("allowedAssignees")
        if allowed is None and isinstance(body.get("workload"), list):
            allowed = [unit.get("assigneeId") for unit in body["workload"] if isinstance(unit, dict)]
        if not isinstance(allowed, list) or not allowed:
            raise BadRequest("A pulling task needs allowedAssignees.", details={"field": "allowedAssignees"})
        people = [(person, None) for person in _members(project.id, allowed, field="allowedAssignees")]
        task.metadata = {"allowedAssignees": [person.email.lower() for person, _ in people]}
    else:
        if not body.get("workload"):
            raise BadRequest("A task needs a workload (assignees and loads) or pulling settings.")
        people = parse_workload(body["workload"], project.id)
    task.save()
    Assignment.objects.bulk_create([Assignment(task=task, annotator=person, load=load) for person, load in people])
    command = command_start(
        user=user,
        project=project,
        command_type="tasks.create",
        spec={"createTaskPayload": {"name": name, "type": task_type}, "createdTaskId": task.id, "userId": user.id},
    )
    return command


def task_fill(*, task: Task, progress) -> int:
    """Put the items the task's query selects into it (the Command's work); returns the count."""
    compiled = compile_query(task.query, resource=ITEMS)
    items = compiled.filter(Item.objects.filter(dataset_id=task.dataset_id, type=Item.Type.FILE))
    if task.parent_id:
        statuses = task.qa_statuses or ["completed"]
        items = items.filter(task_items__task_id=task.parent_id, task_items__status__in=statuses)
    ids = list(items.exclude(task_items__task=task).order_by("id").values_list("id", flat=True).distinct())
    _add_items(task, ids, progress=progress)
    task_announce(task)
    task_announce(task, event="task.progress")
    return len(ids)


def _holders(task: Task, count: int, workload: list[tuple[Assignment, float]] | None) -> list[Assignment | None]:
    """Who gets each of `count` new items, in order: by loads for distribution, the queue for pulling."""
    if task.allocation == Task.Allocation.PULLING:
        return [None] * count
    if workload is None:
        active = list(task.assignments.filter(active=True).order_by("id"))
        if not active:
            raise BadRequest("The task has no assignees to give the items to; send a workload.")
        total = sum(a.load or 0 for a in active)
        workload = [(a, (a.load or 0) * 100 / total if total else 100 / len(active)) for a in active]
        drift = 100 - sum(load for _, load in workload)
        workload[0] = (workload[0][0], workload[0][1] + drift)
    shares = split_by_loads(count, [load for _, load in workload])
    holders: list[Assignment | None] = []
    for (assignment, _load), share in zip(workload, shares, strict=True):
        holders += [assignment] * share
    return holders


def _add_items(task: Task, item_ids: list[str], *, progress=None, workload=None) -> None:
    holders = _holders(task, len(item_ids), workload)
    holder_ids = [h.id if h is not None else None for h in holders]
    for start in range(0, len(item_ids), BULK):
        with transaction.atomic():
            _insert_task_items(task.id, item_ids[start : start + BULK], holder_ids[start : start + BULK])
        if progress is not None:
            progress.update(100 * (start + BULK) / max(len(item_ids), 1))
    for user_id in {h.annotator_id for h in holders if h is not None}:
        broadcast(user_group(user_id), "assignment.changed", {"taskId": task.id})  # the caller tells the project


def _insert_task_items(task_id: str, item_ids: list[str], holder_ids: list[str | None]) -> None:
    """Put items into a task, skipping any already in it. Straight SQL: the ORM's bulk_create spent
    more time building and preparing 100,000 model instances than the database spent inserting."""
    table = TaskItem._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} (task_id, item_id, assignment_id) "
                "SELECT %s, item_id, assignment_id "
                "FROM unnest(%s::varchar[], %s::varchar[]) AS t(item_id, assignment_id) "
                "ON CONFLICT (task_id, item_id) DO NOTHING",
                [task_id, item_ids, holder_ids],
            )
        else:
            cursor.executemany(
                f"INSERT OR IGNORE INTO {table} (task_id, item_id, assignment_id) VALUES (%s, %s, %s)",
                [(task_id, item_id, holder) for item_id, holder in zip(item_ids, holder_ids, strict=True)],
            )


# --- items in and out ------------------------------------------------------------------------------------
def _items_of(task: Task, query: dict[str, Any]) -> QuerySet[Item]:
    compiled = compile_query(query, resource=ITEMS)
    return compiled.filter(Item.objects.filter(dataset_id=task.dataset_id, type=Item.Type.FILE))


def _workload_assignments(task: Task, raw: Any) -> list[tuple[Assignment, float]] | None:
    if not raw:
        return None
    pairs = []
    for person, load in parse_workload(raw, task.project_id):
        assignment, _ = Assignment.objects.get_or_create(task=task, annotator=person, defaults={"load": load})
        if not assignment.active:
            assignment.active = True
            assignment.save(update_fields=["active", "updated_at"])
        pairs.append((assignment, load))
    return pairs


@transaction.atomic
def task_items_add(*, user: User, task_id: str, body: Any) -> Command:
    """addToTask: items matching the query that are not in the task yet, given out like at creation."""
    task = task_require(user=user, task_id=task_id, operation="task.update", for_update=True)
    if not isinstance(body, dict):  # read as "no query" it would remove every item
        raise BadRequest("The body is a JSON object.")
    query = parse_query(body.get("query"))
    ids = list(_items_of(task, query).exclude(task_items__task=task).order_by("id").values_list("id", flat=True))
    limit = body.get("limit")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        ids = ids[:limit]
    _add_items(task, ids, workload=_workload_assignments(task, body.get("workload")))
    task_announce(task)
    return command_record(
        user=user, project=task.project, command_type="tasks.add_items", spec={"addToTaskPayload": {"added": len(ids)}}
    )


@transaction.atomic
def task_items_remove(*, user: User, task_id: str, body: Any) -> Command:
    """removeFromTask: matching items leave the task, except those that already have a status."""
    task = task_require(user=user, task_id=task_id, operation="task.update", for_update=True)
    if not isinstance(body, dict):  # read as "no query" it would remove every item
        raise BadRequest("The body is a JSON object.")
    query = parse_query(body.get("query"))
    targets = TaskItem.objects.filter(task=task, status__isnull=True, item__in=_items_of(task, query))
    holders = set(targets.exclude(assignment=None).values_list("assignment__annotator_id", flat=True))
    total = TaskItem.objects.filter(task=task).count()
    removed, _ = targets.delete()
    task_announce(task, holders)
    return command_record(
        user=user,
        project=task.project,
        command_type="tasks.remove_items",
        spec={"removeFromTaskId": task.id, "removeItemsCount": removed, "totalItemsCount": total},
    )


@transaction.atomic
def task_update(*, user: User, task_id: str, body: Any) -> Task:
    """Apply the editable keys of a task JSON (dtlpy PATCHes the whole entity): name, dueDate,
    priority, description, status, availableActions, metadata.user. Others are ignored."""
    task = task_require(user=user, task_id=task_id, operation="task.update", for_update=True)
    if not isinstance(body, dict):
        raise BadRequest("The body is a JSON object.")
    if "name" in body and body["name"] != task.name:
        name = body["name"]
        if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX:
            raise BadRequest(f"name is text of 1 to {NAME_MAX} characters.", details={"field": "name"})
        if Task.objects.filter(project_id=task.project_id, name=name.strip()).exclude(pk=task.pk).exists():
            raise Conflict(f"The project already has a task named {name.strip()!r}.")
        task.name = name.strip()
    if "dueDate" in body:
        task.due_date = _due_date(body["dueDate"])
    if "priority" in body:
        if body["priority"] not in (1, 2, 3):
            raise BadRequest("priority is 1, 2 or 3.", details={"field": "priority"})
        task.priority = body["priority"]
    if "description" in body:
        description = body["description"]
        description = description.get("content") if isinstance(description, dict) else description
        task.description = description if isinstance(description, str) else ""
    if isinstance(body.get("status"), str) and body["status"] in ("open", "completed"):
        task.status = body["status"]
    if "availableActions" in body:
        task.available_actions = _actions(body["availableActions"], task.type)
    user_metadata = ((body.get("metadata") or {}) if isinstance(body.get("metadata"), dict) else {}).get("user")
    if isinstance(user_metadata, dict):
        task.metadata = {**(task.metadata or {}), "user": user_metadata}
    task.save()
    task_announce(task)
    return task


@transaction.atomic
def task_delete(*, user: User, task_id: str) -> Command:
    task = task_require(user=user, task_id=task_id, operation="task.delete", for_update=True)
    if task.qa_tasks.exists():
        raise Conflict("Delete the task's QA tasks first.")
    holders = set(task.assignments.values_list("annotator_id", flat=True))
    project = task.project
    task.delete()
    for user_id in holders:
        broadcast(user_group(user_id), "assignment.changed", {"taskId": task_id})
    broadcast(project_group(project.id), "task.deleted", {"id": task_id})
    return command_record(user=user, project=project, command_type="tasks.delete", spec={"deleteTaskId": task_id})


# --- assignments ------------------------------------------------------------------------------------------
@transaction.atomic
def assignment_reassign(*, user: User, assignment_id: str, annotator: Any) -> Command:
    """Move an assignment's open items to another annotator's assignment in the same task."""
    assignment = assignment_require(user=user, assignment_id=assignment_id, operation="assignment.reassign")
    task = assignment.task
    (person,) = _members(task.project_id, [annotator], field="annotator")
    target, _ = Assignment.objects.get_or_create(task=task, annotator=person, defaults={"load": assignment.load})
    if target.pk == assignment.pk:
        raise BadRequest("The assignment already belongs to that annotator.")
    if not target.active:
        target.active = True
        target.save(update_fields=["active", "updated_at"])
    moved = TaskItem.objects.filter(assignment=assignment, status__isnull=True).update(assignment=target)
    assignment.active = False
    assignment.save(update_fields=["active", "updated_at"])
    task_announce(task, {assignment.annotator_id, person.id})
    return command_record(
        user=user,
        project=task.project,
        command_type="assignments.reassign",
        spec={"toAssignment": target.id, "moved": moved},
    )


@transaction.atomic
def assignment_redistribute(*, user: User, assignment_id: str, workload: Any) -> Command:
    """Share an assignment's open items among the workload's assignees by their loads."""
    assignment = assignment_require(user=user, assignment_id=assignment_id, operation="assignment.redistribute")
    task = assignment.task
    if task.allocation == Task.Allocation.PULLING:
        raise BadRequest("Pulling tasks have no fixed shares to redistribute.")
    pairs = _workload_assignments(task, workload)
    if pairs is None:
        raise BadRequest("Give a workload to redistribute over.", details={"field": "workload"})
    open_items = list(
        TaskItem.objects.select_for_update().filter(assignment=assignment, status__isnull=True).order_by("id")
    )
    holders = _holders(task, len(open_items), pairs)
    for task_item, holder in zip(open_items, holders, strict=True):
        task_item.assignment = holder
    TaskItem.objects.bulk_update(open_items, ["assignment"], batch_size=BULK)
    for holder, load in pairs:
        holder.load = load
    Assignment.objects.bulk_update([h for h, _ in pairs], ["load"])
    if assignment.pk not in {h.pk for h, _ in pairs}:
        assignment.active = False
        assignment.save(update_fields=["active", "updated_at"])
    task_announce(task, {assignment.annotator_id, *(h.annotator_id for h, _ in pairs)})
    return command_record(
        user=user,
        project=task.project,
        command_type="assignments.redistribute",
        spec={"workload": [{"assigneeId": h.annotator.email.lower(), "load": load} for h, load in pairs]},
    )


@transaction.atomic
def task_annotator_add(*, user: User, task_id: str, annotator: Any, load: float | None = None) -> Assignment:
    """Give an annotator an assignment (pulling tasks: they may pull at once)."""
    task = task_require(user=user, task_id=task_id, operation="task.assign", for_update=True)
    (person,) = _members(task.project_id, [annotator], field="annotator")
    assignment, created = Assignment.objects.get_or_create(task=task, annotator=person, defaults={"load": load})
    if not created and assignment.active:
        raise Conflict("The annotator already has an assignment in this task.")
    assignment.active = True
    assignment.save(update_fields=["active", "updated_at"])
    task_announce(task, [person.id])
    return assignment


@transaction.atomic
def task_annotator_remove(*, user: User, task_id: str, assignment_id: str) -> int:
    """Take an annotator off a task; their unfinished items go back to the queue (pulling) or
    to the other assignees (distribution). Returns how many items moved."""
    task = task_require(user=user, task_id=task_id, operation="task.assign", for_update=True)
    assignment = Assignment.objects.filter(pk=assignment_id, task=task).first()
    if assignment is None:
        raise NotFound("Assignment not found.")
    open_items = list(TaskItem.objects.select_for_update().filter(assignment=assignment, status__isnull=True))
    assignment.active = False
    assignment.save(update_fields=["active", "updated_at"])
    if task.allocation == Task.Allocation.PULLING:
        TaskItem.objects.filter(pk__in=[t.pk for t in open_items]).update(assignment=None, leased_at=None)
    else:
        others = list(task.assignments.filter(active=True).order_by("id"))
        if open_items and not others:
            raise Conflict("Nobody else is assigned to take these items; add an annotator first.")
        holders = _holders(task, len(open_items), None) if open_items else []
        for task_item, holder in zip(open_items, holders, strict=True):
            task_item.assignment = holder
        TaskItem.objects.bulk_update(open_items, ["assignment"], batch_size=BULK)
    task_announce(task, [assignment.annotator_id])
    return len(open_items)
