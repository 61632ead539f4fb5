"""The task loop in the browser: a manager creates a pulling task and its review from the pages;
two annotators in their own browsers get different items; a completion reaches the manager's
dashboard live; a reviewer sends an object back; the annotator fixes it; the reviewer approves.

Each person has a browser context of their own. Controls are found by role and accessible name,
and every wait is an `expect` on what the person sees.
"""

import io
import re

import pytest
from playwright.sync_api import expect

from annotator.accounts.management.commands.seed_demo import street_scene
from annotator.datasets import services as dataset_services
from annotator.ontologies.selectors import recipe_get, recipe_ontologies
from annotator.ontologies.services import ontology_attributes_upsert
from annotator.tasks.models import TaskItem
from tests.e2e.conftest import csp_violations
from tests.e2e.test_journeys import run_in_thread
from tests.e2e.test_studio import drag, objects, saved
from tests.factories import PASSWORD, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.e2e

LABELS = [{"tag": "car", "color": "#e03131"}]
COLOUR = {
    "key": "color",
    "title": "Colour",
    "type": "options",
    "values": ["red", "blue"],
    "scope": ["car"],
    "optional": False,
}


@pytest.fixture
def team(live_server):
    """A project with a manager (its owner), two annotators and a reviewer, and four street scenes."""
    manager = UserFactory(email="manager@example.com")
    project = ProjectFactory(creator=manager, name="Streets project")
    people = {
        "ann": MembershipFactory(project=project, role="annotator", user=UserFactory(email="ann@example.com")).user,
        "bob": MembershipFactory(project=project, role="annotator", user=UserFactory(email="bob@example.com")).user,
        "rita": MembershipFactory(project=project, role="reviewer", user=UserFactory(email="rita@example.com")).user,
    }

    def make():
        dataset = dataset_services.dataset_create(user=manager, project_id=project.id, name="Streets", labels=LABELS)
        recipe = recipe_get(user=manager, recipe_id=dataset.metadata["system"]["recipes"][0])
        ontology_attributes_upsert(
            user=manager, ontology_id=recipe_ontologies(recipe)[0].id, items=[COLOUR], upsert=True
        )
        for n in range(4):
            dataset_services.item_upload(
                user=manager, dataset_id=dataset.id, path=f"/street-{n}.jpg", fileobj=io.BytesIO(street_scene(n))
            )
        return dataset

    return {"manager": manager, "project": project, "dataset": run_in_thread(make), **people}


@pytest.fixture
def browse(browser, live_server):
    """browse(user): a page in a browser context of the user's own, logged in."""
    contexts, refused = [], []

    def open_as(user):
        context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server.url)
        contexts.append(context)
        refused.append(csp_violations(context))
        page = context.new_page()
        page.goto("/login/")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
        return page

    yield open_as
    for context in contexts:
        context.close()
    assert [message for messages in refused for message in messages] == []


def assignee(page, email: str):
    return page.get_by_role("table", name="Assignees").get_by_role("checkbox", name=re.compile(re.escape(email)))


def create_task(page, project, name: str, *, review_of: str | None = None, people: list[str], shot=None) -> None:
    """Fill the creation form from the project page; the dashboard opens when the Command is done."""
    page.goto(f"/projects/{project.id}/")
    page.get_by_role("link", name="New task").click()
    expect(page.get_by_role("heading", name="New task")).to_be_visible()
    page.get_by_label("Name", exact=True).fill(name)
    if review_of:
        page.get_by_role("radio", name="Review of an annotation task").check()
        page.get_by_label("Task to review").select_option(label=review_of)
    else:
        expect(page.get_by_role("status").filter(has_text="4 items selected.")).to_be_visible()
        page.get_by_role("radio", name="Annotators pull batches").check()
        page.get_by_label("Batch size").fill("1")
        page.get_by_label("Most items held").fill("2")
    for email in ("manager@example.com", "ann@example.com", "bob@example.com", "rita@example.com"):
        box = assignee(page, email)
        box.check() if email in people else box.uncheck()
    if shot:
        page.screenshot(path=str(shot), full_page=True)
    page.get_by_role("button", name="Create task").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/tasks/[0-9a-f]{24}/$"))


def start_work(page, task_name: str) -> str:
    """From My work, start the task; the studio opens on an item. Returns the item id."""
    page.get_by_role("link", name="My work").click()
    row = page.get_by_role("table", name="My assignments").get_by_role("row").filter(has_text=task_name)
    row.get_by_role("button", name=f"Start {task_name}").click()
    expect(page).to_have_url(re.compile(r"/studio/[0-9a-f]{24}\?task="))
    expect(page.locator("#studio")).to_have_attribute("data-ready", "true")
    return page.evaluate("window.studio.itemId()")


