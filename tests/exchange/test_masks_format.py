"""The semantic PNG masks format: exact pixels of the painted masks, the colour map, reading
masks back as one binary annotation per label, bad archives, and round trips through the engine."""

import io
import math
import random
import zipfile

import numpy as np
import orjson
import pytest
from PIL import Image, PngImagePlugin

from annotator.annotations.masks import Mask, mask_decode, mask_encode
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
from annotator.exchange.formats.masks import FORMAT, polygon_pixels
from annotator.exchange.importing import ImportRejected, import_from_path
from tests.exchange.conftest import HEIGHT, WIDTH, mask_png, zip_bytes
from tests.images import jpeg, png

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)
LABELS = [Label("cat", "#ff0000"), Label("dog", "#00ff00"), Label("road", "#0000ff")]
COLOR = {"cat": RED, "dog": GREEN, "road": BLUE}


# --- helpers -------------------------------------------------------------------------------------
def point(x, y):
    return {"x": x, "y": y, "z": 0}


def box(left, top, right, bottom, label="cat", angle=None):
    coordinates = [point(left, top), point(right, bottom)]
    return {"type": "box", "label": label, "coordinates": [*coordinates, angle] if angle else coordinates}


def polygon(*rings, label="cat"):
    return {"type": "segment", "label": label, "coordinates": [[point(x, y) for x, y in ring] for ring in rings]}


def ellipse(cx, cy, rx, ry, angle=0, label="cat"):
    return {
        "type": "ellipse",
        "label": label,
        "coordinates": {"center": point(cx, cy), "rx": rx, "ry": ry, "angle": angle},
    }


def binary(mask, label="cat"):
    return {"type": "binary", "label": label, "coordinates": mask_encode(mask).to_json()}


def export_item(annotations, *, filename="/photos/a.jpg", width=12, height=10, image_path=None):
    system = {"width": width, "height": height} if width else {}
    item = {"id": filename, "filename": filename, "metadata": {"system": system}}
    return ExportItem(item=item, annotations=annotations, image_path=image_path)


def export(items, *, labels=LABELS, include_images=False) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        context = ExportContext(dataset={}, labels=labels, attributes=[], include_images=include_images)
        FORMAT.write(iter(items), ExportArchive(archive), context)
    return zipfile.ZipFile(io.BytesIO(buffer.getvalue()))


def pixels(archive: zipfile.ZipFile, name="masks/photos/a.png") -> np.ndarray:
    with Image.open(io.BytesIO(archive.read(name))) as image:
        return np.asarray(image.convert("RGB"))


def painted(shape: tuple[int, int], *layers: tuple[np.ndarray, tuple[int, int, int]]) -> np.ndarray:
    """The RGB image of boolean layers painted in order on black."""
    out = np.zeros((*shape, 3), dtype=np.uint8)
    for mask, color in layers:
        out[mask] = color
    return out


def rect(shape, left, top, right, bottom) -> np.ndarray:
    """Pixels x in [left, right), y in [top, bottom)."""
    mask = np.zeros(shape, dtype=bool)
    mask[top:bottom, left:right] = True
    return mask


def reference_polygon(rings, width, height) -> np.ndarray:
    """Pixel by pixel: is the pixel's centre inside the rings by the even-odd rule (ray to the left)."""
    out = np.zeros((height, width), dtype=bool)
    for y in range(height):
        yc = y + 0.5
        for x in range(width):
            xc, inside = x + 0.5, False
            for ring in rings:
                for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
                    crosses = (y0 <= yc < y1) or (y1 <= yc < y0)
                    if crosses and xc >= x0 + (yc - y0) * (x1 - x0) / (y1 - y0):
                        inside = not inside
            out[y, x] = inside
    return out


