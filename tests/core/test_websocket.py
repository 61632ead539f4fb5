"""The /ws/ endpoint: who may connect, who may watch what, and that events reach only them."""

import pytest
from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.test import Client

from annotator.accounts import services
from annotator.asgi import application
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@database_sync_to_async
def make_world():
    project = ProjectFactory()
    member = MembershipFactory(project=project, role="annotator").user
    stranger = UserFactory()
    return project, project.creator, member, stranger


@database_sync_to_async
def key_for(user) -> str:
    return services.api_key_create(user=user, name="ws")[1]


async def open_socket(user=None, *, token=None, headers=None):
    headers = list(headers or [])
    if user is not None:
        headers.append((b"authorization", f"Bearer {token or await key_for(user)}".encode()))
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


async def subscribe(communicator, group):
    await communicator.send_json_to({"action": "subscribe", "group": group})
    return await communicator.receive_json_from()


async def watching(user, group):
    """A connected socket of `user` that asked to watch `group`; returns (socket, hello, reply)."""
    socket, _, _ = await open_socket(user)
    hello = await socket.receive_json_from()
    return socket, hello, await subscribe(socket, group)


async def next_event(communicator):
    while True:
        message = await communicator.receive_json_from(timeout=3)
        if message["type"] == "event":
            return message


async def test_anonymous_sockets_are_closed_with_4401():
    _socket, connected, code = await open_socket()
    assert not connected
    assert code == 4401


async def test_a_bad_token_is_refused():
    _project, owner, _member, _stranger = await make_world()
    _socket, connected, code = await open_socket(owner, token="not-a-jwt")
    assert not connected and code == 4401


async def test_hello_names_the_socket_and_the_user():
    _project, owner, _member, _stranger = await make_world()
    communicator, connected, _ = await open_socket(owner)
    assert connected
    hello = await communicator.receive_json_from()
    assert hello["type"] == "hello" and hello["userId"] == owner.id and hello["socketId"]
    await communicator.disconnect()


async def test_members_may_watch_their_project_and_strangers_may_not():
    project, _owner, member, stranger = await make_world()
    member_socket, _, _ = await open_socket(member)
    stranger_socket, _, _ = await open_socket(stranger)
    await member_socket.receive_json_from()
    await stranger_socket.receive_json_from()

    assert await subscribe(member_socket, f"project.{project.id}") == {
        "type": "subscribed",
        "group": f"project.{project.id}",
    }
    refused = await subscribe(stranger_socket, f"project.{project.id}")
    assert refused["type"] == "error" and refused["code"] == "not_found"
    refused_user = await subscribe(stranger_socket, f"user.{member.id}")
    assert refused_user["type"] == "error"
    nonsense = await subscribe(stranger_socket, "admin.everything")
    assert nonsense["type"] == "error"

    await member_socket.disconnect()
    await stranger_socket.disconnect()


async def test_an_event_reaches_the_subscribed_socket_and_not_a_strangers():
    # given
    project, owner, member, stranger = await make_world()
    member_socket, _, _ = await watching(member, f"project.{project.id}")
    stranger_socket, _, refused = await watching(stranger, f"project.{project.id}")
    assert refused["type"] == "error"
    newcomer = await database_sync_to_async(UserFactory)()

    # when: the owner adds someone (the event is sent after commit)
    await database_sync_to_async(services.member_add)(
        user=owner, project_id=project.id, email=newcomer.email, role="reviewer"
    )

    # then
    event = await next_event(member_socket)
    assert event["event"] == "member.added"
    assert event["group"] == f"project.{project.id}"
    assert event["data"]["email"] == newcomer.email and event["data"]["role"] == "reviewer"
    assert await stranger_socket.receive_nothing(timeout=0.3)

    await member_socket.disconnect()
    await stranger_socket.disconnect()


async def test_a_user_hears_about_being_added_on_their_own_group():
    project, owner, _member, stranger = await make_world()
    socket, _, _ = await open_socket(stranger)
    await socket.receive_json_from()

    await database_sync_to_async(services.member_add)(
        user=owner, project_id=project.id, email=stranger.email, role="annotator"
    )

    event = await next_event(socket)
    assert event["event"] == "project.joined" and event["data"]["id"] == project.id
    await socket.disconnect()


