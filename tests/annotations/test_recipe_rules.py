"""Saves check against the recipe as it is now, though each process keeps the rules it built.

The rules are rebuilt when the recipe, its list of ontologies or one of those ontologies
changes; every change below is made after a save has built (and kept) the rules before it.
"""

import pytest

from annotator.ontologies import services as ontologies
from annotator.ontologies.models import Recipe
from tests.annotations.conftest import box

pytestmark = pytest.mark.django_db


def save(client, item, *annotations):
    return client.post(f"/api/v1/items/{item.id}/annotations/batch", {"create": list(annotations)}, format="json")


def test_a_label_added_to_the_ontology_is_accepted_at_once(members, client_for, item, dataset):
    owner = members["owner"]
    client = client_for(owner)
    assert save(client, item, box()).status_code == 200
    refused = save(client, item, box(label="bird"))
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_label"

    recipe = Recipe.objects.get(pk=dataset.metadata["system"]["recipes"][0])
    ontology = recipe.ontologies.get()
    ontologies.ontology_labels_add(user=owner, ontology_id=ontology.id, labels=[{"tag": "bird", "color": "#123456"}])

    assert save(client, item, box(label="bird")).status_code == 200
    listed = client.get(f"/api/v1/items/{item.id}/annotations").json()
    assert {a["label"] for a in listed} == {"cat", "bird"}


def test_tools_and_attributes_changed_in_the_recipe_apply_to_the_next_save(members, client_for, item, dataset):
    owner = members["owner"]
    client = client_for(owner)
    recipe = Recipe.objects.get(pk=dataset.metadata["system"]["recipes"][0])
    ontology = recipe.ontologies.get()
    assert save(client, item, box(label="dog")).status_code == 200

    ontologies.recipe_update(user=owner, recipe_id=recipe.id, label_tools={"dog": ["point"]})
    refused = save(client, item, box(label="dog"))
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_type"

    ontologies.ontology_attributes_delete(user=owner, ontology_id=ontology.id, keys=["breed"])
    refused = save(client, item, box(label="cat", attributes={"breed": "tabby"}))
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_attribute"
    assert client.get(f"/api/v1/items/{item.id}/annotations").json()[-1]["label"] == "dog"


def test_an_ontology_added_to_the_recipe_brings_its_labels(members, client_for, item, dataset):
    owner = members["owner"]
    client = client_for(owner)
    recipe = Recipe.objects.get(pk=dataset.metadata["system"]["recipes"][0])
    first = recipe.ontologies.get()
    assert save(client, item, box()).status_code == 200
    assert save(client, item, box(label="tree")).status_code == 400

    second = ontologies.ontology_create(
        user=owner, project_ids=[dataset.project_id], title="Plants", roots=[{"tag": "tree", "color": "#00aa00"}]
    )
    ontologies.recipe_update(user=owner, recipe_id=recipe.id, ontology_ids=[first.id, second.id])
    assert save(client, item, box(label="tree", attributes={})).status_code == 200

    ontologies.recipe_update(user=owner, recipe_id=recipe.id, ontology_ids=[second.id])
    assert save(client, item, box(label="cat")).status_code == 400