def test_create_pull_complete_review_fix_and_approve(team, browse, screenshot_dir):
    manager = browse(team["manager"])

    # The manager creates a pulling task (batches of one, at most two held) for Ann and Bob,
    # and a review of it for Rita, from the pages.
    create_task(
        manager,
        team["project"],
        "Label streets",
        people=["ann@example.com", "bob@example.com"],
        shot=screenshot_dir / "tasks-create-form.png",
    )
    expect(manager.get_by_text("0 of 4 items done")).to_be_visible()
    create_task(manager, team["project"], "Review streets", review_of="Label streets", people=["rita@example.com"])
    manager.screenshot(path=str(screenshot_dir / "tasks-review-dashboard.png"))
    manager.goto(f"/projects/{team['project'].id}/")
    expect(manager.get_by_role("table", name="Tasks")).to_contain_text("Review streets")
    manager.screenshot(path=str(screenshot_dir / "tasks-project-page.png"))
    manager.get_by_role("table", name="Tasks").get_by_role("link", name="Label streets").click()
    expect(manager.get_by_text("0 of 4 items done")).to_be_visible()

    # Rita keeps My work open: nothing to review yet.
    rita = browse(team["rita"])
    rita.get_by_role("link", name="My work").click()
    rita_row = rita.get_by_role("table", name="My assignments").get_by_role("row").filter(has_text="Review streets")
    expect(rita_row).to_contain_text("0 open · 0 done")

    # Two annotators in their own browsers start work and get different items.
    ann, bob = browse(team["ann"]), browse(team["bob"])
    ann.goto("/work/")
    expect(ann.get_by_role("table", name="My assignments")).to_contain_text("Label streets")
    ann.screenshot(path=str(screenshot_dir / "tasks-my-work.png"))
    first = start_work(ann, "Label streets")
    bob_item = start_work(bob, "Label streets")
    assert first != bob_item
    expect(ann.get_by_role("status").filter(has_text="Item 1 of 1 open")).to_be_visible()

    # Ann draws a car but forgets its colour: Complete says what is missing, and nothing moves on.
    ann.evaluate("window.noReload = true")
    ann.get_by_role("button", name="Box", exact=True).click()
    drag(ann, (100, 300), (260, 380))
    expect(objects(ann).get_by_role("button", name="car box 1", exact=True)).to_be_visible()
    ann.get_by_role("button", name="Complete", exact=True).click()
    alert = ann.get_by_role("alert").filter(has_text="miss")
    expect(alert).to_contain_text("car box 1: missing Colour")
    ann.screenshot(path=str(screenshot_dir / "tasks-studio-incomplete.png"))
    alert.get_by_role("button", name="car box 1").click()
    ann.get_by_role("form", name="Attributes").get_by_label("Colour").select_option("red")
    expect(saved(ann)).to_be_visible()
    ann.get_by_role("button", name="Complete", exact=True).click()

    # The next item opens in the same page (no reload), and the manager's dashboard follows live.
    expect(ann.locator("#studio")).not_to_have_attribute("data-item-id", first)
    expect(ann.locator("#studio")).to_have_attribute("data-ready", "true")
    second = ann.evaluate("window.studio.itemId()")
    assert second not in (first, bob_item) and ann.evaluate("window.noReload") is True
    expect(ann).to_have_url(re.compile(f"/studio/{second}"))
    expect(manager.get_by_text("1 of 4 items done")).to_be_visible()
    ann_row = manager.get_by_role("table", name="Progress per assignee").get_by_role("row").filter(has_text="ann@")
    expect(ann_row.get_by_role("cell").nth(2)).to_have_text("1")
    manager.screenshot(path=str(screenshot_dir / "tasks-dashboard-live.png"))

    # The completed item reaches Rita's list without a reload; she reviews it and raises an issue.
    expect(rita_row).to_contain_text("1 open · 0 done")
    rita.screenshot(path=str(screenshot_dir / "tasks-my-work-review.png"))
    rita_row.get_by_role("button", name="Start Review streets").click()
    expect(rita.locator("#studio")).to_have_attribute("data-item-id", first)
    expect(rita.locator("#studio")).to_have_attribute("data-ready", "true")
    objects(rita).get_by_role("button", name="car box 1", exact=True).click()
    rita.get_by_role("button", name="Raise issue on car box 1").click()
    rita.get_by_label("Issue message").fill("This car is blue.")
    rita.screenshot(path=str(screenshot_dir / "tasks-review-issue-form.png"))
    rita.get_by_role("button", name="Send issue").click()
    expect(rita.get_by_role("list", name="Review notes on car box 1")).to_contain_text("This car is blue.")
    rita.get_by_role("button", name="Next item").click()
    expect(rita.get_by_role("heading", name="Your queue is empty")).to_be_visible()
    rita.screenshot(path=str(screenshot_dir / "tasks-review-empty.png"))

    # Ann, on her next item, sees the item come back, opens it and finds the issue highlighted.
    sent_back = ann.get_by_role("button", name=re.compile("^Open the item sent back by review"))
    expect(sent_back).to_have_text("1 sent back to you: open")  # the queue's reopenedCount
    ann.screenshot(path=str(screenshot_dir / "tasks-studio-sent-back-button.png"))
    sent_back.click()
    expect(ann.locator("#studio")).to_have_attribute("data-item-id", first)
    expect(ann.get_by_text("Sent back: 1 issue")).to_be_visible()
    expect(ann.get_by_role("list", name="Review notes on car box 1")).to_contain_text("This car is blue.")
    ann.screenshot(path=str(screenshot_dir / "tasks-studio-sent-back.png"))
    ann.get_by_role("form", name="Attributes").get_by_label("Colour").select_option("blue")
    expect(saved(ann)).to_be_visible()
    ann.get_by_role("button", name="Mark car box 1 for review").click()
    expect(objects(ann).get_by_role("button", name="car box 1", exact=True)).to_contain_text("review")
    ann.get_by_role("button", name="Complete", exact=True).click()
    expect(ann.locator("#studio")).to_have_attribute("data-item-id", second)

    # The fixed item returns to Rita's open studio by itself; she approves it.
    expect(rita.locator("#studio")).to_have_attribute("data-item-id", first)
    expect(rita.get_by_text("Fixed, back for review")).to_be_visible()
    rita.screenshot(path=str(screenshot_dir / "tasks-review-fixed.png"))
    rita.get_by_role("button", name="Approve", exact=True).click()
    expect(rita.get_by_role("heading", name="Your queue is empty")).to_be_visible()

    statuses = run_in_thread(
        lambda: sorted(TaskItem.objects.filter(item_id=first).values_list("task__name", "status", "reviewed_by__email"))
    )
    assert statuses == [("Label streets", "completed", None), ("Review streets", "approved", "rita@example.com")]
