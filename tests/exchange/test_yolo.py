"""YOLO (Ultralytics layout): export of boxes and polygons, import back to pixels, and the
import's refusals, each naming its file and line."""

import io
import zipfile
from pathlib import Path

import pytest
import yaml

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
from annotator.exchange.formats.yolo import FORMAT
from tests.exchange.conftest import zip_of
from tests.images import jpeg, png

LABELS = [Label("cat", "#ff0000"), Label("dog", "#00ff00"), Label("road", "#0000ff")]
W, H = 64, 48


def export_item(filename="/photos/a.png", annotations=(), width=W, height=H, image_path=None) -> ExportItem:
    system = {"width": width, "height": height} if width else {}
    return ExportItem(
        item={"id": filename, "filename": filename, "metadata": {"system": system}},
        annotations=list(annotations),
        image_path=image_path,
    )


def box(left, top, right, bottom, label="cat", angle=None):
    coordinates = [{"x": left, "y": top, "z": 0}, {"x": right, "y": bottom, "z": 0}]
    if angle is not None:
        coordinates.append(angle)
    return {"type": "box", "label": label, "coordinates": coordinates}


def segment(*rings, label="road"):
    return {"type": "segment", "label": label, "coordinates": [[{"x": x, "y": y, "z": 0} for x, y in r] for r in rings]}


def export_zip(tmp_path: Path, items, *, include_images=False, labels=LABELS) -> Path:
    path = tmp_path / "export.zip"
    context = ExportContext(dataset={"id": "d"}, labels=labels, attributes=[], include_images=include_images)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as handle:
        FORMAT.write(iter(items), ExportArchive(handle), context)
    return path


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as handle:
        return {name: handle.read(name) for name in handle.namelist()}


def read_all(path: Path, **options) -> tuple[list[ImportItem], list[Rejection], ImportContext]:
    context = ImportContext(labels=[], options=options)
    source = ImportSource(path)
    try:
        results = list(FORMAT.read(source, context))
    finally:
        source.close()
    items = [r for r in results if isinstance(r, ImportItem)]
    rejections = [r for r in results if isinstance(r, Rejection)]
    return items, rejections, context


DATA_YAML = "names:\n  0: cat\n  1: dog\n"


# --- export ------------------------------------------------------------------------------------
def test_export_writes_data_yaml_in_label_order_and_normalised_lines(tmp_path):
    # given a box and a two-ring polygon on a 64x48 image
    item = export_item(
        annotations=[box(8, 12, 24, 36, "dog"), segment([(0, 0), (32, 0), (32, 24)], [(64, 48), (48, 48), (64, 36)])]
    )

    # when it is exported
    files = entries(export_zip(tmp_path, [item]))

    # then data.yaml names the classes in the label order, and every line's class id is one of them
    data = yaml.safe_load(files["data.yaml"])
    assert data["names"] == {0: "cat", 1: "dog", 2: "road"} and data["nc"] == 3
    assert (data["path"], data["train"], data["val"]) == (".", "images", "images")
    lines = files["labels/photos/a.txt"].decode().splitlines()
    assert lines == [
        "1 0.250000 0.500000 0.250000 0.500000",
        "2 0.000000 0.000000 0.500000 0.000000 0.500000 0.500000",
        "2 1.000000 1.000000 0.750000 1.000000 1.000000 0.750000",
    ]
    for line in lines:
        class_id, *values = line.split()
        assert int(class_id) in data["names"]
        assert all(0.0 <= float(v) <= 1.0 for v in values)


def test_export_gives_a_rotated_box_its_enclosing_box(tmp_path):
    # given a 20x8 box centred on (32, 24), turned by 90 degrees
    item = export_item(annotations=[box(22, 20, 42, 28, angle=90)])

    # when it is exported
    line = entries(export_zip(tmp_path, [item]))["labels/photos/a.txt"].decode().strip()

    # then the line is the upright 8x20 box around it
    assert line == f"0 0.500000 0.500000 {8 / W:.6f} {20 / H:.6f}"


def test_export_clamps_coordinates_to_the_image(tmp_path):
    # given a box turned by 45 degrees whose enclosing box reaches above the image (top = 5 - 17.68)
    item = export_item(annotations=[box(0, 0, 40, 10, angle=45)])

    # when it is exported
    values = [float(v) for v in entries(export_zip(tmp_path, [item]))["labels/photos/a.txt"].split()[1:]]

    # then the enclosing box is clipped at the top edge, and its other edges are kept
    reach = 25 * 2**-0.5
    cx, cy, w, h = values
    assert cy - h / 2 == pytest.approx(0, abs=1e-6)
    assert cy + h / 2 == pytest.approx((5 + reach) / H, abs=1e-6)
    assert (cx - w / 2, cx + w / 2) == (
        pytest.approx((20 - reach) / W, abs=1e-6),
        pytest.approx((20 + reach) / W, abs=1e-6),
    )
    assert all(0 <= v <= 1 for v in values)


