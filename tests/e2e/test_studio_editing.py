"""Editing tools in the studio, driven by real mouse and keyboard events: rotating a box,
freehand polygons, polygon to mask, z-order, and pasting onto another item."""

import io
import math

import pytest
from playwright.sync_api import expect

from annotator.accounts.management.commands.seed_demo import street_scene
from annotator.annotations.masks import Mask, mask_decode
from annotator.annotations.models import Annotation
from annotator.datasets import services as dataset_services
from tests.e2e.test_journeys import run_in_thread
from tests.e2e.test_studio import drag, objects, open_studio, saved, stored, street_item, to_screen  # noqa: F401
from tests.e2e.test_tasks_journey import browse, create_task, start_work, team  # noqa: F401

pytestmark = pytest.mark.e2e


def test_rotate_a_box_with_its_handle_and_the_keyboard(page, log_in, street_item, screenshot_dir):  # noqa: F811
    owner, item = street_item
    log_in(owner)
    open_studio(page, item)
    drag(page, (100, 300), (260, 380))
    box_button = objects(page).get_by_role("button", name="car box 1", exact=True)
    expect(box_button).to_have_attribute("aria-pressed", "true")
    expect(saved(page)).to_be_visible()
    page.get_by_role("button", name="Select", exact=True).click()
    expect(page.get_by_role("button", name="Select", exact=True)).to_have_attribute("aria-pressed", "true")

    # The handle sits 28 screen pixels above the middle of the top edge; drag it to the right of the centre.
    page.screenshot(path=str(screenshot_dir / "studio-rotate-handle.png"))
    top_x, top_y = to_screen(page, 180, 300)
    page.mouse.move(top_x, top_y - 28)
    page.mouse.down()
    page.mouse.move(*to_screen(page, 380, 340), steps=8)
    page.mouse.up()
    expect(saved(page)).to_be_visible()
    (box,) = stored(item)
    assert box.version == 2 and abs(box.coordinates[2] - 90) < 1
    # Rotation keeps the centre and the size.
    assert abs((box.coordinates[0]["x"] + box.coordinates[1]["x"]) / 2 - 180) < 1.5
    assert abs(box.coordinates[1]["x"] - box.coordinates[0]["x"] - 160) < 1.5
    page.screenshot(path=str(screenshot_dir / "studio-rotated.png"))

    # Its corners turned with it; dragging one resizes the box and keeps the angle and the opposite corner.
    drag(page, (220, 260), (230, 250))
    expect(saved(page)).to_be_visible()
    (box,) = stored(item)
    assert box.version == 3 and abs(box.coordinates[2] - 90) < 0.01
    assert abs(box.coordinates[1]["x"] - box.coordinates[0]["x"] - 170) < 1.5
    assert abs(box.coordinates[1]["y"] - box.coordinates[0]["y"] - 90) < 1.5

    # From the keyboard: "." turns by 15°, Shift+"," back by 1°.
    page.keyboard.press(".")
    page.keyboard.press("Shift+Comma")
    expect(saved(page)).to_be_visible()
    (box,) = stored(item)
    assert abs(box.coordinates[2] - 104) < 0.01

    # Each turn and the resize are one undoable change each; undoing all four brings the upright box back.
    for _ in range(4):
        page.get_by_role("button", name="Undo").click()
    expect(saved(page)).to_be_visible()
    (box,) = stored(item)
    assert len(box.coordinates) == 2 and abs(box.coordinates[0]["x"] - 100) < 1.5


def test_freehand_polygon_is_simplified(page, log_in, street_item, screenshot_dir):  # noqa: F811
    owner, item = street_item
    log_in(owner)
    open_studio(page, item)
    page.get_by_role("button", name="Polygon", exact=True).click()

    # Hold the button and trace a circle of radius 60 around (320, 240), 120 mouse moves.
    page.mouse.move(*to_screen(page, 380, 240))
    page.mouse.down()
    for step in range(1, 121):
        angle = step * 2 * math.pi / 120
        page.mouse.move(*to_screen(page, 320 + 60 * math.cos(angle), 240 + 60 * math.sin(angle)))
    page.mouse.up()
    expect(objects(page).get_by_role("button", name="car polygon 1", exact=True)).to_be_visible()
    expect(saved(page)).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "studio-freehand.png"))

    (polygon,) = stored(item)
    ring = polygon.coordinates[0]
    assert 8 <= len(ring) < 60
    for point in ring:
        assert abs(math.hypot(point["x"] - 320, point["y"] - 240) - 60) < 3

    # A plain click still adds a single point: the click-by-click polygon is unchanged.
    for point in [(50, 50), (150, 50), (150, 150)]:
        page.mouse.click(*to_screen(page, *point))
    page.keyboard.press("Enter")
    expect(objects(page).get_by_role("button", name="car polygon 2", exact=True)).to_be_visible()
    expect(saved(page)).to_be_visible()
    assert len(stored(item)[1].coordinates[0]) == 3


def click_polygon(page, points) -> None:
    page.get_by_role("button", name="Polygon", exact=True).click()
    for point in points:
        page.mouse.click(*to_screen(page, *point))
    page.keyboard.press("Enter")


