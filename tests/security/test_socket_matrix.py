"""Websocket subscriptions, kind by kind, as each role, a stranger and an anonymous caller.

SUBSCRIPTIONS names, for every kind of group a socket may ask for (the `*_group` helpers of
annotator/core/events.py), the operation a member needs to watch it, or SELF (one's own group
only). A kind without a rule fails `test_every_subscription_kind_has_a_rule`. For each kind a real
event is then sent: the sockets allowed to watch hear it, the refused ones hear nothing.
"""

import inspect
import io

import pytest
from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.db import connection

from annotator.accounts import services as accounts
from annotator.accounts.services import api_key_create
from annotator.annotations.services import annotations_create
from annotator.asgi import application
from annotator.core import events
from annotator.core.consumers import CLOSE_UNAUTHENTICATED
from annotator.core.permissions import ROLES, role_allows
from annotator.datasets import services as datasets
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.images import png

pytestmark = pytest.mark.django_db(transaction=True)  # async tests run by asyncio_mode = "auto"

SELF = "SELF"
SUBSCRIPTIONS = {
    "user": SELF,  # one's own user group (joined on connect); anyone else's is refused
    "project": "project.view",
    "item": "item.view",
}
STRANGER = "stranger"  # a member (owner) of another project only


def group_kinds() -> set[str]:
    """The kinds the events module names groups for: what a client could ask to watch."""
    helpers = [f for name, f in inspect.getmembers(events, inspect.isfunction) if name.endswith("_group")]
    helpers = [f for f in helpers if f is not events.parse_group]
    return {helper("x").partition(".")[0] for helper in helpers}


def test_every_subscription_kind_has_a_rule():
    kinds = group_kinds()
    assert kinds - set(SUBSCRIPTIONS) == set(), "name who may watch these kinds in SUBSCRIPTIONS"
    assert set(SUBSCRIPTIONS) - kinds == set(), "listed but no longer a kind of group"
    assert all(events.parse_group(f"{kind}.x") == (kind, "x") for kind in kinds)
    assert events.parse_group("task.x") is None  # a kind the consumer does not know is refused outright


@database_sync_to_async
def make_world() -> dict:
    """A project with an item, a member per role, a stranger, and someone about to join."""
    project = ProjectFactory()
    owner = project.creator
    dataset = datasets.dataset_create(user=owner, project_id=project.id, name="Live", labels=[{"tag": "cat"}])
    item, _ = datasets.item_upload(user=owner, dataset_id=dataset.id, path="/live.png", fileobj=io.BytesIO(png()))
    callers = {role: MembershipFactory(project=project, role=role).user for role in ROLES}
    callers[STRANGER] = ProjectFactory().creator
    keys = {who: api_key_create(user=user, name="ws")[1] for who, user in callers.items()}
    return {"project": project, "owner": owner, "item": item, "callers": callers, "keys": keys}


async def open_socket(key: str | None) -> tuple[WebsocketCommunicator, bool, int | None]:
    headers = [(b"authorization", f"Bearer {key}".encode())] if key else []
    socket = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, code = await socket.connect()
    if connected:
        assert (await socket.receive_json_from())["type"] == "hello"
    return socket, connected, code


async def next_event(socket: WebsocketCommunicator) -> dict:
    while True:
        message = await socket.receive_json_from(timeout=5)
        if message["type"] == "event":
            return message


def may_watch(who: str, kind: str) -> bool:
    rule = SUBSCRIPTIONS[kind]
    return who != STRANGER and rule != SELF and role_allows(who, rule)


