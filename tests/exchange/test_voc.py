"""Pascal VOC XML: exported files read the way VOC readers read them, the devkit's 1-based
pixel convention, our extras (polygons, rotated boxes, attributes) coming back, and the
import's refusals, each naming its file and object."""

import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

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
from annotator.exchange.formats.voc import FORMAT
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


def box(left, top, right, bottom, label="cat", angle=None, attributes=None):
    coordinates = [{"x": left, "y": top, "z": 0}, {"x": right, "y": bottom, "z": 0}]
    if angle is not None:
        coordinates.append(angle)
    annotation = {"type": "box", "label": label, "coordinates": coordinates}
    if attributes is not None:
        annotation["metadata"] = {"system": {"attributes": attributes}}
    return annotation


def segment(*rings, label="road"):
    return {"type": "segment", "label": label, "coordinates": [[{"x": x, "y": y, "z": 0} for x, y in r] for r in rings]}


def export_zip(tmp_path: Path, items, *, include_images=False) -> Path:
    path = tmp_path / "export.zip"
    context = ExportContext(dataset={"id": "d"}, labels=LABELS, attributes=[], include_images=include_images)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as handle:
        FORMAT.write(iter(items), ExportArchive(handle), context)
    return path


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as handle:
        return {name: handle.read(name) for name in handle.namelist()}


def read_all(path: Path) -> tuple[list[ImportItem], list[Rejection], ImportContext]:
    context = ImportContext(labels=[])
    source = ImportSource(path)
    try:
        results = list(FORMAT.read(source, context))
    finally:
        source.close()
    items = [r for r in results if isinstance(r, ImportItem)]
    rejections = [r for r in results if isinstance(r, Rejection)]
    return items, rejections, context


def check_voc(document: bytes) -> dict:
    """Read an annotation file as VOC readers do (torchvision's VOCDetection turns the tree into
    a dict; the devkit and mmdetection then take these fields), failing on anything they would
    choke on: the fields, whole-number sizes and coordinates, 1 <= xmin <= xmax <= width."""
    root = ET.fromstring(document)
    assert root.tag == "annotation"
    filename = root.findtext("filename")
    assert filename and "/" not in filename
    size = root.find("size")
    width, height, depth = (int(size.findtext(tag)) for tag in ("width", "height", "depth"))
    assert width > 0 and height > 0 and depth in (1, 3)
    assert root.findtext("segmented") in ("0", "1")
    objects = []
    for obj in root.iter("object"):
        name = obj.findtext("name")
        assert name
        assert obj.findtext("pose")
        difficult, truncated = int(obj.findtext("difficult")), int(obj.findtext("truncated"))
        assert difficult in (0, 1) and truncated in (0, 1)
        bndbox = obj.find("bndbox")
        xmin, ymin, xmax, ymax = (int(bndbox.findtext(tag)) for tag in ("xmin", "ymin", "xmax", "ymax"))
        assert 1 <= xmin <= xmax <= width and 1 <= ymin <= ymax <= height
        objects.append({"name": name, "bbox": (xmin, ymin, xmax, ymax), "difficult": difficult, "truncated": truncated})
    return {"filename": filename, "size": (width, height, depth), "objects": objects}


