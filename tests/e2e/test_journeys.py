"""What people do in the browser: log in, manage a project's members, manage API keys, see live changes.

Controls are found by role and accessible name, as assistive technology finds them, and every
wait is one of Playwright's auto-waiting `expect` assertions.
"""

import json
import re
import threading
import urllib.error
import urllib.request

import pytest
from django.db import connections
from playwright.sync_api import expect

from annotator.accounts import services
from annotator.accounts.models import ApiToken, Membership
from tests.factories import PASSWORD, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.e2e


def status_message(page, text: str):
    """The visible status region (flash messages or the live notice) that contains `text`."""
    return page.get_by_role("status").filter(has_text=text)


def member_row(page, email: str):
    return page.get_by_role("table", name="Members").get_by_role("row").filter(has_text=email)


def get_me(base_url: str, token: str) -> tuple[int, dict]:
    """GET /api/v1/users/me with a bearer token: (status, JSON body)."""
    request = urllib.request.Request(f"{base_url}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def run_in_thread(function):
    """Run `function` in a thread of its own and return its result.

    The test thread holds Playwright's running event loop, and asgiref refuses async_to_sync
    there, so a service's websocket broadcast would be dropped (and only logged) if the
    service ran in the test thread.
    """
    outcome = {}

    def target():
        try:
            outcome["value"] = function()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test thread below
            outcome["error"] = exc
        finally:
            connections.close_all()  # this thread's connection; the test database is dropped later

    thread = threading.Thread(target=target, name="e2e-service-call")
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the service call did not finish"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def test_log_in_open_a_project_and_add_a_reviewer(live_server, page, screenshot_dir):
    owner = UserFactory()
    project = ProjectFactory(creator=owner, name="Street scenes")
    newcomer = UserFactory()

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(f"{live_server.url}/")
    projects = page.get_by_role("table", name="Your projects")
    expect(projects.get_by_role("row").filter(has_text="Street scenes")).to_contain_text("owner")
    projects.get_by_role("link", name="Street scenes").click()

    expect(page).to_have_url(f"{live_server.url}/projects/{project.id}/")
    expect(page.get_by_role("heading", level=1, name="Street scenes")).to_be_visible()
    expect(member_row(page, newcomer.email)).to_have_count(0)
    add_form = page.get_by_role("article").filter(has=page.get_by_role("heading", name="Add a member"))
    add_form.get_by_label("Email", exact=True).fill(newcomer.email)
    # get_by_label would match the label's whole text, which includes the options' text.
    add_form.get_by_role("combobox", name="Role", exact=True).select_option("reviewer")
    add_form.get_by_role("button", name="Add member").click()

    expect(status_message(page, f"{newcomer.email} added as reviewer.")).to_be_visible()
    expect(member_row(page, newcomer.email)).to_have_count(1)
    expect(page.get_by_role("combobox", name=f"Role of {newcomer.email}")).to_have_value("reviewer")
    expect(page.get_by_role("heading", name="Members")).to_contain_text("(2)")
    assert Membership.objects.get(project=project, user=newcomer).role == "reviewer"

    page.screenshot(path=screenshot_dir / "project-page.png", full_page=True)


def test_a_wrong_password_shows_an_error_and_stays_on_the_login_page(live_server, page):
    user = UserFactory()

    page.goto("/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert")).to_contain_text("enter a correct email and password")
    expect(page).to_have_url(f"{live_server.url}/login/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value(user.email)
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)


def test_the_owner_changes_a_role_and_removes_a_member(live_server, page, log_in):
    project = ProjectFactory(name="Birds")
    owner = project.creator
    promoted = MembershipFactory(project=project, role="annotator").user
    leaving = MembershipFactory(project=project, role="annotator").user

    log_in(owner)
    page.goto(f"/projects/{project.id}/")

    page.get_by_role("combobox", name=f"Role of {promoted.email}").select_option("annotationManager")
    page.get_by_role("button", name=f"Save role of {promoted.email}").click()
    expect(status_message(page, f"{promoted.email} is now annotationManager.")).to_be_visible()
    expect(page.get_by_role("combobox", name=f"Role of {promoted.email}")).to_have_value("annotationManager")
    assert Membership.objects.get(project=project, user=promoted).role == "annotationManager"

    dialogs = []

    def answer(dialog, accept: bool):
        dialogs.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    # Cancelling the confirmation keeps the member.
    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    page.get_by_role("button", name=f"Remove {leaving.email}").click()
    assert dialogs == [f"Remove {leaving.email} from Birds?"]
    expect(member_row(page, leaving.email)).to_have_count(1)

    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    page.get_by_role("button", name=f"Remove {leaving.email}").click()
    expect(status_message(page, f"{leaving.email} removed.")).to_be_visible()
    assert len(dialogs) == 2
    expect(member_row(page, leaving.email)).to_have_count(0)
    expect(member_row(page, promoted.email)).to_have_count(1)
    assert not Membership.objects.filter(project=project, user=leaving).exists()
    assert set(Membership.objects.filter(project=project).values_list("user__email", "role")) == {
        (owner.email, "owner"),
        (promoted.email, "annotationManager"),
    }


