"""Tasks through the API: creation as a Command, distribution, pulling, statuses, refs, changes."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from annotator.tasks.allocation import split_by_loads
from annotator.tasks.models import Assignment, Task, TaskItem, TaskItemStatusChange
from tests.tasks.conftest import create_task

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("count", "loads", "expected"),
    [
        (10, [50, 50], [5, 5]),
        (10, [34, 33, 33], [4, 3, 3]),
        (2, [34, 33, 33], [1, 1, 0]),
        (7, [100], [7]),
        (0, [60, 40], [0, 0]),
        (3, [33.3, 33.3, 33.4], [1, 1, 1]),
        (1, [0, 100], [0, 1]),
        (100001, [70, 30], [70001, 30000]),
    ],
)
def test_split_by_loads_sums_to_the_count_and_rounds_by_largest_remainder(count, loads, expected):
    assert split_by_loads(count, loads) == expected


@pytest.mark.parametrize("loads", [[50, 40], [50, 60], [-10, 110], [], ["50", 50]])
def test_loads_must_be_numbers_summing_to_100(loads):
    from annotator.core.errors import BadRequest

    with pytest.raises(BadRequest):
        split_by_loads(10, loads)


def distribution(members, second_annotator, **extra):
    return {
        "workload": [
            {"assigneeId": members["annotator"].email.upper(), "load": 70},
            {"assigneeId": second_annotator.email, "load": 30},
        ],
        **extra,
    }


def test_a_distribution_task_is_created_by_a_command_and_split_by_load(
    members, second_annotator, client_for, dataset, celery_worker
):
    client = client_for(members["annotationManager"])
    query = json.dumps({"filter": {"$and": [{"hidden": False}, {"type": "file"}]}, "page": 0, "resource": "items"})

    task = create_task(
        client, dataset, query=query, dueDate=1893456000000.5, priority=3, **distribution(members, second_annotator)
    )

    assert task["totalItems"] == 10 and task["priority"] == 3 and task["dueDate"] == 1893456000000.5
    assert task["spec"] == {"type": "annotation"}
    assert [a["action"] for a in task["availableActions"]] == ["completed", "discard"]
    loads = {a.annotator.email: a.task_items.count() for a in Assignment.objects.filter(task_id=task["id"])}
    assert loads == {members["annotator"].email: 7, second_annotator.email: 3}
    assignments = client.get(f"/api/v1/assignments?projects={dataset.project_id}&taskId={task['id']}").json()["items"]
    assert {a["annotator"] for a in assignments} == {members["annotator"].email.lower(), second_annotator.email.lower()}
    assert all(a["metadata"]["system"] == {"taskId": task["id"], "datasetId": dataset.id} for a in assignments)
    item = TaskItem.objects.filter(task_id=task["id"]).first()
    refs = client.get(f"/api/v1/items/{item.item_id}").json()["metadata"]["system"]["refs"]
    assert refs == [
        {"type": "task", "id": task["id"], "metadata": {}},
        {"type": "assignment", "id": item.assignment_id, "metadata": {}},
    ]


def test_items_of_a_task_and_an_assignment_are_found_by_refs(
    members, second_annotator, client_for, dataset, celery_worker
):
    client = client_for(members["owner"])
    task = create_task(client, dataset, **distribution(members, second_annotator))
    assignment = Assignment.objects.get(task_id=task["id"], annotator=second_annotator)

    def ids(condition):
        body = {"resource": "items", "filter": {"$and": [condition]}, "pageSize": 100}
        return {
            i["id"] for i in client.post(f"/api/v1/datasets/{dataset.id}/query", body, format="json").json()["items"]
        }

    assert len(ids({"metadata.system.refs.id": {"$in": [task["id"]]}})) == 10
    assert ids({"metadata.system.refs.id": {"$in": [assignment.id]}}) == set(
        assignment.task_items.values_list("item_id", flat=True)
    )
    assert len(ids({"metadata.system.refs.id": {"$ne": assignment.id}})) == 7


def pulling(members, second_annotator, **extra):
    people = [members["annotator"].email, second_annotator.email]
    return {"metadata": {"system": {"batchSize": 2, "maxBatchWorkload": 3, "allowedAssignees": people}}, **extra}


def test_pulling_takes_batches_up_to_the_workload_limit(members, second_annotator, client_for, dataset, celery_worker):
    manager = client_for(members["owner"])
    task = create_task(manager, dataset, **pulling(members, second_annotator))
    annotator = client_for(members["annotator"])
    pull = f"/api/v1/annotationtasks/{task['id']}/pull"

    first = annotator.post(pull).json()["items"]
    second = annotator.post(pull).json()["items"]
    third = annotator.post(pull).json()["items"]
    other = client_for(second_annotator).post(pull).json()["items"]

    assert task["allocation"] == "pulling" and task["metadata"]["system"]["batchSize"] == 2
    assert (len(first), len(second), len(third), len(other)) == (2, 1, 0, 2)
    mine = {i["item"]["id"] for i in first + second}
    assert mine.isdisjoint({i["item"]["id"] for i in other})
    assert TaskItem.objects.filter(task_id=task["id"], assignment=None).count() == 5
    assert client_for(members["reviewer"]).post(pull).status_code == 403  # no assignment in the task


def test_untouched_pulled_items_go_back_after_the_lease(
    members, second_annotator, client_for, dataset, celery_worker, settings
):
    settings.TASK_LEASE_SECONDS = 60
    task = create_task(client_for(members["owner"]), dataset, **pulling(members, second_annotator))
    annotator = client_for(members["annotator"])
    kept, idle = annotator.post(f"/api/v1/annotationtasks/{task['id']}/pull").json()["items"]
    TaskItem.objects.filter(task_id=task["id"]).exclude(assignment=None).update(
        leased_at=timezone.now() - timedelta(minutes=5)
    )
    annotator.post(
        f"/api/v1/items/{kept['item']['id']}/annotations",
        [{"type": "class", "label": "cat"}],
        format="json",
    )

    client_for(second_annotator).post(f"/api/v1/annotationtasks/{task['id']}/pull")

    assert (
        TaskItem.objects.get(task_id=task["id"], item_id=kept["item"]["id"]).assignment.annotator
        == members["annotator"]
    )
    idle_row = TaskItem.objects.get(task_id=task["id"], item_id=idle["item"]["id"])
    assert idle_row.assignment is None or idle_row.assignment.annotator == second_annotator


def test_status_through_both_dtlpy_routes_with_history_and_refs(
    members, second_annotator, client_for, dataset, celery_worker
):
    task = create_task(client_for(members["owner"]), dataset, **distribution(members, second_annotator))
    annotator = client_for(members["annotator"])
    mine = list(TaskItem.objects.filter(task_id=task["id"], assignment__annotator=members["annotator"]).order_by("id"))

    by_task = annotator.post(
        f"/api/v1/assignments/items/tasks/{task['id']}/status",
        {
            "itemIds": [mine[0].item_id],
            "statusPayload": {"operation": "create", "returnLastStatus": True, "status": "discard"},
        },
        format="json",
    )
    by_assignment = annotator.post(
        f"/api/v1/assignments/{mine[1].assignment_id}/items/{mine[1].item_id}/status",
        {"operation": "create", "status": "discard"},
        format="json",
    )
    cleared = annotator.post(
        f"/api/v1/assignments/{mine[1].assignment_id}/items/{mine[1].item_id}/status",
        {"operation": "delete", "status": "discard"},
        format="json",
    )

    assert by_task.json() == {mine[0].item_id: {"status": "discard", "lastStatus": None}}
    assert by_assignment.status_code == 200 and cleared.json()[mine[1].item_id]["status"] is None
    refs = annotator.get(f"/api/v1/items/{mine[0].item_id}").json()["metadata"]["system"]["refs"]
    assert [r["metadata"] for r in refs] == [{"status": "discard"}, {"status": "discard"}]
    changes = TaskItemStatusChange.objects.filter(task_item=mine[1]).order_by("id")
    assert [(c.previous, c.status, c.actor_id) for c in changes] == [
        (None, "discard", members["annotator"].id),
        ("discard", None, members["annotator"].id),
    ]
    task = annotator.get(f"/api/v1/annotationtasks/{task['id']}").json()
    assert task["itemStatus"] == {"discard": 1} and task["progress"] == 10


def test_bad_status_requests_change_nothing(members, second_annotator, client_for, dataset, celery_worker):
    task = create_task(client_for(members["owner"]), dataset, **distribution(members, second_annotator))
    theirs = TaskItem.objects.filter(task_id=task["id"], assignment__annotator=second_annotator).first()
    mine = TaskItem.objects.filter(task_id=task["id"], assignment__annotator=members["annotator"]).first()
    annotator = client_for(members["annotator"])
    url = f"/api/v1/assignments/items/tasks/{task['id']}/status"

    def send(item_id, status="completed", operation="create"):
        body = {"itemIds": [item_id], "statusPayload": {"operation": operation, "status": status}}
        return annotator.post(url, body, format="json").status_code

    assert send(theirs.item_id, "discard") == 403
    assert send(mine.item_id, "approved") == 400  # not an action of an annotation task
    assert send(mine.item_id, "discard", "upsert") == 400
    assert send("f" * 24, "discard") == 404
    assert client_for(members["stranger"]).post(url, {"itemIds": [mine.item_id]}, format="json").status_code == 404
    assert not TaskItemStatusChange.objects.exists()


def test_completing_needs_the_mandatory_attributes(members, second_annotator, client_for, dataset, celery_worker):
    task = create_task(client_for(members["owner"]), dataset, **distribution(members, second_annotator))
    mine = TaskItem.objects.filter(task_id=task["id"], assignment__annotator=members["annotator"]).first()
    annotator = client_for(members["annotator"])
    made = annotator.post(
        f"/api/v1/items/{mine.item_id}/annotations", [{"type": "class", "label": "cat"}], format="json"
    ).json()[0]
    complete = {"itemIds": [mine.item_id], "statusPayload": {"operation": "create", "status": "completed"}}

    refused = annotator.post(f"/api/v1/assignments/items/tasks/{task['id']}/status", complete, format="json")
    annotator.put(
        f"/api/v1/annotations/{made['id']}", {"metadata": {"system": {"attributes": {"pose": "up"}}}}, format="json"
    )
    accepted = annotator.post(f"/api/v1/assignments/items/tasks/{task['id']}/status", complete, format="json")

    assert refused.status_code == 400 and refused.json()["details"]["problems"][0]["missing"] == ["pose"]
    assert accepted.status_code == 200
    mine.refresh_from_db()
    assert mine.status == "completed" and mine.annotated_by == members["annotator"]


def test_reassign_and_redistribute(members, second_annotator, client_for, dataset, celery_worker):
    manager = client_for(members["annotationManager"])
    task = create_task(manager, dataset, **distribution(members, second_annotator))
    first = Assignment.objects.get(task_id=task["id"], annotator=members["annotator"])

    reassigned = manager.post(
        f"/api/v1/assignments/{first.id}/reassign",
        {"taskId": task["id"], "annotator": members["reviewer"].email},
        format="json",
    ).json()
    target = reassigned["spec"]["toAssignment"]
    redistributed = manager.post(
        f"/api/v1/assignments/{target}/redistribute",
        {
            "taskId": task["id"],
            "workload": [
                {"assigneeId": members["reviewer"].email, "load": 50},
                {"assigneeId": second_annotator.email, "load": 50},
            ],
        },
        format="json",
    )

    assert reassigned["status"] == "success"
    assert redistributed.status_code == 200 and redistributed.json()["spec"]["workload"][0]["load"] == 50
    counts = {a.annotator_id: a.task_items.count() for a in Assignment.objects.filter(task_id=task["id"])}
    assert counts == {members["annotator"].id: 0, members["reviewer"].id: 4, second_annotator.id: 6}
    assert manager.get(f"/api/v1/assignments/{first.id}").json()["status"] == "removed"
    assert (
        client_for(members["annotator"])
        .post(f"/api/v1/assignments/{target}/reassign", {"annotator": members["annotator"].email}, format="json")
        .status_code
        == 403
    )


def test_items_join_and_leave_a_running_task(members, second_annotator, client_for, dataset, celery_worker):
    manager = client_for(members["owner"])
    only_two = json.dumps({"filter": {"$and": [{"name": {"$in": ["00.png", "01.png"]}}]}, "resource": "items"})
    task = create_task(manager, dataset, query=only_two, **distribution(members, second_annotator))
    more = json.dumps({"filter": {"$and": [{"name": {"$in": ["01.png", "02.png", "03.png"]}}]}, "resource": "items"})

    added = manager.post(f"/api/v1/annotationtasks/{task['id']}/addToTask", {"query": more}, format="json").json()
    TaskItem.objects.filter(task_id=task["id"], item__name="02.png").update(status="completed")
    removed = manager.post(
        f"/api/v1/annotationtasks/{task['id']}/removeFromTask",
        {"query": json.dumps({"filter": {"name": {"$in": ["02.png", "03.png"]}}})},
        format="json",
    ).json()

    assert added["spec"]["addToTaskPayload"] == {"added": 2}
    assert removed["spec"]["removeFromTaskId"] == task["id"] and removed["spec"]["removeItemsCount"] == 1
    names = sorted(TaskItem.objects.filter(task_id=task["id"]).values_list("item__name", flat=True))
    assert names == ["00.png", "01.png", "02.png"]


def test_tasks_are_queried_updated_and_deleted_as_dtlpy_does(
    members, second_annotator, client_for, dataset, celery_worker
):
    manager = client_for(members["owner"])
    task = create_task(manager, dataset, **distribution(members, second_annotator))
    body = {
        "filter": {"$and": [{"name": "Label cats"}, {"projectId": dataset.project_id}, {"datasetId": dataset.id}]},
        "page": 0,
        "pageSize": 1000,
        "resource": "tasks",
        "context": {"projectIds": [dataset.project_id]},
    }

    found = manager.post("/api/v1/annotationtasks/query", body, format="json").json()
    every = manager.post("/api/v1/annotationtasks/query", {"filter": {}, "resource": "tasks"}, format="json").json()
    patched = manager.patch(
        f"/api/v1/annotationtasks/{task['id']}",
        {**task, "name": "Renamed", "description": {"content": "hello"}, "totalItems": 99},
        format="json",
    ).json()
    by_assignment = manager.post(
        "/api/v1/annotationtasks/query",
        {"filter": {"$and": [{"assignmentIds": {"$in": [task["assignmentIds"][0]]}}]}},
        format="json",
    ).json()
    stranger = (
        client_for(members["stranger"]).post("/api/v1/annotationtasks/query", {"filter": {}}, format="json").json()
    )
    deleted = manager.delete(f"/api/v1/annotationtasks/{task['id']}", {"asynced": True}, format="json").json()

    assert found["totalItemsCount"] == 1 and found["items"][0]["id"] == task["id"]
    assert every["totalItemsCount"] == 1 and by_assignment["totalItemsCount"] == 1
    assert (
        patched["name"] == "Renamed" and patched["description"] == {"content": "hello"} and patched["totalItems"] == 10
    )
    assert stranger["totalItemsCount"] == 0
    assert deleted["spec"]["deleteTaskId"] == task["id"] and not Task.objects.exists()


BAD_CREATES = {
    "loads not summing to 100": {"workload": [{"assigneeId": "ANN", "load": 60}]},
    "a stranger assignee": {"workload": [{"assigneeId": "nobody@example.com", "load": 100}]},
    "no workload": {},
    "bad query": {"query": "{not json", "workload": [{"assigneeId": "ANN", "load": 100}]},
    "bad DQL": {"query": json.dumps({"filter": {"colour": 1}}), "workload": [{"assigneeId": "ANN", "load": 100}]},
    "bad priority": {"priority": 7, "workload": [{"assigneeId": "ANN", "load": 100}]},
    "bad type": {"spec": {"type": "review"}, "workload": [{"assigneeId": "ANN", "load": 100}]},
    "qa without parent": {"spec": {"type": "qa"}, "workload": [{"assigneeId": "ANN", "load": 100}]},
    "batch above max": {"metadata": {"system": {"batchSize": 5, "maxBatchWorkload": 2, "allowedAssignees": ["ANN"]}}},
}


@pytest.mark.parametrize("name", sorted(BAD_CREATES))
def test_bad_task_creations_are_400_and_create_nothing(name, members, client_for, dataset):
    body = json.loads(json.dumps(BAD_CREATES[name]).replace("ANN", members["annotator"].email))
    response = client_for(members["owner"]).post(
        "/api/v1/annotationtasks", {"name": "T", "datasetId": dataset.id, **body}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert not Task.objects.exists()


@pytest.mark.parametrize("role", ["annotator", "reviewer", "stranger"])
def test_only_managers_create_tasks(role, members, client_for, dataset):
    body = {"name": "T", "datasetId": dataset.id, "workload": [{"assigneeId": members["annotator"].email, "load": 100}]}
    response = client_for(members[role]).post("/api/v1/annotationtasks", body, format="json")
    assert response.status_code == (404 if role == "stranger" else 403)
    assert not Task.objects.exists()