# --- export ------------------------------------------------------------------------------------
def test_export_writes_files_voc_readers_accept(tmp_path):
    # given boxes (one fractional, one rotated), a polygon, and an attribute needing escapes, with a
    # control character XML cannot carry
    annotations = [
        box(0, 0, 10, 12, "dog"),
        box(2.4, 3.6, 20.5, 30.49, "cat", attributes={"note": '<a & b> "quoted"\x07', "occluded": True}),
        box(22, 20, 42, 28, "cat", angle=90),
        segment([(5, 5), (30, 8), (12, 40)]),
    ]

    # when it is exported
    files = entries(export_zip(tmp_path, [export_item(annotations=annotations)]))

    # then the file has every field readers need, in the devkit's 1-based inclusive pixels
    parsed = check_voc(files["Annotations/photos/a.xml"])
    assert parsed["filename"] == "a.png" and parsed["size"] == (W, H, 3)
    assert [(o["name"], o["bbox"]) for o in parsed["objects"]] == [
        ("dog", (1, 1, 10, 12)),
        ("cat", (3, 5, 21, 30)),
        ("cat", (29, 15, 36, 34)),
        ("road", (6, 6, 30, 40)),
    ]
    assert [o["truncated"] for o in parsed["objects"]] == [1, 0, 0, 0]  # the first touches the image edge
    root = ET.fromstring(files["Annotations/photos/a.xml"])
    assert root.findtext("folder") == "photos" and root.findtext("path") == "/photos/a.png"
    assert root.findtext("source/database") == "Annotator"
    second = root.findall("object")[1]
    assert second.findtext("occluded") == "1"
    assert {a.findtext("name"): a.findtext("value") for a in second.iter("attribute")} == {
        "note": '<a & b> "quoted"',
        "occluded": "true",
    }


def test_export_lists_items_and_colours(tmp_path):
    # given two items in folders
    items = [export_item("/a.jpg"), export_item("/photos/b.png", [box(1, 1, 5, 5)])]

    # when they are exported
    files = entries(export_zip(tmp_path, items))

    # then the image set names them by stem and the label map gives each label's colour
    assert files["ImageSets/Main/default.txt"].decode().splitlines() == ["a", "photos/b"]
    assert files["labelmap.txt"].decode().splitlines()[1:] == ["cat:255,0,0::", "dog:0,255,0::", "road:0,0,255::"]
    assert check_voc(files["Annotations/a.xml"])["objects"] == []


def test_export_makes_tiny_boxes_one_pixel_and_keeps_them_in_the_image(tmp_path):
    # given a box thinner than a pixel and one ending on the image's far corner
    annotations = [box(3.2, 3.3, 3.4, 3.45), box(63.8, 47.7, 64, 48)]

    # when it is exported
    files = entries(export_zip(tmp_path, [export_item(annotations=annotations)]))

    # then each covers at least one pixel, inside the image
    assert [o["bbox"] for o in check_voc(files["Annotations/photos/a.xml"])["objects"]] == [
        (4, 4, 4, 4),
        (64, 48, 64, 48),
    ]


def test_export_notes_shapes_voc_cannot_hold_and_includes_images(tmp_path):
    # given an item with a point, a polyline and a mask, and its stored image
    image = tmp_path / "stored.png"
    image.write_bytes(png(W, H))
    annotations = [
        {"type": "point", "label": "cat", "coordinates": {"x": 1, "y": 1}},
        {"type": "polyline", "label": "road", "coordinates": [[{"x": 1, "y": 1}, {"x": 5, "y": 5}]]},
        {"type": "binary", "label": "road", "coordinates": {"size": [H, W], "counts": "0", "bbox": None}},
    ]

    # when it is exported with images
    files = entries(export_zip(tmp_path, [export_item(annotations=annotations, image_path=image)], include_images=True))

    # then the image is under JPEGImages, the XML has no objects, and skipped.txt says why
    assert files["JPEGImages/photos/a.png"] == image.read_bytes()
    assert check_voc(files["Annotations/photos/a.xml"])["objects"] == []
    assert "/photos/a.png: not exported (1 binary, 1 point, 1 polyline)" in files["skipped.txt"].decode()


