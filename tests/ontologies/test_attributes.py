"""Attributes v2: definitions through the API, and values checked against them."""

import pytest

from annotator.ontologies.attributes import attribute_value_errors
from annotator.ontologies.models import Ontology
from annotator.ontologies.selectors import attributes_for, mandatory_attributes_for

pytestmark = pytest.mark.django_db

ALL = ["owner", "engineer", "annotationManager", "annotator", "reviewer"]
EDITORS = {"owner", "engineer"}

COLOR = {"title": "Color", "key": "color", "type": "options", "multi": False, "values": ["red", "blue"]}
PARTS = {"title": "Parts", "key": "parts", "type": "options", "multi": True, "values": ["door", "wheel", "roof"]}
PARKED = {"title": "Parked", "key": "parked", "type": "boolean", "optional": False, "scope": ["Vehicle.Car"]}
NOTE = {"title": "Note", "key": "note", "type": "freeText", "scope": ["*"]}
SPEED = {"title": "Speed", "key": "speed", "type": "range", "range": {"min": 0, "max": 100, "step": 5}}


def url(ontology):
    return f"/api/v1/ontologies/{ontology.id}/attributes"


def stored(ontology):
    return Ontology.objects.get(pk=ontology.pk).attributes


# --- definitions through the API ----------------------------------------------------------------------
@pytest.mark.parametrize("role", ALL)
def test_only_editors_change_attributes(client_for, members, ontology, role):
    response = client_for(members[role]).patch(url(ontology), {"items": [COLOR], "upsert": True}, format="json")
    if role in EDITORS:
        assert response.status_code == 200
        assert [a["key"] for a in stored(ontology)] == ["color"]
    else:
        assert response.status_code == 403 and stored(ontology) == []


def test_update_attributes_as_the_sdk_sends_it(client_for, members, ontology, events):
    # given: ontology.update_attributes(title="Color", key="color", attribute_type=RADIO_BUTTON, scope=["Person"], ...)
    item = {"title": "Color", "key": "color", "type": "options", "multi": False, "values": ["red", "blue"]}
    item["scope"] = ["Person"]

    # when
    response = client_for(members["owner"]).patch(url(ontology), {"items": [item], "upsert": True}, format="json")

    # then: the whole ontology, with the attribute under metadata.attributes (what the SDK reads) and attributes
    assert response.status_code == 200, response.json()
    expected = {
        "key": "color",
        "title": "Color",
        "type": "options",
        "scope": ["Person"],
        "optional": True,
        "values": ["red", "blue"],
        "multi": False,
    }
    assert response.json()["metadata"]["attributes"] == [expected] == response.json()["attributes"]
    assert "roots" in response.json()
    assert stored(ontology) == [expected]
    assert events[-1][1] == "ontology.updated"


def test_every_type_is_accepted_and_normalised(client_for, members, ontology):
    items = [COLOR, PARTS, PARKED, NOTE, SPEED]
    response = client_for(members["owner"]).patch(url(ontology), {"items": items, "upsert": True}, format="json")
    assert response.status_code == 200, response.json()
    by_key = {a["key"]: a for a in stored(ontology)}
    assert list(by_key) == ["color", "parts", "parked", "note", "speed"]
    assert by_key["color"]["multi"] is False and by_key["parts"]["multi"] is True
    assert by_key["color"]["scope"] == ["*"] and by_key["color"]["optional"] is True
    assert by_key["parked"] == {
        "key": "parked",
        "title": "Parked",
        "type": "boolean",
        "scope": ["Vehicle.Car"],
        "optional": False,
    }
    assert by_key["speed"]["range"] == {"min": 0, "max": 100, "step": 5} and "values" not in by_key["speed"]


def test_sdk_checkbox_and_radio_types_become_options(client_for, members, ontology):
    items = [
        {"key": "a", "title": "A", "type": "checkbox", "values": ["x"]},
        {"key": "b", "title": "B", "type": "radio_button", "values": ["y"]},
    ]
    client_for(members["owner"]).patch(url(ontology), {"items": items, "upsert": True}, format="json")
    assert [(a["type"], a["multi"]) for a in stored(ontology)] == [("options", True), ("options", False)]


