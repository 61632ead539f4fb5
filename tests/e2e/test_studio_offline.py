"""The studio keeps edits made during an outage in IndexedDB: a page closed while offline
hands them to the next page that opens the item, which saves them when the network is back."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_studio import drag, objects, open_studio, saved, stored, street_item  # noqa: F401

pytestmark = pytest.mark.e2e


def test_edits_kept_through_a_closed_page_are_saved_later(page, log_in, street_item, screenshot_dir):  # noqa: F811
    owner, item = street_item
    log_in(owner)
    open_studio(page, item)
    drag(page, (100, 300), (260, 380))
    expect(saved(page)).to_be_visible()
    (first,) = stored(item)

    # Offline: move the saved box and draw a second one.
    page.context.set_offline(True)
    page.get_by_role("button", name="Select", exact=True).click()
    drag(page, (180, 340), (200, 350))
    page.get_by_role("button", name="Box", exact=True).click()
    drag(page, (50, 50), (150, 120))
    expect(objects(page).get_by_role("button", name="car box 2", exact=True)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Offline")).to_be_visible()
    # Both edits are on disk before the page goes away.
    expect(page.locator("#studio")).to_have_attribute("data-outbox", "2")
    page.close()
    assert stored(item) == [first]

    # The network returns; the item opens again in a new page of the same browser profile.
    context = page.context
    context.set_offline(False)
    again = context.new_page()
    open_studio(again, item)
    expect(again.get_by_role("status").filter(has_text=re.compile("Restored 2 unsaved changes"))).to_be_visible()
    expect(objects(again).get_by_role("button", name="car box 2", exact=True)).to_be_visible()
    expect(again.locator("#studio")).to_have_attribute("data-outbox", "0")
    expect(saved(again)).to_be_visible()

    moved, drawn = stored(item)
    assert moved.id == first.id and moved.version == 2 and abs(moved.coordinates[0]["x"] - 120) < 1.5
    assert drawn.type == "box" and abs(drawn.coordinates[0]["x"] - 50) < 1.5

    # Nothing is kept any more: a third page sends nothing again.
    third = context.new_page()
    open_studio(third, item)
    expect(objects(third).get_by_role("button", name="car box 2", exact=True)).to_be_visible()
    expect(objects(third).get_by_role("button", name=re.compile(r"^car box \d+$"))).to_have_count(2)
    assert len(stored(item)) == 2