def test_fill_a_polygon_as_a_mask(page, log_in, street_item, screenshot_dir):  # noqa: F811
    owner, item = street_item
    log_in(owner)
    open_studio(page, item)
    click_polygon(page, [(100, 100), (300, 100), (300, 200), (100, 200)])
    polygon_row = objects(page).get_by_role("button", name="car polygon 1", exact=True)
    expect(polygon_row).to_have_attribute("aria-pressed", "true")

    page.screenshot(path=str(screenshot_dir / "studio-polygon-tools.png"))
    objects(page).get_by_role("button", name="Fill as mask").click()
    mask_row = objects(page).get_by_role("button", name="car mask 2", exact=True)
    expect(mask_row).to_have_attribute("aria-pressed", "true")
    expect(saved(page)).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "studio-fill-mask.png"))

    polygon, mask_annotation = stored(item)
    assert (polygon.type, mask_annotation.type, mask_annotation.label) == ("segment", "binary", "car")
    mask = run_in_thread(lambda: mask_decode(Mask.from_json(mask_annotation.coordinates)))
    assert mask.shape == (480, 640)
    assert mask[100, 100] and mask[199, 299] and not mask[200, 150] and not mask[150, 300] and not mask[99, 150]
    assert int(mask.sum()) == 200 * 100

    # From the keyboard: select the polygon (Tab on the canvas), Shift+M.
    polygon_row.click()
    page.keyboard.press("Shift+M")
    expect(objects(page).get_by_role("button", name="car mask 3", exact=True)).to_have_attribute("aria-pressed", "true")


def test_bring_forward_and_send_backward(page, log_in, street_item, screenshot_dir):  # noqa: F811
    owner, item = street_item
    log_in(owner)
    open_studio(page, item)
    # Two overlapping boxes; the second is on top, so a click in the overlap picks it.
    drag(page, (100, 100), (300, 300))
    drag(page, (200, 200), (400, 400))
    page.get_by_role("button", name="Select", exact=True).click()
    first = objects(page).get_by_role("button", name="car box 1", exact=True)
    first.click()
    page.screenshot(path=str(screenshot_dir / "studio-object-tools.png"))
    backward = objects(page).get_by_role("button", name="Send backward")
    expect(backward).to_be_disabled()

    objects(page).get_by_role("button", name="Bring forward").click()
    # Now on top: first in the list's order is the other box, and a click in the overlap hits box 1's shape.
    expect(objects(page).get_by_role("button", name="Bring forward")).to_be_disabled()
    page.keyboard.press("Escape")
    page.mouse.click(*to_screen(page, 250, 250))
    expect(objects(page).get_by_role("button", name="car box 2", exact=True)).to_have_attribute("aria-pressed", "true")
    # The list numbers objects bottom first, so the box drawn first is now "car box 2".
    assert page.evaluate("window.studio.hitTest(250, 250)") == page.evaluate("window.studio.state().selected[0]")

    # Ctrl+[ sends it back; Ctrl+Z undoes that.
    page.keyboard.press("Control+BracketLeft")
    expect(objects(page).get_by_role("button", name="car box 1", exact=True)).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Control+z")
    expect(objects(page).get_by_role("button", name="car box 2", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(saved(page)).to_be_visible()


def test_copy_on_one_item_and_paste_on_another(page, log_in, street_item, screenshot_dir):  # noqa: F811
    owner, item = street_item
    other = run_in_thread(
        lambda: dataset_services.item_upload(
            user=owner, dataset_id=item.dataset_id, path="/street-2.jpg", fileobj=io.BytesIO(street_scene(4))
        )[0]
    )
    log_in(owner)
    open_studio(page, item)
    drag(page, (100, 300), (260, 380))
    expect(saved(page)).to_be_visible()
    page.keyboard.press("Control+c")

    open_studio(page, other)
    page.keyboard.press("Control+v")
    expect(objects(page).get_by_role("button", name="car box 1", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(saved(page)).to_be_visible()
    (pasted,) = stored(other)
    # In place: another image, so no offset.
    assert abs(pasted.coordinates[0]["x"] - 100) < 1.5 and abs(pasted.coordinates[1]["y"] - 380) < 1.5

    # A second paste on the same item is offset, so it does not hide the first.
    page.keyboard.press("Control+v")
    expect(objects(page).get_by_role("button", name="car box 2", exact=True)).to_be_visible()
    expect(saved(page)).to_be_visible()
    assert stored(other)[1].coordinates[0]["x"] > 101


def test_in_a_task_paste_the_copied_shapes_onto_the_next_item(team, browse):  # noqa: F811
    manager = browse(team["manager"])
    create_task(manager, team["project"], "Label streets", people=["ann@example.com"])
    ann = browse(team["ann"])
    first = start_work(ann, "Label streets")

    drag(ann, (100, 300), (260, 380))
    ann.get_by_role("form", name="Attributes").get_by_label("Colour").select_option("red")
    expect(saved(ann)).to_be_visible()
    ann.get_by_role("button", name="Select", exact=True).click()
    objects(ann).get_by_role("button", name="car box 1", exact=True).click()
    ann.keyboard.press("Control+c")
    ann.get_by_role("button", name="Complete", exact=True).click()
    expect(ann.locator("#studio")).not_to_have_attribute("data-item-id", first)
    expect(ann.locator("#studio")).to_have_attribute("data-ready", "true")
    second = ann.evaluate("window.studio.itemId()")

    ann.keyboard.press("Control+v")
    expect(objects(ann).get_by_role("button", name="car box 1", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(saved(ann)).to_be_visible()
    (pasted,) = run_in_thread(lambda: list(Annotation.objects.filter(item_id=second)))
    assert pasted.label == "car" and pasted.metadata["system"]["attributes"] == {"color": "red"}
    assert abs(pasted.coordinates[0]["x"] - 100) < 1.5 and abs(pasted.coordinates[1]["y"] - 380) < 1.5