async def test_the_socket_that_made_a_change_gets_no_echo():
    # given: the owner watches the project from a socket and renames it through the API
    project, owner, member, _stranger = await make_world()
    owner_socket, hello, _ = await watching(owner, f"project.{project.id}")
    member_socket, _, _ = await watching(member, f"project.{project.id}")
    token = await key_for(owner)

    def rename():
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_SOCKET_ID=hello["socketId"])
        return client.patch(f"/api/v1/projects/{project.id}", {"name": "Renamed live"}, format="json").status_code

    # when
    assert await database_sync_to_async(rename)() == 200

    # then
    assert (await next_event(member_socket))["data"]["name"] == "Renamed live"
    assert await owner_socket.receive_nothing(timeout=0.3)
    await owner_socket.disconnect()
    await member_socket.disconnect()


async def test_a_removed_member_stops_receiving_the_projects_events():
    # given
    project, owner, member, _stranger = await make_world()
    socket, _, _ = await watching(member, f"project.{project.id}")

    # when
    await database_sync_to_async(services.member_remove)(user=owner, project_id=project.id, email=member.email)

    # then: they see their removal, are unsubscribed, and miss what follows
    messages = [await socket.receive_json_from() for _ in range(3)]
    kinds = [(m["type"], m.get("event")) for m in messages]
    assert ("event", "member.removed") in kinds
    assert ("unsubscribed", None) in kinds
    await database_sync_to_async(services.project_update)(user=owner, project_id=project.id, name="After removal")
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_session_cookie_works_from_an_allowed_origin_only():
    # given
    _project, owner, _member, _stranger = await make_world()

    def session_cookie():
        client = Client()
        client.force_login(owner)
        return client.cookies["sessionid"].value

    cookie = await database_sync_to_async(session_cookie)()
    cookie_header = (b"cookie", f"sessionid={cookie}".encode())

    # when / then
    good, connected, _ = await open_socket(headers=[cookie_header, (b"origin", b"http://127.0.0.1:8000")])
    assert connected
    assert (await good.receive_json_from())["userId"] == owner.id
    await good.disconnect()

    _evil, connected, code = await open_socket(headers=[cookie_header, (b"origin", b"https://evil.example")])
    assert not connected and code == 4401
    _none, connected, code = await open_socket(headers=[cookie_header])
    assert not connected and code == 4401


async def test_malformed_messages_get_an_error_not_a_disconnect():
    _project, owner, _member, _stranger = await make_world()
    socket, _, _ = await open_socket(owner)
    await socket.receive_json_from()
    await socket.send_json_to({"action": "dance"})
    assert (await socket.receive_json_from())["code"] == "bad_request"
    await socket.send_json_to(["not", "an", "object"])
    assert (await socket.receive_json_from())["code"] == "bad_request"
    await socket.disconnect()


async def test_command_progress_reaches_watchers_from_the_worker(celery_worker):
    """A clone's progress is pushed by the worker (a thread, or another process with Redis)."""
    import io

    from annotator.datasets import services as dataset_services
    from annotator.datasets.commands import dataset_clone_start
    from tests.images import png

    # given: a watcher of the project, and a dataset to clone
    project, owner, member, _stranger = await make_world()

    def dataset_with_items():
        dataset = dataset_services.dataset_create(user=owner, project_id=project.id, name="Source")
        for n in range(3):
            dataset_services.item_upload(
                user=owner, dataset_id=dataset.id, path=f"/{n}.png", fileobj=io.BytesIO(png(color=(n, 9, 9)))
            )
        return dataset

    source = await database_sync_to_async(dataset_with_items)()
    socket, _, _ = await watching(member, f"project.{project.id}")

    # when
    command = await database_sync_to_async(dataset_clone_start)(
        user=owner, dataset_id=source.id, name="Copy", query=None, with_metadata=True, with_annotations=False
    )

    # then: updates for this command arrive until it succeeds
    statuses = []
    while not statuses or statuses[-1] not in {"success", "failed"}:
        event = await socket.receive_json_from(timeout=30)
        if event.get("event") == "command.updated" and event["data"]["id"] == command.id:
            statuses.append(event["data"]["status"])
    assert statuses[-1] == "success"
    assert "in-progress" in statuses
    await socket.disconnect()