def test_upsert_replaces_by_key_in_place(client_for, members, ontology):
    api = client_for(members["owner"])
    api.patch(url(ontology), {"items": [COLOR, NOTE], "upsert": True}, format="json")
    changed = {**COLOR, "values": ["green"], "title": "Colour"}
    api.patch(url(ontology), {"items": [changed], "upsert": True}, format="json")
    assert [(a["key"], a["title"]) for a in stored(ontology)] == [("color", "Colour"), ("note", "Note")]
    assert stored(ontology)[0]["values"] == ["green"]


def test_without_upsert_an_unknown_key_is_400(client_for, members, ontology):
    api = client_for(members["owner"])
    response = api.patch(url(ontology), {"items": [COLOR], "upsert": False}, format="json")
    assert response.status_code == 400 and "color" in response.json()["message"]
    assert stored(ontology) == []


def test_delete_attributes_by_key(client_for, members, ontology):
    api = client_for(members["owner"])
    api.patch(url(ontology), {"items": [COLOR, NOTE, SPEED], "upsert": True}, format="json")
    response = api.delete(url(ontology), {"keys": ["color", "speed"]}, format="json")
    assert response.status_code == 200
    assert [a["key"] for a in stored(ontology)] == ["note"]
    assert api.delete(url(ontology), {"keys": ["ghost"]}, format="json").status_code == 400
    assert [a["key"] for a in stored(ontology)] == ["note"]


@pytest.mark.parametrize("role", ALL)
def test_only_editors_delete_attributes(client_for, members, project, ontology, role):
    client_for(members["owner"]).patch(url(ontology), {"items": [NOTE], "upsert": True}, format="json")
    response = client_for(members[role]).delete(url(ontology), {"keys": ["note"]}, format="json")
    assert response.status_code == (200 if role in EDITORS else 403)
    assert (stored(ontology) == []) is (role in EDITORS)


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"title": "No key", "type": "boolean"}, "items[1].key"),
        ({"key": "", "type": "boolean"}, "items[1].key"),
        ({"key": "k", "type": "slider"}, "type"),
        ({"key": "k"}, "type"),
        ({"key": "k", "type": "options"}, "values"),
        ({"key": "k", "type": "options", "values": []}, "values"),
        ({"key": "k", "type": "options", "values": ["a", "a"]}, "values"),
        ({"key": "k", "type": "options", "values": ["a", 2]}, "values"),
        ({"key": "k", "type": "options", "values": ["a"], "multi": "yes"}, "multi"),
        ({"key": "k", "type": "boolean", "values": ["a"]}, "values"),
        ({"key": "k", "type": "boolean", "multi": True}, "multi"),
        ({"key": "k", "type": "range"}, "range"),
        ({"key": "k", "type": "range", "range": {"min": 5, "max": 5, "step": 1}}, "range"),
        ({"key": "k", "type": "range", "range": {"min": 9, "max": 1, "step": 1}}, "range"),
        ({"key": "k", "type": "range", "range": {"min": 0, "max": 10, "step": 0}}, "range"),
        ({"key": "k", "type": "range", "range": {"min": 0, "max": 10, "step": -1}}, "range"),
        ({"key": "k", "type": "range", "range": {"min": 0, "max": 10, "step": 11}}, "range"),
        ({"key": "k", "type": "range", "range": {"min": "0", "max": 10, "step": 1}}, "range"),
        ({"key": "k", "type": "range", "range": {"min": True, "max": 10, "step": 1}}, "range"),
        ({"key": "k", "type": "freeText", "range": {"min": 0, "max": 1, "step": 1}}, "range"),
        ({"key": "k", "type": "freeText", "scope": ["Nope"]}, "scope"),
        ({"key": "k", "type": "freeText", "scope": ["*", "Person"]}, "scope"),
        ({"key": "k", "type": "freeText", "scope": "Person"}, "scope"),
        ({"key": "k", "type": "freeText", "optional": "no"}, "optional"),
        ({"key": "k", "type": "freeText", "title": 3}, "title"),
        ({**NOTE}, "key"),  # the same key twice in one request
        ("occluded", "items[1]"),
    ],
)
def test_bad_definitions_are_400_naming_attribute_and_field(client_for, members, ontology, item, field):
    # given
    api = client_for(members["owner"])
    api.patch(url(ontology), {"items": [SPEED], "upsert": True}, format="json")

    # when
    response = api.patch(url(ontology), {"items": [NOTE, item], "upsert": True}, format="json")

    # then
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["details"]["field"] == field
    if isinstance(item, dict) and item.get("key"):
        assert body["details"]["attribute"] == item["key"] and repr(item["key"]) in body["message"]
    assert [a["key"] for a in stored(ontology)] == ["speed"]


