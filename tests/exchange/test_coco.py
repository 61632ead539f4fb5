"""COCO instances: what the export writes (checked with pycocotools), what the import reads
back, and how it refuses bad files."""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from pycocotools import mask as coco_mask
from pycocotools.coco import COCO

from annotator.annotations.masks import Mask, counts_from_string, counts_to_string, mask_decode, mask_encode, runs_of
from annotator.annotations.models import Annotation
from annotator.annotations.services import annotations_create
from annotator.datasets import services as datasets
from annotator.datasets.models import Item
from annotator.exchange.exporting import export_to_path
from annotator.exchange.formats import get_format
from annotator.exchange.formats.base import (
    ExportArchive,
    ExportContext,
    ExportItem,
    FormatError,
    ImportContext,
    ImportItem,
    ImportSource,
    Label,
    Rejection,
)
from annotator.exchange.formats.coco import INSTANCES_ENTRY, rle_runs
from annotator.exchange.importing import ImportRejected, import_from_path
from tests.exchange.conftest import HEIGHT, WIDTH, mask_png
from tests.exchange.conftest import box as conftest_box
from tests.images import png

# pycocotools' C decoder trips numpy 2's __array__ copy-keyword check; the result is unaffected.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

COCO_FORMAT = get_format("coco")
LABELS = [Label("cat", "#ff0000"), Label("dog", "#00ff00"), Label("vehicle.car", "#0000ff")]
W, H = 64, 48


# --- builders -------------------------------------------------------------------------------------
def entity(kind: str, coordinates: Any, label: str = "cat", number: int = 1, **system: Any) -> dict[str, Any]:
    """Annotation entity JSON as the engine hands it to a format (masks as stored RLE)."""
    return {
        "id": f"ann{number}",
        "type": kind,
        "label": label,
        "coordinates": coordinates,
        "metadata": {"system": {"status": None, "attributes": system.pop("attributes", {}), **system}, "user": {}},
        "description": None,
    }


def pt(x: float, y: float) -> dict[str, float]:
    return {"x": x, "y": y, "z": 0}


def export_item(
    path: str, annotations: list, *, width: int = W, height: int = H, image: Path | None = None, user=None
) -> ExportItem:
    item = {
        "id": "item-" + path.strip("/").replace("/", "-"),
        "filename": path,
        "metadata": {"system": {"width": width, "height": height}, "user": user or {}},
    }
    return ExportItem(item=item, annotations=annotations, image_path=image)


def export(tmp_path: Path, items, *, labels=LABELS, include_images: bool = False) -> Path:
    target = tmp_path / "export.zip"
    context = ExportContext(dataset={"name": "Pets"}, labels=labels, attributes=[], include_images=include_images)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        COCO_FORMAT.write(items, ExportArchive(archive), context)
    return target


def instances(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read(INSTANCES_ENTRY))


def coco_api(tmp_path: Path, path: Path) -> COCO:
    extracted = tmp_path / "instances.json"
    with zipfile.ZipFile(path) as archive:
        extracted.write_bytes(archive.read(INSTANCES_ENTRY))
    return COCO(str(extracted))


def read(path: Path, *, single_name: str | None = None) -> tuple[list, ImportContext]:
    context = ImportContext(labels=[])
    source = ImportSource(path, single_name=single_name)
    try:
        return list(COCO_FORMAT.read(source, context)), context
    finally:
        source.close()


def read_json(tmp_path: Path, document: Any, name: str = "instances.json") -> tuple[list, ImportContext]:
    path = tmp_path / name
    path.write_bytes(document if isinstance(document, bytes) else json.dumps(document).encode())
    return read(path, single_name=name)


def without_z(value: Any) -> Any:
    """Stored coordinates carry z (always 0 for images); COCO does not."""
    if isinstance(value, dict):
        return {k: without_z(v) for k, v in value.items() if k != "z"}
    if isinstance(value, list):
        return [without_z(v) for v in value]
    return value


def random_masks() -> list[np.ndarray]:
    """Blobs, noise, and masks touching each border and corner (where RLE runs wrap columns)."""
    rng = np.random.default_rng(7)
    masks = []
    for _ in range(3):
        mask = np.zeros((H, W), dtype=bool)
        top, left = rng.integers(0, H - 10), rng.integers(0, W - 10)
        mask[top : top + rng.integers(3, 10), left : left + rng.integers(3, 10)] = True
        masks.append(mask)
    masks.append(rng.random((H, W)) > 0.5)
    border = np.zeros((H, W), dtype=bool)
    border[0, :] = border[-1, :] = border[:, 0] = border[:, -1] = True
    masks.append(border)
    corners = np.zeros((H, W), dtype=bool)
    corners[0, 0] = corners[-1, -1] = corners[0, -1] = corners[-1, 0] = True
    masks.append(corners)
    masks.append(np.ones((H, W), dtype=bool))
    return masks