def test_export_keeps_negatives_and_notes_what_yolo_cannot_hold(tmp_path):
    # given an item without annotations and one with only a point and a classification
    empty = export_item("/empty.png")
    others = export_item(
        "/others.png",
        annotations=[
            {"type": "point", "label": "cat", "coordinates": {"x": 1, "y": 1}},
            {"type": "class", "label": "dog", "coordinates": []},
        ],
    )

    # when they are exported
    files = entries(export_zip(tmp_path, [empty, others]))

    # then both get an empty label file (so they stay negatives) and skipped.txt says what was left out
    assert files["labels/empty.txt"] == b"" and files["labels/others.txt"] == b""
    assert "/others.png: not exported (1 class, 1 point)" in files["skipped.txt"].decode()
    assert "/empty.png" not in files["skipped.txt"].decode()


def test_export_skips_annotated_items_without_a_size_and_says_so(tmp_path):
    # given an annotated item whose size is unknown and whose image is not stored
    item = export_item("/link.png", annotations=[box(1, 1, 5, 5)], width=None, height=None)

    # when it is exported
    files = entries(export_zip(tmp_path, [item]))

    # then no label file is written (it would claim a negative) and the reason is noted
    assert "labels/link.txt" not in files
    assert "/link.png: no image size" in files["skipped.txt"].decode()


def test_export_reads_the_size_from_the_image_when_metadata_lacks_it(tmp_path):
    # given an item without a size in its metadata but with its stored image
    image = tmp_path / "stored.png"
    image.write_bytes(png(W, H))
    item = export_item(annotations=[box(0, 0, 32, 24)], width=None, height=None, image_path=image)

    # when it is exported
    files = entries(export_zip(tmp_path, [item]))

    # then the box is normalised by the image's own size
    assert files["labels/photos/a.txt"] == b"0 0.250000 0.250000 0.500000 0.500000\n"


def test_export_includes_images_mirroring_folders(tmp_path):
    # given an item with its stored image
    image = tmp_path / "stored.png"
    image.write_bytes(png(W, H))
    item = export_item("/photos/2024/a.png", annotations=[box(1, 1, 5, 5)], image_path=image)

    # when it is exported with images
    files = entries(export_zip(tmp_path, [item], include_images=True))

    # then the image and its label file mirror the dataset's folders
    assert files["images/photos/2024/a.png"] == image.read_bytes()
    assert "labels/photos/2024/a.txt" in files


def test_export_notes_an_item_whose_label_file_another_item_took(tmp_path):
    # given two items that differ only by extension
    first, second = export_item("/a.jpg", [box(1, 1, 5, 5)]), export_item("/a.png", [box(2, 2, 6, 6, "dog")])

    # when they are exported
    files = entries(export_zip(tmp_path, [first, second]))

    # then the first keeps labels/a.txt and the second is listed as skipped
    assert files["labels/a.txt"].startswith(b"0 ")
    assert "/a.png: another item already wrote labels/a.txt" in files["skipped.txt"].decode()


# --- import ------------------------------------------------------------------------------------
def test_round_trip_through_the_format_gives_back_pixels(tmp_path):
    # given boxes and a polygon at the studio's precision (0.01 px), exported with the image
    image = tmp_path / "stored.png"
    image.write_bytes(png(W, H))
    annotations = [
        box(1.25, 2.5, 10.75, 12, "cat"),
        box(0, 0, 64, 48, "dog"),
        segment([(3.33, 4.44), (60.01, 5), (30, 47.99)]),
    ]
    path = export_zip(tmp_path, [export_item(annotations=annotations, image_path=image)], include_images=True)

    # when the archive is read back
    items, rejections, context = read_all(path)

    # then the item points at its image and the coordinates are exactly the originals
    assert rejections == []
    [item] = items
    assert (item.filename, item.image_entry, item.width, item.height) == ("photos/a.png", "images/photos/a.png", W, H)
    assert [(a["type"], a["label"], a["coordinates"]) for a in item.annotations] == [
        (a["type"], a["label"], a["coordinates"]) for a in annotations
    ]
    assert item.origins == ["labels/photos/a.txt: line 1", "labels/photos/a.txt: line 2", "labels/photos/a.txt: line 3"]
    assert list(context.declared) == ["cat", "dog", "road"]


