"""The review loop through the API, and a pull queue under concurrency."""

import threading

import pytest
from django.db import connections

from annotator.core.errors import ApiError
from annotator.tasks import queue
from annotator.tasks.models import Task, TaskItem, TaskItemStatusChange
from tests.tasks.conftest import create_task

pytestmark = pytest.mark.django_db(transaction=True)


def status(client, task_id, item_id, value, operation="create"):
    body = {"itemIds": [item_id], "statusPayload": {"operation": operation, "status": value}}
    return client.post(f"/api/v1/assignments/items/tasks/{task_id}/status", body, format="json")


def test_complete_review_issue_fix_and_approve(members, client_for, dataset, celery_worker):
    manager, annotator, reviewer = (client_for(members[r]) for r in ("owner", "annotator", "reviewer"))
    task = create_task(manager, dataset, workload=[{"assigneeId": members["annotator"].email, "load": 100}])
    qa = create_task(
        manager,
        dataset,
        name="Review cats",
        spec={"type": "qa", "parentTaskId": task["id"]},
        workload=[{"assigneeId": members["reviewer"].email, "load": 100}],
    )
    assert qa["totalItems"] == 0 and [a["action"] for a in qa["availableActions"]] == ["approved", "discard"]

    # the annotator labels the first item of their queue and completes it
    first = annotator.get(f"/api/v1/annotationtasks/{task['id']}/next").json()["next"]["item"]
    cat = annotator.post(
        f"/api/v1/items/{first['id']}/annotations",
        [{"type": "class", "label": "cat", "metadata": {"system": {"attributes": {"pose": "up"}}}}],
        format="json",
    ).json()[0]
    assert status(annotator, task["id"], first["id"], "completed").status_code == 200

    # it reaches the reviewer's queue; the reviewer raises an issue on the annotation
    review = reviewer.get(f"/api/v1/annotationtasks/{qa['id']}/next").json()["next"]
    assert review["item"]["id"] == first["id"]
    reviewer.post(
        f"/api/v1/annotations/{cat['id']}/status", {"status": "issue", "message": "Wrong pose"}, format="json"
    )

    # the item is reopened, first in the annotator's queue, and parked in QA
    reopened = annotator.get(f"/api/v1/annotationtasks/{task['id']}/next").json()["next"]
    assert reopened["item"]["id"] == first["id"] and reopened["reopened"] is True
    assert TaskItem.objects.get(task_id=qa["id"], item_id=first["id"]).status == "issue"
    assert reviewer.get(f"/api/v1/annotationtasks/{qa['id']}/next").json()["next"] is None

    # the annotator fixes it, marks the annotation for review and completes again
    annotator.put(
        f"/api/v1/annotations/{cat['id']}", {"metadata": {"system": {"attributes": {"pose": "down"}}}}, format="json"
    )
    annotator.post(f"/api/v1/annotations/{cat['id']}/status", {"status": "review", "message": "Fixed"}, format="json")
    assert status(annotator, task["id"], first["id"], "completed").status_code == 200

    # back with the same reviewer, who approves
    back = reviewer.get(f"/api/v1/annotationtasks/{qa['id']}/next").json()["next"]
    assert back["item"]["id"] == first["id"]
    assert status(reviewer, qa["id"], first["id"], "approved").status_code == 200

    done = TaskItem.objects.get(task_id=task["id"], item_id=first["id"])
    reviewed = TaskItem.objects.get(task_id=qa["id"], item_id=first["id"])
    assert (done.status, done.annotated_by, reviewed.status, reviewed.reviewed_by) == (
        "completed",
        members["annotator"],
        "approved",
        members["reviewer"],
    )
    trail = list(TaskItemStatusChange.objects.filter(task_item=done).values_list("status", flat=True))
    assert trail == ["completed", None, "completed"]
    assert status(annotator, qa["id"], first["id"], "approved").status_code == 403


def test_a_qa_task_created_later_takes_the_items_already_completed(members, client_for, dataset, celery_worker):
    manager = client_for(members["owner"])
    task = create_task(manager, dataset, workload=[{"assigneeId": members["annotator"].email, "load": 100}])
    TaskItem.objects.filter(task_id=task["id"], item__name__in=["00.png", "01.png"]).update(status="completed")
    TaskItem.objects.filter(task_id=task["id"], item__name="02.png").update(status="discard")

    qa = create_task(
        manager,
        dataset,
        name="QA",
        spec={"type": "qa", "parentTaskId": task["id"]},
        metadata={"system": {"batchSize": 1, "maxBatchWorkload": 2, "allowedAssignees": [members["reviewer"].email]}},
    )

    assert qa["totalItems"] == 2 and qa["allocation"] == "pulling"


def test_fifty_concurrent_pulls_hand_each_item_out_once(members, project, dataset, celery_worker, client_for):
    from tests.factories import MembershipFactory

    pullers = [MembershipFactory(project=project, role="annotator").user for _ in range(50)]
    task = create_task(
        client_for(members["owner"]),
        dataset,
        metadata={"system": {"batchSize": 1, "maxBatchWorkload": 1, "allowedAssignees": [u.email for u in pullers]}},
    )
    barrier = threading.Barrier(len(pullers))
    taken: list[str] = []
    errors: list[Exception] = []

    def pull(user):
        barrier.wait()
        try:
            taken.extend(t.item_id for t in queue.assignment_pull(user=user, task_id=task["id"]))
        except ApiError as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pull, args=(user,)) for user in pullers]
    [t.start() for t in threads]
    [t.join() for t in threads]

    assert not errors
    assert len(taken) == len(set(taken)) == 10  # ten items, each to exactly one of fifty pullers
    held = TaskItem.objects.filter(task_id=task["id"]).exclude(assignment=None)
    assert held.count() == 10 and held.values("assignment__annotator").distinct().count() == 10
    assert Task.objects.get(pk=task["id"]).task_items.filter(assignment=None).count() == 0
