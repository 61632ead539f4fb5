"""The studio (/studio/<itemId>): drawing with real mouse events, attributes, undo and redo,
keyboard labelling, saving through an outage, live updates and the 409 dialog.

Data is set up through the services in a thread of their own (see `run_in_thread`); controls
are found by role and accessible name, and every wait is an `expect` on what the user sees.
"""

import io
import re

import pytest
from playwright.sync_api import expect

from annotator.accounts.management.commands.seed_demo import street_scene
from annotator.annotations.masks import Mask, mask_decode
from annotator.annotations.models import Annotation
from annotator.annotations.services import annotation_delete, annotation_update, annotations_create
from annotator.datasets import services as dataset_services
from annotator.ontologies.selectors import recipe_get, recipe_ontologies
from annotator.ontologies.services import ontology_attributes_upsert
from tests.e2e.conftest import csp_violations
from tests.e2e.test_journeys import run_in_thread
from tests.factories import PASSWORD, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.e2e

LABELS = [{"tag": "car", "color": "#e03131"}, {"tag": "pedestrian", "color": "#2f9e44"}]
ATTRIBUTES = [
    {
        "key": "color",
        "title": "Colour",
        "type": "options",
        "values": ["red", "blue"],
        "scope": ["car"],
        "optional": False,
    },
    {"key": "occluded", "title": "Occluded", "type": "boolean", "scope": ["*"], "optional": True},
]


@pytest.fixture
def street_item():
    """An owner and a 640x480 street scene in a dataset whose recipe has two labels and two attributes."""
    owner = UserFactory()
    project = ProjectFactory(creator=owner)

    def make():
        dataset = dataset_services.dataset_create(user=owner, project_id=project.id, name="Streets", labels=LABELS)
        recipe = recipe_get(user=owner, recipe_id=dataset.metadata["system"]["recipes"][0])
        ontology = recipe_ontologies(recipe)[0]
        ontology_attributes_upsert(user=owner, ontology_id=ontology.id, items=ATTRIBUTES, upsert=True)
        item, _op = dataset_services.item_upload(
            user=owner, dataset_id=dataset.id, path="/street.jpg", fileobj=io.BytesIO(street_scene(3))
        )
        return item

    return owner, run_in_thread(make)


def open_studio(page, item) -> None:
    page.goto(f"/studio/{item.id}")
    expect(saved(page)).to_be_visible()
    expect(page.get_by_role("radio", name="car")).to_have_attribute("aria-checked", "true")
    expect(page.locator("#studio")).to_have_attribute("data-image", "full")


def saved(page):
    return page.get_by_role("status").filter(has_text="All changes saved")


def objects(page):
    return page.get_by_role("list", name=re.compile("^Objects"))


def to_screen(page, x: float, y: float) -> tuple[float, float]:
    """Image pixels to page coordinates, through the studio's current view."""
    view = page.evaluate("window.studio.state().view")
    box = page.get_by_role("application", name=re.compile("^Image canvas")).bounding_box()
    return box["x"] + view["x"] + x * view["scale"], box["y"] + view["y"] + y * view["scale"]


def drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*to_screen(page, *start))
    page.mouse.down()
    page.mouse.move(*to_screen(page, *end), steps=6)
    page.mouse.up()


def click_at(page, x: float, y: float) -> None:
    page.mouse.click(*to_screen(page, x, y))


def stored(item) -> list[Annotation]:
    return run_in_thread(lambda: list(Annotation.objects.filter(item_id=item.id).order_by("id")))


