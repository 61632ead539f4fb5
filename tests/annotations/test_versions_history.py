"""Versions, the studio's batch save, history and restore."""

import threading

import pytest
from django.db import connections

from annotator.annotations import services
from annotator.annotations.models import Annotation, AnnotationChange
from annotator.core.errors import BadRequest, Conflict
from tests.annotations.conftest import box

pytestmark = pytest.mark.django_db


def made(client, item, *annotations):
    response = client.post(f"/api/v1/items/{item.id}/annotations", list(annotations), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_put_merges_a_sparse_diff_and_bumps_the_version(members, client_for, item):
    client = client_for(members["annotator"])
    first = made(client, item, box(metadata={"user": {"a": 1, "b": 2}}))[0]

    response = client.put(
        f"/api/v1/annotations/{first['id']}",
        {"label": "dog", "metadata": {"user": {"b": None, "c": 3}}, "description": "tail"},
        format="json",
    )

    body = response.json()
    assert response.status_code == 200, body
    assert body["version"] == 2 and body["label"] == "dog" and body["description"] == "tail"
    assert body["metadata"]["user"] == {"a": 1, "c": 3}
    assert body["coordinates"] == first["coordinates"]
    assert body["updatedBy"] == members["annotator"].email


def test_a_stale_version_gets_409_with_the_current_state(members, client_for, item):
    client = client_for(members["owner"])
    annotation = made(client, item, box())[0]
    client.put(f"/api/v1/annotations/{annotation['id']}", {"label": "dog", "version": 1}, format="json")

    response = client.put(f"/api/v1/annotations/{annotation['id']}", {"label": "cat", "version": 1}, format="json")

    assert response.status_code == 409
    assert response.json()["details"]["current"]["label"] == "dog"
    assert response.json()["details"]["current"]["version"] == 2
    assert Annotation.objects.get(pk=annotation["id"]).label == "dog"


def test_system_metadata_needs_the_flag_except_attributes(members, client_for, item):
    client = client_for(members["owner"])
    annotation = made(client, item, box())[0]
    diff = {"metadata": {"system": {"attributes": {"occluded": True}, "automated": True}}}

    plain = client.put(f"/api/v1/annotations/{annotation['id']}", diff, format="json").json()
    flagged = client.put(f"/api/v1/annotations/{annotation['id']}?system=true", diff, format="json").json()

    assert plain["metadata"]["system"]["attributes"] == {"occluded": True}
    assert "automated" not in plain["metadata"]["system"]
    assert flagged["metadata"]["system"]["automated"] is True


def test_update_is_validated_like_a_creation(members, client_for, item):
    client = client_for(members["owner"])
    annotation = made(client, item, box())[0]
    bad = {
        "horse": {"label": "horse"},
        "tool": {"label": "road"},
        "type": {"type": "point"},
        "geometry": {"coordinates": [{"x": 1, "y": 1}]},
        "attribute": {"metadata": {"system": {"attributes": {"breed": "sphynx"}}}},
    }
    for name, diff in bad.items():
        response = client.put(f"/api/v1/annotations/{annotation['id']}?system=true", diff, format="json")
        assert response.status_code == 400, name
        assert response.json()["details"]["field"].startswith(f"annotation {annotation['id']}"), name
    stored = Annotation.objects.get(pk=annotation["id"])
    assert (stored.version, stored.label) == (1, "cat")


def test_two_racing_updates_of_one_version_one_wins_one_gets_409(members, item, transactional_db):
    annotation = services.annotations_create(user=members["owner"], item_id=item.id, annotations=[box()])[0][0]
    barrier = threading.Barrier(2)
    outcomes = []

    def update(label):
        barrier.wait()
        try:
            services.annotation_update(
                user=members["owner"], annotation_id=annotation.id, diff={"description": label, "version": 1}
            )
            outcomes.append(("ok", label))
        except (Conflict, BadRequest) as exc:  # the loser's Conflict (a 400 would fail the test too)
            outcomes.append((type(exc).__name__, label))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=update, args=(label,)) for label in ("first", "second")]
    [t.start() for t in threads]
    [t.join() for t in threads]

    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["Conflict", "ok"]
    winner = next(label for kind, label in outcomes if kind == "ok")
    stored = Annotation.objects.get(pk=annotation.id)
    assert (stored.description, stored.version) == (winner, 2)
    assert AnnotationChange.objects.filter(annotation_id=annotation.id, action="updated").count() == 1


def test_concurrent_creates_keep_the_count_exact(members, item, transactional_db):
    barrier = threading.Barrier(4)

    def create():
        barrier.wait()
        try:
            services.annotations_create(user=members["owner"], item_id=item.id, annotations=[box(), box()])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]

    item.refresh_from_db()
    assert item.annotations_count == Annotation.objects.filter(item=item).count() == 8


