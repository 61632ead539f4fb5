"""Fault: Redis (channel layer, broker, cache) is stopped for 10 s. Pages and the API keep
serving reads and writes; a websocket client reconnects once Redis is back and catches up by
refetching; jobs queued during the outage (a thumbnail, an export) run once it returns."""

import contextlib
import json
import time

import pytest
import requests
from django.test import Client
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import connect

from annotator.core.events import item_group
from annotator.datasets.models import Blob, Item
from tests.conftest import command_finished, wait_until
from tests.exchange.conftest import box
from tests.faults.conftest import api_session, needs_scale_out, process_env
from tests.images import png

pytestmark = [pytest.mark.django_db(transaction=True), needs_scale_out]

OUTAGE_SECONDS = 10


class EventsClient:
    """What the frontend's events client does: keep one socket open, watch a group, and after a
    reconnect refetch what it shows (events sent while it was away are not replayed)."""

    def __init__(self, server_url: str, token: str, group: str) -> None:
        self.url = server_url.replace("http://", "ws://") + "/ws/"
        self.token = token
        self.group = group
        self.socket = None
        self._stack = contextlib.ExitStack()

    def open(self) -> bool:
        """Connect and subscribe; False while the server cannot take sockets."""
        try:
            socket = self._stack.enter_context(
                connect(self.url, additional_headers={"Authorization": f"Bearer {self.token}"}, open_timeout=5)
            )
            assert json.loads(socket.recv(timeout=5))["type"] == "hello"
            socket.send(json.dumps({"action": "subscribe", "group": self.group}))
            reply = json.loads(socket.recv(timeout=5))
        except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake, InvalidStatus):
            return False
        if reply != {"type": "subscribed", "group": self.group}:
            self.close()
            return False
        self.socket = socket
        return True

    def next_event(self, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message["type"] == "event":
                return message

    def close(self) -> None:
        self._stack.close()
        self.socket = None


def test_redis_stopped_for_ten_seconds(members, item, media_root, processes):
    # given a server and a worker on a Redis of our own, and a socket watching the item
    redis = processes.redis()
    env = process_env(media_root, REDIS_URL=redis.url)
    server = processes.server(env)
    processes.worker(env, "faults-outage")
    api, token = api_session(members["owner"])
    browser = Client()
    browser.force_login(members["owner"])
    pages = requests.Session()
    pages.cookies.set("sessionid", browser.cookies["sessionid"].value)
    events = EventsClient(server.url, token, item_group(item.id))
    assert events.open()
    base = f"{server.url}/api/v1"

    try:
        # when Redis stops, then pages, reads and writes keep working
        redis.stop()
        stopped = time.monotonic()
        assert pages.get(f"{server.url}/", timeout=30, allow_redirects=False).status_code == 200
        assert api.get(f"{base}/items/{item.id}", timeout=30).status_code == 200
        created = api.post(f"{base}/items/{item.id}/annotations", json=[box(label="cat")], timeout=30)
        assert created.status_code == 201, created.text
        upload = api.post(
            f"{base}/datasets/{item.dataset_id}/items",
            files={"file": ("outage.png", png(20, 10, color=(1, 2, 3)))},
            timeout=30,
        )
        assert upload.status_code == 201, upload.text
        export = api.post(f"{base}/datasets/{item.dataset_id}/export", json={"format": "dataloop"}, timeout=30)
        assert export.status_code == 200, export.text
        assert export.json()["status"] == "created"  # waits for the broker

        # and when it is back after the outage
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))  # the outage is a real duration
        redis.start()

        # then the socket reconnects and a refetch shows the change made while it was away
        events.close()
        wait_until(events.open, timeout=30, interval=0.5, message="the socket to reconnect")
        refetched = api.get(f"{base}/items/{item.id}/annotations", timeout=10).json()
        assert created.json()[0]["id"] in [a["id"] for a in refetched]
        # and live events flow again
        later = api.post(f"{base}/items/{item.id}/annotations", json=[box(label="dog")], timeout=10).json()
        event = events.next_event()
        assert event["event"] == "annotations.changed" and [a["id"] for a in event["data"]["created"]] == [
            later[0]["id"]
        ]

        # and the jobs queued during the outage run
        done = command_finished(ServerApi(api, server.url), export.json()["id"], timeout=60)
        assert done["status"] == "success", done
        uploaded = Item.objects.get(pk=upload.json()["id"])
        wait_until(
            lambda: Blob.objects.get(pk=uploaded.blob_id).has_thumbnail, timeout=30, message="the outage's thumbnail"
        )
    finally:
        events.close()


class ServerApi:
    """`command_finished` polls with `api.get(path).json()`: the server's URL goes in front."""

    def __init__(self, session: requests.Session, server_url: str) -> None:
        self.session, self.server_url = session, server_url

    def get(self, path: str):
        return self.session.get(self.server_url + path, timeout=10)
