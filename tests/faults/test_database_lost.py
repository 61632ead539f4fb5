"""Fault: the database connection is lost. Requests answer 503 with a clear message (JSON
under the API, a page elsewhere), never a 500 or a traceback, and service comes back with it."""

import pytest
import requests
from django.db import OperationalError, connections
from django.test import Client

from annotator.core.pages import DATABASE_UNAVAILABLE_MESSAGE
from tests.conftest import wait_until
from tests.faults.conftest import api_session, needs_scale_out, process_env
from tests.faults.proxy import CuttableProxy

pytestmark = pytest.mark.django_db(transaction=True)


def _assert_api_unavailable(response) -> None:
    """`response` from requests or Django's test client: both have these attributes."""
    assert response.status_code == 503, response.content[:500]
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"status": 503, "code": "service_unavailable", "message": DATABASE_UNAVAILABLE_MESSAGE}
    assert int(response.headers["Retry-After"]) > 0


def _assert_page_unavailable(response) -> None:
    text = response.content.decode()
    assert response.status_code == 503, text[:500]
    assert response.headers["Content-Type"].startswith("text/html")
    assert DATABASE_UNAVAILABLE_MESSAGE in text and "Traceback" not in text


def test_a_database_error_in_any_request_is_a_clear_503(members, monkeypatch):
    """The mapping itself, in every mode: every query of the request fails as on a lost connection
    (the session and the API key lookups included, before any view runs)."""
    api, _token = api_session(members["owner"])
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=api.headers["Authorization"])
    client.force_login(members["owner"])

    def unreachable(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(type(connections["default"]), "_cursor", unreachable)
    api_response = client.get("/api/v1/projects")
    page_response = client.get("/")
    monkeypatch.undo()

    _assert_api_unavailable(api_response)
    _assert_page_unavailable(page_response)


@needs_scale_out
def test_the_database_lost_and_back(members, media_root, processes):
    # given a server whose database connections go through a proxy we can cut
    from django.conf import settings

    database = settings.DATABASES["default"]
    proxy = CuttableProxy(database.get("HOST") or "127.0.0.1", int(database.get("PORT") or 5432))
    test_url = process_env(media_root)["DATABASE_URL"]
    through_proxy = test_url.replace(f":{database.get('PORT') or 5432}/", f":{proxy.port}/")
    redis = processes.redis()
    env = process_env(media_root, DATABASE_URL=through_proxy, REDIS_URL=redis.url, DATABASE_POOL_TIMEOUT="2")
    server = processes.server(env)
    api, _token = api_session(members["owner"])
    browser = Client()
    browser.force_login(members["owner"])
    page = requests.Session()
    page.cookies.set("sessionid", browser.cookies["sessionid"].value)
    try:
        assert api.get(f"{server.url}/api/v1/projects", timeout=10).status_code == 200
        assert page.get(f"{server.url}/", timeout=10, allow_redirects=False).status_code == 200

        # when the database goes away, then the API and pages say so with a 503
        proxy.cut()
        _assert_api_unavailable(api.get(f"{server.url}/api/v1/projects", timeout=30))
        _assert_page_unavailable(page.get(f"{server.url}/", timeout=30))
        health = requests.get(f"{server.url}/healthz", timeout=30)
        assert health.status_code == 503 and not health.json()["checks"]["database"]["ok"]

        # and when it is back, so is the service
        proxy.restore()
        wait_until(
            lambda: api.get(f"{server.url}/api/v1/projects", timeout=30).status_code == 200,
            timeout=30,
            interval=0.2,
            message="the API to serve again",
        )
        assert page.get(f"{server.url}/", timeout=10, allow_redirects=False).status_code == 200
    finally:
        proxy.close()
