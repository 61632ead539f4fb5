"""GET /assignments/{id}/queue: a page of the open items in working order, with counts over all."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotator.tasks.models import Assignment, TaskItem
from tests.tasks.conftest import create_task

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queue_of(members, client_for, dataset, celery_worker):
    """The annotator's client and their assignment's queue URL, holding all 10 items."""
    manager, annotator = client_for(members["owner"]), client_for(members["annotator"])
    task = create_task(manager, dataset, workload=[{"assigneeId": members["annotator"].email, "load": 100}])
    assignment = Assignment.objects.get(task_id=task["id"], annotator=members["annotator"])
    return annotator, f"/api/v1/assignments/{assignment.id}/queue", assignment


def test_pages_come_in_working_order_with_the_counts_of_the_whole_queue(queue_of):
    client, url, assignment = queue_of
    rows = list(TaskItem.objects.filter(assignment=assignment).order_by("id"))
    # two items sent back by review: they come first, the later reopening first of all
    TaskItem.objects.filter(pk=rows[7].pk).update(reopened_at=timezone.now() - timezone.timedelta(minutes=5))
    TaskItem.objects.filter(pk=rows[4].pk).update(reopened_at=timezone.now())
    TaskItem.objects.filter(pk=rows[0].pk).update(status="completed")  # done: no longer open
    expected = [rows[4].item_id, rows[7].item_id] + [r.item_id for r in rows[1:] if r not in (rows[4], rows[7])]

    pages = [client.get(url, {"pageSize": 4, "pageOffset": n}).json() for n in range(3)]

    assert [entry["item"]["id"] for page in pages for entry in page["items"]] == expected
    assert [len(page["items"]) for page in pages] == [4, 4, 1]
    assert [page["hasNextPage"] for page in pages] == [True, True, False]
    assert {(p["totalItemsCount"], p["totalPagesCount"], p["reopenedCount"]) for p in pages} == {(9, 3, 2)}
    assert [entry["reopened"] for entry in pages[0]["items"]] == [True, True, False, False]
    assert client.get(url, {"pageOffset": 3, "pageSize": 4}).json()["items"] == []


def test_the_default_page_is_a_hundred_items(queue_of):
    client, url, _assignment = queue_of
    page = client.get(url).json()
    assert (len(page["items"]), page["totalItemsCount"], page["totalPagesCount"]) == (10, 10, 1)


def test_a_page_costs_the_same_queries_whatever_its_size(queue_of):
    client, url, _assignment = queue_of
    client.get(url)  # the first request of a key also notes when it was used
    counts = []
    for size in (1, 10):
        with CaptureQueriesContext(connection) as queries:
            assert len(client.get(url, {"pageSize": size}).json()["items"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize(
    "params", [{"pageSize": "x"}, {"pageSize": 1001}, {"pageSize": -1}, {"pageOffset": "1.5"}, {"pageOffset": -2}]
)
def test_a_bad_page_gets_400_naming_the_parameter(queue_of, params):
    client, url, _assignment = queue_of
    response = client.get(url, params)
    assert response.status_code == 400
    assert next(iter(params)) in response.json()["message"]
