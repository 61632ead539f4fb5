"""The recipe editor (/recipes/<id>/): labels, hotkeys, attributes, tools per label, instructions.

Controls are found by role and accessible name; every wait is an auto-waiting `expect`, and the
database is checked after each change the page reports as saved.
"""

import re

import pytest
from playwright.sync_api import expect

from annotator.datasets.services import dataset_create
from annotator.ontologies import services as ontology_services
from annotator.ontologies.labels import flatten
from annotator.ontologies.models import Ontology, Recipe
from tests.e2e.test_journeys import run_in_thread
from tests.factories import MembershipFactory, ProjectFactory

pytestmark = pytest.mark.e2e


def make_dataset(owner, name: str = "Streets", labels=None):
    """A dataset of a new project of `owner`, with its default recipe: (dataset, recipe, ontology).

    Services run in a thread of their own, where their broadcasts work (see run_in_thread)."""
    project = ProjectFactory(creator=owner)
    dataset = run_in_thread(
        lambda: dataset_create(
            user=owner, project_id=project.id, name=name, labels=labels or [{"tag": "car", "color": "#ff0000"}]
        )
    )
    recipe = Recipe.objects.get(pk=dataset.metadata["system"]["recipes"][0])
    return dataset, recipe, recipe.ontologies.get()


def labels_in_db(ontology) -> dict[str, dict]:
    """{full tag: value} of the ontology as stored now."""
    return dict(flatten(Ontology.objects.get(pk=ontology.id).roots))


def label_row(page, tag: str):
    return page.get_by_role("group", name=f"Label {tag}", exact=True)


def status(page, text: str):
    return page.get_by_role("status").filter(has_text=text)


