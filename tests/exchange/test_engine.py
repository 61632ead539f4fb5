"""The export and import engine, through the Dataloop JSON format: round trips, selections,
all-or-nothing imports with a report, labels added or refused, and the stored output."""

import hashlib
import io
import zipfile

import numpy as np
import orjson
import pytest

from annotator.annotations.models import Annotation, AnnotationChange
from annotator.annotations.serializers import annotation_json
from annotator.annotations.services import annotations_create
from annotator.annotations.validation import recipe_rules
from annotator.core.errors import BadRequest
from annotator.core.models import Command
from annotator.datasets import services as datasets
from annotator.datasets.models import Blob, Dataset, Item
from annotator.exchange.exporting import export_to_path
from annotator.exchange.importing import ImportRejected, import_from_path
from tests.exchange.conftest import HEIGHT, WIDTH, box, mask_png, zip_bytes
from tests.images import png

pytestmark = pytest.mark.django_db


def _annotate(user, item):
    mask = np.zeros((HEIGHT, WIDTH), dtype=bool)
    mask[5:20, 10:30] = True
    created, _rules = annotations_create(
        user=user,
        item_id=item.id,
        annotations=[
            box(attributes={"occluded": True, "breed": "tabby"}),
            {
                "type": "segment",
                "label": "road",
                "coordinates": [
                    [{"x": 1, "y": 1}, {"x": 30, "y": 1}, {"x": 30, "y": 20}],
                    [{"x": 5, "y": 5}, {"x": 9, "y": 5}, {"x": 9, "y": 9}],
                ],
            },
            {"type": "binary", "label": "road", "coordinates": mask_png(mask, color=(0, 0, 255))},
            {"type": "class", "label": "scene.day", "coordinates": []},
        ],
    )
    parent = created[0]
    annotations_create(
        user=user,
        item_id=item.id,
        annotations=[
            {
                "type": "point",
                "label": "cat",
                "coordinates": {"x": 3, "y": 4},
                "metadata": {"system": {"parentId": parent.id, "attributes": {}}},
            }
        ],
    )
    return mask


def _content(annotation: Annotation) -> tuple:
    system = {k: v for k, v in annotation.metadata["system"].items() if k != "parentId"}
    return (
        annotation.type,
        annotation.label,
        orjson.dumps(annotation.coordinates),
        orjson.dumps(system, option=orjson.OPT_SORT_KEYS),
    )


def test_dataloop_round_trip_restores_every_annotation_and_link(dataset, item, fresh_dataset, members, tmp_path):
    # given an item with a box, a two-ring polygon, a mask, a class and a point linked to the box
    owner = members["owner"]
    _annotate(owner, item)
    archive = tmp_path / "export.zip"

    # when it is exported with its image and imported into an empty dataset
    counts = export_to_path(
        user=owner, dataset_id=dataset.id, format_name="dataloop", path=archive, include_images=True
    )
    report = import_from_path(
        user=owner, dataset_id=fresh_dataset.id, format_name="dataloop", path=archive, filename="export.zip"
    )

    # then the new item holds the same annotations, the point still pointing at the box
    assert counts == {"itemsCount": 1, "annotationsCount": 5}
    with zipfile.ZipFile(archive) as zipped:
        assert sorted(zipped.namelist()) == ["items/photos/a.png", "json/photos/a.json"]
        exported = orjson.loads(zipped.read("json/photos/a.json"))["annotations"]
    # each exported annotation is the API's JSON of it (authors, UTC timestamps, masks as PNG)
    by_id = {a.id: a for a in Annotation.objects.filter(item=item).select_related("creator", "updated_by")}
    colors = {"road": "#0000ff"}
    for document in exported:
        api_json = annotation_json(by_id[document["id"]], colors=colors)
        for key in ("creator", "updatedBy", "createdAt", "updatedAt", "version", "coordinates", "metadata"):
            assert document[key] == api_json[key], key
    assert report["itemsCreated"] == 1 and report["annotationsImported"] == 5 and report["rejectedCount"] == 0
    copy = Item.objects.get(dataset=fresh_dataset, filename="/photos/a.png")
    assert copy.blob_id == item.blob_id and copy.annotations_count == 5 and copy.annotated
    originals = sorted(_content(a) for a in Annotation.objects.filter(item=item))
    imported = sorted(_content(a) for a in Annotation.objects.filter(item=copy))
    assert imported == originals
    point = Annotation.objects.get(item=copy, type="point")
    assert point.metadata["system"]["parentId"] == Annotation.objects.get(item=copy, type="box").id
    assert AnnotationChange.objects.filter(item=copy, action="created").count() == 5
    assert Dataset.objects.get(pk=fresh_dataset.pk).annotated_count == 1


