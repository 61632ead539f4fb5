import io

import pytest

from annotator.datasets import services
from tests.images import png


@pytest.fixture
def dataset(members, project):
    return services.dataset_create(user=members["owner"], project_id=project.id, name="Cats")


@pytest.fixture
def upload(client_for):
    """upload(user, dataset, path, data=png(), **fields) through the API; returns the response."""

    def do_upload(user, dataset, path="/a/one.png", data=None, mode=None, **fields):
        payload = {"file": io.BytesIO(data if data is not None else png()), "path": path, "type": "file", **fields}
        payload["file"].name = path.rsplit("/", 1)[-1] or "file.png"
        url = f"/api/v1/datasets/{dataset.id}/items" + (f"?mode={mode}" if mode else "")
        return client_for(user).post(url, payload, format="multipart")

    return do_upload
