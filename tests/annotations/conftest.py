"""Fixtures for annotations: a 64x48 image item in a dataset whose recipe has labels, tools and attributes."""

import io

import numpy as np
import pytest
from PIL import Image

from annotator.datasets import services as datasets
from annotator.ontologies import services as ontologies
from annotator.ontologies.models import Recipe
from tests.images import png

WIDTH, HEIGHT = 64, 48
LABELS = [
    {"tag": "cat", "color": "#ff0000"},
    {"tag": "dog", "color": "#00ff00"},
    {"tag": "road", "color": "#0000ff"},
    {"tag": "scene.day", "color": "#aaaaaa"},
]
ATTRIBUTES = [
    {"key": "breed", "title": "Breed", "type": "options", "scope": ["cat", "dog"], "values": ["tabby", "siamese"]},
    {"key": "occluded", "title": "Occluded", "type": "boolean", "scope": ["*"], "optional": False},
    {"key": "note", "title": "Note", "type": "freeText", "scope": ["cat"]},
    {"key": "age", "title": "Age", "type": "range", "scope": ["dog"], "range": {"min": 0, "max": 20, "step": 1}},
]


@pytest.fixture
def dataset(members, project):
    owner = members["owner"]
    dataset = datasets.dataset_create(user=owner, project_id=project.id, name="Pets", labels=LABELS)
    recipe = Recipe.objects.get(pk=dataset.metadata["system"]["recipes"][0])
    ontology = recipe.ontologies.get()
    ontologies.ontology_attributes_upsert(user=owner, ontology_id=ontology.id, items=ATTRIBUTES, upsert=True)
    ontologies.recipe_update(
        user=owner, recipe_id=recipe.id, label_tools={"road": ["segment", "polyline", "binary"], "scene.day": ["class"]}
    )
    return dataset


@pytest.fixture
def item(dataset, members):
    stored, _op = datasets.item_upload(
        user=members["owner"], dataset_id=dataset.id, path="/photos/a.png", fileobj=io.BytesIO(png(WIDTH, HEIGHT))
    )
    return stored


def box(left=1.0, top=2.0, right=10.0, bottom=12.0, label="cat", **extra):
    return {
        "type": "box",
        "label": label,
        "coordinates": [{"x": left, "y": top, "z": 0}, {"x": right, "y": bottom, "z": 0}],
        "metadata": {"system": {"attributes": extra.pop("attributes", {"occluded": False})}},
        **extra,
    }


def mask_png(mask: np.ndarray, color=(255, 0, 0)) -> str:
    import base64

    pixels = np.zeros((*mask.shape, 4), dtype=np.uint8)
    pixels[mask] = (*color, 255)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def mask_from(data_url: str) -> np.ndarray:
    import base64

    raw = base64.b64decode(data_url[len("data:image/png;base64,") :])
    return np.asarray(Image.open(io.BytesIO(raw)))[..., 3] > 127