def test_annotations_alone_are_matched_to_existing_items_by_filename(dataset, item, fresh_dataset, members, tmp_path):
    # given the same image already in the target, under another folder
    owner = members["owner"]
    _annotate(owner, item)
    target_item, _op = datasets.item_upload(
        user=owner, dataset_id=fresh_dataset.id, path="/elsewhere/a.png", fileobj=io.BytesIO(png(WIDTH, HEIGHT))
    )
    archive = tmp_path / "export.zip"
    export_to_path(user=owner, dataset_id=dataset.id, format_name="dataloop", path=archive)

    # when only the annotations are imported
    report = import_from_path(
        user=owner, dataset_id=fresh_dataset.id, format_name="dataloop", path=archive, filename="export.zip"
    )

    # then they land on the item with that name, and no item is created
    assert report["itemsMatched"] == 1 and report["itemsCreated"] == 0
    assert Annotation.objects.filter(item=target_item).count() == 5
    assert Item.objects.filter(dataset=fresh_dataset, type="file").count() == 1


def _document(filename: str, annotations: list) -> bytes:
    return orjson.dumps({"filename": filename, "annotations": annotations})


def test_a_bad_file_is_rejected_whole_with_every_bad_entry_named(fresh_dataset, members, tmp_path, media_root):
    # given a zip with a good item and one whose annotations are wrong three ways
    owner = members["owner"]
    good = _document("/ok.png", [box()])
    bad = _document(
        "/bad.png",
        [
            box(),
            {"type": "hexagon", "label": "cat", "coordinates": []},
            box(left=10, right=500),  # outside the 64x48 image
            box(label="cat", attributes={"breed": "poodle"}),  # not one of the options
        ],
    )
    blobs_before = Blob.objects.count()
    path = tmp_path / "bad.zip"
    path.write_bytes(
        zip_bytes(
            {
                "json/ok.json": good,
                "items/ok.png": png(WIDTH, HEIGHT, color=(201, 2, 113)),
                "json/bad.json": bad,
                "items/bad.png": png(WIDTH, HEIGHT, color=(204, 5, 116)),
                "json/broken.json": b"{not json",
            }
        )
    )

    # when it is imported
    with pytest.raises(ImportRejected) as rejected:
        import_from_path(user=owner, dataset_id=fresh_dataset.id, format_name="dataloop", path=path, filename="bad.zip")

    # then the report names each bad entry, and nothing was created, not even the good item's blob
    report = rejected.value.report
    entries = {r["entry"]: r["reason"] for r in report["rejected"]}
    assert set(entries) == {
        "json/bad.json: annotations[1]",
        "json/bad.json: annotations[2]",
        "json/bad.json: annotations[3]",
        "json/broken.json",
    }
    assert "type must be one of" in entries["json/bad.json: annotations[1]"]
    assert "outside the 64x48 image" in entries["json/bad.json: annotations[2]"]
    assert "Attribute 'breed': 'poodle' is not one of" in entries["json/bad.json: annotations[3]"]
    assert "malformed JSON" in entries["json/broken.json"]
    assert report["rejectedCount"] == 4
    assert not Item.objects.filter(dataset=fresh_dataset).exists()
    assert not Annotation.objects.filter(dataset=fresh_dataset).exists()
    assert Blob.objects.count() == blobs_before
    for image in (png(WIDTH, HEIGHT, color=(201, 2, 113)), png(WIDTH, HEIGHT, color=(204, 5, 116))):
        assert not (media_root / Blob(sha256=hashlib.sha256(image).hexdigest()).relative_path).exists()


