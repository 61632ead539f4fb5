"""Note pins a reviewer drops for a missing object, and replies to a note's thread."""

import pytest

from annotator.annotations.models import Annotation, AnnotationChange
from tests.annotations.conftest import box

pytestmark = pytest.mark.django_db


def note_pin(body="A dog is missing here", status="issue"):
    return {
        "type": "note",
        "label": "note",
        "coordinates": {
            "box": [{"x": 20, "y": 10}, {"x": 30, "y": 20}],
            "note": {"status": "issue", "messages": [{"body": body}]},
        },
        "metadata": {"system": {"status": status}},
    }


@pytest.fixture
def note(members, client_for, item):
    response = client_for(members["reviewer"]).post(f"/api/v1/items/{item.id}/annotations", [note_pin()], format="json")
    assert response.status_code == 201, response.json()
    return response.json()[0]


def reply(client, note_id, body):
    return client.post(f"/api/v1/annotations/{note_id}/messages", {"body": body}, format="json")


def test_a_reviewer_drops_a_note_pin_with_an_issue(members, note):
    stored = Annotation.objects.get(pk=note["id"])
    assert stored.type == "note" and stored.label == "note"
    assert stored.metadata["system"]["status"] == "issue"
    assert [m["body"] for m in stored.coordinates["note"]["messages"]] == ["A dog is missing here"]


def test_an_annotator_may_not_raise_an_issue_with_a_pin(members, client_for, item):
    response = client_for(members["annotator"]).post(
        f"/api/v1/items/{item.id}/annotations", [note_pin()], format="json"
    )
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["annotator", "reviewer", "annotationManager", "engineer", "owner"])
def test_members_who_fix_or_review_may_reply(role, members, client_for, note):
    response = reply(client_for(members[role]), note["id"], "  Added it  ")

    assert response.status_code == 201, response.json()
    messages = response.json()["coordinates"]["note"]["messages"]
    assert [(m["creator"], m["body"]) for m in messages][-1] == (members[role].email, "Added it")
    assert isinstance(messages[-1]["id"], str) and isinstance(messages[-1]["time"], int)


def test_a_reply_bumps_the_version_and_writes_history(members, client_for, note):
    response = reply(client_for(members["annotator"]), note["id"], "Added it")

    assert response.json()["version"] == note["version"] + 1
    change = AnnotationChange.objects.filter(annotation_id=note["id"]).order_by("-id").first()
    assert change.action == "updated" and change.version == note["version"] + 1
    assert change.actor == members["annotator"]
    assert len(change.before["coordinates"]["note"]["messages"]) == 1
    assert [m["body"] for m in change.after["coordinates"]["note"]["messages"]] == ["A dog is missing here", "Added it"]


@pytest.mark.parametrize("body", ["", "   ", None, ["x"]])
def test_an_empty_reply_is_refused(body, members, client_for, note):
    assert reply(client_for(members["annotator"]), note["id"], body).status_code == 400


def test_a_stranger_gets_404(members, client_for, note):
    assert reply(client_for(members["stranger"]), note["id"], "hello").status_code == 404
    assert len(Annotation.objects.get(pk=note["id"]).coordinates["note"]["messages"]) == 1


def test_only_notes_have_messages(members, client_for, item):
    created = client_for(members["owner"]).post(f"/api/v1/items/{item.id}/annotations", [box()], format="json")
    assert reply(client_for(members["owner"]), created.json()[0]["id"], "hello").status_code == 400
