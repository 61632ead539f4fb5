"""Review statuses and note threads, and every annotation operation for every role and a stranger."""

import pytest

from annotator.annotations.models import Annotation
from tests.annotations.conftest import box

pytestmark = pytest.mark.django_db

ROLES = ["owner", "engineer", "annotationManager", "reviewer", "annotator"]


@pytest.fixture
def annotation(members, client_for, item):
    return (
        client_for(members["annotator"]).post(f"/api/v1/items/{item.id}/annotations", [box()], format="json").json()[0]
    )


def set_status(client, annotation_id, **body):
    return client.post(f"/api/v1/annotations/{annotation_id}/status", body, format="json")


def test_a_reviewer_opens_an_issue_with_a_message_and_the_annotator_answers(members, client_for, annotation):
    reviewer, annotator = client_for(members["reviewer"]), client_for(members["annotator"])

    issue = set_status(reviewer, annotation["id"], status="issue", message="The tail is cut off")
    fixed = set_status(annotator, annotation["id"], status="review", message="Fixed")
    approved = set_status(reviewer, annotation["id"], status="approved")

    assert issue.status_code == 200, issue.json()
    assert issue.json()["annotation"]["metadata"]["system"]["status"] == "issue"
    note = issue.json()["note"]
    assert note["type"] == "note" and note["metadata"]["system"]["parentId"] == annotation["id"]
    assert note["coordinates"]["box"][0] == annotation["coordinates"][0]
    assert fixed.json()["annotation"]["status"] == "review"
    thread = approved.json()["note"]["coordinates"]["note"]
    assert [(m["creator"], m["body"]) for m in thread["messages"]] == [
        (members["reviewer"].email, "The tail is cut off"),
        (members["annotator"].email, "Fixed"),
    ]
    assert thread["status"] == "closed"
    stored = Annotation.objects.get(pk=annotation["id"])
    assert stored.metadata["system"]["status"] == "approved"
    assert [h["status"] for h in stored.metadata["system"]["statusHistory"]] == ["issue", "review", "approved"]
    assert Annotation.objects.filter(type="note").count() == 1


def test_dtlpy_status_changes_through_put(members, client_for, annotation):
    reviewer = client_for(members["reviewer"])
    path = f"/api/v1/annotations/{annotation['id']}?system=true"

    issue = reviewer.put(path, {"metadata": {"system": {"status": "issue"}}}, format="json")
    cleared = reviewer.put(path, {"metadata": {"system": {"status": None}}}, format="json")

    assert issue.json()["metadata"]["system"]["status"] == "issue"
    assert cleared.status_code == 200 and cleared.json()["metadata"]["system"]["status"] is None


@pytest.mark.parametrize("status", ["issue", "approved", None])
def test_annotators_may_not_review(status, members, client_for, annotation):
    annotator = client_for(members["annotator"])
    if status is None:  # clearing needs something to clear
        set_status(client_for(members["reviewer"]), annotation["id"], status="issue")

    via_endpoint = set_status(annotator, annotation["id"], status=status)
    via_put = annotator.put(
        f"/api/v1/annotations/{annotation['id']}?system=true",
        {"metadata": {"system": {"status": status}}},
        format="json",
    )

    assert via_endpoint.status_code == 403 and via_put.status_code == 403


def test_unknown_statuses_and_bad_messages_are_refused(members, client_for, annotation):
    reviewer = client_for(members["reviewer"])
    assert set_status(reviewer, annotation["id"], status="done").status_code == 400
    assert set_status(reviewer, annotation["id"], status="issue", message="").status_code == 400
    assert set_status(reviewer, annotation["id"], status="issue", message=["x"]).status_code == 400
    assert reviewer.post(f"/api/v1/annotations/{annotation['id']}/status", {}, format="json").status_code == 400
    assert Annotation.objects.get(pk=annotation["id"]).version == 1


# --- every operation, every role ---
OPERATIONS = {
    # name: (method, path template, body, roles allowed)
    "list": ("get", "/api/v1/items/{item}/annotations", None, ROLES),
    "get": ("get", "/api/v1/annotations/{annotation}", None, ROLES),
    "history": ("get", "/api/v1/items/{item}/annotations/history", None, ROLES),
    "completion": ("get", "/api/v1/items/{item}/annotations/completion", None, ROLES),
    "create": ("post", "/api/v1/items/{item}/annotations", [box()], ROLES),
    "update": ("put", "/api/v1/annotations/{annotation}", {"description": "x"}, ROLES),
    "batch": ("post", "/api/v1/items/{item}/annotations/batch", {"create": [box()]}, ROLES),
    "delete": ("delete", "/api/v1/annotations/{annotation}", {}, ROLES),
    "review": ("post", "/api/v1/annotations/{annotation}/status", {"status": "approved"}, ROLES[:4]),
    "query": ("post", "/api/v1/datasets/{dataset}/query", {"resource": "annotations"}, ROLES),
}


@pytest.mark.parametrize("role", [*ROLES, "stranger"])
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_every_operation_for_every_role(operation, role, members, client_for, item, annotation):
    method, template, body, allowed = OPERATIONS[operation]
    path = template.format(item=item.id, annotation=annotation["id"], dataset=item.dataset_id)
    before = list(Annotation.objects.order_by("id").values_list("id", "version"))

    response = getattr(client_for(members[role]), method)(path, body, format="json")

    if role in allowed:
        assert response.status_code in (200, 201), response.json()
    else:
        expected = 404 if role == "stranger" else 403
        assert response.status_code == expected, response.json()
        assert list(Annotation.objects.order_by("id").values_list("id", "version")) == before


def test_anonymous_callers_get_401(anon_api, item, annotation):
    assert anon_api.get(f"/api/v1/items/{item.id}/annotations").status_code == 401
    assert anon_api.put(f"/api/v1/annotations/{annotation['id']}", {}, format="json").status_code == 401


def test_completion_names_missing_mandatory_attributes(members, client_for, item):
    client = client_for(members["annotator"])
    _ok, missing = client.post(
        f"/api/v1/items/{item.id}/annotations", [box(), box(attributes={})], format="json"
    ).json()

    report = client.get(f"/api/v1/items/{item.id}/annotations/completion").json()

    assert report == {
        "complete": False,
        "problems": [{"annotationId": missing["id"], "label": "cat", "missing": ["occluded"]}],
    }
    client.put(
        f"/api/v1/annotations/{missing['id']}",
        {"metadata": {"system": {"attributes": {"occluded": True}}}},
        format="json",
    )
    assert client.get(f"/api/v1/items/{item.id}/annotations/completion").json() == {"complete": True, "problems": []}
