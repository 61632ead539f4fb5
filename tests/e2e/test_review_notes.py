"""Note pins in review: a reviewer drops a note where an object is missing, the item goes back to
its annotator, who finds the pin and its message and replies; the reviewer reads the reply.

Controls are found by role and accessible name; every wait is an `expect` on what a person sees.
"""

import re

import pytest
from playwright.sync_api import expect

from annotator.annotations.models import Annotation
from annotator.annotations.services import annotation_status_set, annotations_create
from tests.e2e.test_journeys import run_in_thread
from tests.e2e.test_studio import drag, objects, open_studio, saved, street_item  # noqa: F401 (fixture)
from tests.e2e.test_tasks_journey import browse, create_task, start_work, team  # noqa: F401 (fixtures)
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.e2e


def test_a_note_pin_goes_back_to_the_annotator_who_replies(team, browse, screenshot_dir):  # noqa: F811
    manager = browse(team["manager"])
    create_task(manager, team["project"], "Label streets", people=["ann@example.com"])
    create_task(manager, team["project"], "Review streets", review_of="Label streets", people=["rita@example.com"])

    # Ann labels one car and completes the item.
    ann = browse(team["ann"])
    first = start_work(ann, "Label streets")
    ann.get_by_role("button", name="Box", exact=True).click()
    drag(ann, (100, 300), (260, 380))
    ann.get_by_role("form", name="Attributes").get_by_label("Colour").select_option("red")
    expect(saved(ann)).to_be_visible()
    ann.get_by_role("button", name="Complete", exact=True).click()
    expect(ann.locator("#studio")).not_to_have_attribute("data-item-id", first)

    # Rita reviews it: a second car was missed, so she drops a note pin on it with a message.
    rita = browse(team["rita"])
    start_work(rita, "Review streets")
    expect(rita.locator("#studio")).to_have_attribute("data-item-id", first)
    note_tool = rita.get_by_role("button", name="Drop a note")
    note_tool.click()
    expect(note_tool).to_have_attribute("aria-pressed", "true")
    drag(rita, (420, 280), (560, 360))
    rita.get_by_label("Note message").fill("A second car is parked here.")
    rita.screenshot(path=str(screenshot_dir / "notes-review-form.png"))
    rita.get_by_role("button", name="Save note").click()
    expect(rita.get_by_role("list", name="Review notes on Note pin 2")).to_contain_text("A second car is parked here.")
    expect(rita.get_by_text("Sent back to the annotator")).to_be_visible()
    expect(note_tool).to_have_attribute("aria-pressed", "false")
    rita.screenshot(path=str(screenshot_dir / "notes-review-pin.png"))
    pin = run_in_thread(lambda: Annotation.objects.get(item_id=first, type="note"))
    assert pin.metadata["system"]["status"] == "issue" and pin.creator.email == "rita@example.com"
    rita.get_by_role("button", name="Next item").click()
    expect(rita.get_by_role("heading", name="Your queue is empty")).to_be_visible()

    # Ann opens the item sent back: the pin is selected, with the message; she draws the car and replies.
    sent_back = ann.get_by_role("button", name=re.compile("^Open the item sent back by review"))
    sent_back.click()
    expect(ann.locator("#studio")).to_have_attribute("data-item-id", first)
    expect(ann.get_by_text("Sent back: 1 issue")).to_be_visible()
    thread = ann.get_by_role("list", name="Review notes on Note pin 2")
    expect(thread).to_contain_text("A second car is parked here.")
    expect(thread).to_contain_text("rita@example.com")
    ann.screenshot(path=str(screenshot_dir / "notes-annotator-pin.png"))
    ann.get_by_role("button", name="Box", exact=True).click()
    drag(ann, (430, 290), (550, 350))
    ann.get_by_role("form", name="Attributes").get_by_label("Colour").select_option("blue")
    expect(saved(ann)).to_be_visible()
    objects(ann).get_by_role("button", name="Note pin 2", exact=True).click()
    ann.get_by_role("textbox", name="Reply", exact=True).fill("Added it, a blue car.")
    ann.get_by_role("button", name="Send reply").click()
    expect(thread).to_contain_text("Added it, a blue car.")
    ann.screenshot(path=str(screenshot_dir / "notes-annotator-reply.png"))
    ann.get_by_role("button", name="Complete", exact=True).click()
    expect(ann.locator("#studio")).not_to_have_attribute("data-item-id", first)

    # The item comes back to Rita; she opens the pin from the review panel and reads the reply.
    expect(rita.locator("#studio")).to_have_attribute("data-item-id", first)
    expect(rita.get_by_text("Fixed, back for review")).to_be_visible()
    rita_thread = rita.get_by_role("list", name="Review notes on Note pin 2")
    expect(rita_thread).to_contain_text("A second car is parked here.")
    expect(rita_thread).to_contain_text("Added it, a blue car.")
    rita.screenshot(path=str(screenshot_dir / "notes-review-reply.png"))
    # With nothing selected, the review panel lists the pins; one opens the pin again.
    rita.get_by_role("application", name=re.compile("^Image canvas")).press("Escape")
    rita.get_by_role("list", name="Note pins").get_by_role("button", name="Note pin 2").click()
    expect(rita_thread).to_contain_text("Added it, a blue car.")
    messages = run_in_thread(lambda: Annotation.objects.get(pk=pin.id).coordinates["note"]["messages"])
    assert [(m["creator"], m["body"]) for m in messages] == [
        ("rita@example.com", "A second car is parked here."),
        ("ann@example.com", "Added it, a blue car."),
    ]


