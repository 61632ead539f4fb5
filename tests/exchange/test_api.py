"""Exports and imports over the API, as Commands on a real worker: the stored, downloadable
zip; the list of exports; the import report; bad requests refused before anything runs."""

import io
import zipfile

import orjson
import pytest

from annotator.annotations.models import Annotation
from annotator.annotations.services import annotations_create
from annotator.core.models import Command
from annotator.datasets.models import Dataset, Item
from annotator.datasets.services import item_upload
from tests.conftest import command_finished
from tests.exchange.conftest import HEIGHT, WIDTH, box, zip_bytes
from tests.images import png

pytestmark = pytest.mark.django_db(transaction=True)


def _upload(api, dataset, data: bytes, name: str = "import.zip", **fields):
    payload = {"file": io.BytesIO(data), "format": "dataloop", "missingLabels": "add", **fields}
    payload["file"].name = name
    return api.post(f"/api/v1/datasets/{dataset.id}/import", payload, format="multipart")


def test_export_runs_as_a_command_and_its_zip_is_downloadable(client_for, members, dataset, item, celery_worker):
    # given an annotated item
    annotations_create(user=members["owner"], item_id=item.id, annotations=[box()])
    api = client_for(members["engineer"])

    # when an export is asked for and finishes
    started = api.post(f"/api/v1/datasets/{dataset.id}/export", {"format": "dataloop"}, format="json")
    done = command_finished(api, started.json()["id"])

    # then the zip is an item of the hidden Binaries dataset, downloadable, and listed
    assert started.status_code == 200 and started.json()["type"] == "dataset.export"
    assert done["status"] == "success" and done["progress"] == 100
    spec = done["spec"]
    assert (spec["itemsCount"], spec["annotationsCount"]) == (1, 1)
    download = api.get(spec["downloadUrl"])
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    assert download["Content-Disposition"].startswith("attachment;")
    with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as archive:
        document = orjson.loads(archive.read("json/photos/a.json"))
    assert document["filename"] == "/photos/a.png" and [a["label"] for a in document["annotations"]] == ["cat"]
    output = Item.objects.get(pk=spec["outputItemId"])
    assert output.dataset.system and output.dataset.project_id == dataset.project_id
    listed = api.get("/api/v1/datasets").json()
    assert output.dataset_id not in [d["id"] for d in listed]
    exports = api.get(f"/api/v1/datasets/{dataset.id}/exports").json()["items"]
    assert [e["id"] for e in exports] == [done["id"]]


def test_an_export_takes_the_items_with_an_annotation_matching_its_join(
    client_for, members, dataset, item, celery_worker
):
    # given two images: a cat on one, a dog on the other (the dataset page's annotation filter sends such a join)
    owner = members["owner"]
    other, _op = item_upload(
        user=owner, dataset_id=dataset.id, path="/photos/b.png", fileobj=io.BytesIO(png(WIDTH, HEIGHT))
    )
    annotations_create(user=owner, item_id=item.id, annotations=[box()])
    annotations_create(user=owner, item_id=other.id, annotations=[{**box(), "label": "dog"}])
    join = {"on": {"resource": "annotations", "local": "itemId", "forigen": "id"}, "filter": {"label": "dog"}}
    api = client_for(members["engineer"])

    # when the export asks for the items with a dog
    body = {"format": "dataloop", "itemsQuery": {"filter": {}, "join": join}}
    started = api.post(f"/api/v1/datasets/{dataset.id}/export", body, format="json")
    done = command_finished(api, started.json()["id"])

    # then only that image is in it
    assert done["status"] == "success" and (done["spec"]["itemsCount"], done["spec"]["annotationsCount"]) == (1, 1)
    with zipfile.ZipFile(io.BytesIO(b"".join(api.get(done["spec"]["downloadUrl"]).streaming_content))) as archive:
        assert [name for name in archive.namelist() if name.startswith("json/")] == ["json/photos/b.json"]


