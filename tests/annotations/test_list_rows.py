"""An item's annotation list reads its rows past Django's converters on PostgreSQL
(selectors.rows_fetch); what it answers is exactly what the ORM's rows give.

On SQLite rows_fetch is the queryset itself, so these compare two paths only in CI's
PostgreSQL pass; there, leaving the JSON undecoded fails every one of them."""

import json

import numpy as np
import pytest
from django.db import connection

from annotator.accounts.models import User
from annotator.annotations import selectors
from annotator.annotations.api import _dump
from annotator.annotations.models import Annotation
from annotator.annotations.validation import recipe_rules
from annotator.core.json import JsonText
from tests.annotations.conftest import HEIGHT, WIDTH, mask_png
from tests.annotations.test_annotations_api import VALID

pytestmark = pytest.mark.django_db


def test_the_list_equals_the_orm_rows_for_every_type_and_author(members, client_for, item, dataset):
    owner, annotator = members["owner"], members["annotator"]
    mask = np.zeros((HEIGHT, WIDTH), dtype=bool)
    mask[5:20, 8:30] = True
    binary = {"type": "binary", "label": "road", "coordinates": mask_png(mask)}
    described = {**VALID["box"], "description": "a cat, partly hidden"}
    answer = client_for(owner).post(f"/api/v1/items/{item.id}/annotations", [*VALID.values(), binary], format="json")
    assert answer.status_code == 201
    by_annotator = client_for(annotator).post(f"/api/v1/items/{item.id}/annotations", [described], format="json")
    assert by_annotator.status_code == 201
    # An author who has left: their email is gone from the rows, the annotation stays.
    gone = User.objects.create(email="gone@example.com")
    Annotation.objects.filter(pk=by_annotator.json()[0]["id"]).update(updated_by=gone)
    gone.delete()

    for mask_format in ("png", "rle"):
        listed = client_for(owner).get(f"/api/v1/items/{item.id}/annotations?maskFormat={mask_format}").json()
        queryset = selectors.with_authors(Annotation.objects.filter(item_id=item.id)).order_by("id")
        expected = _dump(list(queryset), mask_format=mask_format, rules=recipe_rules(dataset))
        assert listed == expected
    assert len(listed) == len(VALID) + 2
    assert {a["type"] for a in listed} >= {"binary", "note", "class", "ellipse", "point", "segment", "box"}
    assert listed[-1]["updatedBy"] is None and listed[-1]["creator"] == annotator.email
    assert listed[-1]["description"] == "a cat, partly hidden"


def test_rows_fetch_gives_the_orm_values(members, client_for, item):
    client_for(members["owner"]).post(f"/api/v1/items/{item.id}/annotations", list(VALID.values()), format="json")
    queryset = selectors.with_authors(Annotation.objects.filter(item_id=item.id)).order_by("id")
    fetched = selectors.rows_fetch(queryset)
    passed_on = {row["type"] for row in fetched if isinstance(row["coordinates"], JsonText)}
    # On PostgreSQL coordinates go on as the text they came in, but for masks (made into PNGs).
    every_type = {row["type"] for row in fetched}
    assert passed_on == (every_type - {"binary"} if connection.vendor == "postgresql" else set())
    for row in fetched:
        if isinstance(row["coordinates"], JsonText):
            row["coordinates"] = json.loads(row["coordinates"].text)
    assert fetched == list(queryset)


@pytest.mark.parametrize(
    "body",
    [
        {"resource": "annotations", "filter": {"label": "cat"}, "page": 0, "pageSize": 5},
        {
            "resource": "annotations",
            "sort": {"metadata.system.attributes.occluded": "descending", "label": "ascending"},
        },
        {"resource": "annotations", "sort": {"createdAt": "descending"}, "page": 1, "pageSize": 3},
    ],
)
def test_dql_pages_equal_the_orm_rows(body, members, client_for, item, dataset):
    from annotator.core.dql import paginate

    owner = client_for(members["owner"])
    sent = [VALID["box"], VALID["point"], {**VALID["box"], "label": "dog"}, VALID["segment"], VALID["note"]]
    assert owner.post(f"/api/v1/items/{item.id}/annotations", sent, format="json").status_code == 201

    answer = owner.post(f"/api/v1/datasets/{dataset.id}/query", body, format="json")

    assert answer.status_code == 200
    compiled = selectors.annotation_compile(body)
    matches = compiled.filter(Annotation.objects.filter(dataset=dataset))
    page = paginate(compiled.apply(selectors.with_authors(matches)), compiled)  # the ORM's own rows
    rules = recipe_rules(dataset)
    assert answer.json() == page.to_json(lambda a: _dump([a], mask_format="png", rules=rules)[0])
    assert answer.json()["items"]