# --- export ---------------------------------------------------------------------------------------
def test_categories_follow_the_labels_in_order_with_supercategory_and_color(tmp_path):
    # given labels, one of them nested
    # when exporting an empty dataset
    data = instances(export(tmp_path, []))
    # then categories are numbered from 1 in label order; the parent of a dotted tag is the supercategory
    assert data["categories"] == [
        {"id": 1, "name": "cat", "supercategory": "", "color": "#ff0000"},
        {"id": 2, "name": "dog", "supercategory": "", "color": "#00ff00"},
        {"id": 3, "name": "vehicle.car", "supercategory": "vehicle", "color": "#0000ff"},
    ]
    assert data["images"] == [] and data["annotations"] == [] and data["dataloop_annotations"] == []


def test_export_loads_in_pycocotools_with_images_boxes_polygons_masks_and_points(tmp_path):
    # given two items with one annotation of each instance type
    mask = np.zeros((H, W), dtype=bool)
    mask[5:9, 10:20] = True
    items = [
        export_item(
            "/photos/a.png",
            [
                entity("box", [pt(1, 2), pt(11, 22)], number=1),
                entity("segment", [[pt(0, 0), pt(10, 0), pt(10, 10)], [pt(20, 20), pt(30, 20), pt(30, 30)]], number=2),
                entity("binary", mask_encode(mask).to_json(), label="dog", number=3),
                entity("point", pt(5, 6), label="vehicle.car", number=4),
            ],
        ),
        export_item("/b.png", [entity("box", [pt(0, 0), pt(64, 48)], number=5)], width=W, height=H),
    ]
    # when exporting and loading with pycocotools
    coco = coco_api(tmp_path, export(tmp_path, iter(items)))
    # then images carry the item path without the leading slash, its size and our item id
    assert coco.imgs[1] == {
        "id": 1,
        "file_name": "photos/a.png",
        "width": W,
        "height": H,
        "dataloop_item_id": "item-photos-a.png",
    }
    assert coco.imgs[2]["file_name"] == "b.png"
    # and annotations are numbered from 1, on their image and category
    assert [(a["id"], a["image_id"], a["category_id"]) for a in coco.dataset["annotations"]] == [
        (1, 1, 1),
        (2, 1, 1),
        (3, 1, 2),
        (4, 1, 3),
        (5, 2, 1),
    ]
    assert coco.getAnnIds(imgIds=[1]) == [1, 2, 3, 4] and coco.getAnnIds(catIds=[2]) == [3]
    box, segment, binary, point, _ = (coco.anns[i] for i in range(1, 6))
    # and a box is bbox [x, y, w, h] with its rectangle as the polygon
    assert box["bbox"] == [1, 2, 10, 20] and box["area"] == 200 and box["iscrowd"] == 0
    assert box["segmentation"] == [[1, 2, 11, 2, 11, 22, 1, 22]]
    assert coco.annToMask(box).sum() == 200
    # and a polygon has one flat list per ring, bbox around all, shoelace area summed over rings
    assert segment["segmentation"] == [[0, 0, 10, 0, 10, 10], [20, 20, 30, 20, 30, 30]]
    assert segment["bbox"] == [0, 0, 30, 30] and segment["area"] == 100
    # and a mask keeps its RLE, with its pixel bbox and pixel count
    assert binary["segmentation"] == {"size": [H, W], "counts": mask_encode(mask).counts}
    assert binary["bbox"] == [10, 5, 10, 4] and binary["area"] == 40 and binary["iscrowd"] == 1
    assert (coco.annToMask(binary) == mask).all()
    # and a point is a single visible keypoint
    assert point["keypoints"] == [5, 6, 2] and point["num_keypoints"] == 1 and point["bbox"] == [5, 6, 0, 0]
    assert "segmentation" not in point


def test_masks_decode_pixel_exactly_in_pycocotools_including_borders(tmp_path):
    # given masks of every shape, including ones touching the borders and corners
    masks = random_masks()
    stored = [mask_encode(mask).to_json() for mask in masks]
    annotations = [entity("binary", s, number=i) for i, s in enumerate(stored)]
    # when exporting and loading with pycocotools
    coco = coco_api(tmp_path, export(tmp_path, [export_item("/m.png", annotations)]))
    # then every annToMask equals our stored mask, and bbox and area are pycocotools' own
    for index, (mask, raw) in enumerate(zip(masks, stored, strict=True)):
        annotation = coco.anns[index + 1]
        decoded = coco.annToMask(annotation).astype(bool)
        assert (decoded == mask_decode(Mask.from_json(raw))).all() and (decoded == mask).all()
        rle = {"size": [H, W], "counts": raw["counts"].encode()}
        assert annotation["area"] == int(coco_mask.area(rle)) == int(mask.sum())
        assert annotation["bbox"] == coco_mask.toBbox(rle).tolist()


