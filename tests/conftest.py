"""Shared fixtures: users and projects, API clients, a live ASGI server, a Celery worker."""

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.test.utils import override_settings
from rest_framework.test import APIClient

from annotator.accounts import services
from annotator.core.permissions import ROLES
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent


# --- people and projects ---------------------------------------------------------------------
@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def project(db):
    return ProjectFactory()


@pytest.fixture
def members(project):
    """One user per role in `project` (the owner is its creator), plus a stranger."""
    people = {"owner": project.creator}
    for role in ROLES:
        if role != "owner":
            people[role] = MembershipFactory(project=project, role=role).user
    people["stranger"] = UserFactory()
    return people


def bearer_client(user) -> APIClient:
    _record, token = services.api_key_create(user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def client_for():
    """client_for(user): an API client authenticated with a fresh API key of `user`."""
    return bearer_client


@pytest.fixture
def anon_api():
    return APIClient()


# --- a live ASGI server ------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, *, timeout: float = 15.0, interval: float = 0.02, message: str = "condition"):
    """Poll `condition` until it returns a truthy value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def command_finished(api, command_id: str, *, timeout: float = 60.0) -> dict:
    """Poll GET /commands/{id} through `api` until the command succeeds or fails; its JSON."""

    def poll():
        body = api.get(f"/api/v1/commands/{command_id}").json()
        return body if body["status"] in {"success", "failed"} else None

    return wait_until(poll, timeout=timeout, message=f"command {command_id} to finish")


class LiveServer:
    """uvicorn serving the real ASGI app (HTTP and websockets) on a thread of this process."""

    def __init__(self) -> None:
        import uvicorn

        self.port = _free_port()
        config = uvicorn.Config(
            "annotator.asgi:application", host="127.0.0.1", port=self.port, lifespan="off", log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="live-asgi", daemon=True)
        # pytest-django's autouse helper enables this on any fixture named `live_server`;
        # our server needs no settings changed, so it is an empty override.
        self._live_server_modified_settings = override_settings()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()
        wait_until(lambda: self.server.started, message="the live server to start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def _live_server_session(django_db_setup, django_db_blocker):
    server = LiveServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def live_server(_live_server_session, transactional_db, celery_worker):
    """The live server, for tests whose data must be committed for another thread to see it."""
    return _live_server_session


# --- a Celery worker ------------------------------------------------------------------------------
def _test_database_url() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or ""
    auth = f"{user}:{db['PASSWORD']}@" if db.get("PASSWORD") else (f"{user}@" if user else "")
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def media_root(tmp_path_factory):
    """One media folder for the run, shared with the separate worker process."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _media_root(settings, media_root):
    settings.MEDIA_ROOT = media_root


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, media_root):
    """A real worker: in-process in the embedded default, a separate process in scale-out."""
    if settings.CELERY_WORKER_EMBEDDED:
        from annotator.core.worker import start_embedded_worker

        yield start_embedded_worker()
        return
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "CELERY_WORKER_EMBEDDED": "0",
        "MEDIA_ROOT": str(media_root),
    }
    name = f"tests-{os.getpid()}"
    command = [sys.executable, "-m", "celery", "-A", "annotator", "worker", "--pool", "threads", "--concurrency", "2"]
    command += ["--hostname", f"{name}@%h", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    from annotator.celery import app

    def answered() -> bool:
        return any(host.startswith(f"{name}@") for reply in app.control.ping(timeout=0.5) for host in reply)

    try:
        wait_until(answered, timeout=60, message="the Celery worker to answer a ping")
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests create many users; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_api_rate_limits(settings):
    """Tests fire requests far faster than people; tests/accounts/test_rate_limits.py turns them on."""
    settings.API_RATE_LIMIT = settings.API_ANON_RATE_LIMIT = "off"


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """A fresh cache namespace per test: with REDIS_URL the cache outlives tests and runs."""
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}