# --- import ------------------------------------------------------------------------------------
def test_round_trip_through_the_format(tmp_path):
    # given whole-pixel boxes, a rotated box, a two-ring polygon and typed attributes, with the image
    image = tmp_path / "stored.png"
    image.write_bytes(png(W, H))
    attributes = {"occluded": False, "age": 3, "breed": "tabby", "tags": ["a", "b"], "text": "12", "yes": "true"}
    annotations = [
        box(0, 0, 10, 12, "dog", attributes=attributes),
        box(22, 20, 42, 28, "cat", angle=30.0),
        segment([(5.5, 5.25), (30, 8), (12, 40)], [(40, 40), (50, 40), (45, 47.5)]),
    ]
    path = export_zip(tmp_path, [export_item(annotations=annotations, image_path=image)], include_images=True)

    # when it is read back
    items, rejections, context = read_all(path)

    # then the item, its image, size, shapes and attribute types come back as they were
    assert rejections == []
    [item] = items
    assert (item.filename, item.image_entry, item.width, item.height) == (
        "photos/a.png",
        "JPEGImages/photos/a.png",
        W,
        H,
    )
    got = item.annotations
    assert (got[0]["label"], got[0]["coordinates"]) == ("dog", annotations[0]["coordinates"])
    assert got[0]["metadata"]["system"]["attributes"] == attributes
    assert got[1]["type"] == "box" and got[1]["coordinates"][2] == 30.0
    for mine, theirs in zip(got[1]["coordinates"][:2], annotations[1]["coordinates"][:2], strict=True):
        assert (mine["x"], mine["y"]) == (pytest.approx(theirs["x"]), pytest.approx(theirs["y"]))
    assert (got[2]["type"], got[2]["coordinates"]) == ("segment", annotations[2]["coordinates"])
    assert item.origins == [f"Annotations/photos/a.xml: object[{i}]" for i in (1, 2, 3)]
    assert context.declared["cat"].color == "#ff0000" and list(context.declared) == ["cat", "dog", "road"]


def test_import_reads_a_classic_voc_file(tmp_path):
    # given a VOC2007-style annotation with its JPEG, no label map, and fields we do not keep
    xml = """<annotation><folder>VOC2007</folder><filename>000005.jpg</filename>
      <size><width>500</width><height>375</height><depth>3</depth></size><segmented>0</segmented>
      <object><name>chair</name><pose>Rear</pose><truncated>0</truncated><difficult>0</difficult>
        <bndbox><xmin>263</xmin><ymin>211</ymin><xmax>324</xmax><ymax>339</ymax></bndbox></object>
      <object><name>person</name><difficult>1</difficult>
        <bndbox><xmin>0.0</xmin><ymin>1</ymin><xmax>500.0</xmax><ymax>375</ymax></bndbox></object>
    </annotation>"""
    path = zip_of(tmp_path, {"VOC2007/Annotations/000005.xml": xml, "VOC2007/JPEGImages/000005.jpg": jpeg(500, 375)})

    # when it is read
    items, rejections, context = read_all(path)

    # then the boxes are in our continuous pixels (xmin - 1, xmax), labels declared, no attributes invented
    assert rejections == []
    [item] = items
    assert (item.filename, item.image_entry) == ("000005.jpg", "VOC2007/JPEGImages/000005.jpg")
    assert [a["coordinates"] for a in item.annotations] == [
        [{"x": 262.0, "y": 210.0, "z": 0}, {"x": 324.0, "y": 339.0, "z": 0}],
        [{"x": 0.0, "y": 0.0, "z": 0}, {"x": 500.0, "y": 375.0, "z": 0}],
    ]
    assert all("metadata" not in a for a in item.annotations)
    assert set(context.declared) == {"chair", "person"}


def test_import_reads_a_lone_xml_file(tmp_path):
    # given one XML uploaded on its own, whose filename has no extension and no size
    xml = b"<annotation><filename>a</filename><object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>"  # noqa: E501
    source = ImportSource.from_bytes(xml, tmp_path, name="a.xml")

    # when it is read
    results = list(FORMAT.read(source, ImportContext(labels=[])))

    # then the item is named by its stem and its size is left to the engine
    [item] = results
    assert (item.filename, item.image_entry, item.width, item.entry) == ("a", None, None, "a.xml")
    assert item.annotations[0]["coordinates"] == [{"x": 0.0, "y": 0.0, "z": 0}, {"x": 5.0, "y": 5.0, "z": 0}]