def test_rle_runs_decodes_like_the_reference_codec_for_long_runs():
    # given masks whose runs need several 5-bit chunks and negative deltas (large, uneven runs)
    rng = np.random.default_rng(3)
    big = np.zeros((700, 900), dtype=bool)
    big[100:650, 30:870] = True
    big[rng.integers(0, 700, 500), rng.integers(0, 900, 500)] = False
    for mask in [big, np.ones((3, 3), bool), np.zeros((2, 5), bool), rng.random((40, 30)) > 0.9]:
        counts = counts_to_string(runs_of(mask))
        # when decoding with the vectorised decoder
        runs = rle_runs(counts)
        # then it gives the reference codec's runs
        assert runs.tolist() == counts_from_string(counts) == runs_of(mask)


@pytest.mark.parametrize("counts", ["\x7f", "0a", "f"])
def test_rle_runs_refuses_bad_characters_and_truncation(counts):
    with pytest.raises(ValueError, match="RLE"):
        rle_runs(counts)


def test_rotated_box_exports_its_turned_polygon_and_enclosing_bbox(tmp_path):
    # given a 20x10 box turned by 90 degrees about its centre (30, 20)
    rotated = [pt(20, 15), pt(40, 25), 90.0]
    path = export(tmp_path, [export_item("/r.png", [entity("box", rotated)])])
    annotation = instances(path)["annotations"][0]
    # then the polygon is the turned rectangle, the bbox encloses it, the area is the box's
    corners = annotation["segmentation"][0]
    expected = [35, 10, 35, 30, 25, 30, 25, 10]
    assert all(math.isclose(a, b, abs_tol=1e-9) for a, b in zip(corners, expected, strict=True))
    assert all(math.isclose(a, b, abs_tol=1e-9) for a, b in zip(annotation["bbox"], [25, 10, 10, 20], strict=True))
    assert annotation["area"] == 200
    # and the original box with its angle is kept for our import
    assert annotation["dataloop"] == {"type": "box", "coordinates": rotated}


def test_rotated_box_bbox_is_clipped_to_the_image(tmp_path):
    # given a turned box whose corners leave the image
    annotation = instances(export(tmp_path, [export_item("/r.png", [entity("box", [pt(0, 0), pt(20, 20), 45.0])])]))[
        "annotations"
    ][0]
    # then its bbox stays inside the image while the polygon keeps the corners
    left, top, width, _ = annotation["bbox"]
    assert left == 0 and top == 0 and math.isclose(width, 10 + 10 * math.sqrt(2))
    assert min(annotation["segmentation"][0][0::2]) < 0


def test_ellipse_exports_a_polygon_and_keeps_its_exact_shape(tmp_path):
    # given an ellipse
    ellipse = {"center": pt(30, 20), "rx": 10.0, "ry": 5.0, "angle": 0.0}
    annotation = instances(export(tmp_path, [export_item("/e.png", [entity("ellipse", ellipse)])]))["annotations"][0]
    # then COCO readers get a polygon on the ellipse, its bbox and area
    xs, ys = annotation["segmentation"][0][0::2], annotation["segmentation"][0][1::2]
    assert len(xs) == 32
    assert all(math.isclose(((x - 30) / 10) ** 2 + ((y - 20) / 5) ** 2, 1) for x, y in zip(xs, ys, strict=True))
    assert annotation["bbox"] == pytest.approx([20, 15, 20, 10])
    assert annotation["area"] == pytest.approx(math.pi * 50)
    assert annotation["dataloop"] == {"type": "ellipse", "coordinates": ellipse}


def test_classes_and_polylines_go_beside_the_instances_and_notes_are_not_exported(tmp_path):
    # given a classification, a polyline and a note
    items = [
        export_item(
            "/c.png",
            [
                entity("class", [], attributes={"occluded": True}, number=1),
                entity("polyline", [[pt(1, 1), pt(5, 5), pt(9, 1)]], number=2),
                entity("note", {"box": [pt(1, 1), pt(2, 2)], "note": {"status": "open", "messages": []}}, number=3),
            ],
        )
    ]
    data = instances(export(tmp_path, items))
    # then COCO readers see no instance, and the two are in dataloop_annotations
    assert data["annotations"] == []
    assert data["dataloop_annotations"] == [
        {"id": 1, "image_id": 1, "category_id": 1, "attributes": {"occluded": True}, "dataloop": {"type": "class"}},
        {
            "id": 2,
            "image_id": 1,
            "category_id": 1,
            "polyline": [[1, 1, 5, 5, 9, 1]],
            "attributes": {},
            "dataloop": {"type": "polyline"},
        },
    ]


def test_labels_missing_from_the_context_get_a_category(tmp_path):
    # given an annotation whose label is not among the context's labels
    data = instances(export(tmp_path, [export_item("/a.png", [entity("box", [pt(1, 1), pt(2, 2)], label="bird")])]))
    # then it gets the next category id
    assert data["categories"][-1] == {"id": 4, "name": "bird", "supercategory": "", "color": ""}
    assert data["annotations"][0]["category_id"] == 4


