"""Annotations travel with clones and merges when asked, and an overwritten item loses its old ones."""

import io

import pytest

from annotator.annotations.models import Annotation
from annotator.datasets import services as datasets
from annotator.datasets.models import Dataset, Item
from tests.annotations.conftest import HEIGHT, WIDTH, box
from tests.conftest import command_finished
from tests.images import png

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def annotated(members, client_for, item):
    client = client_for(members["owner"])
    parent = client.post(f"/api/v1/items/{item.id}/annotations", [box()], format="json").json()[0]
    child = {
        "type": "point",
        "label": "cat",
        "coordinates": {"x": 2, "y": 3},
        "metadata": {"system": {"parentId": parent["id"]}},
    }
    client.post(f"/api/v1/items/{item.id}/annotations", [child], format="json")
    return item


def clone(client, dataset, name, with_annotations):
    body = {"name": name, "cloneDatasetParams": {"withItemsAnnotations": with_annotations, "withMetadata": True}}
    started = client.post(f"/api/v1/datasets/{dataset.id}/clone", body, format="json").json()
    done = command_finished(client, started["id"])
    assert done["status"] == "success", done
    return Dataset.objects.get(pk=done["spec"]["returnedModelId"])


def test_a_clone_with_annotations_copies_them_with_new_ids(members, client_for, dataset, annotated, celery_worker):
    client = client_for(members["owner"])

    target = clone(client, dataset, "With", True)
    bare = clone(client, dataset, "Without", False)

    copy_item = Item.objects.get(dataset=target, filename=annotated.filename)
    copies = list(Annotation.objects.filter(item=copy_item).order_by("id"))
    originals = list(Annotation.objects.filter(item=annotated).order_by("id"))
    assert [(a.type, a.label, a.coordinates) for a in copies] == [(a.type, a.label, a.coordinates) for a in originals]
    assert {a.id for a in copies}.isdisjoint({a.id for a in originals})
    assert copies[1].metadata["system"]["parentId"] == copies[0].id
    assert (copy_item.annotations_count, copy_item.annotated) == (2, True)
    target.refresh_from_db()
    assert target.annotated_count == 1
    assert not Annotation.objects.filter(dataset=bare).exists()
    assert client.get(f"/api/v1/items/{copy_item.id}/annotations").json()[0]["itemId"] == copy_item.id


def test_merging_a_clone_with_its_source_keeps_one_copy_of_each_annotation(
    members, client_for, dataset, annotated, celery_worker
):
    client = client_for(members["owner"])
    twin = clone(client, dataset, "Twin", True)
    twin_item = Item.objects.get(dataset=twin, filename=annotated.filename)
    client.post(f"/api/v1/items/{twin_item.id}/annotations", [box(label="dog")], format="json")

    started = client.post(
        "/api/v1/datasets/merge",
        {"name": "Merged", "datasetsIds": [dataset.id, twin.id], "mergeDatasetParams": {"withItemsAnnotations": True}},
        format="json",
    ).json()
    done = command_finished(client, started["id"])

    merged_item = Item.objects.get(dataset_id=done["spec"]["returnedModelId"], filename=annotated.filename)
    assert sorted(Annotation.objects.filter(item=merged_item).values_list("label", flat=True)) == ["cat", "cat", "dog"]
    assert merged_item.annotations_count == 3


def test_overwriting_an_item_clears_its_annotations_restorably(members, client_for, dataset, annotated):
    client = client_for(members["owner"])
    ids = list(Annotation.objects.filter(item=annotated).values_list("id", flat=True))

    stored, op = datasets.item_upload(
        user=members["owner"],
        dataset_id=dataset.id,
        path=annotated.filename,
        fileobj=io.BytesIO(png(WIDTH, HEIGHT, (9, 9, 9))),
        mode="overwrite",
    )

    assert op == "overwrite" and stored.id == annotated.id
    stored.refresh_from_db()
    assert not Annotation.objects.filter(item=stored).exists()
    assert (stored.annotations_count, stored.annotated) == (0, False)
    assert client.post(f"/api/v1/annotations/{ids[0]}/restore").status_code == 201