def reference_ellipse(cx, cy, rx, ry, angle, width, height) -> np.ndarray:
    out = np.zeros((height, width), dtype=bool)
    a = math.radians(angle)
    for y in range(height):
        for x in range(width):
            dx, dy = x + 0.5 - cx, y + 0.5 - cy
            u, v = dx * math.cos(a) + dy * math.sin(a), -dx * math.sin(a) + dy * math.cos(a)
            out[y, x] = (u / rx) ** 2 + (v / ry) ** 2 <= 1
    return out


def read(data: bytes, tmp_path, labels=()) -> tuple[list, ImportContext]:
    context = ImportContext(labels=list(labels))
    source = ImportSource.from_bytes(data, tmp_path)
    try:
        return list(FORMAT.read(source, context)), context
    finally:
        source.close()


def archive_bytes(archive: zipfile.ZipFile) -> bytes:
    return zip_bytes({name: archive.read(name) for name in archive.namelist()})


def rgb_png(rgb: np.ndarray, text: dict[str, str] | None = None) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    buffer = io.BytesIO()
    Image.fromarray(rgb.astype(np.uint8)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def decoded(annotation: dict) -> np.ndarray:
    size = annotation["coordinates"]["size"]
    return mask_decode(Mask(height=size[0], width=size[1], counts=annotation["coordinates"]["counts"], bbox=None))


LABELMAP = b"# label:color_rgb:parts:actions\nbackground:0,0,0::\ncat:255,0,0::\ndog:0,255,0::\n"


# --- export: painting ----------------------------------------------------------------------------
def test_a_box_covers_the_pixels_whose_centre_it_holds():
    # given a box from (1, 2) to (5.4, 6) on a 12x10 image
    archive = export([export_item([box(1, 2, 5.4, 6)])])

    # then the mask is black but for x 1..4, y 2..5 in the label's colour
    assert np.array_equal(pixels(archive), painted((10, 12), (rect((10, 12), 1, 2, 5, 6), RED)))


def test_a_polygon_with_a_second_ring_inside_has_a_hole():
    # given a square ring with a smaller square ring inside it
    outer, inner = [(1, 1), (9, 1), (9, 8), (1, 8)], [(3, 3), (6, 3), (6, 5), (3, 5)]
    archive = export([export_item([polygon(outer, inner, label="dog")])])

    # then the inner ring is left black
    expected = rect((10, 12), 1, 1, 9, 8) & ~rect((10, 12), 3, 3, 6, 5)
    assert np.array_equal(pixels(archive), painted((10, 12), (expected, GREEN)))


def test_self_intersecting_and_overlapping_rings_follow_the_even_odd_rule():
    # given random many-ring polygons with fractional, self-crossing and out-of-image points
    rng = random.Random(7)
    for _ in range(25):
        rings = [
            [(rng.uniform(-5, 45), rng.uniform(-5, 35)) for _ in range(rng.randint(3, 9))]
            for _ in range(rng.randint(1, 3))
        ]
        # when rasterised
        window = polygon_pixels(rings, 40, 30)
        got = np.zeros((30, 40), dtype=bool)
        if window is not None:
            top, left, inside = window
            got[top : top + inside.shape[0], left : left + inside.shape[1]] = inside
        # then each pixel is in exactly when a pixel-by-pixel even-odd test says so
        assert np.array_equal(got, reference_polygon(rings, 40, 30)), rings


def test_a_rotated_box_is_painted_as_its_rotated_rectangle():
    # given a flat 8x2 box turned 90 degrees about its centre (6, 5): it stands 2 wide, 8 high
    archive = export([export_item([box(2, 4, 10, 6, angle=90)])])
    assert np.array_equal(pixels(archive), painted((10, 12), (rect((10, 12), 5, 1, 7, 9), RED)))

    # and turned 30 degrees, it is the polygon of its turned corners
    archive = export([export_item([box(2, 3, 10, 7, angle=30)])])
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    corners = [
        (6 + (x - 6) * c - (y - 5) * s, 5 + (x - 6) * s + (y - 5) * c) for x, y in [(2, 3), (10, 3), (10, 7), (2, 7)]
    ]
    expected = reference_polygon([corners], 12, 10)
    assert expected.sum() > 20 and np.array_equal(pixels(archive), painted((10, 12), (expected, RED)))


def test_ellipses_are_filled_and_turned_about_their_centre():
    # given a circle of radius 2 at (4, 4): a 4x4 block of pixels without its corners
    archive = export([export_item([ellipse(4, 4, 2, 2)])])
    expected = rect((10, 12), 2, 2, 6, 6)
    expected[[2, 2, 5, 5], [2, 5, 2, 5]] = False
    assert np.array_equal(pixels(archive), painted((10, 12), (expected, RED)))

    # and an ellipse turned 90 degrees is the one with its radii swapped; 30 degrees as computed
    turned = pixels(export([export_item([ellipse(6, 5, 4.3, 1.6, angle=90)])]))
    swapped = pixels(export([export_item([ellipse(6, 5, 1.6, 4.3)])]))
    assert np.array_equal(turned, swapped) and not np.array_equal(
        turned, pixels(export([export_item([ellipse(6, 5, 4.3, 1.6)])]))
    )
    expected = reference_ellipse(6, 5, 4.3, 1.6, 30, 12, 10)
    assert np.array_equal(
        pixels(export([export_item([ellipse(6, 5, 4.3, 1.6, angle=30)])])), painted((10, 12), (expected, RED))
    )


def test_binary_masks_are_painted_as_stored():
    # given a scattered mask (its stored bbox crops the decoding window)
    mask = np.random.default_rng(3).random((10, 12)) > 0.6
    mask[:, :2] = False
    archive = export([export_item([binary(mask, label="road")])])
    assert np.array_equal(pixels(archive), painted((10, 12), (mask, BLUE)))


def test_later_annotations_are_painted_over_earlier_ones():
    # given a cat box, a dog polygon over half of it, then a road mask over both
    road = rect((10, 12), 4, 0, 6, 10)
    shapes = [box(0, 0, 8, 8), polygon([(4, 4), (12, 4), (12, 10), (4, 10)], label="dog"), binary(road, "road")]

    # when painted in that order, and in the reverse order
    forward = pixels(export([export_item(shapes)]))
    backward = pixels(export([export_item(shapes[::-1])]))

    # then each later shape wins where they overlap
    cat, dog = rect((10, 12), 0, 0, 8, 8), rect((10, 12), 4, 4, 12, 10)
    assert np.array_equal(forward, painted((10, 12), (cat, RED), (dog, GREEN), (road, BLUE)))
    assert np.array_equal(backward, painted((10, 12), (road, BLUE), (dog, GREEN), (cat, RED)))


def test_points_polylines_classes_and_notes_leave_the_mask_black():
    shapes = [
        {"type": "point", "label": "cat", "coordinates": point(3, 3)},
        {"type": "polyline", "label": "cat", "coordinates": [[point(0, 0), point(10, 9)]]},
        {"type": "class", "label": "cat", "coordinates": []},
        {"type": "note", "label": "issue", "coordinates": {"box": [point(0, 0), point(9, 9)], "note": {}}},
    ]
    assert not pixels(export([export_item(shapes)])).any()


# --- export: files and colours -------------------------------------------------------------------
def test_masks_mirror_folders_and_images_come_along_when_asked(tmp_path):
    # given items in folders, one without a known size, and their images on disk
    image = tmp_path / "stored.jpg"
    image.write_bytes(jpeg(12, 10))
    items = [
        export_item([box(1, 1, 3, 3)], filename="/d/e/a.jpg", image_path=image),
        export_item([], filename="/b.png", image_path=image),
        export_item([box(1, 1, 3, 3)], filename="/link.jpg", width=None, image_path=image),
    ]

    # when exported with and without images
    with_images, without = export(items, include_images=True), export(items)

    # then each sized item has a mask the image's size (an unannotated one all black)
    assert sorted(without.namelist()) == ["colormap.json", "labelmap.txt", "masks/b.png", "masks/d/e/a.png"]
    assert sorted(with_images.namelist()) == sorted(
        [*without.namelist(), "images/d/e/a.jpg", "images/b.png", "images/link.jpg"]
    )
    assert pixels(without, "masks/b.png").shape == (10, 12, 3) and not pixels(without, "masks/b.png").any()
    assert with_images.read("images/d/e/a.jpg") == image.read_bytes()


def test_the_colour_map_gives_every_label_its_own_colour_and_keeps_black_for_background():
    # given labels sharing a colour, one without, one black, one unreadable
    labels = [
        Label("cat", "#ff0000"),
        Label("lion", "#FF0000"),
        Label("dog", ""),
        Label("shadow", "#000000"),
        Label("odd", "red"),
        Label("vehicle.car", "#00ff00"),
    ]
    shapes = [box(0, 0, 2, 2, label=label.tag) for label in labels]
    for i, shape in enumerate(shapes):
        shape["coordinates"] = [point(2 * i, 0), point(2 * i + 2, 2)]
    archive = export([export_item([*shapes, box(0, 8, 2, 10, label="zebra")])], labels=labels)

    # then both maps list every label (and one only used) with distinct, non-black colours
    colormap = orjson.loads(archive.read("colormap.json"))
    assert list(colormap) == ["cat", "lion", "dog", "shadow", "odd", "vehicle.car", "zebra"]
    colors = [tuple(rgb) for rgb in colormap.values()]
    assert len(set(colors)) == 7 and (0, 0, 0) not in colors
    assert colormap["cat"] == [255, 0, 0] and colormap["vehicle.car"] == [0, 255, 0]
    lines = archive.read("labelmap.txt").decode().splitlines()
    assert lines[:3] == ["# label:color_rgb:parts:actions", "background:0,0,0::", "cat:255,0,0::"]
    assert lines[3:] == [f"{tag}:{r},{g},{b}::" for tag, (r, g, b) in list(colormap.items())[1:]]

    # and the mask paints each label in the colour the maps give it
    image = pixels(archive)
    for i, tag in enumerate(colormap):
        x, y = (2 * i, 0) if tag != "zebra" else (0, 8)
        assert tuple(image[y, x]) == tuple(colormap[tag]), tag


@pytest.mark.parametrize(("count", "mode"), [(255, "P"), (256, "RGB")])
def test_a_palette_png_up_to_255_labels_else_rgb_both_in_the_label_colours(count, mode):
    # given many labels, the last one painted
    labels = [Label(f"l{i}", f"#{i:06x}") for i in range(1, count + 1)]
    archive = export([export_item([box(2, 2, 4, 4, label=f"l{count}")])], labels=labels)

    # then the PNG is a palette one when the labels fit, and reads as the label colour either way
    with Image.open(io.BytesIO(archive.read("masks/photos/a.png"))) as image:
        assert image.mode == mode
    assert np.array_equal(
        pixels(archive),
        painted((10, 12), (rect((10, 12), 2, 2, 4, 4), ((count >> 16) & 0xFF, (count >> 8) & 0xFF, count & 0xFF))),
    )


# --- import --------------------------------------------------------------------------------------
def test_import_gives_each_label_one_mask_the_union_of_what_shows_of_its_shapes(tmp_path):
    # given two cat shapes, a dog ring with a hole over one of them and a road mask, exported
    cat_a, cat_b = box(0, 0, 5, 5), ellipse(9, 7, 2.5, 2, angle=20)
    outer, inner = [(3, 2), (11, 2), (11, 9), (3, 9)], [(5, 4), (8, 4), (8, 7), (5, 7)]
    dog = polygon(outer, inner, label="dog")
    road_mask = rect((10, 12), 0, 8, 3, 10)
    archive = export([export_item([cat_a, cat_b, dog, binary(road_mask, "road")])])

    # when it is read back
    results, context = read(archive_bytes(archive), tmp_path)

    # then there is one item, with one binary mask per label present
    [imported] = results
    assert isinstance(imported, ImportItem)
    assert (imported.filename, imported.width, imported.height) == ("photos/a.jpg", 12, 10)
    assert [a["label"] for a in imported.annotations] == ["cat", "dog", "road"]
    assert all(a["type"] == "binary" and a["coordinates"]["size"] == [10, 12] for a in imported.annotations)
    assert imported.origins == [f"masks/photos/a.png: colour {COLOR[t]} ({t})" for t in ("cat", "dog", "road")]
    # each equal to its shapes' union, less what later shapes cover (pixel by pixel reference)
    cats = rect((10, 12), 0, 0, 5, 5) | reference_ellipse(9, 7, 2.5, 2, 20, 12, 10)
    dogs = reference_polygon([outer, inner], 12, 10)
    masks = {a["label"]: decoded(a) for a in imported.annotations}
    assert np.array_equal(masks["cat"], cats & ~dogs & ~road_mask)
    assert np.array_equal(masks["dog"], dogs & ~road_mask)
    assert np.array_equal(masks["road"], road_mask)
    assert {tag: label.color for tag, label in context.declared.items()} == {
        "cat": "#ff0000",
        "dog": "#00ff00",
        "road": "#0000ff",
    }


def test_import_matches_masks_to_images_in_the_archive_even_when_stems_clash(tmp_path):
    # given /d/a.jpg and /d/a.png (one mask name for both) exported with their images
    image = tmp_path / "img"
    image.write_bytes(png(12, 10))
    jpg, pngs = (
        export_item([box(0, 0, 2, 2)], filename="/d/a.jpg", image_path=image),
        export_item([box(0, 0, 2, 2, label="dog")], filename="/d/a.png", image_path=image),
    )
    archive = export([jpg, pngs], include_images=True)
    assert {"masks/d/a.png", "masks/d/a.png.png"} <= set(archive.namelist())

    # when read back, with the images and without them (the masks name their items)
    with_images, _ = read(archive_bytes(archive), tmp_path)
    masks_only = {n: archive.read(n) for n in archive.namelist() if not n.startswith("images/")}
    without, _ = read(zip_bytes(masks_only), tmp_path)

    # then each mask goes to its own item
    assert {(r.filename, r.image_entry, r.annotations[0]["label"]) for r in with_images} == {
        ("d/a.jpg", "images/d/a.jpg", "cat"),
        ("d/a.png", "images/d/a.png", "dog"),
    }
    assert {(r.filename, r.image_entry, r.annotations[0]["label"]) for r in without} == {
        ("d/a.jpg", None, "cat"),
        ("d/a.png", None, "dog"),
    }


def test_a_mask_names_its_item_in_a_text_chunk_whatever_its_characters(tmp_path):
    # given an item whose name is not Latin-1, exported without its image
    archive = export([export_item([box(0, 0, 2, 2)], filename="/données/猫 1.jpg")])
    assert "masks/données/猫 1.png" in archive.namelist()

    # when read back, then the item is named with its extension
    [imported], context = read(archive_bytes(archive), tmp_path)
    assert imported.filename == "données/猫 1.jpg" and imported.image_entry is None
    assert context.expected_items == 1


def test_import_reads_masks_from_other_tools(tmp_path):
    # given an RGB mask without our text chunk, a colormap.json with hex and lists, all in a folder
    rgb = np.zeros((4, 5, 3), dtype=np.uint8)
    rgb[1, 1:4] = (10, 20, 30)
    rgb[3, 0] = (1, 2, 3)
    data = zip_bytes(
        {
            "set/colormap.json": orjson.dumps({"background": [0, 0, 0], "car": "#0a141e", "sky": [1, 2, 3]}),
            "set/masks/sub/x.png": rgb_png(rgb),
            "set/images/sub/x.jpeg": jpeg(5, 4),
            "set/masks/y.png": rgb_png(rgb),
        }
    )

    # when read
    results, context = read(data, tmp_path)

    # then the colours give the labels; a mask without an image names its item by its stem
    by_name = {r.filename: r for r in results}
    assert set(by_name) == {"sub/x.jpeg", "y"}
    assert by_name["sub/x.jpeg"].image_entry == "set/images/sub/x.jpeg"
    assert [a["label"] for a in by_name["y"].annotations] == ["car", "sky"]
    assert np.array_equal(decoded(by_name["y"].annotations[0]), np.all(rgb == (10, 20, 30), axis=2))
    assert set(context.declared) == {"car", "sky"}


def test_labelmap_lines_may_carry_parts_actions_colons_and_any_background_name(tmp_path):
    labelmap = b"# comment\n\n_bg_:0,0,0::\nvehicle:car : 9, 8, 7 :wheel,door:\nsky:1,2,3\n"
    rgb = np.zeros((2, 2, 3), dtype=np.uint8)
    rgb[0, 0], rgb[1, 1] = (9, 8, 7), (1, 2, 3)
    results, context = read(zip_bytes({"labelmap.txt": labelmap, "masks/a.png": rgb_png(rgb)}), tmp_path)
    assert [a["label"] for a in results[0].annotations] == ["vehicle:car", "sky"]
    assert {t: label.color for t, label in context.declared.items()} == {"vehicle:car": "#090807", "sky": "#010203"}


def _bad_png_size() -> dict[str, bytes]:
    return {"labelmap.txt": LABELMAP, "masks/a.png": rgb_png(np.zeros((4, 5, 3))), "images/a.jpg": jpeg(6, 4)}


@pytest.mark.parametrize(
    ("entries", "entry", "reason"),
    [
        ({"masks/a.png": rgb_png(np.zeros((2, 2, 3)))}, "labelmap.txt", "neither labelmap.txt nor colormap.json"),
        ({"labelmap.txt": b"cat=255,0,0\n"}, "labelmap.txt", "line 1: expected 'label:r,g,b::'"),
        ({"labelmap.txt": b"cat:256,0,0::\n"}, "labelmap.txt", "line 1: colour values go from 0 to 255"),
        ({"labelmap.txt": b"# nothing\n"}, "labelmap.txt", "no labels listed"),
        ({"labelmap.txt": b"cat:1,2,3::\ndog:1,2,3::\n"}, "labelmap.txt", "line 2: colour (1, 2, 3) is given to both"),
        ({"labelmap.txt": b"cat:1,2,3::\ncat:4,5,6::\n"}, "labelmap.txt", "line 2: label 'cat' is listed twice"),
        ({"labelmap.txt": b"\xff\xfe"}, "labelmap.txt", "not UTF-8"),
        ({"colormap.json": b"{cat: [1, 2, 3]"}, "colormap.json", "malformed JSON"),
        ({"colormap.json": b"[[1, 2, 3]]"}, "colormap.json", "expected an object"),
        ({"colormap.json": b'{"cat": [1, 2, 300]}'}, "colormap.json", "'cat': expected [r, g, b]"),
    ],
)
def test_a_missing_or_malformed_colour_map_is_a_format_error(entries, entry, reason, tmp_path):
    with pytest.raises(FormatError) as error:
        read(zip_bytes(entries), tmp_path)
    assert error.value.entry == entry and reason in error.value.reason


def test_bad_masks_are_rejected_each_with_the_reason(tmp_path):
    # given masks with an unknown colour, broken bytes, a lossy format, the wrong size, two fitting images
    unknown = np.zeros((3, 4, 3), dtype=np.uint8)
    unknown[0, 1], unknown[2, 0], unknown[2, 3] = RED, (7, 7, 7), (8, 8, 8)
    noisy = rgb_png(np.random.default_rng(1).integers(0, 256, (30, 40, 3)))
    entries = {
        "labelmap.txt": LABELMAP,
        "masks/unknown.png": rgb_png(unknown),
        "masks/broken.png": noisy[: len(noisy) // 2],
        "masks/text.png": b"not a png",
        "masks/lossy.jpg": jpeg(4, 3),
        "masks/small.png": rgb_png(np.zeros((4, 5, 3))),
        "images/small.jpg": jpeg(6, 4),
        "masks/twice.png": rgb_png(np.zeros((4, 5, 3))),
        "images/twice.jpg": jpeg(5, 4),
        "images/twice.png": png(5, 4),
        "masks/.DS_Store": b"\0",
        "masks/fine.png": rgb_png(np.zeros((4, 5, 3))),
    }

    # when read
    results, _ = read(zip_bytes(entries), tmp_path)

    # then each bad one is a rejection naming it and why; the good one is read
    rejections = {r.entry: r.reason for r in results if isinstance(r, Rejection)}
    assert set(rejections) == {
        "masks/unknown.png",
        "masks/broken.png",
        "masks/text.png",
        "masks/lossy.jpg",
        "masks/small.png",
        "masks/twice.png",
    }
    assert (
        rejections["masks/unknown.png"]
        == "colour (7, 7, 7) at pixel (x=0, y=2) is not in labelmap.txt (1 more unknown colour)."
    )
    assert rejections["masks/broken.png"].startswith("not a readable PNG image")
    assert rejections["masks/text.png"].startswith("not a readable PNG image")
    assert "must be a PNG" in rejections["masks/lossy.jpg"]
    assert rejections["masks/small.png"] == "the mask is 5x4; its image images/small.jpg is 6x4."
    assert "images/twice.jpg, images/twice.png all fit this mask" in rejections["masks/twice.png"]
    assert [r.filename for r in results if isinstance(r, ImportItem)] == ["fine"]


# --- through the engine --------------------------------------------------------------------------
def _annotate(user, item) -> dict[str, np.ndarray]:
    """Cat box, dog rotated box and ellipse, a road ring with a hole and a road mask; the
    per-label masks an import should give back (each label's union, less later overlaps)."""
    road_mask = rect((HEIGHT, WIDTH), 40, 30, 60, 45)
    outer, inner = [(30, 2), (62, 2), (62, 28), (30, 28)], [(40, 8), (50, 8), (50, 20), (40, 20)]
    annotations_create(
        user=user,
        item_id=item.id,
        annotations=[
            box(2, 2, 20, 16) | {"metadata": {"system": {"attributes": {"occluded": True}}}},
            box(10, 20, 30, 30, label="dog", angle=30),
            ellipse(12, 38, 8, 5, angle=-15, label="dog"),
            polygon(outer, inner, label="road"),
            {"type": "binary", "label": "road", "coordinates": mask_png(road_mask, color=BLUE)},
            box(25, 5, 35, 12),  # a later cat box over the road polygon's edge
            {"type": "point", "label": "cat", "coordinates": point(1, 1)},
        ],
    )
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    turned = [
        (20 + (x - 20) * c - (y - 25) * s, 25 + (x - 20) * s + (y - 25) * c)
        for x, y in [(10, 20), (30, 20), (30, 30), (10, 30)]
    ]
    cat_late = rect((HEIGHT, WIDTH), 25, 5, 35, 12)
    dog = reference_polygon([turned], WIDTH, HEIGHT) | reference_ellipse(12, 38, 8, 5, -15, WIDTH, HEIGHT)
    road = (reference_polygon([outer, inner], WIDTH, HEIGHT) | road_mask) & ~cat_late
    cat = (rect((HEIGHT, WIDTH), 2, 2, 20, 16) & ~dog & ~road) | cat_late
    return {"cat": cat, "dog": dog & ~road & ~cat_late, "road": road}


def _imported_masks(item) -> dict[str, np.ndarray]:
    return {a.label: mask_decode(Mask.from_json(a.coordinates)) for a in Annotation.objects.filter(item=item)}


@pytest.mark.django_db
@pytest.mark.parametrize("include_images", [True, False])
def test_round_trip_into_a_fresh_dataset_gives_the_per_label_unions(
    dataset, item, fresh_dataset, members, tmp_path, include_images
):
    # given an annotated item (and, without images, the same image already in the target)
    owner = members["owner"]
    expected = _annotate(owner, item)
    assert all(mask.any() for mask in expected.values())
    if not include_images:
        datasets.item_upload(
            user=owner, dataset_id=fresh_dataset.id, path="/photos/a.png", fileobj=io.BytesIO(png(WIDTH, HEIGHT))
        )
    path = tmp_path / "masks.zip"

    # when exported as masks and imported into the fresh dataset
    export_to_path(user=owner, dataset_id=dataset.id, format_name="masks", path=path, include_images=include_images)
    report = import_from_path(user=owner, dataset_id=fresh_dataset.id, format_name="masks", path=path, filename="m.zip")

    # then the item holds one binary annotation per label, each its shapes' visible union
    copy = Item.objects.get(dataset=fresh_dataset, filename="/photos/a.png")
    assert report["rejectedCount"] == 0 and report["annotationsImported"] == 3
    assert (report["itemsCreated"], report["itemsMatched"]) == ((1, 0) if include_images else (0, 1))
    assert set(Annotation.objects.filter(item=copy).values_list("type", flat=True)) == {"binary"}
    masks = _imported_masks(copy)
    assert set(masks) == set(expected)
    for tag, mask in expected.items():
        assert np.array_equal(masks[tag], mask), tag


@pytest.mark.django_db
def test_a_masks_archive_imports_under_its_own_labels(fresh_dataset, members, tmp_path):
    # given a mask painted in a label the target's ontology lacks, with its image
    rgb = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    rgb[3:9, 4:20] = (12, 34, 56)
    path = tmp_path / "zebra.zip"
    path.write_bytes(
        zip_bytes(
            {
                "labelmap.txt": b"background:0,0,0::\nzebra:12,34,56::\n",
                "masks/z/x.png": rgb_png(rgb),
                "images/z/x.png": png(WIDTH, HEIGHT),
            }
        )
    )

    # when imported
    report = import_from_path(
        user=members["owner"], dataset_id=fresh_dataset.id, format_name="masks", path=path, filename="zebra.zip"
    )

    # then the label is added with its colour and the item created with the mask
    assert report["labelsAdded"] == ["zebra"] and report["itemsCreated"] == 1
    [annotation] = Annotation.objects.filter(dataset=fresh_dataset)
    assert annotation.label == "zebra"
    assert np.array_equal(mask_decode(Mask.from_json(annotation.coordinates)), np.all(rgb == (12, 34, 56), axis=2))


@pytest.mark.django_db
def test_a_bad_mask_leaves_the_dataset_unchanged(dataset, item, fresh_dataset, members, tmp_path):
    # given a good export to which a mask with a colour outside the map is added
    owner = members["owner"]
    _annotate(owner, item)
    path = tmp_path / "masks.zip"
    export_to_path(user=owner, dataset_id=dataset.id, format_name="masks", path=path, include_images=True)
    stray = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    stray[7, 5] = (1, 1, 1)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("masks/photos/b.png", rgb_png(stray))

    # when imported
    with pytest.raises(ImportRejected) as rejected:
        import_from_path(user=owner, dataset_id=fresh_dataset.id, format_name="masks", path=path, filename="m.zip")

    # then the report names the mask, and nothing was added
    assert rejected.value.report["rejected"] == [
        {"entry": "masks/photos/b.png", "reason": "colour (1, 1, 1) at pixel (x=5, y=7) is not in labelmap.txt."}
    ]
    assert not Item.objects.filter(dataset=fresh_dataset).exists()
    assert not Annotation.objects.filter(dataset=fresh_dataset).exists()


def test_the_format_is_registered():
    masks = get_format("masks")
    assert (masks.name, masks.title, masks.supports_import) == ("masks", "Semantic PNG masks", True)