def test_images_are_added_under_images_when_asked(tmp_path):
    # given an item with its stored image
    stored = tmp_path / "stored.png"
    stored.write_bytes(png(W, H))
    path = export(tmp_path, [export_item("/photos/a.png", [], image=stored)], include_images=True)
    # then the zip has the image beside the instances file, named as file_name under images/
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["annotations/instances.json", "images/photos/a.png"]
        assert archive.read("images/photos/a.png") == stored.read_bytes()
    # and importing finds it again
    (imported,), _ = read(path)
    assert imported.image_entry == "images/photos/a.png" and imported.filename == "photos/a.png"


def test_export_consumes_items_as_a_stream(tmp_path):
    # given a generator that checks how many items the writer has pulled
    pulled = []

    def items():
        for n in range(3):
            pulled.append(n)
            yield export_item(f"/{n}.png", [entity("box", [pt(1, 1), pt(2, 2)], number=n)])

    # when exporting
    data = instances(export(tmp_path, items()))
    # then every item was taken once, in order, and written
    assert pulled == [0, 1, 2]
    assert [image["file_name"] for image in data["images"]] == ["0.png", "1.png", "2.png"]


# --- our export read back -------------------------------------------------------------------------
def test_our_export_reads_back_to_the_same_annotations(tmp_path):
    # given one annotation of every exported type, with attributes and links
    mask = random_masks()[4]
    source = [
        entity("box", [pt(1.1, 2.2), pt(10.3, 12.7)], attributes={"occluded": False, "breed": "tabby"}, number=1),
        entity("box", [pt(20, 15), pt(40, 25), 30.0], label="dog", number=2),
        entity("segment", [[pt(0, 0), pt(10, 0), pt(10, 10)], [pt(2, 1), pt(8, 1), pt(8, 7), pt(3, 6)]], number=3),
        entity("binary", mask_encode(mask).to_json(), label="dog", number=4),
        entity("point", pt(5.5, 6.5), label="vehicle.car", number=5, objectId="7", status="approved"),
        entity("ellipse", {"center": pt(30, 20), "rx": 10.0, "ry": 5.0, "angle": 15.0}, number=6, parentId="ann1"),
        entity("polyline", [[pt(1, 1), pt(5, 5)], [pt(6, 6), pt(9, 1)]], number=7),
        entity("class", [], label="dog", attributes={"age": 3}, number=8),
    ]
    source[0]["description"] = "first"
    source[0]["metadata"]["user"] = {"reviewed": True}
    path = export(tmp_path, [export_item("/photos/a.png", source, user={"split": "train"})])
    # when reading it back
    (imported,), context = read(path)
    # then the item is named and sized as exported, with its user metadata
    assert isinstance(imported, ImportItem)
    assert (imported.filename, imported.width, imported.height) == ("photos/a.png", W, H)
    assert imported.item_metadata == {"split": "train"} and imported.image_entry is None
    # and every annotation comes back with its type, label, coordinates and attributes (masks as RLE)
    by_type = {(a["type"], a["label"]): a for a in imported.annotations}
    assert len(imported.annotations) == len(source)
    for original in source:
        back = by_type[(original["type"], original["label"])]
        coordinates = without_z(original["coordinates"])
        if original["type"] == "binary":
            coordinates = {"size": coordinates["size"], "counts": coordinates["counts"]}
        assert without_z(back["coordinates"]) == coordinates, original["type"]
        assert back["metadata"]["system"]["attributes"] == original["metadata"]["system"]["attributes"]
    # and parents' ids, links, review status, descriptions and user metadata are kept
    first = next(a for a in imported.annotations if a.get("description") == "first")
    assert first["id"] == "ann1" and first["metadata"]["user"] == {"reviewed": True}
    assert by_type[("point", "vehicle.car")]["metadata"]["system"] == {
        "attributes": {},
        "objectId": "7",
        "status": "approved",
    }
    assert by_type[("ellipse", "cat")]["metadata"]["system"]["parentId"] == "ann1"
    # and the origins name each entry of the file
    assert imported.origins[0] == f"{INSTANCES_ENTRY}: annotations[0] (id 1)"
    assert imported.origins[-1] == f"{INSTANCES_ENTRY}: dataloop_annotations[1] (id 8)"
    # and the categories are declared as labels with their colours
    assert {tag: label.color for tag, label in context.declared.items()} == {
        "cat": "#ff0000",
        "dog": "#00ff00",
        "vehicle.car": "#0000ff",
    }


