"""Every project and member operation, for every role and for a stranger."""

import pytest

from annotator.accounts.models import Membership, Project
from annotator.core.ids import is_valid_id
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

ALL = ["owner", "engineer", "annotationManager", "annotator", "reviewer"]
# Owners manage every member; engineers and annotation managers manage annotators and reviewers.
MANAGES_ANNOTATORS = {"engineer", "annotationManager"}
ANNOTATOR_ROLES = {"annotator", "reviewer"}


def url(project, suffix=""):
    return f"/api/v1/projects/{project.id}{suffix}"


# --- create and list ------------------------------------------------------------------------------
def test_create_from_a_form_body_as_the_sdk_sends_it(client_for, user):
    # when
    response = client_for(user).post(
        "/api/v1/projects", "name=My+Proj+1", content_type="application/x-www-form-urlencoded"
    )

    # then
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "My Proj 1" and body["role"] == "owner" and body["creator"] == user.email
    assert is_valid_id(body["id"])
    assert Membership.objects.get(project_id=body["id"], user=user).role == "owner"


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "a/b", "tab\there"])
def test_create_with_a_bad_name_is_400_and_creates_nothing(client_for, user, name):
    response = client_for(user).post("/api/v1/projects", {"name": name}, format="json")
    assert response.status_code == 400
    assert response.json()["status"] == 400 and response.json()["message"]
    assert Project.objects.count() == 0


def test_a_user_cannot_have_two_projects_with_one_name(client_for, user):
    api = client_for(user)
    assert api.post("/api/v1/projects", {"name": "Cars"}, format="json").status_code == 201
    response = api.post("/api/v1/projects", {"name": "cars"}, format="json")
    assert response.status_code == 409
    assert Project.objects.count() == 1


def test_another_user_may_reuse_a_name_without_learning_it_exists(client_for, project):
    assert client_for(UserFactory()).post("/api/v1/projects", {"name": project.name}, format="json").status_code == 201


def test_list_is_a_bare_array_of_only_my_projects_with_my_role(client_for, members, project):
    # given
    ProjectFactory()  # someone else's
    mine_too = ProjectFactory(creator=members["annotator"])

    # when
    response = client_for(members["annotator"]).get("/api/v1/projects")

    # then
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert [(p["id"], p["role"]) for p in body] == [(project.id, "annotator"), (mine_too.id, "owner")]


def test_list_does_not_grow_queries_with_projects(client_for, user, django_assert_max_num_queries):
    api = client_for(user)
    for _ in range(15):
        project = ProjectFactory()
        MembershipFactory(project=project, user=user)
    with django_assert_max_num_queries(4):
        assert len(api.get("/api/v1/projects").json()) == 15


# --- read -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ALL)
def test_every_member_can_get_the_project_by_id_and_by_name(client_for, members, project, role):
    api = client_for(members[role])
    assert api.get(url(project)).json()["role"] == role
    by_name = api.get(f"/api/v1/projects/{project.name}/name")
    assert by_name.status_code == 200
    assert [p["id"] for p in by_name.json()] == [project.id]


def test_a_stranger_gets_404_for_everything_in_the_project(client_for, members, project):
    api = client_for(members["stranger"])
    calls = [
        api.get(url(project)),
        api.get(f"/api/v1/projects/{project.name}/name"),
        api.patch(url(project), {"name": "Mine now"}, format="json"),
        api.delete(url(project)),
        api.get(url(project, "/members")),
        api.post(url(project, "/members"), {"email": members["stranger"].email, "role": "owner"}, format="json"),
        api.post(url(project, f"/members/{members['stranger'].email}"), {"role": "owner"}, format="json"),
        api.patch(url(project, f"/members/{members['annotator'].email}"), {"role": "owner"}, format="json"),
        api.delete(url(project, f"/members/{members['annotator'].email}")),
    ]
    assert [c.status_code for c in calls] == [404] * len(calls)
    assert all(c.json()["code"] == "not_found" for c in calls)
    project.refresh_from_db()
    assert project.name != "Mine now"
    assert not Membership.objects.filter(user=members["stranger"]).exists()


