"""The unmodified dtlpy SDK against a live server: logins, token refresh, projects."""

from datetime import timedelta
from pathlib import Path

import pytest

from annotator.accounts import services
from annotator.accounts.models import Membership, Project
from tests.contract.conftest import run_scenarios
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.contract

SCENARIOS = Path(__file__).with_name("dtlpy_scenarios.py")


def test_dtlpy_logs_in_refreshes_and_manages_projects(dtlpy_python, live_server, settings, tmp_path):
    # given: a user with an API key and a password, and id tokens that soon fall due
    settings.JWT_ID_TOKEN_LIFETIME = timedelta(seconds=61)
    user = UserFactory(email="sdk@example.com")
    _record, api_key = services.api_key_create(user=user, name="sdk")

    # when
    values = run_scenarios(
        dtlpy_python,
        SCENARIOS,
        work_dir=tmp_path,
        env={
            "ANNOTATOR_URL": live_server.url,
            "API_KEY": api_key,
            "EMAIL": user.email,
            "PASSWORD": PASSWORD,
            "PROJECT_NAME": "SDK Project 1",
        },
    )

    # then: API-key login
    assert values["login_token"] == user.email
    # projects
    project = Project.objects.get(name="SDK Project 1")
    assert values["projects.create"] == {"id": project.id, "name": "SDK Project 1", "creator": user.email}
    assert Membership.objects.get(project=project, user=user).role == "owner"
    assert values["projects.list"] == ["SDK Project 1"]
    assert values["projects.get by name"] == project.id
    assert values["projects.get by id"] == "SDK Project 1"
    assert values["projects.get missing name"] == "NotFound"
    assert values["projects.get missing id"] == "NotFound"
    # password login and refresh, forced and automatic
    assert values["login_m2m"] is True
    assert values["login_m2m user"] == user.email
    assert values["refresh forced"] is True
    assert values["refresh due"] is True
    assert values["call after auto refresh"] == ["SDK Project 1"]
    assert values["token replaced"] is True
    assert values["bad password"] is False
