"""Saving annotations reaches whoever has the item open, except the socket that saved."""

import io

import pytest
from channels.db import database_sync_to_async

from annotator.datasets import services as datasets
from tests.annotations.conftest import box
from tests.core.test_websocket import key_for, next_event, subscribe, watching
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.images import png

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@database_sync_to_async
def make_item():
    project = ProjectFactory()
    annotator = MembershipFactory(project=project, role="annotator").user
    dataset = datasets.dataset_create(user=project.creator, project_id=project.id, name="Live", labels=[{"tag": "cat"}])
    item = datasets.item_upload(user=project.creator, dataset_id=dataset.id, path="/x.png", fileobj=io.BytesIO(png()))[
        0
    ]
    return item, project.creator, annotator, UserFactory()


async def test_a_second_viewer_sees_the_change_and_the_sender_gets_no_echo():
    item, owner, annotator, _stranger = await make_item()
    group = f"item.{item.id}"
    owner_socket, hello, reply = await watching(owner, group)
    viewer_socket, _, _ = await watching(annotator, group)
    assert reply["type"] == "subscribed"
    token = await key_for(owner)

    def save():
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_SOCKET_ID=hello["socketId"])
        return client.post(
            f"/api/v1/items/{item.id}/annotations", [box(label="cat", attributes={})], format="json"
        ).json()

    created = await database_sync_to_async(save)()

    event = await next_event(viewer_socket)
    assert event["event"] == "annotations.changed" and event["group"] == group
    assert event["data"]["itemId"] == item.id and event["data"]["annotationsCount"] == 1
    assert [a["id"] for a in event["data"]["created"]] == [created[0]["id"]]
    assert event["data"]["updated"] == [] and event["data"]["deleted"] == []
    assert await owner_socket.receive_nothing(timeout=0.3)
    await owner_socket.disconnect()
    await viewer_socket.disconnect()


async def test_strangers_cannot_watch_an_item():
    item, _owner, _annotator, stranger = await make_item()
    socket, _, reply = await watching(stranger, f"item.{item.id}")
    assert reply["type"] == "error" and reply["code"] == "not_found"
    assert (await subscribe(socket, "item.not-an-id"))["type"] == "error"
    await socket.disconnect()