# --- other COCO files -----------------------------------------------------------------------------
def coco_document(**overrides: Any) -> dict[str, Any]:
    document = {
        "images": [{"id": 7, "file_name": "000000397133.jpg", "width": 640, "height": 427}],
        "categories": [{"id": 18, "name": "dog", "supercategory": "animal"}, {"id": 3, "name": "car"}],
        "annotations": [{"id": 1, "image_id": 7, "category_id": 18, "bbox": [10, 20, 30, 40], "iscrowd": 0}],
    }
    document.update(overrides)
    return document


def test_a_plain_coco_file_reads_with_boxes_polygons_crowd_rle_and_keypoints(tmp_path):
    # given a COCO file as other tools write it: bbox-only boxes, polygons, uncompressed crowd RLE, keypoints
    runs = [0, 5, 640 * 427 - 5]
    document = coco_document(
        annotations=[
            {"id": 1, "image_id": 7, "category_id": 18, "bbox": [10.5, 20, 30, 40], "area": 1200, "iscrowd": 0},
            {
                "id": 2,
                "image_id": 7,
                "category_id": 3,
                "segmentation": [[1, 1, 9, 1, 9, 9], [20, 20, 30, 20, 30, 30, 20, 30]],
                "bbox": [1, 1, 29, 29],
                "iscrowd": 0,
                "attributes": {"occluded": True},
            },
            {
                "id": 3,
                "image_id": 7,
                "category_id": 3,
                "segmentation": {"size": [427, 640], "counts": runs},
                "iscrowd": 1,
            },
            {
                "id": 4,
                "image_id": 7,
                "category_id": 18,
                "keypoints": [4, 5, 2],
                "num_keypoints": 1,
                "bbox": [4, 5, 0, 0],
            },
        ]
    )
    # when reading it
    (imported,), context = read_json(tmp_path, document)
    # then the image is named and sized by its entry
    assert (imported.filename, imported.width, imported.height) == ("000000397133.jpg", 640, 427)
    box, polygon, mask, point = imported.annotations
    # and a bbox is a box, polygons are rings, list counts become our compressed string, a keypoint a point
    assert box == {
        "type": "box",
        "label": "dog",
        "coordinates": [{"x": 10.5, "y": 20}, {"x": 40.5, "y": 60}],
        "metadata": {"system": {"attributes": {}}},
    }
    assert polygon["type"] == "segment" and polygon["label"] == "car"
    assert polygon["coordinates"] == [
        [{"x": 1, "y": 1}, {"x": 9, "y": 1}, {"x": 9, "y": 9}],
        [{"x": 20, "y": 20}, {"x": 30, "y": 20}, {"x": 30, "y": 30}, {"x": 20, "y": 30}],
    ]
    assert polygon["metadata"]["system"]["attributes"] == {"occluded": True}
    assert mask["type"] == "binary"
    assert mask["coordinates"] == {"size": [427, 640], "counts": counts_to_string(runs)}
    decoded = mask_decode(Mask(height=427, width=640, counts=mask["coordinates"]["counts"], bbox=None))
    assert decoded.sum() == 5 and decoded[:5, 0].all()
    assert point["type"] == "point" and point["coordinates"] == {"x": 4, "y": 5}
    # and the categories are declared by name, without colours
    assert sorted(context.declared) == ["car", "dog"] and context.declared["dog"].color == ""


def test_images_are_found_by_their_path_suffix_in_the_zip(tmp_path):
    # given the COCO layout: annotations/instances_*.json and train2017/<file>
    path = tmp_path / "coco.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("annotations/instances_train2017.json", json.dumps(coco_document()))
        archive.writestr("annotations/readme.txt", "not json")
        archive.writestr("train2017/000000397133.jpg", png(4, 4))
    # when reading
    (imported,), _ = read(path)
    # then the image entry is the one whose path ends with file_name
    assert imported.image_entry == "train2017/000000397133.jpg"
    assert imported.origins == ["annotations/instances_train2017.json: annotations[0] (id 1)"]


def test_every_json_under_annotations_is_read(tmp_path):
    # given two splits
    path = tmp_path / "coco.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("annotations/instances_val.json", json.dumps(coco_document()))
        second = coco_document(images=[{"id": 7, "file_name": "b.jpg", "width": 640, "height": 427}])
        archive.writestr("annotations/instances_train.json", json.dumps(second))
        archive.writestr("other.json", "{}")  # beside annotations/: not a COCO file of the upload
    # when reading
    items, _ = read(path)
    # then both files' images come, each with its own annotations
    assert [(i.filename, len(i.annotations)) for i in items] == [("b.jpg", 1), ("000000397133.jpg", 1)]


def test_an_image_without_annotations_is_still_imported(tmp_path):
    document = coco_document(annotations=[])
    (imported,), _ = read_json(tmp_path, document)
    assert imported.filename == "000000397133.jpg" and imported.annotations == []