def test_import_without_images_takes_the_size_from_the_dataset(tmp_path):
    # given label files only, and the engine's size_of for existing items
    path = zip_of(tmp_path, {"data.yaml": DATA_YAML, "labels/photos/a.txt": "1 0.5 0.5 0.25 0.5\n"})
    asked = []

    def size_of(filename):
        asked.append(filename)
        return (200, 100)

    # when it is read
    items, rejections, _ = read_all(path, size_of=size_of)

    # then the item is named by its stem path (no extension known) and placed with the dataset's size
    assert rejections == [] and asked == ["photos/a"]
    [item] = items
    assert item.filename == "photos/a" and item.image_entry is None
    assert item.annotations[0]["coordinates"] == [{"x": 75.0, "y": 25.0, "z": 0}, {"x": 125.0, "y": 75.0, "z": 0}]


def test_import_without_a_size_rejects_the_label_file(tmp_path):
    # given a label file with a box, no image, and no item of that name in the dataset
    path = zip_of(tmp_path, {"data.yaml": DATA_YAML, "labels/a.txt": "0 0.5 0.5 0.2 0.2\n"})

    # when it is read
    _items, rejections, _ = read_all(path, size_of=lambda filename: None)

    # then the file is rejected with the reason
    assert [(r.entry, "image size" in r.reason) for r in rejections] == [("labels/a.txt", True)]


def test_import_keeps_images_without_label_files_as_negatives(tmp_path):
    # given an image with an empty label file and one with none
    path = zip_of(
        tmp_path,
        {"data.yaml": DATA_YAML, "images/a.jpg": jpeg(), "labels/a.txt": "", "images/b.png": png()},
    )

    # when it is read
    items, rejections, _ = read_all(path)

    # then both become items with their image and no annotations
    assert rejections == []
    assert [(i.filename, i.image_entry, i.annotations) for i in items] == [
        ("a.jpg", "images/a.jpg", []),
        ("b.png", "images/b.png", []),
    ]


def test_import_reads_a_wrapped_split_layout_with_names_as_a_list(tmp_path):
    # given a Roboflow-like archive: one top folder, split folders, names as a list
    path = zip_of(
        tmp_path,
        {
            "set/data.yaml": "nc: 2\nnames: ['cat', 'dog']\n",
            "set/train/images/x.jpg": jpeg(100, 50),
            "set/train/labels/x.txt": "1 0.5 0.5 1 1\n",
            "set/valid/images/x.jpg": jpeg(100, 50),
            "set/valid/labels/x.txt": "0 0.1 0.2 0.2 0.4\n",
            "set/README.txt": "not a label file",
        },
    )

    # when it is read
    items, rejections, _ = read_all(path)

    # then each split keeps its own item, named by its folder
    assert rejections == []
    assert [(i.filename, [a["label"] for a in i.annotations]) for i in items] == [
        ("train/x.jpg", ["dog"]),
        ("valid/x.jpg", ["cat"]),
    ]
    assert items[1].annotations[0]["coordinates"] == [{"x": 0.0, "y": 0.0, "z": 0}, {"x": 20.0, "y": 20.0, "z": 0}]


def test_import_clips_box_edges_within_rounding_and_rejects_real_overhang(tmp_path):
    # given a box whose left edge is -0.00005 (rounding of a 4-decimal writer), a blank line, and a box
    # overhanging by 0.1
    path = zip_of(
        tmp_path,
        {
            "data.yaml": DATA_YAML,
            "images/a.png": png(100, 100),
            "labels/a.txt": "0 0.0820 0.5 0.1641 0.2\n\n0 0.9 0.5 0.4 0.2\n",
        },
    )

    # when it is read
    items, rejections, _ = read_all(path)

    # then the first is clipped to the image and the last rejected, naming its line (blank lines count)
    assert items[0].annotations[0]["coordinates"][0]["x"] == 0.0
    assert [r.entry for r in rejections] == ["labels/a.txt: line 3"]
    assert "overhangs" in rejections[0].reason


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("0 0.5 0.5 0.2", "3 numbers after the class id"),
        ("0 0.5 0.5 0.2 0.2 0.3", "5 numbers after the class id"),
        ("0 0.1 0.1 0.2 0.2 0.3 0.3 0.4", "7 numbers after the class id"),
        ("0 0.1 0.1", "2 numbers after the class id"),
        ("0 0.5 0.5 zero 0.2", "'zero' is not a number"),
        ("0 0.5 0.5 nan 0.2", "outside [0, 1]"),
        ("0 1.5 0.5 0.2 0.2", "1.5 is outside [0, 1]"),
        ("0 0.5 -0.1 0.2 0.2", "-0.1 is outside [0, 1]"),
        ("7 0.5 0.5 0.2 0.2", "class id 7 is not in data.yaml's names"),
        ("-1 0.5 0.5 0.2 0.2", "class id -1 is not in data.yaml's names"),
        ("cat 0.5 0.5 0.2 0.2", "class id 'cat' is not a whole number"),
        ("0 0.5 0.5 0 0.2", "no area"),
        ("1 0.1 0.1 0.2 0.2 0.1 0.1", "fewer than 3 distinct points"),
    ],
)
def test_import_rejects_a_bad_line_naming_file_and_line(tmp_path, line, reason):
    # given a label file whose second line is bad
    path = zip_of(
        tmp_path, {"data.yaml": DATA_YAML, "images/a.png": png(), "labels/a.txt": f"0 0.5 0.5 0.2 0.2\n{line}\n"}
    )

    # when it is read
    items, rejections, _ = read_all(path)

    # then exactly that line is rejected, with the reason; the good line is still read
    assert [r.entry for r in rejections] == ["labels/a.txt: line 2"]
    assert reason in rejections[0].reason
    assert len(items[0].annotations) == 1


