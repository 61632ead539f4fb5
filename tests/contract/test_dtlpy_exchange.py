"""dtlpy against a live server: dataset.export in its output shapes, and download_annotations."""

import io
from pathlib import Path

import pytest

from annotator.accounts import services as account_services
from annotator.annotations.services import annotations_create
from annotator.datasets import services as datasets
from tests.contract.conftest import run_scenarios
from tests.factories import ProjectFactory
from tests.images import png

pytestmark = pytest.mark.contract

EXCHANGE_SCENARIOS = Path(__file__).with_name("dtlpy_exchange_scenarios.py")


def test_dtlpy_exports_and_downloads_annotations(dtlpy_python, live_server, tmp_path):
    # given a dataset with two annotated items in two folders
    project = ProjectFactory()
    owner = project.creator
    _record, api_key = account_services.api_key_create(user=owner, name="sdk")
    dataset = datasets.dataset_create(
        user=owner, project_id=project.id, name="Pets", labels=[{"tag": "cat"}, {"tag": "dog"}]
    )
    for path, label in (("/photos/a.png", "cat"), ("/other/b.png", "dog")):
        item, _op = datasets.item_upload(
            user=owner, dataset_id=dataset.id, path=path, fileobj=io.BytesIO(png(40, 30, (len(path), 1, 2)))
        )
        box = {"type": "box", "label": label, "coordinates": [{"x": 1, "y": 1}, {"x": 9, "y": 9}]}
        point = {"type": "point", "label": label, "coordinates": {"x": 3, "y": 4}}
        annotations_create(user=owner, item_id=item.id, annotations=[box, point])

    # when the SDK exports and downloads
    values = run_scenarios(
        dtlpy_python,
        EXCHANGE_SCENARIOS,
        work_dir=tmp_path,
        env={"ANNOTATOR_URL": live_server.url, "API_KEY": api_key, "DATASET_ID": dataset.id, "WORK_DIR": str(tmp_path)},
    )

    # then each output holds both items with their annotations, laid out as dtlpy expects
    expected = [
        {"filename": "/other/b.png", "annotations": [["box", "dog"], ["point", "dog"]]},
        {"filename": "/photos/a.png", "annotations": [["box", "cat"], ["point", "cat"]]},
    ]
    assert values["export json"] == expected
    assert values["export zip"] == ["json/other/b.json", "json/photos/a.json"]
    assert values["export zip kept"] == ["json/other/b.json", "json/photos/a.json"]
    assert values["export folders"] == ["other/b.json", "photos/a.json"]
    assert values["export filtered"] == ["/photos/a.png"]
    assert values["download_annotations"] == {
        "files": ["json/other/b.json", "json/photos/a.json"],
        "documents": expected,
    }
