"""dtlpy against a live server: tasks, assignments, item statuses, QA, changes and deletes.

Started by tests/contract/test_dtlpy_tasks.py with .venv-dtlpy's Python. Input from the
environment: ANNOTATOR_URL, API_KEY (the project owner's), ANNA_KEY and BEN_KEY (two
annotators'), DUE (epoch seconds), PROJECT_ID, DATASET_ID (8 images /photos/00.png … 07.png), OTHER_DATASET_ID
(one image), the members' emails ANNA, BEN, CLEO (annotators) and RITA (reviewer), and
DATALOOP_PATH. Prints one JSON report of every step; the values are plain data (names, counts,
statuses as the SDK reads them) so that the test asserts on what the SDK really got.
"""

import os

import dtlpy as dl  # DATALOOP_PATH must be set before this import
from scenario_steps import print_report, step  # beside this script

BASE = os.environ["ANNOTATOR_URL"]
ANNA, BEN, CLEO, RITA = (os.environ[name] for name in ("ANNA", "BEN", "CLEO", "RITA"))
DUE = float(os.environ["DUE"])  # epoch seconds; the SDK sends dueDate in ms
state: dict = {}  # entities later steps need, set by earlier ones


def names(items) -> list[str]:
    """Sorted item names of a list or of PagedEntities (every page)."""
    if isinstance(items, dl.entities.PagedEntities):
        items = items.all()
    return sorted(item.name for item in items)


def task_facts(task) -> dict:
    return {
        "id": task.id,
        "name": task.name,
        "type": task.spec.get("type"),
        "parentTaskId": task.spec.get("parentTaskId"),
        "datasetId": task.dataset_id,
        "projectId": task.project_id,
        "priority": int(task.priority),
        "dueDate": task.due_date,
        "actions": [action.action for action in task.available_actions],
        "assignmentIds": len(task.assignmentIds),
        "system": task.metadata.get("system", {}),
    }


def by_annotator(task) -> dict:
    """{annotator: Assignment} of a task, read by task.assignments.list()."""
    return {assignment.annotator: assignment for assignment in task.assignments.list()}


def items_by_annotator(task) -> dict:
    """{annotator: sorted item names} over the task's assignments, each read by get_items()."""
    return {annotator: names(a.get_items()) for annotator, a in sorted(by_annotator(task).items())}


def statuses(item_id: str, task_id: str, assignment_id: str | None = None) -> dict:
    """The item re-fetched, and its status as item.status() reads the refs (no request)."""
    fresh = dataset.items.get(item_id=item_id)
    out = {"task": fresh.status(task_id=task_id)}
    if assignment_id is not None:
        out["assignment"] = fresh.status(assignment_id=assignment_id)
    return out


def login(key: str) -> None:
    dl.login_token(key)


def expect_error(action) -> str:
    try:
        action()
    except dl.exceptions.ExceptionMain as exc:
        return type(exc).__name__
    return "no error"


dl.verbose.logging_level = "error"
dl.add_environment(environment=f"{BASE}/api/v1", gate_url=BASE, alias="local", verify_ssl=False, url=f"{BASE}/")
dl.setenv("local")
login(os.environ["API_KEY"])
project = dl.projects.get(project_id=os.environ["PROJECT_ID"])
dataset = project.datasets.get(dataset_id=os.environ["DATASET_ID"])
other = project.datasets.get(dataset_id=os.environ["OTHER_DATASET_ID"])
items = sorted(dataset.items.list().all(), key=lambda item: item.name)  # 00.png … 07.png
by_name = {item.name: item for item in items}

# --- creating tasks ------------------------------------------------------------------------------------
# Distribution by assignee ids (Workload.generate: 50/50) over six items given as entities.
step(
    "create distribution",
    lambda: task_facts(
        state.setdefault(
            "dist",
            dataset.tasks.create(
                task_name="Distributed",
                due_date=DUE,
                assignee_ids=[ANNA, BEN],
                items=items[:6],
                priority=dl.TaskPriority.HIGH,
            ),
        )
    ),
)
# Distribution by a weighted workload (an email in another case) over all files (no items: Filters()).
step(
    "create by workload",
    lambda: task_facts(
        state.setdefault(
            "weighted",
            dataset.tasks.create(
                task_name="Weighted",
                due_date=DUE,
                workload=dl.Workload.generate([ANNA.upper(), BEN, CLEO], loads=[50, 25, 25]),
            ),
        )
    ),
)
# Pulling: batches of 3, at most 5 open per annotator, two allowed assignees.
step(
    "create pulling",
    lambda: task_facts(
        state.setdefault(
            "pulled",
            dataset.tasks.create(
                task_name="Pulled",
                due_date=DUE,
                items=items[:5],
                batch_size=3,
                max_batch_workload=5,
                allowed_assignees=[ANNA, CLEO],
            ),
        )
    ),
)
step(
    "create on another dataset",
    lambda: task_facts(
        state.setdefault("elsewhere", other.tasks.create(task_name="Elsewhere", due_date=DUE, assignee_ids=[CLEO]))
    ),
)
dist, weighted, pulled = state.get("dist"), state.get("weighted"), state.get("pulled")

