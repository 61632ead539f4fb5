"""dtlpy against a live server: tasks by distribution and pulling, assignments, item statuses,
reassign and redistribute, items in and out, a QA task, rename and delete."""

import io
from pathlib import Path

import pytest

from annotator.accounts import services as account_services
from annotator.datasets import services as datasets
from annotator.tasks.models import Task, TaskItem
from tests.contract.conftest import run_scenarios
from tests.factories import MembershipFactory, ProjectFactory
from tests.images import png

pytestmark = pytest.mark.contract

TASK_SCENARIOS = Path(__file__).with_name("dtlpy_task_scenarios.py")
ANNA, BEN, CLEO, RITA = "anna@example.com", "ben@example.com", "cleo@example.com", "rita@example.com"
DUE = 1893456000.5  # epoch seconds: dtlpy sends dueDate * 1000
PHOTOS = [f"{n:02d}.png" for n in range(8)]


def test_dtlpy_creates_works_changes_and_deletes_tasks(dtlpy_python, live_server, tmp_path):
    # given: an owner (the SDK's user), three annotators and a reviewer; a dataset of 8 images
    # whose recipe has no mandatory attributes (so completing needs no annotations), and another
    project = ProjectFactory()
    owner = project.creator
    people = {
        email: MembershipFactory(project=project, role="annotator", user__email=email).user
        for email in (ANNA, BEN, CLEO)
    }
    MembershipFactory(project=project, role="reviewer", user__email=RITA)
    dataset = datasets.dataset_create(user=owner, project_id=project.id, name="Photos", labels=[{"tag": "cat"}])
    for n, name in enumerate(PHOTOS):
        datasets.item_upload(
            user=owner, dataset_id=dataset.id, path=f"/photos/{name}", fileobj=io.BytesIO(png(color=(n, 1, 1)))
        )
    other = datasets.dataset_create(user=owner, project_id=project.id, name="Other")
    datasets.item_upload(user=owner, dataset_id=other.id, path="/x.png", fileobj=io.BytesIO(png()))
    key = account_services.api_key_create(user=owner, name="sdk")[1]
    anna_key = account_services.api_key_create(user=people[ANNA], name="sdk")[1]
    ben_key = account_services.api_key_create(user=people[BEN], name="sdk")[1]

    # when
    values = run_scenarios(
        dtlpy_python,
        TASK_SCENARIOS,
        work_dir=tmp_path,
        env={
            "ANNOTATOR_URL": live_server.url,
            "API_KEY": key,
            "ANNA_KEY": anna_key,
            "BEN_KEY": ben_key,
            "PROJECT_ID": project.id,
            "DATASET_ID": dataset.id,
            "OTHER_DATASET_ID": other.id,
            "ANNA": ANNA,
            "BEN": BEN,
            "CLEO": CLEO,
            "RITA": RITA,
            "DUE": repr(DUE),
        },
    )

    # then: creation, by assignee ids (50/50), by a weighted workload, by pulling
    dist_id = values["create distribution"]["id"]
    assert values["create distribution"] == {
        "id": dist_id,
        "name": "Distributed",
        "type": "annotation",
        "parentTaskId": None,
        "datasetId": dataset.id,
        "projectId": project.id,
        "priority": 3,
        "dueDate": DUE * 1000,
        "actions": ["completed", "discard"],
        "assignmentIds": 2,
        "system": {},
    }
    weighted = values["create by workload"]
    assert (weighted["name"], weighted["assignmentIds"], weighted["priority"]) == ("Weighted", 3, 2)
    pulled = values["create pulling"]
    assert pulled["system"] == {"batchSize": 3, "maxBatchWorkload": 5, "allowedAssignees": [ANNA, CLEO]}
    assert pulled["assignmentIds"] == 2
    assert Task.objects.get(pk=pulled["id"]).allocation == "pulling"
    assert values["create on another dataset"]["datasetId"] == other.id

    # reading tasks
    assert values["dataset.tasks.list"] == ["Distributed", "Pulled", "Weighted"]
    assert values["project.tasks.list"] == ["Distributed", "Elsewhere", "Pulled", "Weighted"]
    assert values["tasks.get by id"] == weighted
    assert values["dataset.tasks.get by name"] == weighted["id"]
    assert values["project.tasks.get by name"] == other.id
    assert values["tasks.get missing name"] == "NotFound"

    # assignments, and the items each holds (counts follow the loads)
    assert values["task.assignments.list distribution"] == [ANNA, BEN]
    assert values["project.assignments.list"] == [
        ["Distributed", ANNA],
        ["Distributed", BEN],
        ["Pulled", ANNA],
        ["Pulled", CLEO],
        ["Weighted", ANNA],
        ["Weighted", BEN],
        ["Weighted", CLEO],
    ]
    held = values["assignment.get_items distribution"]
    assert sorted(held) == [ANNA, BEN]
    assert (len(held[ANNA]), len(held[BEN])) == (3, 3)
    assert sorted(held[ANNA] + held[BEN]) == PHOTOS[:6]
    assert values["task.get_items distribution"] == PHOTOS[:6]
    by_load = values["assignment.get_items workload"]
    assert {annotator: len(names) for annotator, names in by_load.items()} == {ANNA: 4, BEN: 2, CLEO: 2}
    assert sorted(by_load[ANNA] + by_load[BEN] + by_load[CLEO]) == PHOTOS
    assert values["task.get_items workload"] == PHOTOS
    assert values["task.get_items pulling"] == PHOTOS[:5]
    assert values["assignment.get_items pulling before a pull"] == {ANNA: [], CLEO: []}
    assert values["pull as an annotator"] == PHOTOS[:3]
    assert values["assignment.get_items pulling after a pull"] == {ANNA: PHOTOS[:3], CLEO: []}
    queue = TaskItem.objects.filter(task_id=pulled["id"])
    assert queue.filter(assignment=None).count() == 2
    assert queue.filter(assignment__annotator=people[ANNA], leased_at__isnull=False).count() == 3

    # item status by both routes, re-fetched and read from the refs by item.status()
    x, (y, z, w) = held[ANNA][0], held[BEN]
    assert values["update_status task_id"] == {"returned": None, "task": "completed", "assignment": "completed"}
    assert values["update_status assignment_id"] == {"task": "completed", "assignment": "completed"}
    assert values["update_status discard"] == {"task": "discard", "assignment": "discard"}
    assert values["update_status clear"] == {"task": None, "assignment": None, "refs with a status": []}
    assert values["update_status as the annotator"] == {
        "task": "completed",
        "assignment": "completed",
        "on another's item": "Forbidden",
        "x still": {"task": "completed"},
    }
    assert values["update_status unknown action"] == "BadRequest"

    # reassign moves anna's open items to a new assignment of cleo's; the completed one stays
    reassigned = values["assignment.reassign"]
    assert reassigned == {
        "returned annotator": CLEO,
        "returned taskId": dist_id,
        "new items": held[ANNA][1:],
        "old items": [x],
        "x by the old assignment": {"task": "completed", "assignment": "completed"},
    }
    # redistribute shares ben's two items of Weighted between anna and cleo, 50/50
    assert values["assignment.redistribute"] == {
        "returned": [ANNA, CLEO],
        "counts": {ANNA: 5, BEN: 0, CLEO: 3},
        "total": 8,
    }
    assert values["task.set_status several items"] == {
        "returned": [True, True],
        "after create": ["discard", "discard"],
        "after delete": [None, "discard"],
    }
    assert values["update_status without ids"] == {
        "refs": ["assignment", "task"],
        "task": "completed",
        "assignment": "completed",
    }

    # items in (to a named assignee; without a workload, to an active assignee) and out
    assert values["task.add_items to an assignee"] == {
        "returned": dist_id,
        "ben": sorted([*held[BEN], "06.png"]),
        "total": 7,
    }
    added = values["task.add_items without a workload"]
    assert added["total"] == 8
    assert added["by annotator"][ANNA] == [x]
    assert "07.png" in added["by annotator"][BEN] + added["by annotator"][CLEO]
    assert sorted(name for names in added["by annotator"].values() for name in names) == PHOTOS
    assert values["task.remove_items"] == {"returned": True, "items": PHOTOS[:7]}  # x has a status: kept

    # QA: the parent's completed items (x by anna, w by ben), then one completed later
    qa = values["create_qa_task"]
    assert (qa["name"], qa["type"], qa["parentTaskId"]) == ("Distributed_qa", "qa", dist_id)
    assert qa["actions"] == ["approved", "discard"]
    assert qa["assignees"] == [RITA]
    assert qa["items"] == sorted([x, w])  # not y (cleared) nor z (discarded)
    assert z not in qa["items"] and y not in qa["items"]
    fed = values["completion feeds QA"]
    assert fed["item"] == held[ANNA][1]
    assert fed["qa items"] == sorted([x, w, fed["item"]])
    assert values["approve in QA"] == {"qa": "approved", "parent": "completed"}

    # rename (dtlpy PATCHes the whole task) and delete (the QA task first)
    assert values["task.update"] == {
        "returned": "Distributed (renamed)",
        "fresh": "Distributed (renamed)",
        "priority": 1,
        "description": {"content": "Look for cats"},
    }
    assert values["task.delete"] == {
        "qa": True,
        "task": True,
        "get after": "NotFound",
        "x refs": {"task": None},
        "listed": ["Pulled", "Weighted"],
    }
    assert not Task.objects.filter(pk__in=[dist_id, qa["id"]]).exists()
    assert not TaskItem.objects.filter(task_id=dist_id).exists()