def test_an_annotator_sees_the_project_but_cannot_manage_members(live_server, page, log_in):
    project = ProjectFactory(name="Traffic signs")
    annotator = MembershipFactory(project=project, role="annotator").user

    log_in(annotator)
    page.get_by_role("table", name="Your projects").get_by_role("link", name="Traffic signs").click()

    expect(page.get_by_role("heading", level=1, name="Traffic signs")).to_be_visible()
    expect(member_row(page, project.creator.email)).to_contain_text("owner")
    expect(member_row(page, annotator.email)).to_contain_text("annotator")
    expect(page.get_by_role("button", name="Leave project")).to_be_visible()
    # The page has rendered; the management controls must be absent from it.
    expect(page.get_by_role("heading", name="Add a member")).to_have_count(0)
    expect(page.get_by_role("button", name="Add member")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile(r"^Remove "))).to_have_count(0)
    expect(page.get_by_role("combobox", name=re.compile(r"^Role of "))).to_have_count(0)


def test_create_use_and_revoke_an_api_key(live_server, page, log_in, screenshot_dir):
    user = UserFactory()

    log_in(user)
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", level=1, name="API keys")).to_be_visible()
    expect(page.get_by_text("No API keys yet.")).to_be_visible()

    page.get_by_label("Key name").fill("ci key")
    page.get_by_role("button", name="Create key").click()

    expect(status_message(page, "API key “ci key” created.")).to_be_visible()
    new_key = page.get_by_role("textbox", name="New API key")
    expect(new_key).to_be_visible()
    expect(new_key).not_to_be_editable()
    token = new_key.input_value()
    assert token
    keys = page.get_by_role("table", name="Your API keys")
    expect(keys.get_by_role("row").filter(has_text="ci key")).to_contain_text("active")
    assert ApiToken.objects.filter(user=user, kind=ApiToken.Kind.API_KEY, name="ci key").count() == 1
    page.screenshot(path=screenshot_dir / "api-keys-page.png", full_page=True)

    status, me = get_me(live_server.url, token)
    assert status == 200
    assert me["email"] == user.email

    dialogs = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.get_by_role("button", name="Revoke ci key").click()

    expect(status_message(page, "API key revoked.")).to_be_visible()
    assert dialogs == ["Revoke ci key? Scripts using it stop working at once."]
    expect(keys.get_by_role("row").filter(has_text="ci key")).to_contain_text("revoked")
    expect(page.get_by_role("button", name="Revoke ci key")).to_have_count(0)
    expect(page.get_by_role("textbox", name="New API key")).to_have_count(0)  # shown once only
    with pytest.raises(urllib.error.HTTPError) as refused:
        get_me(live_server.url, token)
    assert refused.value.code == 401


def test_an_open_project_page_offers_a_refresh_when_the_project_changes_elsewhere(live_server, page, log_in):
    project = ProjectFactory(name="Parking lots")
    owner = project.creator
    newcomer = UserFactory()
    group = f"project.{project.id}"

    log_in(owner)
    # Record the socket's frames from its first one, so the test knows when the page is subscribed.
    frames, sockets = [], []

    def watch(socket):
        sockets.append(socket)
        socket.on("framereceived", lambda frame: frames.append(frame))

    page.on("websocket", watch)
    page.goto(f"/projects/{project.id}/")
    expect(page.get_by_role("heading", level=1, name="Parking lots")).to_be_visible()

    subscribed = {"type": "subscribed", "group": group}
    if not sockets:
        page.wait_for_event("websocket")
    if subscribed not in [json.loads(frame) for frame in frames]:
        sockets[0].wait_for_event("framereceived", predicate=lambda frame: json.loads(frame) == subscribed)
    notice = status_message(page, "This page changed elsewhere.")
    expect(notice).to_be_hidden()
    expect(member_row(page, newcomer.email)).to_have_count(0)

    run_in_thread(
        lambda: services.member_add(user=owner, project_id=project.id, email=newcomer.email, role="annotator")
    )

    expect(notice).to_be_visible()
    notice.get_by_role("button", name="Refresh").click()
    expect(member_row(page, newcomer.email)).to_contain_text("annotator")
    expect(notice).to_be_hidden()