# --- bad files ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"images": [', "malformed JSON"),
        (b"[]", "JSON object"),
        (json.dumps({"images": [], "categories": []}).encode(), "'annotations'"),
        (json.dumps({"images": [], "annotations": []}).encode(), "'categories'"),
    ],
    ids=["truncated", "not an object", "no annotations", "no categories"],
)
def test_a_file_that_is_not_coco_raises_format_error_naming_it(tmp_path, content, reason):
    with pytest.raises(FormatError, match=reason) as raised:
        read_json(tmp_path, content, name="broken.json")
    assert raised.value.entry == "broken.json"


@pytest.mark.parametrize(
    ("categories", "reason"),
    [
        ([{"id": 1}], "name"),
        ([{"name": "dog"}], "id"),
        ([{"id": 1, "name": "a"}, {"id": 1, "name": "b"}], "twice"),
    ],
)
def test_a_bad_category_raises_format_error_naming_it(tmp_path, categories, reason):
    with pytest.raises(FormatError, match=reason) as raised:
        read_json(tmp_path, coco_document(categories=categories))
    assert raised.value.entry.startswith("instances.json: categories[")


def test_a_zip_without_any_json_raises_format_error(tmp_path):
    path = tmp_path / "empty.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("images/a.jpg", png(4, 4))
    with pytest.raises(FormatError, match="no COCO JSON"):
        read(path)


BAD_ANNOTATIONS = {
    "unknown category": ({"category_id": 99}, "category_id 99 is not in categories"),
    "unknown image": ({"image_id": 8}, "image_id 8 is not in images"),
    "bbox of three numbers": ({"bbox": [1, 2, 3]}, "bbox must be 4 numbers"),
    "bbox of text": ({"bbox": [1, 2, "3", 4]}, "bbox must be 4 numbers"),
    "negative width": ({"bbox": [1, 2, -3, 4]}, "negative width or height"),
    "odd polygon": ({"segmentation": [[1, 1, 5, 1, 5]]}, "odd number of coordinates"),
    "two-point polygon": ({"segmentation": [[1, 1, 5, 1]]}, "fewer than 3 points"),
    "polygon of text": ({"segmentation": [["a", 1, 5, 1, 5, 5]]}, "flat list of numbers"),
    "bad RLE characters": ({"segmentation": {"size": [427, 640], "counts": "\x7f\x7f"}}, "bad RLE counts"),
    "RLE runs short": ({"segmentation": {"size": [427, 640], "counts": [0, 5]}}, "cover 5 pixels"),
    "RLE of another size": ({"segmentation": {"size": [10, 10], "counts": [100]}, "iscrowd": 1}, "differs from"),
    "RLE without size": ({"segmentation": {"counts": "PP"}}, "RLE size"),
    "no geometry": ({"bbox": None}, "no bbox, segmentation or keypoints"),
    "bad attributes": ({"attributes": ["occluded"]}, "attributes must be an object"),
    "unknown dataloop type": ({"dataloop": {"type": "cube"}}, "dataloop.type"),
}


@pytest.mark.parametrize(("change", "reason"), BAD_ANNOTATIONS.values(), ids=BAD_ANNOTATIONS.keys())
def test_a_bad_annotation_is_rejected_naming_its_entry(tmp_path, change, reason):
    # given a file whose second annotation is bad
    good = {"id": 1, "image_id": 7, "category_id": 18, "bbox": [10, 20, 30, 40]}
    bad = {**good, "id": 2, **change}
    # when reading
    results, _ = read_json(tmp_path, coco_document(annotations=[good, bad]))
    # then the bad one is a rejection naming the file, index and id, with the reason
    (rejection,) = [r for r in results if isinstance(r, Rejection)]
    assert rejection.entry == "instances.json: annotations[1] (id 2)"
    assert reason in rejection.reason
    # and it is not imported, while the good one is
    (imported,) = [r for r in results if isinstance(r, ImportItem)]
    assert imported.annotations[0]["coordinates"] == [{"x": 10, "y": 20}, {"x": 40, "y": 60}]
    assert len(imported.annotations) == 1


@pytest.mark.parametrize(
    ("image", "reason"),
    [({"file_name": "a.jpg"}, "needs an id"), ({"id": 9}, "file_name"), ({"id": 7, "file_name": "b.jpg"}, "twice")],
    ids=["no id", "no file_name", "duplicate id"],
)
def test_a_bad_image_entry_is_rejected_and_its_annotations_with_it(tmp_path, image, reason):
    # given an image entry without id, without file_name, or repeating an id
    document = coco_document()
    document["images"].append(image)
    document["annotations"].append({"id": 2, "image_id": image.get("id", 0), "category_id": 18, "bbox": [1, 1, 1, 1]})
    # when reading
    results, _ = read_json(tmp_path, document)
    # then the image entry is rejected by index
    rejections = [r for r in results if isinstance(r, Rejection)]
    assert rejections[0].entry.startswith("instances.json: images[1]") and reason in rejections[0].reason
    # and its annotation too, saying why
    assert any(r.entry == "instances.json: annotations[1] (id 2)" and "image_id" in r.reason for r in rejections)


