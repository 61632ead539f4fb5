"""The browser calls the API with its session cookie; writes then need the CSRF token."""

import pytest
from django.test import Client

from annotator.accounts.models import Project

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_session_reads_work_without_csrf(browser_client, user):
    response = browser_client.get("/api/v1/users/me")
    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_session_writes_without_the_csrf_token_are_refused(browser_client):
    response = browser_client.post("/api/v1/projects", {"name": "Forged"}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]
    assert not Project.objects.exists()


def test_session_writes_with_the_csrf_token_succeed(browser_client):
    browser_client.get("/")  # the page sets the CSRF cookie
    token = browser_client.cookies["csrftoken"].value
    response = browser_client.post(
        "/api/v1/projects", {"name": "Real"}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 201
    assert Project.objects.filter(name="Real").exists()