# --- the batch endpoint ---
def test_batch_creates_updates_and_deletes_in_one_transaction(members, client_for, item):
    client = client_for(members["annotator"])
    keep, drop = made(client, item, box(), box())

    response = client.post(
        f"/api/v1/items/{item.id}/annotations/batch",
        {
            "create": [box(label="dog"), box(label="dog")],
            "update": [{"id": keep["id"], "version": 1, "label": "dog"}],
            "delete": [{"id": drop["id"], "version": 1}],
        },
        format="json",
    )

    body = response.json()
    assert response.status_code == 200, body
    assert len(body["created"]) == 2 and body["updated"][0]["version"] == 2 and body["deleted"] == [drop["id"]]
    assert body["annotationsCount"] == 3
    assert sorted(Annotation.objects.filter(item=item).values_list("label", flat=True)) == ["dog", "dog", "dog"]


@pytest.mark.parametrize(
    "mistake",
    ["stale update", "stale delete", "invalid create", "unknown id"],
)
def test_a_batch_with_one_bad_part_changes_nothing(mistake, members, client_for, item):
    client = client_for(members["owner"])
    first = made(client, item, box())[0]
    body = {"create": [box(label="dog")], "update": [{"id": first["id"], "version": 1, "label": "dog"}], "delete": []}
    if mistake == "stale update":
        body["update"][0]["version"] = 7
    elif mistake == "stale delete":
        body["delete"] = [{"id": first["id"], "version": 3}]
    elif mistake == "invalid create":
        body["create"].append(box(label="horse"))
    else:
        body["delete"] = [{"id": "f" * 24}]

    response = client.post(f"/api/v1/items/{item.id}/annotations/batch", body, format="json")

    assert response.status_code in (400, 404, 409)
    assert list(Annotation.objects.filter(item=item).values_list("id", "label", "version")) == [(first["id"], "cat", 1)]
    assert AnnotationChange.objects.filter(item=item).count() == 1
    item.refresh_from_db()
    assert item.annotations_count == 1


def test_batch_refuses_unknown_keys(members, client_for, item):
    response = client_for(members["owner"]).post(
        f"/api/v1/items/{item.id}/annotations/batch", {"create": [], "upsert": []}, format="json"
    )
    assert response.status_code == 400


# --- history and restore ---
def test_every_change_writes_history_and_a_deleted_annotation_can_be_restored(members, client_for, item):
    client = client_for(members["owner"])
    annotation = made(client, item, box(metadata={"user": {"k": 1}}))[0]
    client.put(f"/api/v1/annotations/{annotation['id']}", {"label": "dog"}, format="json")
    client.delete(f"/api/v1/annotations/{annotation['id']}", {}, format="json")

    history = client.get(f"/api/v1/items/{item.id}/annotations/history").json()
    restored = client.post(f"/api/v1/annotations/{annotation['id']}/restore")
    again = client.post(f"/api/v1/annotations/{annotation['id']}/restore")
    trail = client.get(f"/api/v1/annotations/{annotation['id']}/history").json()

    assert [c["action"] for c in history["items"]] == ["deleted", "updated", "created"]
    assert history["items"][1]["before"]["label"] == "cat" and history["items"][1]["after"]["label"] == "dog"
    assert history["items"][0]["actor"] == members["owner"].email and history["items"][0]["after"] is None
    assert restored.status_code == 201
    assert restored.json()["id"] == annotation["id"] and restored.json()["label"] == "dog"
    assert restored.json()["metadata"]["user"] == {"k": 1} and restored.json()["version"] == 3
    assert again.status_code == 409
    assert [c["action"] for c in trail] == ["created", "updated", "deleted", "restored"]
    item.refresh_from_db()
    assert item.annotations_count == 1


def test_a_restore_with_an_unknown_mask_format_is_400_and_restores_nothing(members, client_for, item):
    client = client_for(members["owner"])
    annotation = made(client, item, box())[0]
    client.delete(f"/api/v1/annotations/{annotation['id']}", {}, format="json")

    response = client.post(f"/api/v1/annotations/{annotation['id']}/restore?maskFormat=jpeg")

    assert response.status_code == 400 and response.json()["details"] == {"maskFormat": "jpeg"}
    assert not Annotation.objects.filter(pk=annotation["id"]).exists()
    assert [c["action"] for c in client.get(f"/api/v1/annotations/{annotation['id']}/history").json()] == [
        "created",
        "deleted",
    ]


def test_restoring_an_unknown_annotation_is_404(members, client_for, item):
    assert client_for(members["owner"]).post(f"/api/v1/annotations/{'a' * 24}/restore").status_code == 404
    assert client_for(members["owner"]).post("/api/v1/annotations/nope/restore").status_code == 404


def test_deleting_a_parent_deletes_its_children(members, client_for, item):
    client = client_for(members["owner"])
    parent = made(client, item, box())[0]
    child = made(
        client,
        item,
        {
            "type": "point",
            "label": "cat",
            "coordinates": {"x": 2, "y": 3},
            "metadata": {"system": {"parentId": parent["id"], "objectId": "1"}},
        },
    )[0]
    assert child["metadata"]["system"]["parentId"] == parent["id"]

    client.delete(f"/api/v1/annotations/{parent['id']}", {}, format="json")

    assert not Annotation.objects.filter(item=item).exists()
    item.refresh_from_db()
    assert item.annotations_count == 0