# --- through the engine: export from a dataset, import into another -------------------------------
def annotate_every_type(user, item) -> np.ndarray:
    """On the 64x48 item: a box with attributes, a two-ring polygon, a mask touching the border,
    a point linked to the box, a rotated box, an ellipse, a polyline, a classification."""
    mask = np.zeros((HEIGHT, WIDTH), dtype=bool)
    mask[0:20, 50:64] = True
    mask[30:48, 0:3] = True
    created, _rules = annotations_create(
        user=user,
        item_id=item.id,
        annotations=[
            conftest_box(attributes={"occluded": True, "breed": "tabby"}, description="the cat"),
            {
                "type": "segment",
                "label": "road",
                "coordinates": [
                    [{"x": 1, "y": 1}, {"x": 30, "y": 1}, {"x": 30, "y": 20}],
                    [{"x": 5.25, "y": 5}, {"x": 9, "y": 5}, {"x": 9, "y": 9.75}],
                ],
            },
            {"type": "binary", "label": "road", "coordinates": mask_png(mask, color=(0, 0, 255))},
            {"type": "box", "label": "dog", "coordinates": [{"x": 20, "y": 15}, {"x": 40, "y": 25}, 30]},
            {"type": "ellipse", "label": "dog", "coordinates": {"center": {"x": 30, "y": 20}, "rx": 8, "ry": 4}},
            {"type": "polyline", "label": "road", "coordinates": [[{"x": 1, "y": 40}, {"x": 60, "y": 45}]]},
            {"type": "class", "label": "scene.day", "coordinates": [], "metadata": {"system": {"objectId": "3"}}},
        ],
    )
    annotations_create(
        user=user,
        item_id=item.id,
        annotations=[
            {
                "type": "point",
                "label": "cat",
                "coordinates": {"x": 3, "y": 4},
                "metadata": {"system": {"parentId": created[0].id, "attributes": {}}, "user": {"by": "hand"}},
            }
        ],
    )
    return mask


def stored_content(annotation: Annotation) -> tuple:
    system = {k: v for k, v in annotation.metadata["system"].items() if k != "parentId"}
    return (
        annotation.type,
        annotation.label,
        orjson.dumps(annotation.coordinates),
        orjson.dumps(system, option=orjson.OPT_SORT_KEYS),
        orjson.dumps(annotation.metadata.get("user") or {}, option=orjson.OPT_SORT_KEYS),
        annotation.description,
    )


@pytest.mark.django_db
def test_round_trip_through_coco_restores_every_annotation_and_link(dataset, item, fresh_dataset, members, tmp_path):
    # given an item with one annotation of every type, a point linked to a box
    owner = members["owner"]
    mask = annotate_every_type(owner, item)
    archive = tmp_path / "export.zip"

    # when it is exported as COCO with its image and imported into an empty dataset
    counts = export_to_path(user=owner, dataset_id=dataset.id, format_name="coco", path=archive, include_images=True)
    report = import_from_path(
        user=owner, dataset_id=fresh_dataset.id, format_name="coco", path=archive, filename="export.zip"
    )

    # then the zip is the instances file and the image, and pycocotools reads our mask exactly
    assert counts == {"itemsCount": 1, "annotationsCount": 8}
    with zipfile.ZipFile(archive) as zipped:
        assert sorted(zipped.namelist()) == [INSTANCES_ENTRY, "images/photos/a.png"]
    coco = coco_api(tmp_path, archive)
    (binary,) = [a for a in coco.dataset["annotations"] if isinstance(a.get("segmentation"), dict)]
    assert (coco.annToMask(binary).astype(bool) == mask).all()
    # and the imported item holds the same annotations, the point still pointing at the box
    assert report["itemsCreated"] == 1 and report["annotationsImported"] == 8 and report["rejectedCount"] == 0
    copy = Item.objects.get(dataset=fresh_dataset, filename="/photos/a.png")
    assert copy.blob_id == item.blob_id and copy.annotations_count == 8
    originals = sorted(stored_content(a) for a in Annotation.objects.filter(item=item))
    imported = sorted(stored_content(a) for a in Annotation.objects.filter(item=copy))
    assert imported == originals
    point = Annotation.objects.get(item=copy, type="point")
    assert point.metadata["system"]["parentId"] == Annotation.objects.get(item=copy, type="box", label="cat").id


@pytest.mark.django_db
def test_annotations_alone_land_on_the_item_with_that_path(dataset, item, fresh_dataset, members, tmp_path):
    # given the same image already in the target dataset
    owner = members["owner"]
    annotate_every_type(owner, item)
    target, _op = datasets.item_upload(
        user=owner, dataset_id=fresh_dataset.id, path="/photos/a.png", fileobj=io.BytesIO(png(WIDTH, HEIGHT))
    )
    archive = tmp_path / "export.zip"
    export_to_path(user=owner, dataset_id=dataset.id, format_name="coco", path=archive)

    # when the export without images is imported
    report = import_from_path(
        user=owner, dataset_id=fresh_dataset.id, format_name="coco", path=archive, filename="export.zip"
    )

    # then the annotations are on the existing item, and no item was created
    assert report["itemsMatched"] == 1 and report["itemsCreated"] == 0
    assert Annotation.objects.filter(item=target).count() == 8