def test_import_declares_label_map_colours_but_not_cvat_background(tmp_path):
    labelmap = "# label:color_rgb:parts:actions\nbackground:0,0,0::\ncar:12,34,56::\nodd:name:1,2,3::\nplain:::\n"
    xml = "<annotation><filename>a.jpg</filename></annotation>"
    path = zip_of(tmp_path, {"labelmap.txt": labelmap, "Annotations/a.xml": xml})

    _items, rejections, context = read_all(path)

    assert rejections == []
    assert {tag: label.color for tag, label in context.declared.items()} == {
        "car": "#0c2238",
        "odd:name": "#010203",
        "plain": "",
    }


def test_import_rejects_bad_label_map_lines(tmp_path):
    path = zip_of(
        tmp_path,
        {
            "labelmap.txt": "car:12,34,56::\ncar\nbus:300,0,0::\n",
            "Annotations/a.xml": "<annotation><filename>a.jpg</filename></annotation>",
        },
    )

    _items, rejections, _ = read_all(path)

    assert [r.entry for r in rejections] == ["labelmap.txt: line 2", "labelmap.txt: line 3"]
    assert "0..255" in rejections[1].reason


def obj(body: str, name="<name>cat</name>") -> str:
    return f"<object>{name}{body}</object>"


GOOD = obj("<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>10</xmax><ymax>10</ymax></bndbox>")


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (obj("<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox>", name=""), "no <name>"),
        (
            obj("<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox>", name="<name> </name>"),
            "no <name>",
        ),
        (obj(""), "no <bndbox>"),
        (
            obj("<bndbox><xmin>one</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox>"),
            "bndbox/xmin 'one' is not a number",
        ),
        (obj("<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax></bndbox>"), "bndbox/ymax is missing"),
        (obj("<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>inf</xmax><ymax>5</ymax></bndbox>"), "not a finite number"),
        (obj("<bndbox><xmin>9</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox>"), "inverted box"),
        (
            obj("<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>65</xmax><ymax>5</ymax></bndbox>"),
            "past the declared size 64x48",
        ),
        (obj("<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>49</ymax></bndbox>"), "past the declared size"),
        (obj("<bndbox><xmin>-2</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox>"), "starts before the image"),
        (obj("<polygon><pt><x>1</x><y>1</y></pt><pt><x>5</x><y>1</y></pt></polygon>"), "polygon[1] has fewer than 3"),
        (
            obj("<polygon><pt><x>1</x><y>1</y></pt><pt><x>99</x><y>1</y></pt><pt><x>5</x><y>5</y></pt></polygon>"),
            "polygon[1]/pt[2] (99, 1) lies outside",
        ),
        (obj("<polygon><pt><x>1</x></pt></polygon>"), "polygon[1]/pt[1]/y is missing"),
        (obj("<robndbox><cx>10</cx><cy>10</cy><w>0</w><h>4</h><angle>0.5</angle></robndbox>"), "no area"),
        (
            obj("<robndbox><cx>70</cx><cy>10</cy><w>4</w><h>4</h><angle>0.5</angle></robndbox>"),
            "centre (70, 10) lies outside",
        ),
        (
            GOOD.replace("</object>", "<attributes><attribute><value>1</value></attribute></attributes></object>"),
            "attributes/attribute[1] has no <name>",
        ),
    ],
)
def test_import_rejects_a_bad_object_naming_file_and_object(tmp_path, bad, reason):
    # given a file whose second object is bad
    size = f"<size><width>{W}</width><height>{H}</height></size>"
    xml = f"<annotation><filename>a.png</filename>{size}{GOOD}{bad}</annotation>"
    path = zip_of(tmp_path, {"Annotations/a.xml": xml})

    # when it is read
    items, rejections, _ = read_all(path)

    # then exactly that object is rejected with the reason, and the good one is still read
    assert [r.entry for r in rejections] == ["Annotations/a.xml: object[2]"]
    assert reason in rejections[0].reason
    assert len(items[0].annotations) == 1