def test_unknown_and_malformed_ids_are_404(client_for, user):
    api = client_for(user)
    assert api.get("/api/v1/projects/" + "f" * 24).status_code == 404
    assert api.get("/api/v1/projects/not-an-id").status_code == 404
    assert api.get("/api/v1/projects/nothing-here/name").status_code == 404


def test_anonymous_gets_401_everywhere(anon_api, project):
    assert anon_api.get("/api/v1/projects").status_code == 401
    assert anon_api.get(url(project)).status_code == 401
    assert anon_api.post("/api/v1/projects", {"name": "x"}, format="json").status_code == 401
    assert anon_api.get(url(project, "/members")).status_code == 401


# --- update and delete --------------------------------------------------------------------------------
@pytest.mark.parametrize(("role", "allowed"), [("owner", True)] + [(r, False) for r in ALL[1:]])
def test_only_owners_rename(client_for, members, project, role, allowed):
    response = client_for(members[role]).patch(url(project), {"name": "Renamed"}, format="json")
    project.refresh_from_db()
    if allowed:
        assert response.status_code == 200 and response.json()["name"] == "Renamed"
        assert project.name == "Renamed"
    else:
        assert response.status_code == 403 and response.json()["code"] == "forbidden"
        assert project.name != "Renamed"


def test_rename_accepts_the_sdks_full_project_body(client_for, members, project):
    api = client_for(members["owner"])
    body = api.get(url(project)).json() | {"name": "From SDK"}
    assert api.patch(url(project), body, format="json").status_code == 200
    project.refresh_from_db()
    assert project.name == "From SDK"


@pytest.mark.parametrize(("role", "allowed"), [("owner", True)] + [(r, False) for r in ALL[1:]])
def test_only_owners_delete(client_for, members, project, role, allowed):
    response = client_for(members[role]).delete(url(project))
    assert response.status_code == (200 if allowed else 403)
    assert Project.objects.filter(pk=project.pk).exists() is not allowed


# --- members ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ALL)
def test_every_member_sees_the_member_list(client_for, members, project, role):
    body = client_for(members[role]).get(url(project, "/members")).json()
    assert sorted(m["role"] for m in body) == sorted(ALL)
    assert {m["email"] for m in body} == {members[r].email for r in ALL}


# (actor role, role granted) -> allowed
ADD_MATRIX = [
    (actor, granted, actor == "owner" or (actor in MANAGES_ANNOTATORS and granted in ANNOTATOR_ROLES))
    for actor in ALL
    for granted in ALL
]


@pytest.mark.parametrize(("actor", "granted", "allowed"), ADD_MATRIX)
def test_adding_members_by_role(client_for, members, project, actor, granted, allowed):
    # given
    newcomer = UserFactory()

    # when: half the cases use our body form, half the SDK's email-in-path form
    api = client_for(members[actor])
    if ALL.index(granted) % 2:
        response = api.post(url(project, "/members"), {"email": newcomer.email, "role": granted}, format="json")
    else:
        response = api.post(url(project, f"/members/{newcomer.email}"), {"role": granted}, format="json")

    # then
    membership = Membership.objects.filter(project=project, user=newcomer).first()
    if allowed:
        assert response.status_code == 201, response.json()
        assert response.json()["role"] == granted and membership.role == granted
    else:
        assert response.status_code == 403
        assert membership is None


CHANGE_MATRIX = [
    (actor, target, new, actor == "owner" or (actor in MANAGES_ANNOTATORS and {target, new} <= ANNOTATOR_ROLES))
    for actor in ALL
    for target in ["engineer", "annotator", "reviewer"]
    for new in ["annotator", "reviewer", "engineer"]
    if target != new and actor != target
]