# --- reading tasks ----------------------------------------------------------------------------------------
step("dataset.tasks.list", lambda: sorted(task.name for task in dataset.tasks.list()))
step("project.tasks.list", lambda: sorted(task.name for task in project.tasks.list()))
step("tasks.get by id", lambda: task_facts(project.tasks.get(task_id=weighted.id)))
step("dataset.tasks.get by name", lambda: dataset.tasks.get(task_name="Weighted").id)
step("project.tasks.get by name", lambda: project.tasks.get(task_name="Elsewhere").dataset_id)
step("tasks.get missing name", lambda: expect_error(lambda: dataset.tasks.get(task_name="No such task")))

# --- assignments and their items --------------------------------------------------------------------------
step("task.assignments.list distribution", lambda: sorted(by_annotator(dist)))
step(
    "project.assignments.list",
    lambda: sorted(
        [{dist.id: "Distributed", weighted.id: "Weighted", pulled.id: "Pulled"}.get(a.task_id, "?"), a.annotator]
        for a in project.assignments.list()
        if a.task_id != state["elsewhere"].id
    ),
)
step("assignment.get_items distribution", lambda: items_by_annotator(dist))
step("task.get_items distribution", lambda: names(dist.get_items()))
step("assignment.get_items workload", lambda: items_by_annotator(weighted))
step("task.get_items workload", lambda: names(weighted.get_items()))
step("task.get_items pulling", lambda: names(pulled.get_items()))
step("assignment.get_items pulling before a pull", lambda: items_by_annotator(pulled))


def pull_as_anna():
    """dtlpy has no pull call: an annotator uses the SDK's client for POST …/pull."""
    login(os.environ["ANNA_KEY"])
    try:
        success, response = dl.client_api.gen_request(req_type="post", path=f"/annotationtasks/{pulled.id}/pull")
        if not success:
            raise RuntimeError(response.text)
        return sorted(entry["item"]["name"] for entry in response.json()["items"])
    finally:
        login(os.environ["API_KEY"])


step("pull as an annotator", pull_as_anna)
step("assignment.get_items pulling after a pull", lambda: items_by_annotator(pulled))

# --- item status, both routes ------------------------------------------------------------------------------
assignments = by_annotator(dist)  # anna holds three items, ben three
held = {annotator: names(assignment.get_items()) for annotator, assignment in assignments.items()}
anna_a, ben_a = assignments[ANNA], assignments[BEN]
x, y, z, w = (by_name[name] for name in (held[ANNA][0], held[BEN][0], held[BEN][1], held[BEN][2]))
state["xyzw"] = [x.name, y.name, z.name, w.name]


def complete_by_task():
    returned = x.update_status(status=dl.ItemStatus.COMPLETED, task_id=dist.id)
    return {"returned": returned, **statuses(x.id, dist.id, anna_a.id)}


def complete_by_assignment():
    y.update_status(status=dl.ItemStatus.COMPLETED, assignment_id=ben_a.id)
    return statuses(y.id, dist.id, ben_a.id)


def discard():
    z.update_status(status=dl.ItemStatus.DISCARDED, task_id=dist.id)
    return statuses(z.id, dist.id, ben_a.id)


def clear():
    y.update_status(status=dl.ItemStatus.COMPLETED, clear=True, assignment_id=ben_a.id)
    fresh = dataset.items.get(item_id=y.id)
    refs = fresh.metadata["system"]["refs"]
    return {
        **statuses(y.id, dist.id, ben_a.id),
        "refs with a status": [ref["type"] for ref in refs if ref.get("metadata", {}).get("status")],
    }


def as_the_annotator():
    """ben completes his own item; setting a status on anna's item is refused."""
    login(os.environ["BEN_KEY"])
    try:
        w.update_status(status=dl.ItemStatus.COMPLETED, assignment_id=ben_a.id)
        others = expect_error(lambda: x.update_status(status=dl.ItemStatus.DISCARDED, task_id=dist.id))
    finally:
        login(os.environ["API_KEY"])
    return {**statuses(w.id, dist.id, ben_a.id), "on another's item": others, "x still": statuses(x.id, dist.id)}


def not_an_action():
    return expect_error(lambda: z.update_status(status="no-such-action", task_id=dist.id))


step("update_status task_id", complete_by_task)
step("update_status assignment_id", complete_by_assignment)
step("update_status discard", discard)
step("update_status clear", clear)
step("update_status as the annotator", as_the_annotator)
step("update_status unknown action", not_an_action)

# --- reassign, redistribute --------------------------------------------------------------------------------