def test_import_rejects_a_label_file_that_is_not_utf8(tmp_path):
    path = zip_of(tmp_path, {"data.yaml": DATA_YAML, "images/a.png": png(), "labels/a.txt": b"0 0.5\xff 0.5 0.2 0.2\n"})

    _items, rejections, _ = read_all(path)

    assert [(r.entry, r.reason) for r in rejections] == [("labels/a.txt", "not UTF-8 text")]


def test_import_rejects_an_image_that_cannot_be_read(tmp_path):
    path = zip_of(
        tmp_path, {"data.yaml": DATA_YAML, "images/a.png": b"not a png", "labels/a.txt": "0 0.5 0.5 0.2 0.2\n"}
    )

    _items, rejections, _ = read_all(path)

    assert [r.entry for r in rejections] == ["images/a.png"] and "not a readable image" in rejections[0].reason


@pytest.mark.parametrize(
    ("files", "entry", "reason"),
    [
        ({"labels/a.txt": "0 0.5 0.5 0.1 0.1\n"}, "data.yaml", "missing"),
        ({"data.yaml": "names: [cat\n", "labels/a.txt": ""}, "data.yaml", "malformed YAML"),
        ({"data.yaml": "- cat\n- dog\n", "labels/a.txt": ""}, "data.yaml", "must be a mapping"),
        ({"data.yaml": "nc: 2\n", "labels/a.txt": ""}, "data.yaml", "`names` must be"),
        ({"data.yaml": "names: [cat, dog]\nnc: 3\n", "labels/a.txt": ""}, "data.yaml", "nc is 3 but names has 2"),
        ({"data.yaml": "names: {a: cat}\n", "labels/a.txt": ""}, "data.yaml", "class id 'a'"),
        ({"data.yaml": "names: [cat, yes]\n", "labels/a.txt": ""}, "data.yaml", "names[1]: True is not a name"),
        ({"data.yaml": "names: [cat, cat]\n", "labels/a.txt": ""}, "data.yaml", "given twice"),
        ({"data.yaml": DATA_YAML}, "labels/", "no label files"),
    ],
)
def test_import_refuses_a_missing_or_malformed_data_yaml(tmp_path, files, entry, reason):
    path = zip_of(tmp_path, files)

    with pytest.raises(FormatError) as error:
        read_all(path)

    assert error.value.entry == entry and reason in error.value.reason


# --- through the engine --------------------------------------------------------------------------
def _annotate_for_yolo(user, item):
    from annotator.annotations.services import annotations_create

    annotations_create(
        user=user,
        item_id=item.id,
        annotations=[
            {"type": "box", "label": "cat", "coordinates": [{"x": 1.25, "y": 2.5}, {"x": 10.75, "y": 12}]},
            {"type": "box", "label": "dog", "coordinates": [{"x": 0, "y": 0}, {"x": 64, "y": 48}]},
            {
                "type": "segment",
                "label": "road",
                "coordinates": [
                    [{"x": 1, "y": 1}, {"x": 30.33, "y": 1}, {"x": 30, "y": 20.67}],
                    [{"x": 5, "y": 5}, {"x": 9, "y": 5}, {"x": 9, "y": 9}],
                ],
            },
            {"type": "point", "label": "cat", "coordinates": {"x": 3, "y": 4}},
            {"type": "class", "label": "scene.day", "coordinates": []},
        ],
    )


