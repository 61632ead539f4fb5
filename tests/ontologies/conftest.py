"""Fixtures for ontologies and recipes: a small vehicle ontology, its recipe, recorded events."""

import pytest

from annotator.ontologies import services

VEHICLE_ROOTS = [
    {
        "value": {"tag": "Vehicle", "color": "#112233", "attributes": []},
        "children": [{"value": {"tag": "Car"}, "children": []}, {"value": {"tag": "Truck"}, "children": []}],
    },
    {"value": {"tag": "Person"}, "children": []},
]


@pytest.fixture
def ontology(project):
    """Vehicle (Car, Truck) and Person, owned by the project's owner."""
    return services.ontology_create(
        user=project.creator, project_ids=[project.id], title="Vehicles", roots=VEHICLE_ROOTS
    )


@pytest.fixture
def recipe(project, ontology):
    return services.recipe_create(
        user=project.creator, project_ids=[project.id], title="Cars recipe", ontology_ids=[ontology.id]
    )


@pytest.fixture
def events(monkeypatch):
    """Every broadcast the ontologies services make, as (group, event, data)."""
    sent: list[tuple[str, str, dict]] = []
    monkeypatch.setattr(services, "broadcast", lambda group, event, data: sent.append((group, event, data)))
    return sent