def test_review_notes_are_read_answered_and_marked_fixed_outside_a_task(page, log_in, street_item, screenshot_dir):  # noqa: F811
    """An item opened from its dataset, not from a task, still shows a reviewer's thread: the
    object's review panel lists the messages, takes a reply and marks the fixed object for review;
    the note itself has no attribute form."""
    owner, item = street_item

    def flag_a_box() -> str:
        box = {
            "type": "box",
            "label": "car",
            "coordinates": [{"x": 100, "y": 300}, {"x": 260, "y": 380}],
            "metadata": {"system": {"attributes": {"color": "red"}}},
        }
        (created,), _rules = annotations_create(user=owner, item_id=item.id, annotations=[box])
        annotation_status_set(user=owner, annotation_id=created.id, status="issue", message="The bumper is left out.")
        return created.id

    box_id = run_in_thread(flag_a_box)
    log_in(owner)
    open_studio(page, item)
    review = page.get_by_role("region", name="Review")
    expect(review).to_contain_text("1 object was reviewed")

    objects(page).get_by_role("button", name=re.compile("^car box 1")).click()
    thread = review.get_by_role("list", name="Review notes on car box 1")
    expect(thread).to_contain_text("The bumper is left out.")
    reply = review.get_by_role("form", name="Reply on car box 1")
    reply.get_by_label("Reply").fill("Bumper added.")
    reply.get_by_role("button", name="Send reply").click()
    expect(thread).to_contain_text("Bumper added.")
    review.get_by_role("button", name="Mark car box 1 for review").click()
    expect(review.locator(".review-state")).to_contain_text("review")
    expect(thread).to_contain_text("Fixed.")
    page.screenshot(path=str(screenshot_dir / "studio-review-outside-a-task.png"))

    # The note pinned to the box stands for the box's thread, and has no attributes of its own.
    objects(page).get_by_role("button", name=re.compile("^Review note 2")).click()
    expect(page.get_by_role("form", name="Attributes")).to_contain_text("A reviewer's note has no attributes")
    expect(review.get_by_role("list", name="Review notes on car box 1")).to_contain_text("Bumper added.")

    def stored_review() -> tuple[str, list[str]]:
        box = Annotation.objects.get(pk=box_id)
        note = Annotation.objects.get(item_id=item.id, type="note")
        return box.metadata["system"]["status"], [m["body"] for m in note.coordinates["note"]["messages"]]

    assert run_in_thread(stored_review) == ("review", ["The bumper is left out.", "Bumper added.", "Fixed."])


def test_outside_a_task_a_reviewer_approves_or_flags_a_selected_object(browse, street_item):  # noqa: F811
    """Someone who may review (item.review) approves an object or raises an issue on it in the
    studio opened from the dataset; an annotator there sees the issue but no review buttons."""
    owner, item = street_item
    annotator = UserFactory()

    def two_boxes() -> list[str]:
        MembershipFactory(project=item.dataset.project, role="annotator", user=annotator)
        box = {"type": "box", "label": "car", "coordinates": [{"x": 100, "y": 300}, {"x": 260, "y": 380}]}
        made, _rules = annotations_create(user=owner, item_id=item.id, annotations=[box, box])
        return [a.id for a in made]

    first, second = run_in_thread(two_boxes)
    reviewer_page, annotator_page = browse(owner), browse(annotator)
    open_studio(reviewer_page, item)
    review = reviewer_page.get_by_role("region", name="Review")
    expect(review).to_be_hidden()
    objects(reviewer_page).get_by_role("button", name="car box 1", exact=True).click()
    review.get_by_role("button", name="Approve car box 1").click()
    expect(review.locator(".review-state")).to_contain_text("approved")
    objects(reviewer_page).get_by_role("button", name="car box 2", exact=True).click()
    review.get_by_role("button", name="Raise issue on car box 2").click()
    review.get_by_label("Issue message").fill("The box cuts the bumper off.")
    review.get_by_role("button", name="Send issue").click()
    expect(review.get_by_role("list", name="Review notes on car box 2")).to_contain_text("The box cuts the bumper off.")

    statuses = run_in_thread(
        lambda: {a.id: a.metadata["system"].get("status") for a in Annotation.objects.filter(id__in=[first, second])}
    )
    assert statuses == {first: "approved", second: "issue"}

    open_studio(annotator_page, item)
    objects(annotator_page).get_by_role("button", name=re.compile("^car box 2")).click()
    their_review = annotator_page.get_by_role("region", name="Review")
    expect(their_review.get_by_role("list", name="Review notes on car box 2")).to_contain_text("cuts the bumper")
    expect(their_review.get_by_role("button", name="Mark car box 2 for review")).to_be_visible()
    expect(their_review.get_by_role("button", name=re.compile("^(Approve|Raise issue)"))).to_have_count(0)
