"""The README's studio section: its shortcut table is the `?` help panel's, and its screenshot
is taken here, on a real item with a few shapes.

STUDIO_SCREENSHOT=1 writes docs/images/studio.png; otherwise the picture goes to test-results/.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.test_studio import drag, objects, open_studio, saved, street_item, to_screen  # noqa: F401

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def readme_shortcuts() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## The studio") :]
    section = section[: section.index("\n## ", 1)]
    rows = re.findall(r"^\| `(.+?)` \| (.+?) \|$", section, re.M)
    return [(keys, does) for keys, does in rows if not does.startswith("Draw with")]


def test_readme_shortcut_table_is_the_help_panels(page, log_in, street_item):  # noqa: F811
    owner, item = street_item
    log_in(owner)
    open_studio(page, item)
    page.get_by_role("button", name="Shortcuts").click()
    table = page.get_by_role("dialog", name="Keyboard shortcuts").get_by_role("table", name="Keyboard shortcuts")
    expect(table).to_be_visible()
    rows = table.locator("tbody tr").evaluate_all("rows => rows.map(r => [...r.cells].map(c => c.textContent))")
    in_app = [(keys, does) for keys, does in rows if not does.startswith("Draw with")]
    assert readme_shortcuts() == in_app


def test_screenshot_for_the_readme(page, log_in, street_item, screenshot_dir):  # noqa: F811
    owner, item = street_item
    log_in(owner)
    open_studio(page, item)

    def polygon(points):
        page.get_by_role("button", name="Polygon", exact=True).click()
        for point in points:
            page.mouse.click(*to_screen(page, *point))
        page.keyboard.press("Enter")

    def colour(name: str, value: str):
        objects(page).get_by_role("button", name=name, exact=True).click()
        page.get_by_role("form", name="Attributes").get_by_label("Colour").select_option(value)

    page.get_by_role("button", name="Box", exact=True).click()
    drag(page, (139, 340), (266, 398))
    drag(page, (412, 284), (496, 343))
    page.get_by_role("radio", name="pedestrian").click()
    page.get_by_role("button", name="Ellipse", exact=True).click()
    drag(page, (47, 265), (74, 324))
    polygon([(86, 240), (103, 240), (106, 266), (103, 294), (86, 294), (83, 266)])
    page.get_by_role("radio", name="car").click()
    polygon([(487, 312), (591, 312), (591, 358), (487, 358)])
    expect(objects(page).get_by_role("button", name="car polygon 5", exact=True)).to_be_visible()
    page.get_by_role("button", name="Select", exact=True).click()
    colour("car box 1", "red")
    colour("car polygon 5", "blue")
    colour("car box 2", "blue")
    page.mouse.click(*to_screen(page, 454, 313))  # select on the canvas, so no focus ring in the list
    expect(objects(page).get_by_role("button", name="car box 2", exact=True)).to_have_attribute("aria-pressed", "true")
    page.mouse.move(*to_screen(page, 600, 120))
    expect(saved(page)).to_be_visible()

    target = (
        ROOT / "docs" / "images" / "studio.png"
        if os.environ.get("STUDIO_SCREENSHOT")
        else screenshot_dir / "studio-readme.png"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target))