def test_scope_may_name_nested_labels_by_full_tag(client_for, members, ontology):
    item = {**NOTE, "scope": ["Vehicle.Truck", "Vehicle.Truck"]}
    response = client_for(members["owner"]).patch(url(ontology), {"items": [item], "upsert": True}, format="json")
    assert response.status_code == 200
    assert stored(ontology)[0]["scope"] == ["Vehicle.Truck"]


# --- which attributes apply ------------------------------------------------------------------------
def test_mandatory_attributes_for_a_label(client_for, members, ontology):
    items = [PARKED, {**NOTE, "optional": False}, {**COLOR, "scope": ["Person"], "optional": False}, SPEED]
    client_for(members["owner"]).patch(url(ontology), {"items": items, "upsert": True}, format="json")
    ontology.refresh_from_db()
    assert [a["key"] for a in mandatory_attributes_for(ontology, "Vehicle.Car")] == ["parked", "note"]
    assert [a["key"] for a in mandatory_attributes_for(ontology, "Person")] == ["note", "color"]
    assert [a["key"] for a in mandatory_attributes_for(ontology, "Vehicle")] == ["note"]  # scopes are exact
    assert [a["key"] for a in attributes_for(ontology, "Vehicle.Truck")] == ["note", "speed"]


# --- attribute_value_errors ---------------------------------------------------------------------------
def defn(base, **changes):
    return {"scope": ["*"], "optional": True, **base, **changes}


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        (defn(COLOR), "red"),
        (defn(PARTS), ["door", "roof"]),
        (defn(PARTS), []),
        (defn(PARKED), False),
        (defn(PARKED), True),
        (defn(NOTE), "anything at all"),
        (defn(SPEED), 0),
        (defn(SPEED), 35),
        (defn(SPEED), 100),
        (defn(SPEED), 35.0),
        (defn(SPEED, range={"min": 0, "max": 1, "step": 0.1}), 0.3),
        (defn(COLOR), None),
    ],
)
def test_good_values_have_no_errors(attribute, value):
    assert attribute_value_errors(attribute, value) == []


@pytest.mark.parametrize(
    ("attribute", "value", "fragment"),
    [
        (defn(COLOR), "green", "not one of"),
        (defn(COLOR), ["red"], "one option"),
        (defn(COLOR), 1, "one option"),
        (defn(PARTS), "door", "list of options"),
        (defn(PARTS), ["door", "engine"], "'engine' is not one of"),
        (defn(PARTS), ["door", "door"], "twice"),
        (defn(PARKED), "yes", "true or false"),
        (defn(PARKED), 1, "true or false"),
        (defn(NOTE), 12, "takes text"),
        (defn(NOTE), "x" * 10_001, "longer"),
        (defn(SPEED), "35", "number"),
        (defn(SPEED), True, "number"),
        (defn(SPEED), -5, "outside"),
        (defn(SPEED), 105, "outside"),
        (defn(SPEED), 33, "step"),
        (defn(COLOR, optional=False), None, "mandatory"),
        (defn(PARTS, optional=False), [], "mandatory"),
        (defn(NOTE, optional=False), "", "mandatory"),
    ],
)
def test_bad_values_are_explained(attribute, value, fragment):
    errors = attribute_value_errors(attribute, value)
    assert errors and any(fragment in error for error in errors), errors
    assert all(repr(attribute["key"]) in error for error in errors)
