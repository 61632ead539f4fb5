"""Annotations over the REST API: every type, validation against the recipe, versions, counts."""

import numpy as np
import pytest

from annotator.annotations.models import Annotation, AnnotationChange
from annotator.datasets.models import Dataset, Item
from tests.annotations.conftest import HEIGHT, WIDTH, box, mask_from, mask_png

pytestmark = pytest.mark.django_db


def url(item):
    return f"/api/v1/items/{item.id}/annotations"


def create(client, item, *annotations):
    return client.post(url(item), list(annotations), format="json")


REQUIRED_KEYS = {
    "id",
    "type",
    "label",
    "metadata",
    "creator",
    "createdAt",
    "updatedBy",
    "updatedAt",
    "itemId",
    "datasetId",
    "coordinates",
}


# --- every type ---
VALID = {
    "box": box(),
    "rotated box": {**box(), "coordinates": [{"x": 10, "y": 10}, {"x": 20, "y": 30}, 30]},
    "segment": {
        "type": "segment",
        "label": "road",
        "coordinates": [[{"x": 0, "y": 0}, {"x": 5, "y": 0}, {"x": 5, "y": 5}]],
    },
    "segment with a hole": {
        "type": "segment",
        "label": "road",
        "coordinates": [
            [{"x": 0, "y": 0}, {"x": 30, "y": 0}, {"x": 30, "y": 30}, {"x": 0, "y": 30}],
            [{"x": 10, "y": 10}, {"x": 20, "y": 10}, {"x": 20, "y": 20}],
        ],
    },
    "self-intersecting segment": {
        "type": "segment",
        "label": "road",
        "coordinates": [[{"x": 0, "y": 0}, {"x": 10, "y": 10}, {"x": 10, "y": 0}, {"x": 0, "y": 10}]],
    },
    "polyline": {"type": "polyline", "label": "road", "coordinates": [[{"x": 0, "y": 0}, {"x": 9, "y": 9}]]},
    "point": {"type": "point", "label": "cat", "coordinates": {"x": 3, "y": 4, "z": 0}},
    "ellipse": {
        "type": "ellipse",
        "label": "dog",
        "coordinates": {"center": {"x": 30, "y": 20}, "rx": 5, "ry": 3, "angle": 15},
    },
    "class": {"type": "class", "label": "scene.day"},
    "note": {
        "type": "note",
        "label": "anything",
        "coordinates": {
            "box": [{"x": 1, "y": 1}, {"x": 5, "y": 5}],
            "note": {"messages": [{"body": "look"}], "status": "issue"},
        },
    },
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_every_type_is_created_and_read_back(name, members, client_for, item):
    client = client_for(members["annotator"])

    response = create(client, item, VALID[name])

    assert response.status_code == 201, response.json()
    created = response.json()[0]
    assert set(created) >= REQUIRED_KEYS
    assert created["type"] == VALID[name]["type"] and created["creator"] == members["annotator"].email
    again = client.get(f"/api/v1/annotations/{created['id']}").json()
    assert again["coordinates"] == created["coordinates"]


def test_coordinates_are_stored_as_given_and_clamped_to_the_image(members, client_for, item):
    client = client_for(members["owner"])

    made = create(client, item, box(-5, -3, 100, 20), VALID["point"]).json()

    assert made[0]["coordinates"] == [{"x": 0.0, "y": 0.0, "z": 0.0}, {"x": float(WIDTH), "y": 20.0, "z": 0.0}]
    assert made[1]["coordinates"] == {"x": 3.0, "y": 4.0, "z": 0.0}


INVALID = {
    "unknown type": ({**box(), "type": "cube"}, "type"),
    "box of one point": ({**box(), "coordinates": [{"x": 1, "y": 1}]}, "coordinates"),
    "box with a string": ({**box(), "coordinates": [{"x": "1", "y": 1}, {"x": 4, "y": 4}]}, "coordinates"),
    "box with no area": ({**box(), "coordinates": [{"x": 1, "y": 1}, {"x": 1, "y": 4}]}, "coordinates"),
    "box outside the image": ({**box(), "coordinates": [{"x": 100, "y": 100}, {"x": 200, "y": 200}]}, "coordinates"),
    "polygon of two points": (
        {"type": "segment", "label": "road", "coordinates": [[{"x": 0, "y": 0}, {"x": 5, "y": 5}]]},
        "coordinates",
    ),
    "polygon with repeated points": (
        {"type": "segment", "label": "road", "coordinates": [[{"x": 0, "y": 0}, {"x": 5, "y": 5}, {"x": 0, "y": 0}]]},
        "coordinates",
    ),
    "polyline of one point": (
        {"type": "polyline", "label": "road", "coordinates": [[{"x": 0, "y": 0}]]},
        "coordinates",
    ),
    "point as a list of numbers": ({"type": "point", "label": "cat", "coordinates": [1, 2]}, "coordinates"),
    "ellipse outside": (
        {"type": "ellipse", "label": "dog", "coordinates": {"center": {"x": 99, "y": 9}, "rx": 1, "ry": 1}},
        "coordinates",
    ),
    "ellipse with zero radius": (
        {"type": "ellipse", "label": "dog", "coordinates": {"center": {"x": 9, "y": 9}, "rx": 0, "ry": 1}},
        "coordinates",
    ),
    "label not in the ontology": ({**box(), "label": "horse"}, "label"),
    "tool not allowed for the label": ({**box(), "label": "road"}, "type"),
    "unknown attribute": (box(attributes={"colour": "red"}), "metadata.system.attributes.colour"),
    "option not in the list": (box(attributes={"breed": "sphynx"}), "metadata.system.attributes.breed"),
    "boolean given as text": (box(attributes={"occluded": "yes"}), "metadata.system.attributes.occluded"),
    "attribute of another label": (box(attributes={"age": 3}), "metadata.system.attributes.age"),
    "range out of bounds": (box(label="dog", attributes={"age": 30}), "metadata.system.attributes.age"),
    "attributes as a list": (box(attributes=["occluded"]), "metadata.system.attributes"),
    "parent on another item": (box(metadata={"system": {"parentId": "0" * 24}}), "parentId"),
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_annotations_are_refused_naming_the_annotation_and_field(name, members, client_for, item):
    raw, field = INVALID[name]
    client = client_for(members["owner"])

    response = create(client, item, box(), raw)

    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["details"]["field"].startswith("annotations[1]")
    assert body["details"]["field"].endswith(field)
    assert "annotations[1]" in body["message"]
    assert not Annotation.objects.exists()
    item.refresh_from_db()
    assert item.annotations_count == 0 and not item.annotated


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_and_infinity_are_refused(constant, members, client_for, item):
    body = f'[{{"type": "box", "label": "cat", "coordinates": [{{"x": {constant}, "y": 1}}, {{"x": 4, "y": 4}}]}}]'

    response = client_for(members["owner"]).post(url(item), body, content_type="application/json")

    assert response.status_code == 400
    assert not Annotation.objects.exists()


def test_the_body_must_be_a_list_of_objects(members, client_for, item):
    client = client_for(members["owner"])
    assert client.post(url(item), "nope", format="json").status_code == 400
    assert client.post(url(item), [1], format="json").status_code == 400
    assert not Annotation.objects.exists()


def test_client_ids_and_authorship_are_ignored(members, client_for, item):
    # dtlpy's upload from a Dataloop JSON file sends the old export's keys verbatim.
    raw = {**box(), "id": "old", "creator": "someone@else", "itemId": "x", "datasetId": "y", "attributes": []}

    made = create(client_for(members["annotator"]), item, raw).json()[0]

    assert made["id"] != "old" and made["creator"] == members["annotator"].email
    assert made["itemId"] == item.id and made["datasetId"] == item.dataset_id


# --- masks ---
def test_a_mask_round_trips_pixel_exactly(members, client_for, item):
    rng = np.random.default_rng(7)
    mask = rng.random((HEIGHT, WIDTH)) < 0.3
    client = client_for(members["owner"])

    made = create(client, item, {"type": "binary", "label": "road", "coordinates": mask_png(mask, (1, 2, 3))}).json()[0]

    assert made["coordinates"].startswith("data:image/png;base64,")
    assert (mask_from(made["coordinates"]) == mask).all()
    stored = Annotation.objects.get(pk=made["id"]).coordinates
    assert stored["size"] == [HEIGHT, WIDTH] and isinstance(stored["counts"], str)
    rows, cols = np.nonzero(mask)
    assert stored["bbox"] == [cols.min(), rows.min(), cols.max(), rows.max()]
    as_rle = client.get(f"/api/v1/annotations/{made['id']}?maskFormat=rle").json()
    assert as_rle["coordinates"] == stored
    # restored (the studio's History), in either format
    client.delete(f"/api/v1/annotations/{made['id']}", {}, format="json")
    restored = client.post(f"/api/v1/annotations/{made['id']}/restore?maskFormat=rle").json()
    assert restored["coordinates"] == stored
    client.delete(f"/api/v1/annotations/{made['id']}", {}, format="json")
    restored = client.post(f"/api/v1/annotations/{made['id']}/restore").json()
    assert (mask_from(restored["coordinates"]) == mask).all()


def test_a_batch_save_stores_its_json_exactly(members, client_for, item):
    # values JSON allows that a fast encoder may not: integers beyond 64 bits, any text
    user_metadata = {"big": 2**70, "negative": -(2**65), "text": 'naïve "quoted" \\ 猫 \n', "nested": [{"a": None}]}
    client = client_for(members["owner"])

    response = client.post(
        f"/api/v1/items/{item.id}/annotations/batch",
        {"create": [{**box(), "metadata": {"user": user_metadata}, "description": "d\u00e9j\u00e0 'vu'"}]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    made = response.json()["created"][0]
    stored = Annotation.objects.get(pk=made["id"])
    assert stored.metadata["user"] == user_metadata and stored.description == "déjà 'vu'"
    assert client.get(f"/api/v1/annotations/{made['id']}").json()["metadata"]["user"] == user_metadata
    (change,) = AnnotationChange.objects.filter(annotation_id=made["id"])
    assert change.before is None and change.after["metadata"]["user"] == user_metadata


@pytest.mark.parametrize("mask_format", ["png", "rle"])
def test_a_batch_save_answers_masks_in_the_format_asked_for(mask_format, members, client_for, item):
    mask = np.zeros((HEIGHT, WIDTH), bool)
    mask[3:7, 2:9] = True
    client = client_for(members["owner"])

    response = client.post(
        f"/api/v1/items/{item.id}/annotations/batch?maskFormat={mask_format}",
        {"create": [{"type": "binary", "label": "road", "coordinates": mask_png(mask)}, box()]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    made_mask, made_box = response.json()["created"]
    stored = Annotation.objects.get(pk=made_mask["id"]).coordinates
    if mask_format == "png":
        assert (mask_from(made_mask["coordinates"]) == mask).all()
    else:
        assert made_mask["coordinates"] == stored
    assert made_box["coordinates"] == Annotation.objects.get(pk=made_box["id"]).coordinates


def test_masks_come_back_in_the_label_colour(members, client_for, item):
    import base64
    import io

    from PIL import Image

    mask = np.zeros((HEIGHT, WIDTH), bool)
    mask[5:9, 5:9] = True
    made = create(
        client_for(members["owner"]), item, {"type": "binary", "label": "road", "coordinates": mask_png(mask)}
    )

    data = made.json()[0]["coordinates"][len("data:image/png;base64,") :]
    pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(data))))
    assert pixels.shape == (HEIGHT, WIDTH, 4)
    assert tuple(pixels[6, 6]) == (0, 0, 255, 255) and tuple(pixels[0, 0]) == (0, 0, 0, 0)


def test_a_mask_can_be_sent_as_rle(members, client_for, item):
    from annotator.annotations.masks import mask_encode

    mask = np.zeros((HEIGHT, WIDTH), bool)
    mask[10:20, 3:7] = True
    rle = mask_encode(mask).to_json()

    made = create(client_for(members["owner"]), item, {"type": "binary", "label": "road", "coordinates": rle})

    assert made.status_code == 201
    assert (mask_from(made.json()[0]["coordinates"]) == mask).all()


BAD_MASKS = {
    "wrong size": lambda: mask_png(np.ones((HEIGHT + 1, WIDTH), bool)),
    "wrong prefix": lambda: mask_png(np.ones((HEIGHT, WIDTH), bool)).replace("image/png", "image/jpeg"),
    "not base64": lambda: "data:image/png;base64,@@@",
    "not a png": lambda: "data:image/png;base64,aGVsbG8=",
    "empty mask": lambda: mask_png(np.zeros((HEIGHT, WIDTH), bool)),
    "rle of the wrong size": lambda: {"size": [HEIGHT, WIDTH + 1], "counts": "0"},
    "rle that does not cover": lambda: {"size": [HEIGHT, WIDTH], "counts": "12"},
}


@pytest.mark.parametrize("name", sorted(BAD_MASKS))
def test_bad_masks_are_refused(name, members, client_for, item):
    response = create(
        client_for(members["owner"]), item, {"type": "binary", "label": "road", "coordinates": BAD_MASKS[name]()}
    )

    assert response.status_code == 400, response.json()
    assert response.json()["details"]["field"] == "annotations[0].coordinates"
    assert not Annotation.objects.exists()


# --- listing and reading ---
def test_item_list_returns_every_annotation_with_bounded_queries(
    members, client_for, item, django_assert_max_num_queries
):
    client = client_for(members["owner"])
    create(client, item, *[box(i, i, i + 5, i + 5) for i in range(20)], VALID["class"])

    with django_assert_max_num_queries(12):
        listed = client.get(url(item)).json()

    assert len(listed) == 21
    assert [a["id"] for a in listed] == sorted(a["id"] for a in listed)


def test_dtlpy_item_list_query(members, client_for, item):
    client = client_for(members["owner"])
    made = create(client, item, box(), VALID["note"], VALID["class"]).json()
    types = ["box", "cube", "class", "ellipse", "point", "segment", "polyline", "binary"]
    body = {
        "filter": {"$and": [{"type": {"$in": types}}, {"itemId": item.id}]},
        "sort": {"id": "ascending"},
        "page": 0,
        "pageSize": 1000,
        "resource": "annotations",
    }

    page = client.post(f"/api/v1/datasets/{item.dataset_id}/query", body, format="json").json()

    assert page["totalItemsCount"] == 2 and not page["hasNextPage"]
    assert [a["id"] for a in page["items"]] == [made[0]["id"], made[2]["id"]]


def test_counts_follow_creates_and_deletes(members, client_for, item):
    client = client_for(members["owner"])
    made = create(client, item, box(), box()).json()
    item.refresh_from_db()
    dataset = Dataset.objects.get(pk=item.dataset_id)
    assert (item.annotations_count, item.annotated, dataset.annotated_count) == (2, True, 1)

    for annotation in made:
        assert (
            client.delete(f"/api/v1/annotations/{annotation['id']}", {"username": "x"}, format="json").status_code
            == 200
        )

    item.refresh_from_db()
    dataset.refresh_from_db()
    assert (item.annotations_count, item.annotated, dataset.annotated_count) == (0, False, 0)
    assert client.get(f"/api/v1/items/{item.id}").json()["annotationsCount"] == 0


def test_folders_cannot_be_annotated(members, client_for, item):
    folder = Item.objects.get(dataset_id=item.dataset_id, type="dir", filename="/photos")
    assert create(client_for(members["owner"]), folder, box()).status_code == 400


def test_a_batch_save_finds_the_item_the_role_and_the_recipe_in_the_query_that_locks_it(members, client_for, item):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(members["annotator"])

    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/api/v1/items/{item.id}/annotations/batch", {"create": [box()]}, format="json")

    assert response.status_code == 200, response.json()
    reading_roles = [q["sql"] for q in queries.captured_queries if "accounts_membership" in q["sql"]]
    assert len(reading_roles) == 1, reading_roles  # the access gate's own read is left out
    assert "datasets_item" in reading_roles[0]
    if connection.vendor == "postgresql":
        assert "FOR UPDATE" in reading_roles[0]
        # The recipe's stamp (are the rules this process built still current?) comes with it.
        reading_recipes = [q["sql"] for q in queries.captured_queries if "ontologies_recipe " in q["sql"]]
        assert reading_recipes == reading_roles


@pytest.mark.parametrize("body", [{"create": [box()]}, {"create": "not a list"}, ["not", "an", "object"]])
def test_a_stranger_saving_a_batch_gets_404_whatever_the_body(body, members, client_for, item):
    response = client_for(members["stranger"]).post(f"/api/v1/items/{item.id}/annotations/batch", body, format="json")

    assert response.status_code == 404
    assert response.json()["message"] == "Item not found."
    assert not Annotation.objects.exists()
