"""Fixtures for import and export: the annotations tests' recipe (labels, tools, attributes),
an annotated image item, a fresh dataset with the same ontology to import into, and zips."""

import io
import zipfile
from pathlib import Path

import pytest

from annotator.datasets import services as datasets
from annotator.ontologies import services as ontologies
from annotator.ontologies.models import Recipe
from tests.annotations.conftest import ATTRIBUTES, HEIGHT, LABELS, WIDTH, box, dataset, item, mask_png  # noqa: F401


@pytest.fixture
def fresh_dataset(members, project):
    """An empty dataset whose recipe has the same labels, attributes and tools."""
    owner = members["owner"]
    target = datasets.dataset_create(user=owner, project_id=project.id, name="Imported", labels=LABELS)
    recipe = Recipe.objects.get(pk=target.metadata["system"]["recipes"][0])
    ontologies.ontology_attributes_upsert(
        user=owner, ontology_id=recipe.ontologies.get().id, items=ATTRIBUTES, upsert=True
    )
    ontologies.recipe_update(
        user=owner, recipe_id=recipe.id, label_tools={"road": ["segment", "polyline", "binary"], "scene.day": ["class"]}
    )
    return target


def zip_bytes(entries: dict[str, bytes | str]) -> bytes:
    """A zip holding `entries` (name: content), as bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_of(tmp_path: Path, files: dict[str, bytes | str]) -> Path:
    """The same zip written to tmp_path/upload.zip."""
    path = tmp_path / "upload.zip"
    path.write_bytes(zip_bytes(files))
    return path