@pytest.mark.parametrize(
    ("xml", "entry", "reason"),
    [
        (
            "<annotation><filename>a.png</filename><size><width>wide</width><height>4</height></size></annotation>",
            "Annotations/a.xml: size",
            "size/width 'wide' is not a number",
        ),
        (
            "<annotation><filename>a.png</filename><size><width>4.5</width><height>4</height></size></annotation>",
            "Annotations/a.xml: size",
            "not a whole number",
        ),
        (
            "<annotation><size><width>4</width><height>4</height></size></annotation>",
            "Annotations/a.xml",
            "no <filename>",
        ),
    ],
)
def test_import_rejects_a_bad_file_header(tmp_path, xml, entry, reason):
    path = zip_of(tmp_path, {"Annotations/a.xml": xml})

    _items, rejections, _ = read_all(path)

    assert [r.entry for r in rejections] == [entry] and reason in rejections[0].reason


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<annotation><filename>&lol2;</filename></annotation>"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE annotation [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<annotation><filename>&secret;</filename></annotation>"""


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("<!DOCTYPE annotation><annotation><filename>a.png</filename></annotation>", "DOCTYPE and entity"),
        (BILLION_LAUGHS, "DOCTYPE and entity declarations are not accepted"),
        (EXTERNAL, "DOCTYPE and entity declarations are not accepted"),
        (EXTERNAL.encode("utf-16"), "DOCTYPE and entity declarations are not accepted"),
        ("<annotation><filename>a.png</filename>", "malformed XML"),
        ("<annotation><filename>a &amp b</filename></annotation>", "malformed XML"),
        ("<doc><filename>a.png</filename></doc>", "the root element is <doc>"),
    ],
)
def test_import_refuses_unsafe_or_malformed_xml(tmp_path, data, reason):
    path = zip_of(tmp_path, {"Annotations/a.xml": data})

    with pytest.raises(FormatError) as error:
        read_all(path)

    assert error.value.entry == "Annotations/a.xml" and reason in error.value.reason


def test_import_refuses_an_archive_without_annotation_files(tmp_path):
    path = zip_of(tmp_path, {"JPEGImages/a.jpg": jpeg()})

    with pytest.raises(FormatError) as error:
        read_all(path)

    assert error.value.entry == "Annotations/"


# --- through the engine --------------------------------------------------------------------------
def _annotate_for_voc(user, item):
    from annotator.annotations.services import annotations_create

    annotations_create(
        user=user,
        item_id=item.id,
        annotations=[
            {
                "type": "box",
                "label": "cat",
                "coordinates": [{"x": 1, "y": 2}, {"x": 10, "y": 12}],
                "metadata": {"system": {"attributes": {"occluded": True, "breed": "tabby", "note": "12"}}},
            },
            {
                "type": "box",
                "label": "dog",
                "coordinates": [{"x": 20, "y": 10}, {"x": 40, "y": 18}, 30],
                "metadata": {"system": {"attributes": {"occluded": False, "age": 3}}},
            },
            {
                "type": "segment",
                "label": "road",
                "coordinates": [
                    [{"x": 1, "y": 1}, {"x": 30.33, "y": 1}, {"x": 30, "y": 20.67}],
                    [{"x": 5, "y": 5}, {"x": 9, "y": 5}, {"x": 9, "y": 9}],
                ],
            },
            {"type": "point", "label": "cat", "coordinates": {"x": 3, "y": 4}},
        ],
    )


def _contents(item) -> list[tuple]:
    """(type, label, coordinates rounded to 1e-9, attributes) of the item's boxes and polygons."""
    from annotator.annotations.models import Annotation

    def rounded(value):
        if isinstance(value, float):
            return round(value, 9)
        if isinstance(value, list):
            return [rounded(v) for v in value]
        if isinstance(value, dict):
            return {k: rounded(v) for k, v in value.items()}
        return value

    return sorted(
        (
            a.type,
            a.label,
            repr(rounded(a.coordinates)),
            repr(sorted(a.metadata["system"].get("attributes", {}).items())),
        )
        for a in Annotation.objects.filter(item=item, type__in=("box", "segment"))
    )