def test_import_runs_as_a_command_with_a_report(client_for, members, fresh_dataset, celery_worker):
    # given a Dataloop JSON zip of one image and its box
    api = client_for(members["engineer"])
    data = zip_bytes(
        {"json/x.json": orjson.dumps({"filename": "/x.png", "annotations": [box()]}), "items/x.png": png(WIDTH, HEIGHT)}
    )

    # when it is imported
    started = _upload(api, fresh_dataset, data)
    done = command_finished(api, started.json()["id"])

    # then the report says what arrived
    assert started.status_code == 200 and "file" not in started.json()["spec"]  # no server paths
    assert done["status"] == "success"
    report = done["spec"]["report"]
    assert (report["itemsCreated"], report["annotationsImported"], report["rejectedCount"]) == (1, 1, 0)
    assert Annotation.objects.filter(dataset=fresh_dataset).count() == 1


def test_a_rejected_import_fails_with_its_report_and_changes_nothing(client_for, members, fresh_dataset, celery_worker):
    api = client_for(members["engineer"])
    bad = {"type": "box", "label": "cat", "coordinates": [{"x": "left"}, {"x": 2, "y": 2}]}
    data = zip_bytes(
        {"json/x.json": orjson.dumps({"filename": "/x.png", "annotations": [bad]}), "items/x.png": png(WIDTH, HEIGHT)}
    )

    done = command_finished(api, _upload(api, fresh_dataset, data).json()["id"])

    assert done["status"] == "failed"
    assert "1 entries rejected" in done["error"] and "json/x.json: annotations[0]" in done["error"]
    assert done["spec"]["report"]["rejected"][0]["entry"] == "json/x.json: annotations[0]"
    assert not Item.objects.filter(dataset=fresh_dataset).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"format": "tiff"}, "format"),
        ({"format": "dataloop", "itemsQuery": {"filter": {"metadata.x": {"$regexx": 1}}}}, None),
        ({"format": "dataloop", "itemsQuery": "all"}, "itemsQuery"),
        ({"format": "dataloop", "taskStatus": {"status": "approved"}}, "taskStatus"),
        ({"format": "dataloop", "exportType": "tar"}, "exportType"),
        ({"format": "coco", "exportType": "json"}, "exportType"),
        ({"format": "dataloop", "annotations": [1]}, "annotations"),
    ],
)
def test_bad_export_requests_are_refused_before_anything_runs(client_for, members, dataset, body, field):
    response = client_for(members["owner"]).post(f"/api/v1/datasets/{dataset.id}/export", body, format="json")
    assert response.status_code == 400
    if field:
        assert response.json()["details"]["field"] == field
    assert not Command.objects.exists()


@pytest.mark.parametrize(
    ("data", "fields", "expected"),
    [
        (b"", {}, "empty"),
        (b"PK\x03\x04", {"format": "nope"}, "format must be one of"),
        (b"{}", {"missingLabels": "maybe"}, "missingLabels must be"),
        (zip_bytes({"../evil.json": b"{}"}), {}, "unsafe entries"),
    ],
)
def test_bad_imports_are_refused_before_anything_runs(client_for, members, fresh_dataset, data, fields, expected):
    response = _upload(client_for(members["owner"]), fresh_dataset, data, **fields)
    assert response.status_code == 400
    assert expected in response.json()["message"]
    assert not Command.objects.exists()
    assert not Item.objects.filter(dataset=fresh_dataset).exists()


def test_an_import_without_a_file_is_refused(client_for, members, fresh_dataset):
    response = client_for(members["owner"]).post(
        f"/api/v1/datasets/{fresh_dataset.id}/import", {"format": "dataloop"}, format="multipart"
    )
    assert response.status_code == 400 and not Command.objects.exists()


@pytest.mark.parametrize("role", ["annotationManager", "annotator", "reviewer"])
def test_roles_without_the_operations_cannot_export_or_import(client_for, members, dataset, role):
    api = client_for(members[role])
    assert api.post(f"/api/v1/datasets/{dataset.id}/export", {"format": "coco"}, format="json").status_code == 403
    assert _upload(api, dataset, zip_bytes({"json/x.json": b"{}"})).status_code == 403
    assert not Command.objects.exists()


def test_strangers_see_no_dataset_to_export(client_for, dataset, django_user_model):
    stranger = django_user_model.objects.create_user(email="x@example.com", password="pw-12345678")
    api = client_for(stranger)
    assert api.post(f"/api/v1/datasets/{dataset.id}/export", {}, format="json").status_code == 404
    assert api.get(f"/api/v1/datasets/{dataset.id}/exports").status_code == 404
    assert not Dataset.objects.filter(system=True).exists()
