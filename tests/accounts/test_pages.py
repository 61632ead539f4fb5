"""Server-rendered pages: they call the same services and selectors as the API."""

import pytest

from annotator.accounts.models import ApiToken, Membership, Project
from tests.factories import PASSWORD, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_pages_need_a_login(client, project):
    for path in ["/", f"/projects/{project.id}/", "/account/api-keys/"]:
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_login_page_logs_in_with_email(client, user):
    response = client.post("/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_login_page_shows_an_error_for_a_wrong_password(client, user):
    response = client.post("/login/", {"username": user.email, "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct email and password" in response.content
    assert "_auth_user_id" not in client.session


def test_login_page_is_throttled_after_repeated_failures(client, user, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    client.post("/login/", {"username": user.email, "password": "nope"})
    client.post("/login/", {"username": user.email, "password": "nope"})
    response = client.post("/login/", {"username": user.email, "password": PASSWORD})
    assert b"Too many failed logins" in response.content
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post(logged_in, user):
    client = logged_in(user)
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_project_list_shows_only_my_projects(logged_in, project):
    other = ProjectFactory(name="Not yours")
    response = logged_in(project.creator).get("/")
    assert project.name.encode() in response.content
    assert other.name.encode() not in response.content


def test_creating_a_project_from_the_page(logged_in, user):
    response = logged_in(user).post("/", {"name": "From the page"})
    project = Project.objects.get(name="From the page")
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{project.id}/"
    assert Membership.objects.get(project=project, user=user).role == "owner"


def test_a_clashing_name_shows_a_message_and_creates_nothing(logged_in, project):
    response = logged_in(project.creator).post("/", {"name": project.name}, follow=True)
    assert b"already have a project named" in response.content
    assert Project.objects.count() == 1


def test_a_stranger_gets_404_for_the_project_page_and_its_forms(logged_in, project):
    client = logged_in(UserFactory())
    member = MembershipFactory(project=project).user
    assert client.get(f"/projects/{project.id}/").status_code == 404
    assert client.post(f"/projects/{project.id}/rename", {"name": "x"}).status_code == 404
    assert client.post(f"/projects/{project.id}/members/{member.email}/remove").status_code == 404
    project.refresh_from_db()
    assert project.name != "x"
    assert Membership.objects.filter(project=project, user=member).exists()


def test_the_owner_adds_changes_and_removes_members_from_the_page(logged_in, project):
    client = logged_in(project.creator)
    newcomer = UserFactory()

    client.post(f"/projects/{project.id}/", {"email": newcomer.email, "role": "annotator"})
    assert Membership.objects.get(project=project, user=newcomer).role == "annotator"

    client.post(f"/projects/{project.id}/members/{newcomer.email}/role", {"role": "reviewer"})
    assert Membership.objects.get(project=project, user=newcomer).role == "reviewer"

    client.post(f"/projects/{project.id}/members/{newcomer.email}/remove")
    assert not Membership.objects.filter(project=project, user=newcomer).exists()


def test_adding_an_unknown_email_shows_the_error(logged_in, project):
    response = logged_in(project.creator).post(
        f"/projects/{project.id}/", {"email": "ghost@example.com", "role": "annotator"}, follow=True
    )
    assert b"No user has this email" in response.content
    assert Membership.objects.filter(project=project).count() == 1


def test_an_annotator_sees_members_but_no_management_controls(logged_in, project):
    annotator = MembershipFactory(project=project, role="annotator").user
    response = logged_in(annotator).get(f"/projects/{project.id}/")
    assert response.status_code == 200
    assert project.creator.email.encode() in response.content
    assert b"Add member" not in response.content
    assert b"Remove " not in response.content
    assert b"Leave project" in response.content


def test_an_annotator_cannot_manage_members_by_posting(logged_in, project):
    annotator = MembershipFactory(project=project, role="annotator").user
    client = logged_in(annotator)
    response = client.post(
        f"/projects/{project.id}/members/{project.creator.email}/role", {"role": "annotator"}, follow=True
    )
    assert b"may not manage members" in response.content
    assert Membership.objects.get(project=project, user=project.creator).role == "owner"


def test_api_key_page_shows_a_new_key_once_and_revokes_it(logged_in, user):
    client = logged_in(user)

    created = client.post("/account/api-keys/", {"name": "laptop", "days": 30})
    record = ApiToken.objects.get(user=user, kind="api_key", name="laptop")
    assert created.status_code == 200
    assert b'aria-label="New API key"' in created.content
    assert b'aria-label="New API key"' not in client.get("/account/api-keys/").content

    client.post(f"/account/api-keys/{record.id}/revoke")
    record.refresh_from_db()
    assert record.revoked_at is not None


def test_api_key_page_refuses_bad_input(logged_in, user):
    response = logged_in(user).post("/account/api-keys/", {"name": "", "days": 0})
    assert response.status_code == 200
    assert not ApiToken.objects.filter(user=user).exists()


def test_login_page_accepts_email_in_any_case(client, user):
    response = client.post("/login/", {"username": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == user.id


def test_the_last_owner_is_offered_neither_removal_nor_a_role_change(logged_in, project):
    response = logged_in(project.creator).get(f"/projects/{project.id}/").content.decode()
    assert f'aria-label="Remove {project.creator.email}"' not in response
    assert f'aria-label="Role of {project.creator.email}"' not in response
    assert "(last owner)" in response


def test_an_annotation_manager_is_offered_only_what_they_may_do(logged_in, project):
    manager = MembershipFactory(project=project, role="annotationManager").user
    annotator = MembershipFactory(project=project, role="annotator").user
    engineer = MembershipFactory(project=project, role="engineer").user

    page = logged_in(manager).get(f"/projects/{project.id}/").content.decode()

    assert f'aria-label="Remove {annotator.email}"' in page
    assert f'aria-label="Remove {engineer.email}"' not in page
    assert f'aria-label="Role of {engineer.email}"' not in page
    add_form = page[page.index("Add a member") :]
    assert '<option value="reviewer"' in add_form
    assert '<option value="owner"' not in add_form
    assert '<option value="engineer"' not in add_form
