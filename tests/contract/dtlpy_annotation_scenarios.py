"""dtlpy against a live server: annotations of every image type, lists, DQL, updates, deletes.

Started by tests/contract/test_dtlpy_annotations.py with .venv-dtlpy's Python. Input from the
environment: ANNOTATOR_URL, API_KEY, PROJECT_ID, WORK_DIR (with the images and Dataloop JSON
files the test prepared), DATALOOP_PATH. Prints one JSON report of every step; the values are
plain data (labels, coordinates, counts) so that the test asserts on what the SDK really got.
"""

import base64
import io
import os
from pathlib import Path

import dtlpy as dl  # DATALOOP_PATH must be set before this import
import numpy as np
from PIL import Image
from scenario_steps import print_report, step  # beside this script

BASE = os.environ["ANNOTATOR_URL"]
WORK = Path(os.environ["WORK_DIR"])
WIDTH, HEIGHT = 64, 48  # the test's images
PNG_PREFIX = "data:image/png;base64,"


def road_mask(shift: int = 0) -> np.ndarray:
    """A mask with a hole and a diagonal, so that a lossy codec or a transposition shows."""
    mask = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
    mask[10 + shift : 30 + shift, 20:50] = 1
    mask[15 + shift : 20 + shift, 30:35] = 0
    for n in range(12):
        mask[32 + n // 2, 2 + n] = 1
    return mask


def summary(annotation) -> dict:
    """What an annotation is, as plain JSON: type, label, geometry, attributes, links, status."""
    kind = annotation.type
    out = {
        "id": annotation.id,
        "type": kind,
        "label": annotation.label,
        "attributes": annotation.attributes,
        "parentId": annotation.parent_id,
        "objectId": annotation.object_id,
        "status": annotation.status,
    }
    if kind == "box":
        out["box"] = [float(annotation.left), float(annotation.top), float(annotation.right), float(annotation.bottom)]
    elif kind == "segment":
        out["polygon"] = [[float(x), float(y)] for x, y in annotation.geo]
    elif kind == "point":
        out["point"] = [float(annotation.x), float(annotation.y)]
    return out


def mask_facts(annotation, expected: np.ndarray) -> dict:
    """Is the mask the SDK decodes pixel-exact, and is the PNG it came in what dtlpy needs?"""
    coordinates = annotation.coordinates
    image = Image.open(io.BytesIO(base64.b64decode(coordinates[len(PNG_PREFIX) :])))
    pixels = np.asarray(image)
    inside = pixels[..., 3] > 127
    return {
        "prefix": coordinates[: len(PNG_PREFIX)],
        "mode": image.mode,
        "size": list(image.size),
        "geo shape": list(annotation.geo.shape),
        "geo equal": bool(np.array_equal(annotation.geo.astype(np.uint8), expected)),
        "differing pixels": int((annotation.geo.astype(np.uint8) != expected).sum()),
        "inside colours": sorted({tuple(int(v) for v in p) for p in pixels[inside]}),
        "outside alpha": sorted({int(v) for v in pixels[~inside][..., 3]}),
    }


def item_summaries(item) -> list[dict]:
    return [summary(a) for a in item.annotations.list()]


dl.verbose.logging_level = "error"
dl.add_environment(environment=f"{BASE}/api/v1", gate_url=BASE, alias="local", verify_ssl=False, url=f"{BASE}/")
dl.setenv("local")
dl.login_token(os.environ["API_KEY"])
project = dl.projects.get(project_id=os.environ["PROJECT_ID"])

# --- a dataset with labels and attributes (v2), and images -------------------------------------
dataset = project.datasets.create(
    dataset_name="Pets",
    labels=[dl.Label(tag="cat", color=(255, 0, 0)), dl.Label(tag="dog", color=(0, 255, 0))],
)
step(
    "add_labels",
    # dtlpy's add_labels returns None (its ontology.add_labels drops the result); the next step checks.
    lambda: (
        dataset.add_labels(label_list=[{"tag": "road", "color": "#0000ff"}, {"tag": "scene", "color": "#aaaaaa"}])
        or True
    ),
)
step("labels", lambda: sorted((label.tag, label.color) for label in project.datasets.get(dataset_id=dataset.id).labels))


def add_attributes():
    ontology = dataset.recipes.list()[0].ontologies.list()[0]
    ontology.update_attributes(
        key="breed",
        title="Breed",
        attribute_type=dl.AttributesTypes.RADIO_BUTTON,
        values=["tabby", "siamese"],
        scope=["cat", "dog"],
    )
    ontology.update_attributes(
        key="occluded", title="Occluded", attribute_type=dl.AttributesTypes.YES_NO, optional=False
    )
    ontology.update_attributes(
        key="age",
        title="Age",
        attribute_type=dl.AttributesTypes.SLIDER,
        scope=["dog"],
        attribute_range=dl.AttributesRange(min_range=0, max_range=20, step=1),
    )
    fresh = dataset.recipes.list()[0].ontologies.list()[0]
    return sorted(attribute["key"] for attribute in fresh.attributes)


step("update_attributes", add_attributes)

images = WORK / "images"
item_a = dataset.items.upload(local_path=str(images / "a.png"), remote_path="/photos")
item_b = dataset.items.upload(local_path=str(images / "b.png"), remote_path="/photos")
step("upload images", lambda: sorted([item_a.filename, item_b.filename]))

# --- the builder: every image type, attributes, a parent and a child ------------------------------
MASK = road_mask()
POLYGON = [[5.0, 5.0], [25.0, 5.0], [25.0, 25.0], [5.0, 25.0]]
created: dict[str, str] = {}


def build_and_upload():
    builder = item_a.annotations.builder()
    builder.add(
        annotation_definition=dl.Box(
            left=2, top=1, right=30, bottom=20, label="dog", attributes={"breed": "tabby", "occluded": False, "age": 3}
        ),
        object_id=1,
    )
    builder.add(annotation_definition=dl.Polygon(geo=np.array(POLYGON), label="cat", attributes={"occluded": True}))
    builder.add(annotation_definition=dl.Segmentation(geo=MASK, label="road"))
    builder.add(annotation_definition=dl.Point(x=10, y=12, label="dog"))
    builder.add(annotation_definition=dl.Classification(label="scene"))
    uploaded = item_a.annotations.upload(annotations=builder)
    for annotation in uploaded:
        created[annotation.type] = annotation.id
    return sorted((a.type, a.label) for a in uploaded)


def upload_child():
    builder = item_a.annotations.builder()
    builder.add(
        annotation_definition=dl.Box(left=4, top=4, right=12, bottom=10, label="cat", attributes={"breed": "siamese"}),
        parent_id=created["box"],
    )
    (child,) = item_a.annotations.upload(annotations=builder)
    created["child"] = child.id
    fresh = item_a.annotations.get(annotation_id=child.id)
    return {"parent is the box": fresh.parent_id == created["box"], "child": summary(fresh)}


def upload_on_b():
    builder = item_b.annotations.builder()
    builder.add(annotation_definition=dl.Box(left=0, top=0, right=8, bottom=8, label="cat"))
    builder.add(annotation_definition=dl.Point(x=3, y=3, label="cat"))
    return len(item_b.annotations.upload(annotations=builder))


step("builder upload", build_and_upload)
step("upload child", upload_child)
step("upload on b", upload_on_b)

# --- reading back ------------------------------------------------------------------------------------
step("item.annotations.list", lambda: item_summaries(item_a))
step(
    "segmentation round trip",
    lambda: mask_facts(
        next(a for a in item_a.annotations.list() if a.type == "binary"),
        MASK,
    ),
)
step(
    "segmentation via get",
    lambda: mask_facts(item_a.annotations.get(annotation_id=created["binary"]), MASK)["geo equal"],
)


def dataset_label_dog():
    filters = dl.Filters(resource=dl.FiltersResource.ANNOTATION, field="label", values="dog")
    pages = dataset.annotations.list(filters=filters)
    found = [a for page in pages for a in page]
    return {
        "count": pages.items_count,
        "labels": sorted(a.label for a in found),
        "types": sorted(a.type for a in found),
        "items": sorted({a.item_id for a in found}) == [item_a.id],
    }


def items_joined(label):
    filters = dl.Filters()
    filters.add_join(field="label", values=label)
    return sorted(item.name for page in dataset.items.list(filters=filters) for item in page)


step("dataset.annotations.list label dog", dataset_label_dog)
step("items join label dog", lambda: items_joined("dog"))
step("items join label cat", lambda: items_joined("cat"))
step("items join label road", lambda: items_joined("road"))

# --- updates, checked through a fresh get ----------------------------------------------------------------


def fresh(kind):
    return item_a.annotations.get(annotation_id=created[kind])


def update_label():
    point = fresh("point")
    point.label = "cat"
    returned = point.update()
    return {"returned": returned.label, "fresh": summary(fresh("point"))}


def update_coordinates():
    box = fresh("box")
    box.left, box.top, box.right, box.bottom = 6, 7, 40, 33
    returned = box.update()
    return {"returned": summary(returned)["box"], "fresh": summary(fresh("box"))}


def update_polygon():
    polygon = fresh("segment")
    polygon.geo = np.array([[1.0, 1.0], [30.0, 2.0], [28.0, 26.0], [3.0, 20.0], [2.0, 10.0]])
    polygon.update()
    return summary(fresh("segment"))["polygon"]


def update_attribute():
    box = fresh("box")
    box.attributes["breed"] = "siamese"
    box.attributes["occluded"] = True
    box.update()
    return fresh("box").attributes


def update_mask():
    segmentation = fresh("binary")
    segmentation.geo = road_mask(shift=5)
    segmentation.update()
    return mask_facts(fresh("binary"), road_mask(shift=5))


step("update label", update_label)
step("update box coordinates", update_coordinates)
step("update polygon", update_polygon)
step("update attributes", update_attribute)
step("update mask", update_mask)


def status_issue_then_clear():
    box = fresh("box")
    box.update_status(status=dl.AnnotationStatus.ISSUE)
    after_issue = fresh("box").status
    fresh("box").update_status(status=dl.AnnotationStatus.CLEAR)
    after_clear = fresh("box")
    return {"issue": after_issue, "clear": after_clear.status, "label kept": after_clear.label}


step("update_status", status_issue_then_clear)

# --- deletes --------------------------------------------------------------------------------------------


def delete_one():
    deleted = fresh("point").delete()
    try:
        item_a.annotations.get(annotation_id=created["point"])
        gone = "still there"
    except dl.exceptions.NotFound:
        gone = "NotFound"
    return {"returned": deleted, "get": gone, "left": len(item_a.annotations.list())}


def delete_all_on_b():
    item_b.annotations.delete(annotation="all")
    return len(dataset.items.get(item_id=item_b.id).annotations.list())


def delete_by_filter():
    filters = dl.Filters(resource=dl.FiltersResource.ANNOTATION, field="label", values="road")
    dataset.annotations.delete(filters=filters)
    return sorted((a.type, a.label) for a in item_a.annotations.list())


step("annotation.delete", delete_one)
step("item.annotations.delete all", delete_all_on_b)
step("dataset.annotations.delete by filter", delete_by_filter)
step("counts after deletes", lambda: dataset.items.get(item_id=item_a.id).annotations_count)

# --- upload with Dataloop JSON annotation files -------------------------------------------------------------


def upload_with_annotations():
    uploaded = dataset.items.upload(
        local_path=str(WORK / "import" / "images"),
        local_annotations_path=str(WORK / "import" / "jsons"),
        remote_path="/imported",
    )
    names = sorted(item.name for item in uploaded)
    out = {"names": names}
    for name in names:
        item = dataset.items.get(filepath=f"/imported/images/{name}")
        out[name] = [summary(a) for a in item.annotations.list()]
    return out


step("upload with annotations", upload_with_annotations)

print_report()