def test_draw_a_box_and_a_polygon_then_reload_and_see_them(page, log_in, street_item, screenshot_dir):
    owner, item = street_item
    log_in(owner)
    open_studio(page, item)

    page.get_by_role("button", name="Box", exact=True).click()
    drag(page, (100, 300), (260, 380))
    expect(objects(page).get_by_role("button", name="car box 1", exact=True)).to_be_visible()

    page.get_by_role("button", name="Polygon", exact=True).click()
    page.get_by_role("radio", name="pedestrian").click()
    for point in [(400, 200), (460, 190), (480, 330), (410, 340)]:
        click_at(page, *point)
    click_at(page, 401, 201)  # the first point again closes the polygon
    expect(objects(page).get_by_role("button", name="pedestrian polygon 2", exact=True)).to_be_visible()
    expect(saved(page)).to_be_visible()

    box, polygon = stored(item)
    assert (box.type, box.label, polygon.type, polygon.label) == ("box", "car", "segment", "pedestrian")
    (top_left, bottom_right) = box.coordinates[:2]
    assert abs(top_left["x"] - 100) < 1.5 and abs(bottom_right["y"] - 380) < 1.5
    assert len(polygon.coordinates[0]) == 4
    page.screenshot(path=str(screenshot_dir / "studio-drawn.png"))

    page.reload()
    expect(saved(page)).to_be_visible()
    expect(objects(page).get_by_role("button", name="car box 1", exact=True)).to_be_visible()
    expect(objects(page).get_by_role("button", name="pedestrian polygon 2", exact=True)).to_be_visible()

    # Select on the canvas and move the box with the mouse; the move is saved as an update.
    page.get_by_role("button", name="Select", exact=True).click()
    drag(page, (180, 340), (200, 350))
    expect(objects(page).get_by_role("button", name="car box 1", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(saved(page)).to_be_visible()
    moved = stored(item)[0]
    assert moved.version == 2 and abs(moved.coordinates[0]["x"] - 120) < 1.5
    page.screenshot(path=str(screenshot_dir / "studio-selected.png"))


def test_keyboard_labelling_attributes_undo_and_redo(page, log_in, street_item, screenshot_dir):
    owner, item = street_item
    log_in(owner)
    open_studio(page, item)

    # Pick the label from the keyboard (2 is pedestrian) and draw; then, with the select tool (V),
    # relabel the box from the keyboard (1 is car).
    page.keyboard.press("2")
    expect(page.get_by_role("radio", name="pedestrian")).to_have_attribute("aria-checked", "true")
    drag(page, (300, 320), (420, 400))
    expect(objects(page).get_by_role("button", name="pedestrian box 1", exact=True)).to_be_visible()
    page.keyboard.press("v")
    expect(page.get_by_role("button", name="Select", exact=True)).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("1")
    car_box = objects(page).get_by_role("button", name="car box 1", exact=True)
    # Colour is mandatory for cars: flagged until set.
    expect(car_box).to_have_accessible_description("Missing required attributes: Colour")

    attributes = page.get_by_role("form", name="Attributes")
    expect(attributes.get_by_label("Colour")).to_have_attribute("aria-invalid", "true")
    attributes.get_by_label("Colour").select_option("blue")
    attributes.get_by_label("Occluded").check()
    expect(car_box).to_have_accessible_description("")
    expect(saved(page)).to_be_visible()
    (annotation,) = stored(item)
    assert annotation.label == "car"
    assert annotation.metadata["system"]["attributes"] == {"color": "blue", "occluded": True}
    page.screenshot(path=str(screenshot_dir / "studio-attributes.png"))

    page.keyboard.press("Control+z")
    expect(attributes.get_by_label("Occluded")).not_to_be_checked()
    page.keyboard.press("Control+Shift+z")
    expect(attributes.get_by_label("Occluded")).to_be_checked()

    # Undo everything (draw, relabel, colour, occluded), down to the drawing itself; the server follows.
    undo = page.get_by_role("button", name="Undo")
    for _ in range(4):
        undo.click()
    expect(undo).to_be_disabled()
    expect(objects(page).get_by_role("button", name=re.compile("box"))).to_have_count(0)
    expect(saved(page)).to_be_visible()
    assert stored(item) == []

    redo = page.get_by_role("button", name="Redo")
    for _ in range(4):
        redo.click()
    expect(redo).to_be_disabled()
    expect(objects(page).get_by_role("button", name="car box 1", exact=True)).to_be_visible()
    expect(saved(page)).to_be_visible()
    (annotation,) = stored(item)
    assert annotation.metadata["system"]["attributes"] == {"color": "blue", "occluded": True}

    page.reload()
    expect(saved(page)).to_be_visible()
    objects(page).get_by_role("button", name="car box 1", exact=True).click()
    expect(page.get_by_role("form", name="Attributes").get_by_label("Colour")).to_have_value("blue")

    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog.get_by_role("table", name="Keyboard shortcuts")).to_contain_text("Undo / redo")
    page.screenshot(path=str(screenshot_dir / "studio-help.png"))
    help_dialog.get_by_role("button", name="Close").click()
    expect(help_dialog).to_be_hidden()


def test_edits_made_offline_are_saved_when_the_network_returns(page, log_in, street_item, screenshot_dir):
    owner, item = street_item
    log_in(owner)
    open_studio(page, item)

    page.context.set_offline(True)
    drag(page, (50, 50), (150, 120))
    expect(objects(page).get_by_role("button", name="car box 1", exact=True)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Offline")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "studio-offline.png"))
    assert stored(item) == []

    page.context.set_offline(False)
    expect(saved(page)).to_be_visible()
    (annotation,) = stored(item)
    assert annotation.type == "box"


def test_live_updates_reach_another_studio_and_a_conflict_asks(browser, live_server, street_item, screenshot_dir):
    owner, item = street_item
    viewport = {"width": 1280, "height": 800}
    contexts = [browser.new_context(viewport=viewport, base_url=live_server.url) for _ in range(2)]
    refused = [csp_violations(context) for context in contexts]
    try:
        pages = [context.new_page() for context in contexts]
        for page in pages:
            page.goto("/login/")
            page.get_by_label("Email").fill(owner.email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("button", name="Log out")).to_be_visible()
            open_studio(page, item)
        mine, theirs = pages

        # A box drawn in one studio appears in the other.
        drag(mine, (100, 100), (200, 180))
        expect(saved(mine)).to_be_visible()
        expect(objects(theirs).get_by_role("button", name="car box 1", exact=True)).to_be_visible()

        # Both move it; mine is offline meanwhile, so it saves against an old version.
        contexts[0].set_offline(True)
        objects(mine).get_by_role("button", name="car box 1", exact=True).click()
        mine.get_by_role("application", name=re.compile("^Image canvas")).focus()
        mine.keyboard.press("Shift+ArrowRight")
        objects(theirs).get_by_role("button", name="car box 1", exact=True).click()
        theirs.get_by_role("application", name=re.compile("^Image canvas")).focus()
        theirs.keyboard.press("Shift+ArrowDown")
        expect(saved(theirs)).to_be_visible()
        contexts[0].set_offline(False)

        dialog = mine.get_by_role("dialog", name="Someone else changed this object")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text(re.compile(r"Theirs.*from \((99|100|101), (109|110|111)\)", re.S))
        mine.screenshot(path=str(screenshot_dir / "studio-conflict.png"))
        dialog.get_by_role("button", name="Keep mine").click()
        expect(saved(mine)).to_be_visible()
        (annotation,) = stored(item)
        assert annotation.version == 3  # created, moved by them, then moved by me on top of theirs
        assert abs(annotation.coordinates[0]["x"] - 110) < 1.5 and abs(annotation.coordinates[0]["y"] - 100) < 1.5
    finally:
        for context in contexts:
            context.close()
    assert refused == [[], []]


def test_paint_a_mask_with_the_brush_and_erase_part_of_it(page, log_in, street_item, screenshot_dir):
    owner, item = street_item
    log_in(owner)
    open_studio(page, item)

    page.get_by_role("button", name="Brush", exact=True).click()
    page.keyboard.press("]")  # a larger brush: 16 -> 21 px
    expect(page.get_by_role("status").filter(has_text="Brush size 21 px")).to_be_visible()
    drag(page, (200, 150), (400, 150))
    mask_row = objects(page).get_by_role("button", name="car mask 1", exact=True)
    expect(mask_row).to_be_visible()
    expect(saved(page)).to_be_visible()
    (annotation,) = stored(item)
    assert annotation.type == "binary"
    mask = run_in_thread(lambda: mask_decode(Mask.from_json(annotation.coordinates)))
    assert mask[150, 200] and mask[150, 300] and mask[150, 400] and mask[159, 300]
    assert not mask[175, 300] and not mask[150, 420]
    page.screenshot(path=str(screenshot_dir / "studio-brush.png"))

    # The eraser cuts the stroke in two; the mask stays one annotation.
    page.get_by_role("button", name="Eraser", exact=True).click()
    drag(page, (300, 120), (300, 180))
    expect(saved(page)).to_be_visible()
    (erased,) = stored(item)
    assert erased.version == 2
    mask = run_in_thread(lambda: mask_decode(Mask.from_json(erased.coordinates)))
    assert mask[150, 200] and not mask[150, 300] and mask[150, 400]

    page.reload()
    expect(saved(page)).to_be_visible()
    expect(objects(page).get_by_role("button", name="car mask 1", exact=True)).to_be_visible()


def test_history_lists_every_change_and_restores_a_deleted_object(page, log_in, street_item, screenshot_dir):
    owner, item = street_item
    colleague = UserFactory()

    def earlier_work() -> str:
        """A box drawn and moved, then deleted by a colleague in an earlier session."""
        project = item.dataset.project
        MembershipFactory(project=project, role="annotator", user=colleague)
        car = {"type": "box", "label": "car", "coordinates": [{"x": 100, "y": 300}, {"x": 260, "y": 380}]}
        (made,), _rules = annotations_create(user=owner, item_id=item.id, annotations=[car])
        moved = [{"x": 110, "y": 300}, {"x": 270, "y": 380}]
        annotation_update(user=colleague, annotation_id=made.id, diff={"coordinates": moved})
        annotation_delete(user=colleague, annotation_id=made.id)
        return made.id

    deleted_id = run_in_thread(earlier_work)
    log_in(owner)
    open_studio(page, item)
    expect(objects(page)).to_contain_text("No objects yet")

    page.get_by_role("button", name="History").click()
    history = page.get_by_role("dialog", name="History of this item")
    changes = history.get_by_role("list", name="Changes, newest first")
    expect(changes.get_by_role("listitem")).to_have_text(
        [
            re.compile(f"{colleague.email} deleted car box"),
            re.compile(f"{colleague.email} changed car box: moved or reshaped"),
            re.compile(f"{owner.email} created car box"),
        ]
    )
    page.screenshot(path=str(screenshot_dir / "studio-history.png"))
    history.get_by_role("button", name="Restore car box").click()
    expect(changes.get_by_role("listitem").first).to_contain_text(f"{owner.email} restored car box")
    expect(history.get_by_role("button", name="Restore car box")).to_have_count(0)
    history.get_by_role("button", name="Close").click()
    expect(objects(page).get_by_role("button", name="car box 1", exact=True)).to_be_visible()
    (restored,) = stored(item)
    assert (restored.id, restored.version, restored.coordinates[0]["x"]) == (deleted_id, 3, 110)

    # Deleted here and saved: the history offers it back too.
    objects(page).get_by_role("button", name="car box 1", exact=True).click()
    page.get_by_role("application", name=re.compile("^Image canvas")).focus()
    page.keyboard.press("Delete")
    expect(saved(page)).to_be_visible()
    expect(objects(page)).to_contain_text("No objects yet")
    page.get_by_role("button", name="History").click()
    history.get_by_role("button", name="Restore car box").click()
    history.get_by_role("button", name="Close").click()
    expect(objects(page).get_by_role("button", name="car box 1", exact=True)).to_be_visible()
    assert [a.version for a in stored(item)] == [4]  # a deletion keeps the version; each restore adds one


def test_history_of_the_selected_object_alone(page, log_in, street_item):
    owner, item = street_item

    def earlier_work() -> None:
        car = {"type": "box", "label": "car", "coordinates": [{"x": 100, "y": 300}, {"x": 260, "y": 380}]}
        (made,), _rules = annotations_create(user=owner, item_id=item.id, annotations=[car])
        annotation_update(user=owner, annotation_id=made.id, diff={"label": "pedestrian"})
        annotations_create(user=owner, item_id=item.id, annotations=[{**car, "label": "car"}])

    run_in_thread(earlier_work)
    log_in(owner)
    open_studio(page, item)
    objects(page).get_by_role("button", name="pedestrian box 1", exact=True).click()
    page.get_by_role("button", name="History").click()
    history = page.get_by_role("dialog", name="History of this item")
    changes = history.get_by_role("list", name="Changes, newest first").get_by_role("listitem")
    only = history.get_by_role("switch", name="Only pedestrian box 1")
    expect(only).to_be_checked()
    expect(changes).to_have_text(
        [re.compile("changed pedestrian box: relabelled car → pedestrian"), re.compile("created car box")]
    )
    only.uncheck()
    expect(changes).to_have_count(3)
    expect(changes.first).to_contain_text("created car box")
