"""dtlpy against a live server: annotations built, uploaded, listed, queried, updated, deleted."""

import json
from pathlib import Path

import pytest

from annotator.accounts import services as account_services
from annotator.annotations.models import Annotation
from annotator.datasets.models import Dataset, Item
from tests.contract.conftest import run_scenarios
from tests.factories import ProjectFactory
from tests.images import png

pytestmark = pytest.mark.contract

ANNOTATION_SCENARIOS = Path(__file__).with_name("dtlpy_annotation_scenarios.py")
WIDTH, HEIGHT = 64, 48
STALE = "f" * 24  # ids from another server, as an old export carries them

# Dataloop JSON files as an export writes them: the SDK sends their annotations verbatim.
IMPORTED = {
    "c": [
        {
            "id": STALE,
            "type": "box",
            "label": "dog",
            "coordinates": [{"x": 1, "y": 2, "z": 0}, {"x": 21, "y": 22, "z": 0}],
            "metadata": {"system": {"attributes": {"occluded": True, "age": 5}}},
            "attributes": [],
            "creator": "someone@elsewhere.example",
            "createdAt": "2020-01-01T00:00:00.000Z",
            "itemId": STALE,
            "datasetId": STALE,
            "url": f"https://elsewhere.example/api/v1/annotations/{STALE}",
        },
        {
            "type": "segment",
            "label": "cat",
            "coordinates": [[{"x": 30, "y": 5}, {"x": 50, "y": 5}, {"x": 40, "y": 25}]],
            "metadata": {"system": {"attributes": {}}},
        },
    ],
    "d": [
        {"type": "class", "label": "scene", "metadata": {"system": {}}},
        {"type": "point", "label": "dog", "coordinates": {"x": 7, "y": 9, "z": 0}, "metadata": {}},
    ],
}


def prepare_files(root: Path) -> None:
    (root / "images").mkdir()
    (root / "images" / "a.png").write_bytes(png(WIDTH, HEIGHT, (10, 20, 30)))
    (root / "images" / "b.png").write_bytes(png(WIDTH, HEIGHT, (30, 20, 10)))
    (root / "import" / "images").mkdir(parents=True)
    (root / "import" / "jsons").mkdir()
    for name, annotations in IMPORTED.items():
        (root / "import" / "images" / f"{name}.png").write_bytes(png(WIDTH, HEIGHT, (5, 5, 5)))
        document = {"_id": STALE, "filename": f"/{name}.png", "metadata": {}, "annotations": annotations}
        (root / "import" / "jsons" / f"{name}.json").write_text(json.dumps(document))


def geometry(summaries: list[dict]) -> list[tuple]:
    """(type, label, geometry) of each annotation, sorted: what the SDK handed back."""
    keys = ("box", "polygon", "point")
    rows = [(s["type"], s["label"], json.dumps([s.get(k) for k in keys if k in s])) for s in summaries]
    return sorted(rows)