@pytest.mark.parametrize(("actor", "target", "new", "allowed"), CHANGE_MATRIX)
def test_changing_roles_by_role(client_for, members, project, actor, target, new, allowed):
    response = client_for(members[actor]).patch(
        url(project, f"/members/{members[target].email}"), {"role": new}, format="json"
    )
    role = Membership.objects.get(project=project, user=members[target]).role
    if allowed:
        assert response.status_code == 200 and response.json()["role"] == new and role == new
    else:
        assert response.status_code == 403 and role == target


REMOVE_MATRIX = [
    (actor, target, actor == "owner" or (actor in MANAGES_ANNOTATORS and target in ANNOTATOR_ROLES))
    for actor in ALL
    for target in ALL
    if actor != target and target != "owner"
]


@pytest.mark.parametrize(("actor", "target", "allowed"), REMOVE_MATRIX)
def test_removing_members_by_role(client_for, members, project, actor, target, allowed):
    response = client_for(members[actor]).delete(url(project, f"/members/{members[target].email}"))
    still_member = Membership.objects.filter(project=project, user=members[target]).exists()
    assert response.status_code == (200 if allowed else 403)
    assert still_member is not allowed


@pytest.mark.parametrize("role", ["engineer", "annotationManager", "annotator", "reviewer"])
def test_any_member_may_leave(client_for, members, project, role):
    response = client_for(members[role]).delete(url(project, f"/members/{members[role].email}"))
    assert response.status_code == 200
    assert not Membership.objects.filter(project=project, user=members[role]).exists()


def test_the_last_owner_can_neither_leave_nor_be_demoted(client_for, members, project):
    owner = client_for(members["owner"])
    email = members["owner"].email
    assert owner.delete(url(project, f"/members/{email}")).status_code == 409
    assert owner.patch(url(project, f"/members/{email}"), {"role": "engineer"}, format="json").status_code == 409
    assert Membership.objects.get(project=project, user=members["owner"]).role == "owner"


def test_a_second_owner_lets_the_first_step_down(client_for, members, project):
    owner = client_for(members["owner"])
    owner.patch(url(project, f"/members/{members['engineer'].email}"), {"role": "owner"}, format="json")
    response = owner.patch(url(project, f"/members/{members['owner'].email}"), {"role": "engineer"}, format="json")
    assert response.status_code == 200
    assert Membership.objects.get(project=project, user=members["owner"]).role == "engineer"


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"email": "nobody@example.com", "role": "annotator"}, 400),
        ({"email": "not-an-email", "role": "annotator"}, 400),
        ({"email": "x@example.com", "role": "admin"}, 400),
        ({"role": "annotator"}, 400),
    ],
)
def test_bad_member_additions_are_4xx_and_change_nothing(client_for, members, project, payload, status):
    before = Membership.objects.count()
    response = client_for(members["owner"]).post(url(project, "/members"), payload, format="json")
    assert response.status_code == status
    assert response.json()["message"]
    assert Membership.objects.count() == before


def test_adding_an_existing_member_is_409(client_for, members, project):
    response = client_for(members["owner"]).post(
        url(project, "/members"), {"email": members["annotator"].email, "role": "engineer"}, format="json"
    )
    assert response.status_code == 409
    assert Membership.objects.get(project=project, user=members["annotator"]).role == "annotator"


def test_changing_or_removing_a_non_member_is_404(client_for, members, project):
    owner = client_for(members["owner"])
    stranger = members["stranger"].email
    assert owner.patch(url(project, f"/members/{stranger}"), {"role": "engineer"}, format="json").status_code == 404
    assert owner.delete(url(project, f"/members/{stranger}")).status_code == 404


def test_users_me_has_the_fields_the_sdk_reads(client_for, user):
    body = client_for(user).get("/api/v1/users/me").json()
    assert {"id", "email", "username", "firstName", "lastName", "createdAt", "updatedAt"} <= set(body)
    assert body["id"] == user.id and body["email"] == user.email
