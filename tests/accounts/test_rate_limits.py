"""API rate limits: per signed-in user and per anonymous address, configurable, with Retry-After."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from annotator.accounts.throttling import parse_rate
from annotator.datasets.models import Dataset


@pytest.fixture
def limited(settings):
    settings.API_RATE_LIMIT = "3/min"
    settings.API_ANON_RATE_LIMIT = "2/min"
    return settings


def test_a_user_over_the_limit_gets_429_with_retry_after_and_nothing_is_done(limited, project, client_for):
    api = client_for(project.creator)
    for _ in range(3):
        assert api.get(f"/api/v1/projects/{project.id}").status_code == 200
    response = api.post("/api/v1/datasets", {"name": "late", "projects": [project.id]}, format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert not Dataset.objects.filter(name="late").exists()


def test_the_limit_is_per_user(limited, members, client_for, project):
    owner, annotator = client_for(members["owner"]), client_for(members["annotator"])
    for _ in range(3):
        owner.get(f"/api/v1/projects/{project.id}")
    assert owner.get(f"/api/v1/projects/{project.id}").status_code == 429
    assert annotator.get(f"/api/v1/projects/{project.id}").status_code == 200


def test_anonymous_callers_are_limited_per_address(limited, anon_api):
    assert anon_api.get("/api/schema/").status_code == 200
    assert anon_api.get("/api/schema/").status_code == 200
    assert anon_api.get("/api/schema/").status_code == 429
    elsewhere = anon_api.get("/api/schema/", REMOTE_ADDR="10.1.2.3")
    assert elsewhere.status_code == 200


def test_off_means_no_limit(settings, project, client_for):
    settings.API_RATE_LIMIT = "off"
    api = client_for(project.creator)
    assert all(api.get(f"/api/v1/projects/{project.id}").status_code == 200 for _ in range(20))


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [("600/min", (600, 60)), ("10/s", (10, 1)), ("5000/hour", (5000, 3600)), ("off", None), ("", None)],
)
def test_rates_parse(rate, parsed):
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["ten/min", "10/fortnight", "10", "-1/min", "0/min"])
def test_a_malformed_rate_fails_the_system_check(settings, rate):
    settings.API_RATE_LIMIT = rate
    with pytest.raises(SystemCheckError, match="API_RATE_LIMIT"):
        call_command("check")


def test_an_unreachable_cache_lets_requests_through(limited, project, client_for):
    """A limiter must not take the API down with it: nothing listens on port 9."""
    api = client_for(project.creator)
    limited.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }
    assert all(api.get(f"/api/v1/projects/{project.id}").status_code == 200 for _ in range(5))