@pytest.mark.parametrize("mode", ["add", "refuse"])
def test_labels_missing_from_the_ontology_are_added_or_refused(fresh_dataset, members, tmp_path, mode):
    # given a file using a label the recipe does not have
    owner = members["owner"]
    path = tmp_path / "new-label.zip"
    path.write_bytes(
        zip_bytes(
            {
                "json/x.json": _document("/x.png", [box(label="zebra", attributes={})]),
                "items/x.png": png(WIDTH, HEIGHT),
            }
        )
    )

    # when it is imported with each choice
    def run():
        return import_from_path(
            user=owner,
            dataset_id=fresh_dataset.id,
            format_name="dataloop",
            path=path,
            filename="x.zip",
            missing_labels=mode,
        )

    # then "add" adds the label and imports; "refuse" rejects the entry and changes nothing
    if mode == "add":
        report = run()
        assert report["labelsAdded"] == ["zebra"]
        assert "zebra" in recipe_rules(Dataset.objects.get(pk=fresh_dataset.pk)).labels
        assert Annotation.objects.filter(dataset=fresh_dataset, label="zebra").count() == 1
    else:
        with pytest.raises(ImportRejected) as rejected:
            run()
        assert rejected.value.report["rejected"] == [
            {"entry": "json/x.json: annotations[0]", "reason": "label 'zebra' is not in the ontology"}
        ]
        assert "zebra" not in recipe_rules(Dataset.objects.get(pk=fresh_dataset.pk)).labels
        assert not Item.objects.filter(dataset=fresh_dataset).exists()


def test_export_of_a_selection_and_of_a_task_status(dataset, item, members, tmp_path):
    # given two items, one of them approved in a task
    owner = members["owner"]
    other, _op = datasets.item_upload(
        user=owner, dataset_id=dataset.id, path="/other/b.png", fileobj=io.BytesIO(png(WIDTH, HEIGHT, (9, 9, 9)))
    )
    from annotator.tasks.models import Task, TaskItem

    task = Task.objects.create(name="t", dataset=dataset, project=dataset.project, creator=owner)
    TaskItem.objects.create(task=task, item=other, status="approved")
    TaskItem.objects.create(task=task, item=item)

    def exported(**selection) -> list[str]:
        path = tmp_path / "x.zip"
        export_to_path(user=owner, dataset_id=dataset.id, format_name="dataloop", path=path, **selection)
        with zipfile.ZipFile(path) as archive:
            return sorted(archive.namelist())

    # when / then: a DQL filter and a task status each narrow the export
    assert exported() == ["json/other/b.json", "json/photos/a.json"]
    assert exported(query={"filter": {"dir": "/photos"}}) == ["json/photos/a.json"]
    assert exported(task_status={"taskId": task.id, "status": "approved"}) == ["json/other/b.json"]


def test_import_refuses_unsafe_archives_before_anything(fresh_dataset, members, tmp_path):
    path = tmp_path / "slip.zip"
    path.write_bytes(zip_bytes({"../../etc/evil.json": _document("/x.png", [])}))
    with pytest.raises(BadRequest) as refused:
        import_from_path(
            user=members["owner"], dataset_id=fresh_dataset.id, format_name="dataloop", path=path, filename="slip.zip"
        )
    assert refused.value.status_code == 400 and "unsafe entries" in str(refused.value.detail)
    assert not Item.objects.filter(dataset=fresh_dataset).exists()
    assert not Command.objects.exists()


def test_a_rotated_box_overhanging_the_image_round_trips(dataset, item, fresh_dataset, members, tmp_path):
    # given a box turned 90 degrees whose unturned corners lie outside the 64x48 image (its centre is inside)
    owner = members["owner"]
    turned = {"type": "box", "label": "cat", "coordinates": [{"x": 40, "y": 20}, {"x": 70, "y": 28}, 90]}
    annotations_create(user=owner, item_id=item.id, annotations=[turned])
    archive = tmp_path / "turned.zip"
    export_to_path(user=owner, dataset_id=dataset.id, format_name="dataloop", path=archive, include_images=True)

    # when it is imported
    import_from_path(user=owner, dataset_id=fresh_dataset.id, format_name="dataloop", path=archive, filename="t.zip")

    # then it is accepted unchanged: only an unturned shape's points must lie inside
    (copy,) = Annotation.objects.filter(dataset=fresh_dataset)
    assert copy.coordinates == Annotation.objects.get(item=item).coordinates