@pytest.mark.django_db
def test_engine_round_trip_with_images(dataset, item, fresh_dataset, members, tmp_path):
    # given an item with a box, a rotated box, a two-ring polygon (all with attributes) and a point
    from annotator.datasets.models import Item
    from annotator.exchange.exporting import export_to_path
    from annotator.exchange.importing import import_from_path

    owner = members["owner"]
    _annotate_for_voc(owner, item)
    archive = tmp_path / "voc.zip"

    # when it is exported as VOC with its image and imported into an empty dataset
    export_to_path(user=owner, dataset_id=dataset.id, format_name="voc", path=archive, include_images=True)
    report = import_from_path(
        user=owner, dataset_id=fresh_dataset.id, format_name="voc", path=archive, filename="voc.zip"
    )

    # then the boxes, the rotated box, the polygon and the typed attributes come back; the point does not
    assert report["itemsCreated"] == 1 and report["rejectedCount"] == 0 and report["annotationsImported"] == 3
    copy = Item.objects.get(dataset=fresh_dataset, filename="/photos/a.png")
    assert _contents(copy) == _contents(item)


@pytest.mark.django_db
def test_engine_matches_existing_items_when_images_are_not_included(dataset, item, fresh_dataset, members, tmp_path):
    # given the same image already in the target dataset, and an export without images
    from annotator.datasets import services as datasets
    from annotator.exchange.exporting import export_to_path
    from annotator.exchange.importing import import_from_path
    from tests.exchange.conftest import HEIGHT, WIDTH

    owner = members["owner"]
    _annotate_for_voc(owner, item)
    target, _op = datasets.item_upload(
        user=owner, dataset_id=fresh_dataset.id, path="/photos/a.png", fileobj=io.BytesIO(png(WIDTH, HEIGHT))
    )
    archive = tmp_path / "voc.zip"
    export_to_path(user=owner, dataset_id=dataset.id, format_name="voc", path=archive)

    # when the annotations are imported
    report = import_from_path(
        user=owner, dataset_id=fresh_dataset.id, format_name="voc", path=archive, filename="voc.zip"
    )

    # then they land on the item with that path
    assert report["itemsMatched"] == 1 and report["itemsCreated"] == 0
    assert _contents(target) == _contents(item)


@pytest.mark.django_db
def test_engine_rejects_a_bad_file_and_leaves_the_dataset_unchanged(fresh_dataset, members, tmp_path):
    # given a good annotation file and one with an inverted box, each with its image
    from annotator.annotations.models import Annotation
    from annotator.datasets.models import Item
    from annotator.exchange.importing import ImportRejected, import_from_path

    def document(name, xmin, xmax):
        return (
            f"<annotation><filename>{name}</filename><size><width>{W}</width><height>{H}</height></size>"
            f"<object><name>cat</name><bndbox><xmin>{xmin}</xmin><ymin>1</ymin><xmax>{xmax}</xmax><ymax>9</ymax>"
            "</bndbox></object></annotation>"
        )

    path = zip_of(
        tmp_path,
        {
            "Annotations/ok.xml": document("ok.png", 1, 9),
            "JPEGImages/ok.png": png(W, H, (1, 2, 3)),
            "Annotations/bad.xml": document("bad.png", 9, 1),
            "JPEGImages/bad.png": png(W, H, (4, 5, 6)),
        },
    )

    # when it is imported
    with pytest.raises(ImportRejected) as rejected:
        import_from_path(
            user=members["owner"], dataset_id=fresh_dataset.id, format_name="voc", path=path, filename="bad.zip"
        )

    # then the report names the file and object, and nothing was created
    [only] = rejected.value.report["rejected"]
    assert only["entry"] == "Annotations/bad.xml: object[1]" and "inverted box" in only["reason"]
    assert not Item.objects.filter(dataset=fresh_dataset).exists()
    assert not Annotation.objects.filter(dataset=fresh_dataset).exists()