async def trigger(kind: str, world: dict) -> tuple[str, str]:
    """Sends one real event to the kind's group; (group it went to, event name)."""
    project, owner = world["project"], world["owner"]
    if kind == "project":
        newcomer = await database_sync_to_async(UserFactory)()
        await database_sync_to_async(accounts.member_add)(
            user=owner, project_id=project.id, email=newcomer.email, role="annotator"
        )
        return events.project_group(project.id), "member.added"
    if kind == "item":
        box = {"type": "box", "label": "cat", "coordinates": [{"x": 1, "y": 1}, {"x": 5, "y": 5}]}
        await database_sync_to_async(annotations_create)(user=owner, item_id=world["item"].id, annotations=[box])
        return events.item_group(world["item"].id), "annotations.changed"
    raise AssertionError(f"no event to trigger for {kind}")


def target_group(kind: str, world: dict) -> str:
    ids = {"project": world["project"].id, "item": world["item"].id}
    return f"{kind}.{ids[kind]}"


@pytest.mark.parametrize("kind", sorted(kind for kind, rule in SUBSCRIPTIONS.items() if rule != SELF))
async def test_who_may_watch_a_project_group_hears_its_events_and_no_one_else(kind):
    world = await make_world()
    group = target_group(kind, world)
    sockets = {}
    for who in world["callers"]:
        socket, connected, _ = await open_socket(world["keys"][who])
        assert connected, who
        await socket.send_json_to({"action": "subscribe", "group": group})
        reply = await socket.receive_json_from(timeout=5)
        if may_watch(who, kind):
            assert reply == {"type": "subscribed", "group": group}, who
        else:
            assert reply["type"] == "error" and reply["code"] == "not_found", who
        sockets[who] = socket

    sent_to, event = await trigger(kind, world)
    assert sent_to == group

    allowed = [who for who in sockets if may_watch(who, kind)]
    assert allowed, "the table lets no one watch this kind: nothing would be proven"
    for who in allowed:
        message = await next_event(sockets[who])
        assert (message["event"], message["group"]) == (event, group), who
    # The allowed sockets have the event, so the layer has delivered it: a refused one has nothing.
    for who in set(sockets) - set(allowed):
        assert await sockets[who].receive_nothing(timeout=0.1), f"{who} heard {event}"
    for socket in sockets.values():
        await socket.disconnect()


async def test_only_its_user_watches_a_user_group():
    world = await make_world()
    newcomer = await database_sync_to_async(UserFactory)()
    own_socket, connected, _ = await open_socket(
        await database_sync_to_async(lambda: api_key_create(user=newcomer, name="ws")[1])()
    )
    assert connected
    group = events.user_group(newcomer.id)
    sockets = {}
    for who in world["callers"]:  # every role of the project, and the stranger: none is this user
        socket, _, _ = await open_socket(world["keys"][who])
        await socket.send_json_to({"action": "subscribe", "group": group})
        reply = await socket.receive_json_from(timeout=5)
        assert reply["type"] == "error" and reply["code"] == "not_found", who
        sockets[who] = socket

    # when: the owner adds the newcomer, who is told on their own group
    await database_sync_to_async(accounts.member_add)(
        user=world["owner"], project_id=world["project"].id, email=newcomer.email, role="annotator"
    )

    message = await next_event(own_socket)
    assert (message["event"], message["group"]) == ("project.joined", group)
    for who, socket in sockets.items():
        assert await socket.receive_nothing(timeout=0.1), f"{who} heard the newcomer's event"
        await socket.disconnect()
    await own_socket.disconnect()


async def test_an_anonymous_socket_may_watch_nothing():
    world = await make_world()
    for key in (None, "not-a-key"):
        _socket, connected, code = await open_socket(key)
        assert not connected and code == CLOSE_UNAUTHENTICATED
    # and a revoked key is no better
    record, raw = await database_sync_to_async(api_key_create)(user=world["owner"], name="gone")
    await database_sync_to_async(accounts.api_key_revoke)(user=world["owner"], token_id=record.id)
    _socket, connected, code = await open_socket(raw)
    assert not connected and code == CLOSE_UNAUTHENTICATED
    # The refusal leaves the auth thread's connection open; PostgreSQL would not drop the test database.
    await database_sync_to_async(lambda: connection.close())()
