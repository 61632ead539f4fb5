"""The dataset page offers Export to roles with export.create and Import to roles with
import.create; every member sees the Downloads section, and a stranger gets the page's 404."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "may_exchange"),
    [("owner", True), ("engineer", True), ("annotationManager", False), ("reviewer", False), ("annotator", False)],
)
def test_export_and_import_are_offered_to_those_who_may_use_them(client, members, dataset, role, may_exchange):
    # given
    client.force_login(members[role])

    # when
    response = client.get(f"/datasets/{dataset.id}/")

    # then
    assert response.status_code == 200
    assert response.context["can_export"] is may_exchange
    assert response.context["can_import"] is may_exchange
    html = response.content.decode()
    assert ('id="export-button"' in html) is may_exchange
    assert ('id="export-dialog"' in html) is may_exchange
    assert ('id="import-button"' in html) is may_exchange
    assert ('id="import-dialog"' in html) is may_exchange
    assert 'aria-labelledby="downloads-title"' in html
    assert f'data-project-id="{dataset.project_id}"' in html


def test_a_stranger_gets_no_dataset_page(client, members, dataset):
    client.force_login(members["stranger"])

    assert client.get(f"/datasets/{dataset.id}/").status_code == 404
