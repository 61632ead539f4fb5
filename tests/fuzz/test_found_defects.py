"""What the fuzz test found in the API's behaviour, pinned down: each bad input is a clear 400 and
changes nothing (docs/NOTES.md, Fuzzing)."""

import io

import pytest
import yaml
from rest_framework.test import APIClient

from annotator.accounts.models import Project
from annotator.annotations.models import Annotation
from annotator.datasets import services as datasets
from annotator.tasks.models import Assignment, TaskItem
from tests.conftest import bearer_client
from tests.fuzz.test_api_fuzz import seed
from tests.images import png

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(media_root):
    token, ids = seed()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client, ids


# Each test seeds the demo once (~2 s), so the bad inputs of one defect share a test.
def test_remove_from_task_with_a_body_that_is_not_an_object_removes_nothing(demo):
    client, ids = demo
    url = f"/api/v1/annotationtasks/{ids['task_id'][0]}/removeFromTask"
    before = TaskItem.objects.filter(task_id=ids["task_id"][0]).count()

    responses = [client.post(url, body, content_type="application/json") for body in ('"a string"', "[]", "42")]

    assert [(r.status_code, r.json()["message"]) for r in responses] == [(400, "The body is a JSON object.")] * 3
    assert TaskItem.objects.filter(task_id=ids["task_id"][0]).count() == before > 0


def test_patching_an_assignment_with_invalid_json_is_a_400(demo):
    client, ids = demo
    url = f"/api/v1/assignments/{ids['assignment_id'][0]}"
    before = Assignment.objects.get(id=ids["assignment_id"][0]).updated_at

    broken = client.patch(url, "\x00", content_type="application/json")
    not_an_object = client.patch(url, "[1]", content_type="application/json")

    assert (broken.status_code, broken.json()["code"]) == (400, "parse_error")
    assert not_an_object.status_code == 400
    assert client.patch(url, {"name": "as dtlpy sends it back"}, format="json").status_code == 200
    assert Assignment.objects.get(id=ids["assignment_id"][0]).updated_at == before


def test_a_system_flag_that_is_not_a_yes_or_no_word_is_a_400(demo):
    client, ids = demo
    annotation = Annotation.objects.get(id=ids["annotation_id"][0])

    responses = [
        client.patch(f"/api/v1/annotations/{annotation.id}?system={flag}", {"label": "pedestrian"}, format="json")
        for flag in ("maybe", "-7047018", "2")
    ]

    assert [(r.status_code, r.json()["details"]) for r in responses] == [(400, {"system": "not a boolean"})] * 3
    assert Annotation.objects.get(id=annotation.id).version == annotation.version


def test_a_name_must_be_a_string(demo, user):
    client, ids = demo
    projects = Project.objects.count()

    for name in (3.359039116452639e-15, 4194305):
        created = client.post("/api/v1/projects", {"name": name}, format="json")
        renamed = client.patch(f"/api/v1/projects/{ids['project_id'][0]}", {"name": name}, format="json")
        key = bearer_client(user).post("/api/v1/users/me/apikeys", {"name": name}, format="json")

        assert (created.status_code, created.json()["details"]) == (400, {"name": ["Not a valid string."]})
        assert renamed.status_code == key.status_code == 400
    assert Project.objects.count() == projects
    assert Project.objects.get(id=ids["project_id"][0]).name == "Demo project"


def test_a_nul_character_in_the_url_is_a_400_not_a_database_error(demo):
    client, _ids = demo
    urls = [
        "/api/v1/ontologies?projects=%00",
        "/api/v1/recipes?ids=a%00b",
        "/api/v1/datasets?projects=x%00",
        "/api/v1/assignments?annotator=%00",
        "/api/v1/projects/Demo%00/name",
    ]

    responses = [client.get(url) for url in urls]

    assert [(r.status_code, r.json()["message"]) for r in responses] == [
        (400, "The URL may not contain NUL characters.")
    ] * len(urls)


def test_the_schema_documents_the_bodies_the_server_takes(client, members, client_for, media_root):
    """Two schema-violating requests the server rightly accepts: dtlpy's list of annotations (the
    schema said object) and an empty upload description (the schema said at least one character)."""
    schema = yaml.safe_load(client.get("/api/schema/").content)
    create = schema["paths"]["/api/v1/items/{item_id}/annotations"]["post"]["requestBody"]["content"]
    assert {"type": "array", "items": {"type": "object", "additionalProperties": {}}} in (
        create["application/json"]["schema"]["oneOf"]
    )
    upload = schema["components"]["schemas"]["ItemUploadRequest"]["properties"]["description"]
    assert "minLength" not in upload

    owner = members["owner"]
    dataset = datasets.dataset_create(user=owner, project_id=owner.memberships.get().project_id, name="Blank")
    api = client_for(owner)
    answer = api.post(
        f"/api/v1/datasets/{dataset.id}/items",
        {"file": io.BytesIO(png(2, 2)), "path": "/a.png", "description": ""},
        format="multipart",
    )
    assert answer.status_code == 201 and answer.json()["description"] is None