def test_dtlpy_builds_lists_updates_and_deletes_annotations(dtlpy_python, live_server, tmp_path):
    # given
    project = ProjectFactory()
    _record, api_key = account_services.api_key_create(user=project.creator, name="sdk")
    prepare_files(tmp_path)

    # when
    values = run_scenarios(
        dtlpy_python,
        ANNOTATION_SCENARIOS,
        work_dir=tmp_path,
        env={"ANNOTATOR_URL": live_server.url, "API_KEY": api_key, "PROJECT_ID": project.id, "WORK_DIR": str(tmp_path)},
    )

    # then: the dataset's ontology, as the SDK set it up
    dataset = Dataset.objects.get(project=project, name="Pets")
    assert [tuple(x) for x in values["labels"]] == [
        ("cat", "#ff0000"),
        ("dog", "#00ff00"),
        ("road", "#0000ff"),
        ("scene", "#aaaaaa"),
    ]
    assert values["update_attributes"] == ["age", "breed", "occluded"]
    assert values["upload images"] == ["/photos/a.png", "/photos/b.png"]

    # the builder's upload: every type came back, with attributes, objectId and a parent link
    assert values["builder upload"] == [
        ["binary", "road"],
        ["box", "dog"],
        ["class", "scene"],
        ["point", "dog"],
        ["segment", "cat"],
    ]
    child = values["upload child"]
    assert child["parent is the box"] is True
    assert child["child"]["box"] == [4.0, 4.0, 12.0, 10.0]
    assert child["child"]["attributes"] == {"breed": "siamese"}
    assert values["upload on b"] == 2

    # item.annotations.list(): count, types, geometry, attributes
    listed = values["item.annotations.list"]
    assert len(listed) == 6
    by_type = {}
    for summary in listed:
        by_type.setdefault(summary["type"], []).append(summary)
    assert sorted(by_type) == ["binary", "box", "class", "point", "segment"]
    dog_box = next(s for s in by_type["box"] if s["label"] == "dog")
    assert dog_box["box"] == [2.0, 1.0, 30.0, 20.0]
    assert dog_box["attributes"] == {"breed": "tabby", "occluded": False, "age": 3}
    assert dog_box["objectId"] == "1"
    assert dog_box["parentId"] is None
    assert next(s for s in by_type["box"] if s["label"] == "cat")["parentId"] == dog_box["id"]
    assert by_type["segment"][0]["polygon"] == [[5.0, 5.0], [25.0, 5.0], [25.0, 25.0], [5.0, 25.0]]
    assert by_type["segment"][0]["attributes"] == {"occluded": True}
    assert by_type["point"][0]["point"] == [10.0, 12.0]
    assert by_type["class"][0]["label"] == "scene"

    # the segmentation mask: pixel-exact, an RGBA PNG data URL in the label's colour
    mask = values["segmentation round trip"]
    assert mask["prefix"] == "data:image/png;base64,"
    assert mask["mode"] == "RGBA"
    assert mask["size"] == [WIDTH, HEIGHT]
    assert mask["geo shape"] == [HEIGHT, WIDTH]
    assert mask["differing pixels"] == 0
    assert mask["geo equal"] is True
    assert [tuple(c) for c in mask["inside colours"]] == [(0, 0, 255, 255)]
    assert mask["outside alpha"] == [0]
    assert values["segmentation via get"] is True

    # DQL: annotations by label, items joined on their annotations
    dogs = values["dataset.annotations.list label dog"]
    assert dogs == {"count": 2, "labels": ["dog", "dog"], "types": ["box", "point"], "items": True}
    assert values["items join label dog"] == ["a.png"]
    assert values["items join label cat"] == ["a.png", "b.png"]
    assert values["items join label road"] == ["a.png"]

    # updates, as a fresh get sees them
    assert values["update label"]["returned"] == "cat"
    assert values["update label"]["fresh"]["label"] == "cat"
    assert values["update label"]["fresh"]["point"] == [10.0, 12.0]
    assert values["update box coordinates"]["returned"] == [6.0, 7.0, 40.0, 33.0]
    assert values["update box coordinates"]["fresh"]["box"] == [6.0, 7.0, 40.0, 33.0]
    assert values["update box coordinates"]["fresh"]["attributes"] == {"breed": "tabby", "occluded": False, "age": 3}
    assert values["update polygon"] == [[1.0, 1.0], [30.0, 2.0], [28.0, 26.0], [3.0, 20.0], [2.0, 10.0]]
    assert values["update attributes"] == {"breed": "siamese", "occluded": True, "age": 3}
    moved = values["update mask"]
    assert (moved["differing pixels"], moved["geo equal"]) == (0, True)
    assert [tuple(c) for c in moved["inside colours"]] == [(0, 0, 255, 255)]
    assert values["update_status"] == {"issue": "issue", "clear": None, "label kept": "dog"}
    box = Annotation.objects.get(pk=dog_box["id"])
    assert box.label == "dog"
    assert box.coordinates[:2] == [{"x": 6.0, "y": 7.0, "z": 0.0}, {"x": 40.0, "y": 33.0, "z": 0.0}]
    assert box.metadata["system"]["attributes"] == {"breed": "siamese", "occluded": True, "age": 3}
    assert box.metadata["system"].get("status") is None

    # deletes: one annotation, all of an item's, and by a DQL filter
    assert values["annotation.delete"] == {"returned": True, "get": "NotFound", "left": 5}
    assert values["item.annotations.delete all"] == 0
    assert values["dataset.annotations.delete by filter"] == [
        ["box", "cat"],
        ["box", "dog"],
        ["class", "scene"],
        ["segment", "cat"],
    ]
    item_a = Item.objects.get(dataset=dataset, filename="/photos/a.png")
    item_b = Item.objects.get(dataset=dataset, filename="/photos/b.png")
    assert values["counts after deletes"] == 4
    assert (item_a.annotations_count, item_a.annotated) == (4, True)
    assert (item_b.annotations_count, item_b.annotated) == (0, False)
    assert Annotation.objects.filter(item=item_b).count() == 0

    # dataset.items.upload(local_annotations_path=...): the JSON files' annotations arrived
    imported = values["upload with annotations"]
    assert imported["names"] == ["c.png", "d.png"]
    assert geometry(imported["c.png"]) == [
        ("box", "dog", json.dumps([[1.0, 2.0, 21.0, 22.0]])),
        ("segment", "cat", json.dumps([[[30.0, 5.0], [50.0, 5.0], [40.0, 25.0]]])),
    ]
    assert next(s for s in imported["c.png"] if s["type"] == "box")["attributes"] == {"occluded": True, "age": 5}
    assert geometry(imported["d.png"]) == [("class", "scene", "[]"), ("point", "dog", json.dumps([[7.0, 9.0]]))]
    item_c = Item.objects.get(dataset=dataset, filename="/imported/images/c.png")
    stored = list(Annotation.objects.filter(item=item_c))
    assert len(stored) == 2
    assert STALE not in {a.id for a in stored}  # a client's id is never kept
    assert {a.creator_id for a in stored} == {project.creator.id}
    assert {a.dataset_id for a in stored} == {dataset.id}
