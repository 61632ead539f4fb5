"""One JSON error shape everywhere under the API, and HTML pages elsewhere."""

import pytest

pytestmark = pytest.mark.django_db

SHAPE = {"status", "code", "message"}


def test_unknown_api_path_is_a_json_404(client_for, user):
    response = client_for(user).get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()) >= SHAPE and response.json()["status"] == 404


def test_wrong_method_is_a_json_405(client_for, user):
    response = client_for(user).put("/api/v1/users/me", {}, format="json")
    assert response.status_code == 405
    assert set(response.json()) >= SHAPE and response.json()["code"] == "method_not_allowed"


def test_malformed_json_is_a_json_400(client_for, user):
    response = client_for(user).generic("POST", "/api/v1/projects", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) >= SHAPE and response.json()["code"] == "parse_error"


def test_validation_errors_name_the_field(client_for, user):
    response = client_for(user).post("/api/v1/projects", {}, format="json")
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "validation_error"
    assert body["message"].startswith("name:")
    assert "name" in body["details"]


def test_pages_get_html_errors(client, user):
    client.force_login(user)
    response = client.get("/projects/" + "a" * 24 + "/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Not found" in response.content


def test_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "openapi: 3" in text and "/api/v1/projects" in text and "/token" in text
    assert client.get("/api/docs/").status_code == 200
