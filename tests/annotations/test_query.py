"""DQL over annotations: the annotations resource, items joined to annotations, bulk update and delete."""

import pytest

from annotator.annotations import commands
from annotator.annotations.models import Annotation, AnnotationChange
from tests.annotations.conftest import box
from tests.conftest import command_finished

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(members, client_for, item, dataset):
    """Three items: `item` with a cat and a dog, a second with a dog, a third with nothing."""
    import io

    from annotator.datasets import services as datasets
    from tests.images import png

    owner = client_for(members["owner"])
    second = datasets.item_upload(
        user=members["owner"], dataset_id=dataset.id, path="/b.png", fileobj=io.BytesIO(png(64, 48, (1, 2, 3)))
    )[0]
    third = datasets.item_upload(
        user=members["owner"], dataset_id=dataset.id, path="/c.png", fileobj=io.BytesIO(png(64, 48, (4, 5, 6)))
    )[0]
    cat, dog = owner.post(f"/api/v1/items/{item.id}/annotations", [box(), box(label="dog")], format="json").json()
    other_dog = (
        client_for(members["annotator"])
        .post(f"/api/v1/items/{second.id}/annotations", [box(label="dog", attributes={"age": 4})], format="json")
        .json()[0]
    )
    return {"items": (item, second, third), "cat": cat, "dog": dog, "other_dog": other_dog, "client": owner}


def query(client, dataset, body):
    return client.post(f"/api/v1/datasets/{dataset.id}/query", body, format="json")


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"label": "dog"}, ["dog", "other_dog"]),
        ({"type": "box"}, ["cat", "dog", "other_dog"]),
        ({"creator": "ANNOTATOR"}, ["other_dog"]),
        ({"metadata.system.attributes.age": {"$gte": 4}}, ["other_dog"]),
        ({"label": {"$in": ["cat"]}}, ["cat"]),
        ({"createdAt": {"$gt": "2000-01-01T00:00:00Z"}}, ["cat", "dog", "other_dog"]),
        ({"metadata.system.status": "issue"}, ["dog"]),
    ],
)
def test_annotation_filters(condition, expected, world, dataset, members, client_for):
    client_for(members["reviewer"]).post(
        f"/api/v1/annotations/{world['dog']['id']}/status", {"status": "issue"}, format="json"
    )
    if condition.get("creator") == "ANNOTATOR":
        condition = {"creator": members["annotator"].email}

    page = query(world["client"], dataset, {"resource": "annotations", "filter": {"$and": [condition]}}).json()

    assert sorted(a["id"] for a in page["items"]) == sorted(world[name]["id"] for name in expected)
    assert page["totalItemsCount"] == len(expected)


def test_keyset_paging_over_annotations(world, dataset):
    client = world["client"]
    body = {"resource": "annotations", "sort": {"id": "ascending"}, "pageSize": 2, "page": 0}
    first = query(client, dataset, body).json()
    after = {**body, "filter": {"$and": [{"id": {"$gt": first["items"][-1]["id"]}}]}}
    second = query(client, dataset, after).json()
    assert first["hasNextPage"] and len(first["items"]) == 2
    assert [a["id"] for a in second["items"]] == [world["other_dog"]["id"]] and not second["hasNextPage"]


def test_items_joined_to_annotations(world, dataset):
    body = {
        "resource": "items",
        "filter": {"$and": [{"hidden": False}, {"type": "file"}]},
        "join": {
            "on": {"resource": "annotations", "local": "itemId", "forigen": "id"},
            "filter": {"$and": [{"label": "dog"}]},
        },
    }
    page = query(world["client"], dataset, body).json()
    item, second, _third = world["items"]
    assert sorted(i["id"] for i in page["items"]) == sorted([item.id, second.id])
    cats = {**body, "join": {**body["join"], "filter": {"label": "cat"}}}
    assert [i["id"] for i in query(world["client"], dataset, cats).json()["items"]] == [item.id]


@pytest.mark.parametrize(
    "body",
    [
        {"resource": "annotations", "filter": {"colour": "red"}},
        {"resource": "annotations", "filter": {"label": {"$near": 1}}},
        {"resource": "annotations", "filter": {"metadata.system.x'--": 1}},
        {"resource": "annotations", "filter": {"creator__password": "x"}},
        {"resource": "items", "join": {"on": {"resource": "annotations", "local": "x", "forigen": "id"}}},
    ],
)
def test_invalid_annotation_queries_are_400(body, world, dataset):
    response = query(world["client"], dataset, body)
    assert response.status_code == 400, response.json()


