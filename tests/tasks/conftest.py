"""Fixtures for tasks: a dataset of 10 images whose recipe has one label with a mandatory attribute."""

import io

import pytest

from annotator.datasets import services as datasets
from annotator.ontologies import services as ontologies
from annotator.ontologies.models import Recipe
from tests.conftest import command_finished
from tests.factories import MembershipFactory
from tests.images import png


@pytest.fixture
def dataset(members, project):
    owner = members["owner"]
    dataset = datasets.dataset_create(user=owner, project_id=project.id, name="Queue", labels=[{"tag": "cat"}])
    recipe = Recipe.objects.get(pk=dataset.metadata["system"]["recipes"][0])
    ontologies.ontology_attributes_upsert(
        user=owner,
        ontology_id=recipe.ontologies.get().id,
        items=[
            {
                "key": "pose",
                "title": "Pose",
                "type": "options",
                "values": ["up", "down"],
                "scope": ["*"],
                "optional": False,
            }
        ],
        upsert=True,
    )
    for n in range(10):
        datasets.item_upload(
            user=owner, dataset_id=dataset.id, path=f"/{n:02d}.png", fileobj=io.BytesIO(png(color=(n, 9, 9)))
        )
    return dataset


@pytest.fixture
def second_annotator(project):
    return MembershipFactory(project=project, role="annotator").user


def create_task(client, dataset, **body):
    """POST /annotationtasks and wait for its Command; returns the task JSON."""
    payload = {"name": "Label cats", "datasetId": dataset.id, "projectId": dataset.project_id, **body}
    response = client.post("/api/v1/annotationtasks", payload, format="json")
    assert response.status_code == 200, response.json()
    command = response.json()
    if command["status"] != "success":
        command = command_finished(client, command["id"])
    assert command["status"] == "success", command
    return client.get(f"/api/v1/annotationtasks/{command['spec']['createdTaskId']}").json()
