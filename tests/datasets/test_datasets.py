"""Datasets: create, read, list, query, update, delete; for every role and a stranger."""

import pytest

from annotator.datasets.models import Blob, Dataset, Item
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

ALL = ["owner", "engineer", "annotationManager", "annotator", "reviewer"]
WRITERS = {"owner", "engineer"}


@pytest.mark.parametrize("role", ALL)
def test_create_by_role_as_the_sdk_sends_it(client_for, members, project, role):
    body = {"name": "Street", "projects": [project.id], "createDefaultRecipe": True}
    response = client_for(members[role]).post("/api/v1/datasets", body, format="json")
    if role in WRITERS:
        assert response.status_code == 201
        data = response.json()
        assert data["name"] == "Street"
        assert data["projects"] == [project.id]
        assert len(data["metadata"]["system"]["recipes"]) == 1
        assert data["itemsCount"] == 0
    else:
        assert response.status_code == 403
        assert not Dataset.objects.exists()


def test_a_stranger_gets_404_everywhere(client_for, members, project, dataset):
    api = client_for(members["stranger"])
    assert api.post("/api/v1/datasets", {"name": "x", "projects": [project.id]}, format="json").status_code == 404
    assert api.get(f"/api/v1/datasets/{dataset.id}").status_code == 404
    assert api.patch(f"/api/v1/datasets/{dataset.id}", {"name": "mine"}, format="json").status_code == 404
    assert api.delete(f"/api/v1/datasets/{dataset.id}").status_code == 404
    assert api.get("/api/v1/datasets").json() == []
    assert (
        api.post("/api/v1/datasets/query", {"resource": "datasets", "filter": {}}, format="json").json()["items"] == []
    )
    dataset.refresh_from_db()
    assert dataset.name == "Cats"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "projects": None},
        {"name": "ok"},
        {"name": "ok", "projects": ["a", "b"]},
        {"name": "x" * 201},
        ["list"],
    ],
)
def test_bad_create_requests_are_400(client_for, members, project, body):
    if isinstance(body, dict) and body.get("projects") is None and "projects" in body:
        body = {**body, "projects": [project.id]}
    response = client_for(members["owner"]).post("/api/v1/datasets", body, format="json")
    assert response.status_code == 400
    assert not Dataset.objects.exists()


def test_names_are_unique_within_a_project(client_for, members, project, dataset):
    response = client_for(members["owner"]).post(
        "/api/v1/datasets", {"name": "cats", "projects": [project.id]}, format="json"
    )
    assert response.status_code == 409


@pytest.mark.parametrize("role", ALL)
def test_every_member_reads_and_lists(client_for, members, project, dataset, role):
    api = client_for(members[role])
    assert api.get(f"/api/v1/datasets/{dataset.id}").json()["id"] == dataset.id
    assert [d["id"] for d in api.get("/api/v1/datasets").json()] == [dataset.id]


def test_query_by_name_as_the_sdk_gets_a_dataset(client_for, members, project, dataset):
    other_project = ProjectFactory(creator=members["owner"])
    from annotator.datasets import services

    services.dataset_create(user=members["owner"], project_id=other_project.id, name="Cats")
    body = {
        "filter": {"$and": [{"name": "Cats"}]},
        "page": 0,
        "pageSize": 1000,
        "resource": "datasets",
        "context": {"projects": [project.id]},
    }
    page = client_for(members["owner"]).post("/api/v1/datasets/query", body, format="json").json()
    assert [d["id"] for d in page["items"]] == [dataset.id]
    assert page["totalItemsCount"] == 1
    assert page["hasNextPage"] is False


@pytest.mark.parametrize("role", ALL)
def test_rename_and_user_metadata_by_role(client_for, members, dataset, role):
    response = client_for(members[role]).patch(
        f"/api/v1/datasets/{dataset.id}", {"name": "Renamed", "metadata": {"user": {"k": 1}}}, format="json"
    )
    dataset.refresh_from_db()
    if role in WRITERS:
        assert response.status_code == 200
        assert (dataset.name, dataset.metadata["user"]) == ("Renamed", {"k": 1})
    else:
        assert response.status_code == 403
        assert dataset.name == "Cats"


def test_the_sdks_full_echo_cannot_change_system_metadata(client_for, members, dataset):
    api = client_for(members["owner"])
    echo = api.get(f"/api/v1/datasets/{dataset.id}").json()
    recipes = echo["metadata"]["system"]["recipes"]
    echo["metadata"]["system"]["recipes"] = []
    echo["itemsCount"] = 1000
    assert api.patch(f"/api/v1/datasets/{dataset.id}", echo, format="json").status_code == 200
    dataset.refresh_from_db()
    assert dataset.metadata["system"]["recipes"] == recipes
    assert dataset.items_count == 0


@pytest.mark.django_db(transaction=True)  # blobs are released after commit
@pytest.mark.parametrize("role", ALL)
def test_delete_by_role_removes_items_and_unused_blobs(client_for, members, dataset, upload, role):
    upload(members["owner"], dataset, "/a/one.png")
    response = client_for(members[role]).delete(f"/api/v1/datasets/{dataset.id}")
    if role in WRITERS:
        assert response.status_code == 200
        assert not Dataset.objects.filter(pk=dataset.pk).exists()
        assert not Item.objects.exists()
        assert not Blob.objects.exists()
    else:
        assert response.status_code == 403
        assert Item.objects.filter(dataset=dataset).count() == 2


def test_lists_do_not_grow_queries(client_for, members, project, django_assert_max_num_queries):
    from annotator.datasets import services

    for n in range(12):
        services.dataset_create(user=members["owner"], project_id=project.id, name=f"D{n}")
    api = client_for(members["annotator"])
    with django_assert_max_num_queries(4):
        assert len(api.get("/api/v1/datasets").json()) == 12
    with django_assert_max_num_queries(5):
        assert (
            len(
                api.post("/api/v1/datasets/query", {"resource": "datasets", "filter": {}}, format="json").json()[
                    "items"
                ]
            )
            == 12
        )