@pytest.mark.django_db
def test_a_foreign_coco_mask_is_stored_pixel_exactly(fresh_dataset, members, tmp_path):
    # given a COCO file from another tool: pycocotools' RLE of a mask, and a bbox-only box
    mask = random_masks()[0]
    rle = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
    document = {
        "images": [{"id": 1, "file_name": "x.png", "width": WIDTH, "height": HEIGHT}],
        "categories": [{"id": 5, "name": "road"}, {"id": 6, "name": "dog"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 5, "segmentation": {**rle, "counts": rle["counts"].decode()}},
            {"id": 2, "image_id": 1, "category_id": 6, "bbox": [2, 3, 10, 5], "iscrowd": 0},
        ],
    }
    path = tmp_path / "coco.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("annotations/instances_default.json", json.dumps(document))
        archive.writestr("images/x.png", png(WIDTH, HEIGHT))

    # when it is imported
    report = import_from_path(
        user=members["owner"], dataset_id=fresh_dataset.id, format_name="coco", path=path, filename="coco.zip"
    )

    # then the item is created with a mask equal to the file's, and the box
    assert report["itemsCreated"] == 1 and report["annotationsImported"] == 2
    stored = Annotation.objects.get(dataset=fresh_dataset, type="binary")
    assert (mask_decode(Mask.from_json(stored.coordinates)) == mask).all()
    box = Annotation.objects.get(dataset=fresh_dataset, type="box")
    assert without_z(box.coordinates) == [{"x": 2, "y": 3}, {"x": 12, "y": 8}] and box.label == "dog"


@pytest.mark.django_db
def test_a_bad_coco_file_changes_nothing_and_names_every_bad_entry(fresh_dataset, members, tmp_path):
    # given a zip whose first image is fine and whose second has three bad annotations
    document = {
        "images": [
            {"id": 1, "file_name": "ok.png", "width": WIDTH, "height": HEIGHT},
            {"id": 2, "file_name": "bad.png", "width": WIDTH, "height": HEIGHT},
        ],
        "categories": [{"id": 1, "name": "cat"}],
        "annotations": [
            {"id": 10, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]},
            {"id": 11, "image_id": 2, "category_id": 9, "bbox": [1, 1, 5, 5]},
            {"id": 12, "image_id": 2, "category_id": 1, "segmentation": [[1, 1, 5, 1, 5]]},
            {"id": 13, "image_id": 2, "category_id": 1, "bbox": [10, 10, 500, 5]},  # outside the 64x48 image
        ],
    }
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("annotations/instances.json", json.dumps(document))
        archive.writestr("images/ok.png", png(WIDTH, HEIGHT, color=(1, 2, 3)))
        archive.writestr("images/bad.png", png(WIDTH, HEIGHT, color=(4, 5, 6)))

    # when it is imported
    with pytest.raises(ImportRejected) as rejected:
        import_from_path(
            user=members["owner"], dataset_id=fresh_dataset.id, format_name="coco", path=path, filename="bad.zip"
        )

    # then each bad annotation is named with its reason, and the dataset is untouched
    entries = {r["entry"]: r["reason"] for r in rejected.value.report["rejected"]}
    assert set(entries) == {
        "annotations/instances.json: annotations[1] (id 11)",
        "annotations/instances.json: annotations[2] (id 12)",
        "annotations/instances.json: annotations[3] (id 13)",
    }
    assert "category_id 9" in entries["annotations/instances.json: annotations[1] (id 11)"]
    assert "odd number" in entries["annotations/instances.json: annotations[2] (id 12)"]
    assert "outside the 64x48 image" in entries["annotations/instances.json: annotations[3] (id 13)"]
    assert not Item.objects.filter(dataset=fresh_dataset).exists()
    assert not Annotation.objects.filter(dataset=fresh_dataset).exists()


@pytest.mark.django_db
def test_a_malformed_coco_json_changes_nothing(fresh_dataset, members, tmp_path):
    path = tmp_path / "instances.json"
    path.write_bytes(b'{"images": [{"id": 1, "file_name": "a.png"}], "annotations": [')
    with pytest.raises(ImportRejected) as rejected:
        import_from_path(
            user=members["owner"], dataset_id=fresh_dataset.id, format_name="coco", path=path, filename="instances.json"
        )
    (rejection,) = rejected.value.report["rejected"]
    assert rejection["entry"] == "instances.json" and "malformed JSON" in rejection["reason"]
    assert not Item.objects.filter(dataset=fresh_dataset).exists()
