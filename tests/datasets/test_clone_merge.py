"""Clone and merge run as Commands on a real worker; clones share blobs; merge rules."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from annotator.annotations.services import annotations_create
from annotator.core.commands import command_execute
from annotator.core.models import Command
from annotator.datasets import services
from annotator.datasets.models import Blob, Dataset, Item
from annotator.ontologies.selectors import recipe_get, recipe_ontologies
from annotator.ontologies.services import ontology_labels_add
from tests.conftest import command_finished
from tests.images import png

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def source(members, project):
    dataset = services.dataset_create(user=members["owner"], project_id=project.id, name="Source")
    for n in range(6):
        services.item_upload(
            user=members["owner"],
            dataset_id=dataset.id,
            path=f"/{'train' if n < 4 else 'val'}/img_{n}.png",
            fileobj=io.BytesIO(png(color=(n, 0, 0))),
            metadata={"user": {"n": n}},
        )
    return dataset


def clone(api, source, **overrides):
    body = {
        "name": "Clone",
        "filter": {"filter": {"$and": [{"type": "file"}, {"dir": "/train"}]}, "resource": "items"},
        "cloneDatasetParams": {
            "withItemsAnnotations": False,
            "withMetadata": False,
            "withTaskAnnotationsStatus": False,
        },
        **overrides,
    }
    return api.post(f"/api/v1/datasets/{source.id}/clone", body, format="json")


def test_clone_copies_the_selection_and_shares_blobs(client_for, members, source, celery_worker):
    # given
    api = client_for(members["engineer"])
    blobs_before = Blob.objects.count()

    # when
    started = clone(api, source)
    done = command_finished(api, started.json()["id"])

    # then
    assert started.status_code == 200
    assert done["status"] == "success"
    assert done["progress"] == 100
    target = Dataset.objects.get(pk=done["spec"]["returnedModelId"])
    copies = Item.objects.filter(dataset=target, type="file")
    assert sorted(copies.values_list("filename", flat=True)) == [f"/train/img_{n}.png" for n in range(4)]
    assert target.items_count == 4
    originals = {i.filename: i for i in Item.objects.filter(dataset=source, type="file")}
    for copy in copies:
        assert copy.blob_id == originals[copy.filename].blob_id
        assert copy.metadata["user"] == {}  # withMetadata false
        assert copy.metadata["system"]["clonedFrom"] == originals[copy.filename].id
    assert Blob.objects.count() == blobs_before
    assert target.metadata["system"]["recipes"] == source.metadata["system"]["recipes"]


def test_clone_with_metadata_keeps_user_metadata(client_for, members, source, celery_worker):
    api = client_for(members["owner"])
    body = clone(api, source, cloneDatasetParams={"withMetadata": True}).json()
    target_id = command_finished(api, body["id"])["spec"]["returnedModelId"]
    assert {i.metadata["user"]["n"] for i in Item.objects.filter(dataset_id=target_id, type="file")} == {0, 1, 2, 3}


def test_clone_takes_the_items_with_an_annotation_matching_its_join(client_for, members, source, celery_worker):
    # given cats on two images and a dog on a third (the dataset page's annotation filter sends such a join)
    owner = members["owner"]
    recipe = recipe_get(user=owner, recipe_id=source.metadata["system"]["recipes"][0])
    labels = [{"tag": "cat"}, {"tag": "dog"}]
    ontology_labels_add(user=owner, ontology_id=recipe_ontologies(recipe)[0].id, labels=labels)
    items = {i.name: i for i in Item.objects.filter(dataset=source, type="file")}
    box = {"type": "box", "label": "cat", "coordinates": [{"x": 1, "y": 1}, {"x": 5, "y": 5}]}
    for name, label in [("img_1.png", "cat"), ("img_5.png", "cat"), ("img_2.png", "dog")]:
        annotations_create(user=owner, item_id=items[name].id, annotations=[{**box, "label": label}])
    join = {"on": {"resource": "annotations", "local": "itemId", "forigen": "id"}, "filter": {"label": "cat"}}
    api = client_for(members["engineer"])

    # when the clone asks for the items with a cat
    started = clone(api, source, filter={"resource": "items", "filter": {"type": "file"}, "join": join})
    done = command_finished(api, started.json()["id"])

    # then only those are copied
    assert done["status"] == "success"
    copies = Item.objects.filter(dataset_id=done["spec"]["returnedModelId"], type="file")
    assert sorted(copies.values_list("name", flat=True)) == ["img_1.png", "img_5.png"]


@pytest.mark.parametrize("role", ["annotationManager", "annotator", "reviewer"])
def test_roles_without_dataset_create_cannot_clone(client_for, members, source, role):
    response = clone(client_for(members[role]), source)
    assert response.status_code == 403
    assert Dataset.objects.count() == 1
    assert not Command.objects.exists()


def test_a_stranger_cannot_clone_or_read_the_command(client_for, members, source, celery_worker):
    assert clone(client_for(members["stranger"]), source).status_code == 404
    owner = client_for(members["owner"])
    command_id = clone(owner, source).json()["id"]
    assert client_for(members["stranger"]).get(f"/api/v1/commands/{command_id}").status_code == 404
    # the clone's job ends before the test does: left running, it raced the teardown's TRUNCATE
    assert command_finished(owner, command_id)["status"] == "success"


def test_a_bad_filter_is_400_and_creates_nothing(client_for, members, source):
    response = clone(client_for(members["owner"]), source, filter={"filter": {"size": {"$regex": ".*"}}})
    assert response.status_code == 400
    assert Dataset.objects.count() == 1
    assert not Command.objects.exists()


def test_merging_clones_of_one_source_merges_item_by_item(client_for, members, source, celery_worker):
    # given: two clones of the same source, with overlapping selections and different metadata
    api = client_for(members["owner"])
    all_files = {"filter": {"$and": [{"type": "file"}]}, "resource": "items"}
    first, second = (
        command_finished(api, clone(api, source, **overrides).json()["id"])["spec"]["returnedModelId"]
        for overrides in ({"name": "A"}, {"name": "B", "filter": all_files})
    )
    tagged = Item.objects.get(dataset_id=first, filename="/train/img_0.png")
    tagged.metadata["user"] = {"from": "A"}
    tagged.save(update_fields=["metadata"])

    # when
    body = {
        "name": "Merged",
        "datasetsIds": [first, second],
        "projectIds": source.project_id,
        "mergeDatasetParams": {"withItemsAnnotations": False, "withMetadata": True, "withTaskAnnotationsStatus": False},
    }
    started = api.post("/api/v1/datasets/merge", body, format="json")
    done = command_finished(api, started.json()["id"])

    # then: one item per original, metadata merged
    assert done["status"] == "success"
    assert "mergeDatasetsConfiguration" in done["spec"]
    merged = Dataset.objects.get(name="Merged")
    files = Item.objects.filter(dataset=merged, type="file")
    assert files.count() == 6
    assert files.get(filename="/train/img_0.png").metadata["user"] == {"from": "A"}
    assert merged.items_count == 6


def test_merging_datasets_with_different_recipes_is_refused(client_for, members, project, source):
    other = services.dataset_create(user=members["owner"], project_id=project.id, name="Other")
    body = {"name": "Nope", "datasetsIds": [source.id, other.id], "mergeDatasetParams": {}}
    response = client_for(members["owner"]).post("/api/v1/datasets/merge", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "recipe_mismatch"
    assert not Dataset.objects.filter(name="Nope").exists()


# --- commands whose worker died ---------------------------------------------------------------------
def test_a_command_whose_worker_went_silent_reads_as_failed(client_for, members, source, settings):
    # given: a command left in progress by a worker that stopped beating
    command = Command.objects.create(
        project_id=source.project_id,
        created_by=members["owner"],
        type="dataset.clone",
        status="in-progress",
        heartbeat_at=timezone.now() - timedelta(seconds=settings.COMMAND_LEASE_SECONDS + 5),
        attempts=1,
    )

    # when
    body = client_for(members["owner"]).get(f"/api/v1/commands/{command.id}").json()

    # then
    assert body["status"] == "failed"
    assert "stopped" in body["error"]


def test_a_redelivered_command_past_its_attempts_fails_instead_of_running_again(members, source, settings):
    command = Command.objects.create(
        project_id=source.project_id,
        created_by=members["owner"],
        type="dataset.clone",
        status="in-progress",
        attempts=settings.COMMAND_MAX_ATTEMPTS,
        spec={},
    )
    command_execute(command_id=command.id)
    command.refresh_from_db()
    assert command.status == "failed"