def _shapes(item) -> list[tuple]:
    """The item's boxes and polygons as (type, label, points), sorted."""
    from annotator.annotations.models import Annotation

    shapes = []
    for a in Annotation.objects.filter(item=item, type__in=("box", "segment")):
        rings = a.coordinates if a.type == "segment" else [a.coordinates]
        shapes.append((a.type, a.label, [[(p["x"], p["y"]) for p in ring] for ring in rings]))
    return sorted(shapes)


@pytest.mark.django_db
def test_engine_round_trip_with_images(dataset, item, fresh_dataset, members, tmp_path):
    # given an item with boxes, a two-ring polygon, a point and a classification
    from annotator.datasets.models import Item
    from annotator.exchange.exporting import export_to_path
    from annotator.exchange.importing import import_from_path

    owner = members["owner"]
    _annotate_for_yolo(owner, item)
    archive = tmp_path / "yolo.zip"

    # when it is exported as YOLO with its image and imported into an empty dataset
    export_to_path(user=owner, dataset_id=dataset.id, format_name="yolo", path=archive, include_images=True)
    report = import_from_path(
        user=owner, dataset_id=fresh_dataset.id, format_name="yolo", path=archive, filename="yolo.zip"
    )

    # then the item is created with the boxes exact and each polygon ring as its own polygon;
    # the point and the classification are not in YOLO
    assert report["itemsCreated"] == 1 and report["rejectedCount"] == 0 and report["annotationsImported"] == 4
    copy = Item.objects.get(dataset=fresh_dataset, filename="/photos/a.png")
    original = _shapes(item)
    rings = [(kind, label, [ring]) for kind, label, coords in original if kind == "segment" for ring in coords]
    assert _shapes(copy) == sorted([shape for shape in original if shape[0] == "box"] + rings)


@pytest.mark.django_db
def test_engine_import_of_labels_alone_uses_the_existing_items_size(dataset, item, fresh_dataset, members, tmp_path):
    # given the same image already in the target dataset, and an export without images
    from annotator.datasets import services as datasets
    from annotator.exchange.exporting import export_to_path
    from annotator.exchange.importing import import_from_path
    from tests.exchange.conftest import HEIGHT, WIDTH

    owner = members["owner"]
    _annotate_for_yolo(owner, item)
    target, _op = datasets.item_upload(
        user=owner,
        dataset_id=fresh_dataset.id,
        path="/photos/a.png",
        fileobj=io.BytesIO(png(WIDTH, HEIGHT)),
    )
    archive = tmp_path / "yolo.zip"
    export_to_path(user=owner, dataset_id=dataset.id, format_name="yolo", path=archive)

    # when the labels are imported
    report = import_from_path(
        user=owner, dataset_id=fresh_dataset.id, format_name="yolo", path=archive, filename="yolo.zip"
    )

    # then they land on that item (matched by its path without extension), placed in its pixels
    assert report["itemsMatched"] == 1 and report["itemsCreated"] == 0 and report["annotationsImported"] == 4
    original = _shapes(item)
    rings = [(kind, label, [ring]) for kind, label, coords in original if kind == "segment" for ring in coords]
    assert _shapes(target) == sorted([shape for shape in original if shape[0] == "box"] + rings)


@pytest.mark.django_db
def test_engine_rejects_a_bad_label_file_and_leaves_the_dataset_unchanged(fresh_dataset, members, tmp_path):
    # given a good item and an item whose label file has a bad second line
    from annotator.annotations.models import Annotation
    from annotator.datasets.models import Item
    from annotator.exchange.importing import ImportRejected, import_from_path

    path = zip_of(
        tmp_path,
        {
            "data.yaml": "names: [cat, dog]\n",
            "images/ok.png": png(W, H, (1, 2, 3)),
            "labels/ok.txt": "0 0.5 0.5 0.2 0.2\n",
            "images/bad.png": png(W, H, (4, 5, 6)),
            "labels/bad.txt": "1 0.5 0.5 0.2 0.2\n2 0.5 0.5 0.2 0.2\n",
        },
    )

    # when it is imported
    with pytest.raises(ImportRejected) as rejected:
        import_from_path(
            user=members["owner"], dataset_id=fresh_dataset.id, format_name="yolo", path=path, filename="bad.zip"
        )

    # then the report names the file and line, and nothing was created
    assert rejected.value.report["rejected"] == [
        {"entry": "labels/bad.txt: line 2", "reason": "class id 2 is not in data.yaml's names"}
    ]
    assert not Item.objects.filter(dataset=fresh_dataset).exists()
    assert not Annotation.objects.filter(dataset=fresh_dataset).exists()