def test_an_owner_edits_labels_hotkeys_attributes_tools_and_instructions(live_server, page, log_in, screenshot_dir):
    # given: a dataset whose recipe has one label
    owner = ProjectFactory().creator
    dataset, recipe, ontology = make_dataset(owner)
    log_in(owner)

    # when: the owner follows the dataset page's link to the editor
    page.goto(f"/datasets/{dataset.id}/")
    page.get_by_role("link", name="Labels and recipe").click()

    # then: the label tree shows the label with its hotkey
    expect(page).to_have_url(f"{live_server.url}/recipes/{recipe.id}/")
    expect(page.get_by_role("heading", level=1, name="Streets Default Recipe")).to_be_visible()
    expect(label_row(page, "car").locator("kbd")).to_have_text("1")

    # Labels get the next free hotkeys: 2, then a dotted tag makes a parent and a child.
    add_form = page.get_by_role("form", name="Add a label")
    add_form.get_by_label("Tag").fill("truck")
    add_form.get_by_role("button", name="Add label").click()
    expect(status(page, "Label truck added with hotkey 2.")).to_be_visible()
    expect(label_row(page, "truck").locator("kbd")).to_have_text("2")
    assert labels_in_db(ontology)["truck"]["hotkey"] == "2"

    add_form.get_by_label("Tag").fill("vehicle.bus")
    add_form.get_by_label("Colour").fill("#00aa00")
    add_form.get_by_label("Hotkey").fill("b")
    add_form.get_by_role("button", name="Add label").click()
    expect(status(page, "Label vehicle.bus added with hotkey b.")).to_be_visible()
    expect(label_row(page, "vehicle.bus").locator("kbd")).to_have_text("b")
    expect(label_row(page, "vehicle").locator("kbd")).to_have_text("3")
    stored = labels_in_db(ontology)
    assert list(stored) == ["car", "truck", "vehicle", "vehicle.bus"]
    assert (stored["vehicle.bus"]["color"], stored["vehicle.bus"]["hotkey"]) == ("#00aa00", "b")
    assert stored["vehicle"]["hotkey"] == "3"

    # A hotkey another label has is refused, and the alert names both labels.
    page.get_by_role("button", name="Edit truck", exact=True).click()
    edit_form = page.get_by_role("form", name="Edit label truck")
    edit_form.get_by_label("Hotkey").fill("1")
    edit_form.get_by_role("button", name="Save").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Hotkey '1' is already used by label 'car'; choose another for 'truck'.")
    expect(edit_form.get_by_label("Hotkey")).to_have_attribute("aria-invalid", "true")
    assert labels_in_db(ontology)["truck"]["hotkey"] == "2"

    edit_form.get_by_label("Hotkey").fill("t")
    edit_form.get_by_label("Display label").fill("Truck")
    edit_form.get_by_label("Colour").fill("#123456")
    edit_form.get_by_role("button", name="Save").click()
    expect(status(page, "Label truck saved.")).to_be_visible()
    expect(alert).to_be_hidden()
    expect(edit_form).to_have_count(0)
    expect(label_row(page, "truck").locator("kbd")).to_have_text("t")
    expect(label_row(page, "truck")).to_contain_text("Truck")
    truck = labels_in_db(ontology)["truck"]
    assert (truck["hotkey"], truck["displayLabel"], truck["color"]) == ("t", "Truck", "#123456")

    # Deleting a parent deletes the label under it too (after a confirmation).
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Delete vehicle", exact=True).click()
    expect(status(page, "Label vehicle and 1 under it deleted.")).to_be_visible()
    assert dialogs == ["Delete label vehicle and the 1 label under it?"]
    expect(label_row(page, "vehicle.bus")).to_have_count(0)
    assert list(labels_in_db(ontology)) == ["car", "truck"]

    # Attributes of every type.
    page.get_by_role("button", name="New attribute").click()
    form = page.get_by_role("form", name="New attribute")
    form.get_by_label("Title").fill("Colour")
    form.get_by_label("Type").select_option("options")
    form.get_by_label("Values, one per line").fill("red\nblue\nsilver")
    form.get_by_label("Several values may be chosen").check()
    form.get_by_label("Only the labels ticked below").check()
    form.get_by_role("checkbox", name="car", exact=True).check()
    form.get_by_role("button", name="Add attribute").click()
    expect(status(page, "Attribute Colour added.")).to_be_visible()
    expect(form).to_be_hidden()
    expect(page.get_by_role("group", name="Attribute Colour")).to_contain_text("Any of: red, blue, silver")

    page.get_by_role("button", name="New attribute").click()
    form.get_by_label("Title").fill("Occluded")
    form.get_by_label("Type").select_option("boolean")
    form.get_by_label("Mandatory").check()
    form.get_by_role("button", name="Add attribute").click()
    expect(status(page, "Attribute Occluded added.")).to_be_visible()

    page.get_by_role("button", name="New attribute").click()
    form.get_by_label("Title").fill("Plate number")
    form.get_by_label("Key").fill("plate")
    form.get_by_label("Type").select_option("freeText")
    form.get_by_role("button", name="Add attribute").click()
    expect(status(page, "Attribute Plate number added.")).to_be_visible()

    # A range the server refuses shows its message; the corrected one is added.
    page.get_by_role("button", name="New attribute").click()
    form.get_by_label("Title").fill("Speed")
    form.get_by_label("Type").select_option("range")
    form.get_by_label("Minimum").fill("120")
    form.get_by_label("Maximum").fill("0")
    form.get_by_label("Step").fill("5")
    form.get_by_label("Only the labels ticked below").check()
    form.get_by_role("checkbox", name="truck", exact=True).check()
    form.get_by_role("button", name="Add attribute").click()
    expect(alert).to_contain_text("Attribute 'speed': range min (120) must be less than max (0).")
    page.screenshot(path=screenshot_dir / "recipe-editor-attribute-error.png", full_page=True)
    form.get_by_label("Minimum").fill("0")
    form.get_by_label("Maximum").fill("120")
    form.get_by_role("button", name="Add attribute").click()
    expect(status(page, "Attribute Speed added.")).to_be_visible()
    expect(alert).to_be_hidden()
    expect(page.get_by_role("group", name="Attribute Speed")).to_contain_text("0 to 120, step 5")

    attributes = {a["key"]: a for a in Ontology.objects.get(pk=ontology.id).attributes}
    assert list(attributes) == ["colour", "occluded", "plate", "speed"]
    assert attributes["colour"] == {
        "key": "colour",
        "title": "Colour",
        "type": "options",
        "scope": ["car"],
        "optional": True,
        "values": ["red", "blue", "silver"],
        "multi": True,
    }
    assert attributes["occluded"] == {
        "key": "occluded",
        "title": "Occluded",
        "type": "boolean",
        "scope": ["*"],
        "optional": False,
    }
    assert attributes["plate"] == {
        "key": "plate",
        "title": "Plate number",
        "type": "freeText",
        "scope": ["*"],
        "optional": True,
    }
    assert attributes["speed"] == {
        "key": "speed",
        "title": "Speed",
        "type": "range",
        "scope": ["truck"],
        "optional": True,
        "range": {"min": 0, "max": 120, "step": 5},
    }

    # Editing an attribute keeps its key; deleting one asks first.
    page.get_by_role("button", name="Edit attribute Plate number").click()
    form = page.get_by_role("form", name="Edit attribute Plate number")
    expect(form.get_by_label("Key")).to_have_value("plate")
    expect(form.get_by_label("Key")).not_to_be_editable()
    form.get_by_label("Mandatory").check()
    form.get_by_role("button", name="Save attribute").click()
    expect(status(page, "Attribute Plate number saved.")).to_be_visible()
    assert Ontology.objects.get(pk=ontology.id).attributes[2]["optional"] is False
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete attribute Occluded").click()
    expect(status(page, "Attribute Occluded deleted.")).to_be_visible()
    expect(page.get_by_role("group", name="Attribute Occluded")).to_have_count(0)
    assert [a["key"] for a in Ontology.objects.get(pk=ontology.id).attributes] == ["colour", "plate", "speed"]

    # Tools: a truck may only be drawn as a box or a polygon; the car keeps every tool.
    expect(page.get_by_role("checkbox", name="Box for car", exact=True)).to_be_checked()
    for tool in ("Polyline", "Mask", "Point", "Ellipse", "Classification", "Note"):
        page.get_by_role("checkbox", name=f"{tool} for truck", exact=True).uncheck()
    expect(page.get_by_text("Unsaved changes")).to_be_visible()
    page.get_by_role("button", name="Save tools").click()
    expect(status(page, "Tools saved.")).to_be_visible()
    expect(page.get_by_text("Unsaved changes")).to_be_hidden()
    assert Recipe.objects.get(pk=recipe.id).label_tools == {"truck": ["box", "segment"]}

    # Title and instructions.
    recipe_form = page.get_by_role("form", name="Title and instructions")
    expect(recipe_form.get_by_label("Title")).to_have_value("Streets Default Recipe")
    recipe_form.get_by_label("Title").fill("Street scenes")
    recipe_form.get_by_label("Instructions").fill("Box every vehicle.\nSkip reflections.")
    recipe_form.get_by_role("button", name="Save recipe").click()
    expect(status(page, "Recipe saved.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Street scenes")
    stored_recipe = Recipe.objects.get(pk=recipe.id)
    assert (stored_recipe.title, stored_recipe.instructions) == (
        "Street scenes",
        "Box every vehicle.\nSkip reflections.",
    )

    # What was saved is what a fresh load shows.
    page.reload()
    expect(label_row(page, "truck").locator("kbd")).to_have_text("t")
    expect(page.get_by_role("checkbox", name="Box for truck", exact=True)).to_be_checked()
    expect(page.get_by_role("checkbox", name="Point for truck", exact=True)).not_to_be_checked()
    expect(page.get_by_role("group", name="Attribute Speed")).to_contain_text("truck")
    page.get_by_role("button", name="Edit car", exact=True).click()
    expect(page.get_by_role("form", name="Edit label car").get_by_label("Hotkey")).to_have_value("1")
    page.screenshot(path=screenshot_dir / "recipe-editor.png", full_page=True)


def test_renaming_a_label_carries_its_scopes_and_tools_and_deleting_drops_them(
    live_server, page, log_in, screenshot_dir
):
    # given: an attribute and a tool list name the label "truck"
    owner = ProjectFactory().creator
    _dataset, recipe, ontology = make_dataset(owner, labels=[{"tag": "car"}, {"tag": "truck"}])
    run_in_thread(
        lambda: ontology_services.ontology_attributes_upsert(
            user=owner,
            ontology_id=ontology.id,
            items=[{"key": "load", "title": "Load", "type": "boolean", "scope": ["truck"]}],
            upsert=True,
        )
    )
    run_in_thread(
        lambda: ontology_services.recipe_update(user=owner, recipe_id=recipe.id, label_tools={"truck": ["box"]})
    )
    log_in(owner)
    page.goto(f"/recipes/{recipe.id}/")

    # when: the label is renamed
    page.get_by_role("button", name="Edit truck", exact=True).click()
    form = page.get_by_role("form", name="Edit label truck")
    form.get_by_label("Tag").fill("lorry")
    form.get_by_role("button", name="Save").click()

    # then: it keeps its hotkey and colour, and the scope and tools follow it
    expect(status(page, "Label truck renamed to lorry.")).to_be_visible()
    expect(label_row(page, "lorry").locator("kbd")).to_have_text("2")
    expect(page.get_by_role("checkbox", name="Point for lorry", exact=True)).not_to_be_checked()
    before = dict(flatten(ontology.roots))["truck"]
    after = labels_in_db(ontology)["lorry"]
    assert (after["hotkey"], after["color"], after["displayLabel"]) == (before["hotkey"], before["color"], "lorry")
    assert Ontology.objects.get(pk=ontology.id).attributes[0]["scope"] == ["lorry"]
    assert Recipe.objects.get(pk=recipe.id).label_tools == {"lorry": ["box"]}
    page.screenshot(path=screenshot_dir / "recipe-editor-renamed.png")

    # when: it is deleted
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete lorry", exact=True).click()

    # then: the attribute applies to no label, and the tool list is gone with the label
    expect(status(page, "Label lorry deleted.")).to_be_visible()
    expect(page.get_by_role("group", name="Attribute Load")).to_contain_text("Applies to no label")
    assert list(labels_in_db(ontology)) == ["car"]
    assert Ontology.objects.get(pk=ontology.id).attributes[0]["scope"] == []
    assert Recipe.objects.get(pk=recipe.id).label_tools == {}


def test_an_annotator_sees_the_recipe_read_only(live_server, page, log_in, screenshot_dir):
    # given: a recipe with a limited label, an attribute and instructions
    owner = ProjectFactory().creator
    dataset, recipe, ontology = make_dataset(owner, labels=[{"tag": "car"}, {"tag": "vehicle.bus"}])
    run_in_thread(
        lambda: ontology_services.ontology_attributes_upsert(
            user=owner,
            ontology_id=ontology.id,
            items=[{"key": "occluded", "title": "Occluded", "type": "boolean", "optional": False}],
            upsert=True,
        )
    )
    run_in_thread(
        lambda: ontology_services.recipe_update(
            user=owner, recipe_id=recipe.id, label_tools={"car": ["box"]}, instructions="Box every car."
        )
    )
    annotator = MembershipFactory(project=dataset.project, role="annotator").user
    log_in(annotator)

    # when
    page.goto(f"/recipes/{recipe.id}/")

    # then: everything is shown, nothing can be changed
    expect(label_row(page, "car").locator("kbd")).to_have_text("1")
    expect(label_row(page, "vehicle.bus").locator("kbd")).to_have_text("3")
    expect(page.get_by_role("group", name="Attribute Occluded")).to_contain_text("mandatory")
    expect(page.get_by_text("Box every car.")).to_be_visible()
    expect(page.get_by_role("table", name="Tools per label")).to_contain_text("Point for car: not allowed")
    expect(page.get_by_text("your role cannot change it")).to_be_visible()
    expect(page.get_by_role("button", name="Add label")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile(r"^(Edit|Delete) "))).to_have_count(0)
    expect(page.get_by_role("button", name="New attribute")).to_have_count(0)
    expect(page.get_by_role("button", name="Save tools")).to_have_count(0)
    expect(page.get_by_role("button", name="Save recipe")).to_have_count(0)
    expect(page.get_by_role("checkbox")).to_have_count(0)
    expect(page.get_by_role("textbox")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "recipe-editor-read-only.png", full_page=True)
