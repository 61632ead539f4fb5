import pytest

from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["user", "project", "apitoken"])
def test_admin_pages_load_for_staff(client, model):
    # given
    membership = MembershipFactory()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    # when / then
    assert client.get(f"/admin/accounts/{model}/").status_code == 200
    assert client.get(f"/admin/accounts/{model}/add/").status_code == 200
    assert client.get(f"/admin/accounts/project/{membership.project_id}/change/").status_code == 200


def test_admin_is_closed_to_non_staff(client):
    client.force_login(UserFactory())
    assert client.get("/admin/accounts/project/").status_code == 302
