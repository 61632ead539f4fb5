"""Task pages (My work, the creation form, the dashboard, the studio in task mode) and the
dashboard's stats endpoint: who may open them, and what they are given."""

import pytest

from tests.tasks.conftest import create_task
from tests.tasks.test_review_loop import status

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def task(members, client_for, dataset, celery_worker):
    manager = client_for(members["owner"])
    return create_task(manager, dataset, workload=[{"assigneeId": members["annotator"].email, "load": 100}])


def page(client, user, path):
    client.force_login(user)
    return client.get(path)


def test_task_pages_need_a_login(client, project, task):
    for path in ["/work/", f"/projects/{project.id}/tasks/new", f"/tasks/{task['id']}/"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("owner", 200),
        ("engineer", 200),
        ("annotationManager", 200),
        ("reviewer", 403),
        ("annotator", 403),
        ("stranger", 404),
    ],
)
def test_the_creation_form_is_for_those_who_may_create_tasks(client, members, project, dataset, role, expected):
    response = page(client, members[role], f"/projects/{project.id}/tasks/new?dataset={dataset.id}")
    assert response.status_code == expected
    if expected == 200:
        data = response.context["form_data"]
        assert data["datasetId"] == dataset.id and data["datasets"][0]["recipeId"]
        # Only people who may work on assignments are offered as assignees.
        roles = {w["role"] for w in data["workers"]}
        assert "annotator" in roles and "reviewer" in roles


@pytest.mark.parametrize(
    ("role", "expected"),
    [("owner", 200), ("annotationManager", 200), ("reviewer", 200), ("annotator", 200), ("stranger", 404)],
)
def test_the_dashboard_is_for_project_members(client, members, task, role, expected):
    response = page(client, members[role], f"/tasks/{task['id']}/")
    assert response.status_code == expected
    if expected == 200:
        assert response.context["can_manage"] is (role in ("owner", "annotationManager"))
        assert response.context["can_work"] is (role == "annotator")


def test_my_work_and_the_project_page_list_tasks(client, members, project, task):
    assert page(client, members["annotator"], "/work/").status_code == 200
    response = page(client, members["owner"], f"/projects/{project.id}/")
    assert [t.name for t in response.context["tasks"]] == ["Label cats"]
    assert b"New task" in response.content
    response = page(client, members["annotator"], f"/projects/{project.id}/")
    assert b"New task" not in response.content


def test_the_studio_opens_in_task_mode_with_the_callers_assignment(client, members, task, dataset):
    item = dataset.items.filter(type="file").order_by("id").first()
    response = page(client, members["annotator"], f"/studio/{item.id}?task={task['id']}")
    assert response.status_code == 200
    mode = response.context["task"]
    assert mode["id"] == task["id"] and mode["assignmentId"] == task["assignmentIds"][0]
    assert [a["action"] for a in mode["actions"]] == ["completed", "discard"]
    assert b'id="task-data"' in response.content
    # A stranger gets the same 404 as for an unknown task; without ?task the studio is as before.
    assert page(client, members["stranger"], f"/studio/{item.id}?task={task['id']}").status_code == 404
    assert page(client, members["owner"], f"/studio/{item.id}?task=000000000000000000000000").status_code == 404
    assert page(client, members["owner"], f"/studio/{item.id}").context["task"] is None


def test_stats_count_statuses_per_person(members, client_for, task):
    annotator = client_for(members["annotator"])
    items = [annotator.get(f"/api/v1/annotationtasks/{task['id']}/next").json()["next"]["item"]["id"]]
    assert status(annotator, task["id"], items[0], "discard").status_code == 200
    second = annotator.get(f"/api/v1/annotationtasks/{task['id']}/next").json()["next"]["item"]["id"]
    assert status(annotator, task["id"], second, "discard").status_code == 200

    stats = client_for(members["reviewer"]).get(f"/api/v1/annotationtasks/{task['id']}/stats").json()
    person = stats["people"][members["annotator"].email.lower()]
    assert person["statuses"] == 2 and person["lastHour"] == 2
    assert person["secondsPerItem"] is not None and person["secondsPerItem"] < 60
    assert client_for(members["stranger"]).get(f"/api/v1/annotationtasks/{task['id']}/stats").status_code == 404


def test_the_dataset_page_links_to_a_new_task_on_it(client, members, project, dataset):
    link = f"/projects/{project.id}/tasks/new?dataset={dataset.id}".encode()
    assert link in page(client, members["annotationManager"], f"/datasets/{dataset.id}/").content
    assert link not in page(client, members["annotator"], f"/datasets/{dataset.id}/").content
