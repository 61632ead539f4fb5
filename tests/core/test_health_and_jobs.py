import pytest
from celery.result import allow_join_result

from annotator.celery import app as celery_app
from annotator.core.jobs import ping

pytestmark = pytest.mark.django_db


def test_healthz_reports_each_component(client, celery_worker):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {"database", "channelLayer", "broker"} <= set(body["checks"])
    assert all(check["ok"] for check in body["checks"].values())


def test_healthz_is_503_and_names_the_broken_broker(client, monkeypatch):
    # given: a broker nobody listens on
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(celery_app.conf, "broker_connection_timeout", 1)

    # when
    response = client.get("/healthz")

    # then
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False and body["checks"]["broker"]["error"]
    assert body["checks"]["database"]["ok"] is True


def test_a_job_runs_on_a_real_worker(celery_worker):
    # In the embedded default the worker is a thread on the in-memory transport; with
    # REDIS_URL it is a separate `celery worker` process on the Redis broker.
    # allow_join_result: the embedded worker shares this process, which Celery otherwise
    # takes for a task waiting on another task.
    result = ping.delay("hello worker")
    with allow_join_result():
        assert result.get(timeout=30) == "hello worker"