def test_list_query_count_is_bounded(world, dataset, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        page = query(world["client"], dataset, {"resource": "annotations", "pageSize": 100}).json()
    assert page["totalItemsCount"] == 3


def test_dtlpy_delete_by_ids_runs_in_the_request(world, dataset):
    ids = [world["cat"]["id"], world["other_dog"]["id"]]
    body = {
        "filter": {"$and": [{"annotationId": {"$in": ids}}]},
        "page": 0,
        "pageSize": 1000,
        "resource": "annotations",
        "delete": True,
    }

    response = query(world["client"], dataset, body)

    assert response.status_code == 200 and response.json() == {"deleted": 2}
    assert list(Annotation.objects.values_list("id", flat=True)) == [world["dog"]["id"]]
    _item, second, _ = world["items"]
    second.refresh_from_db()
    assert (second.annotations_count, second.annotated) == (0, False)
    assert AnnotationChange.objects.filter(action="deleted").count() == 2


def test_bulk_update_writes_versions_and_history(world, dataset):
    body = {"resource": "annotations", "filter": {"label": "dog"}, "update": {"metadata": {"user": {"batch": 7}}}}

    response = query(world["client"], dataset, body)

    assert response.json() == {"updated": 2}
    dogs = Annotation.objects.filter(label="dog")
    assert {(a.metadata["user"]["batch"], a.version) for a in dogs} == {(7, 2)}
    assert Annotation.objects.get(label="cat").metadata["user"] == {}
    assert AnnotationChange.objects.filter(action="updated").count() == 2


def test_bulk_system_update_needs_a_reviewer(world, dataset, members, client_for):
    body = {
        "resource": "annotations",
        "filter": {"label": "dog"},
        "systemSpace": True,
        "update": {"metadata": {"system": {"status": "approved"}}},
    }
    assert query(client_for(members["annotator"]), dataset, body).status_code == 403
    assert query(client_for(members["reviewer"]), dataset, body).json() == {"updated": 2}
    assert query(client_for(members["annotator"]), dataset, {**body, "delete": True, "update": None}).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_big_bulk_operations_run_as_commands(world, dataset, monkeypatch, celery_worker, members, client_for):
    monkeypatch.setattr(commands, "INLINE_MAX", 1)
    client = world["client"]

    update = query(
        client,
        dataset,
        {"resource": "annotations", "filter": {"label": "dog"}, "update": {"metadata": {"user": {"x": 1}}}},
    )
    assert update.status_code == 202
    assert command_finished(client, update.json()["id"])["status"] == "success"
    assert {a.metadata["user"].get("x") for a in Annotation.objects.filter(label="dog")} == {1}

    delete = query(client, dataset, {"resource": "annotations", "delete": True})
    done = command_finished(client, delete.json()["id"])
    assert done["status"] == "success"
    assert not Annotation.objects.exists()
    for item in world["items"]:
        item.refresh_from_db()
        assert item.annotations_count == 0 and not item.annotated
    assert (
        query(client_for(members["stranger"]), dataset, {"resource": "annotations", "delete": True}).status_code == 404
    )


def test_item_counts_on_annotation_fields_follow_annotation_writes(world, dataset):
    client = world["client"]
    body = {"resource": "items", "filter": {"$and": [{"type": "file"}, {"annotated": True}]}}
    before = query(client, dataset, body).json()["totalItemsCount"]
    _item, _second, third = world["items"]

    client.post(f"/api/v1/items/{third.id}/annotations", [box()], format="json")
    after_create = query(client, dataset, body).json()["totalItemsCount"]
    client.delete(f"/api/v1/annotations/{world['other_dog']['id']}", {}, format="json")
    after_delete = query(client, dataset, body).json()["totalItemsCount"]

    assert (before, after_create, after_delete) == (2, 3, 2)


def test_item_counts_on_task_refs_follow_task_changes(world, dataset, members):
    from annotator.core.commands import command_execute
    from annotator.tasks.services import task_create_start

    client = world["client"]
    command = task_create_start(
        user=members["owner"],
        body={
            "name": "T",
            "datasetId": dataset.id,
            "workload": [{"assigneeId": members["annotator"].email, "load": 100}],
        },
    )
    body = {"resource": "items", "filter": {"metadata.system.refs.id": command.spec["createdTaskId"]}}
    before = query(client, dataset, body).json()["totalItemsCount"]
    command_execute(command_id=command.id)
    after = query(client, dataset, body).json()["totalItemsCount"]
    assert (before, after) == (0, 3)
