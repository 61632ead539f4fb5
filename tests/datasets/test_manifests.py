"""Manifests: NDJSON lines registering link items in bulk, as a Command with a report."""

import io
import json

import pytest

from annotator.core.models import Command
from annotator.datasets.models import Dataset, Item
from tests.conftest import command_finished

pytestmark = pytest.mark.django_db(transaction=True)


def post_manifest(api, dataset, lines: list[str]):
    upload = io.BytesIO("\n".join(lines).encode())
    upload.name = "manifest.ndjson"
    return api.post(f"/api/v1/datasets/{dataset.id}/manifest", {"file": upload}, format="multipart")


GOOD = [
    json.dumps({"url": "https://images.example.com/a/cat.jpg", "metadata": {"user": {"split": "train"}}}),
    json.dumps({"url": "https://images.example.com/b/dog.png", "path": "/pets/dog.png"}),
    json.dumps({"url": "http://images.example.com/c/bird.jpg?x=1", "path": "/pets/birds/bird.jpg"}),
]
BAD = [
    "{not json",
    json.dumps({"url": "ftp://images.example.com/x.jpg"}),
    json.dumps({"path": "/no-url.png"}),
    json.dumps({"url": "https://user:secret@images.example.com/y.jpg"}),
    json.dumps({"url": "https://e.com/z.png", "path": "/../z.png"}),
]


def test_a_manifest_registers_link_items_and_reports_bad_lines(client_for, members, dataset, celery_worker):
    # given
    api = client_for(members["engineer"])

    # when
    started = post_manifest(api, dataset, [GOOD[0], BAD[0], GOOD[1], BAD[1], "", GOOD[2], BAD[2], BAD[3], BAD[4]])
    done = command_finished(api, started.json()["id"])

    # then
    assert done["status"] == "success"
    assert done["spec"]["created"] == 3
    assert [r["line"] for r in done["spec"]["rejected"]] == [2, 4, 7, 8, 9]
    cat = Item.objects.get(dataset=dataset, filename="/cat.jpg")
    assert cat.metadata["system"]["url"] == "https://images.example.com/a/cat.jpg"
    assert cat.metadata["system"]["mimetype"] == "image/jpeg"
    assert cat.metadata["user"] == {"split": "train"}
    assert Item.objects.filter(dataset=dataset, type="dir", filename="/pets/birds").exists()
    assert Dataset.objects.get(pk=dataset.pk).items_count == 3
    # the stream of a link item redirects to its URL
    response = api.get(f"/api/v1/items/{cat.id}/stream")
    assert response.status_code == 302
    assert response["Location"] == "https://images.example.com/a/cat.jpg"


def test_registering_again_skips_what_exists(client_for, members, dataset, celery_worker):
    api = client_for(members["owner"])
    command_finished(api, post_manifest(api, dataset, GOOD).json()["id"])
    again = command_finished(api, post_manifest(api, dataset, GOOD).json()["id"])
    assert (again["spec"]["created"], again["spec"]["skipped"]) == (0, 3)
    assert Item.objects.filter(dataset=dataset, type="file").count() == 3


def test_an_empty_manifest_is_400(client_for, members, dataset):
    response = post_manifest(client_for(members["owner"]), dataset, [])
    assert response.status_code == 400
    assert not Command.objects.exists()


@pytest.mark.parametrize("role", ["annotationManager", "annotator", "reviewer"])
def test_roles_without_item_create_cannot_register(client_for, members, dataset, role):
    assert post_manifest(client_for(members[role]), dataset, GOOD).status_code == 403
    assert not Command.objects.exists()