def reassign():
    moved = anna_a.reassign(assignee_id=CLEO)
    state["cleo_a"] = moved
    return {
        "returned annotator": moved.annotator,
        "returned taskId": moved.task_id,
        "new items": names(moved.get_items()),
        "old items": names(dl.assignments.get(assignment_id=anna_a.id).get_items()),
        "x by the old assignment": statuses(x.id, dist.id, anna_a.id),
    }


def redistribute():
    ben_w = by_annotator(weighted)[BEN]
    returned = ben_w.redistribute(dl.Workload([dl.WorkloadUnit(ANNA.upper(), 50), dl.WorkloadUnit(CLEO, 50)]))
    return {
        "returned": sorted(a.annotator for a in returned),
        "counts": {annotator: len(got) for annotator, got in items_by_annotator(weighted).items()},
        "total": len(names(weighted.get_items())),
    }


def set_status_several():
    """task.set_status on two items at once (the task route with several ids), then clear one."""
    pair = [by_name["06.png"], by_name["07.png"]]
    created = weighted.set_status(status=dl.ItemStatus.DISCARDED, operation="create", item_ids=[i.id for i in pair])
    after_create = [statuses(i.id, weighted.id)["task"] for i in pair]
    deleted = weighted.set_status(status=dl.ItemStatus.DISCARDED, operation="delete", item_ids=[pair[0].id])
    return {
        "returned": [created, deleted],
        "after create": after_create,
        "after delete": [statuses(i.id, weighted.id)["task"] for i in pair],
    }


def status_without_ids():
    """An item in one task (two refs: task and assignment): dtlpy finds the ids in its refs."""
    elsewhere = state["elsewhere"]
    (item,) = other.items.list().all()
    item.update_status(status=dl.ItemStatus.COMPLETED)
    fresh = other.items.get(item_id=item.id)
    (assignment,) = elsewhere.assignments.list()
    return {
        "refs": sorted(ref["type"] for ref in item.metadata["system"]["refs"]),
        "task": fresh.status(task_id=elsewhere.id),
        "assignment": fresh.status(assignment_id=assignment.id),
    }


step("assignment.reassign", reassign)
step("assignment.redistribute", redistribute)
step("task.set_status several items", set_status_several)
step("update_status without ids", status_without_ids)

# --- items in and out --------------------------------------------------------------------------------------


def add_to_assignee():
    returned = dist.add_items(items=[items[6]], assignee_ids=[BEN])
    return {"returned": returned.id, "ben": names(ben_a.get_items()), "total": len(names(dist.get_items()))}


def add_without_workload():
    dist.add_items(items=[items[7]])
    return {"by annotator": items_by_annotator(dist), "total": len(names(dist.get_items()))}


def remove():
    returned = dist.remove_items(items=[items[7], x])  # x has a status: it stays
    return {"returned": returned, "items": names(dist.get_items())}


step("task.add_items to an assignee", add_to_assignee)
step("task.add_items without a workload", add_without_workload)
step("task.remove_items", remove)

# --- QA ----------------------------------------------------------------------------------------------------


def create_qa():
    qa = dataset.tasks.create_qa_task(task=dist, assignee_ids=[RITA], due_date=DUE)
    state["qa"] = qa
    return {**task_facts(qa), "items": names(qa.get_items()), "assignees": sorted(by_annotator(qa))}


def completion_feeds_qa():
    """An item completed in the parent after the QA task exists enters it."""
    extra = by_name[names(state["cleo_a"].get_items())[0]]
    extra.update_status(status=dl.ItemStatus.COMPLETED, task_id=dist.id)
    return {"item": extra.name, "qa items": names(state["qa"].get_items())}


def approve():
    qa = state["qa"]
    x.update_status(status=dl.ItemStatus.APPROVED, task_id=qa.id)
    fresh = dataset.items.get(item_id=x.id)
    return {"qa": fresh.status(task_id=qa.id), "parent": fresh.status(task_id=dist.id)}


step("create_qa_task", create_qa)
step("completion feeds QA", completion_feeds_qa)
step("approve in QA", approve)

# --- update, delete ----------------------------------------------------------------------------------------


def rename():
    task = project.tasks.get(task_id=dist.id)
    task.name = "Distributed (renamed)"
    task.priority = dl.TaskPriority.LOW
    task.description = "Look for cats"
    returned = task.update()
    fresh = project.tasks.get(task_id=dist.id)
    return {
        "returned": returned.name,
        "fresh": fresh.name,
        "priority": int(fresh.priority),
        "description": fresh.description,
    }


def delete():
    qa_deleted = state["qa"].delete()
    dist_deleted = dist.delete()
    gone = expect_error(lambda: project.tasks.get(task_id=dist.id))
    return {
        "qa": qa_deleted,
        "task": dist_deleted,
        "get after": gone,
        "x refs": statuses(x.id, dist.id),
        "listed": sorted(task.name for task in dataset.tasks.list()),
    }


step("task.update", rename)
step("task.delete", delete)

print_report()
