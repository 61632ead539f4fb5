"""dtlpy against a live server: datasets, labels, uploads, DQL lists, updates, downloads."""

from pathlib import Path

import pytest

from annotator.accounts import services as account_services
from annotator.datasets.models import Dataset, Item
from tests.contract.conftest import run_scenarios
from tests.factories import ProjectFactory
from tests.images import png

pytestmark = pytest.mark.contract

DATA_SCENARIOS = Path(__file__).with_name("dtlpy_data_scenarios.py")
BATCH = 10  # /many/batch/img_0.png … img_9.png with score n and split val for odd n


def prepare_images(root):
    (root / "images" / "batch").mkdir(parents=True)
    (root / "replacement").mkdir()
    (root / "downloads").mkdir()
    (root / "images" / "single.png").write_bytes(png(20, 10, (1, 2, 3)))
    (root / "replacement" / "single.png").write_bytes(png(30, 30, (3, 2, 1)))
    for n in range(BATCH):
        (root / "images" / "batch" / f"img_{n}.png").write_bytes(png(8 + n, 8, (n, n, n)))


def test_dtlpy_manages_datasets_items_and_queries(dtlpy_python, live_server, settings, tmp_path):
    # given
    project = ProjectFactory()
    _record, api_key = account_services.api_key_create(user=project.creator, name="sdk")
    prepare_images(tmp_path)

    # when
    values = run_scenarios(
        dtlpy_python,
        DATA_SCENARIOS,
        work_dir=tmp_path,
        env={"ANNOTATOR_URL": live_server.url, "API_KEY": api_key, "PROJECT_ID": project.id, "WORK_DIR": str(tmp_path)},
    )

    # then: datasets and labels
    assert values["datasets.create"] == "Plain"
    assert values["datasets.create with labels"] == ["cat", "dog"]
    dataset = Dataset.objects.get(project=project, name="Plain")
    assert values["datasets.get by name"] == dataset.id
    assert values["datasets.get by id"] == "Plain"
    assert values["datasets.list"] == ["Labelled", "Plain"]
    assert ("bus", "#123456") in [tuple(x) for x in values["dataset.labels"]]
    assert "car" in [x[0] for x in values["dataset.labels"]]
    # uploads
    assert values["upload one with metadata"]["filename"] == "/one/single.png"
    assert values["upload one with metadata"]["user"] == {"split": "train", "score": 5}
    assert values["upload a folder"] == sorted(f"/many/batch/img_{n}.png" for n in range(BATCH))
    assert values["upload skip"] == len(png(20, 10, (1, 2, 3)))
    assert values["upload overwrite"] == len(png(30, 30, (3, 2, 1)))
    assert set(Item.objects.filter(dataset=dataset, type="dir").values_list("filename", flat=True)) == {
        "/one",
        "/many",
        "/many/batch",
    }
    # queries (the batch was tagged score n, split val for odd n, through item.update())
    assert values["list all"] == BATCH + 1
    assert values["filter metadata equality"] == [f"img_{n}.png" for n in (1, 3, 5, 7, 9)]
    assert values["filter $gt"] == ["img_7.png", "img_8.png", "img_9.png"]
    assert values["filter $in"] == ["img_0.png", "img_9.png"]
    assert values["filter $or"] == ["img_1.png", "img_2.png"]
    assert values["sort descending"] == [f"img_{n}.png" for n in range(BATCH - 1, -1, -1)]
    assert values["glob on filename"] == ["img_1.png"]
    assert values["paging"]["pages"] == 4
    assert len(values["paging"]["names"]) == BATCH + 1
    # single items, updates, downloads, deletes
    assert values["items.get by filepath"] == "single.png"
    assert values["items.get by id"] == "/one/single.png"
    assert values["item.update"]["reviewed"] is True
    assert values["bulk update"] == BATCH
    assert Item.objects.filter(dataset=dataset, metadata__user__batch="b1").count() == BATCH - 1  # one deleted after
    assert values["item.download"] is True
    assert values["items.delete"] == "gone"
    # clone: a Command the SDK waits on, then the new dataset; blobs shared
    assert values["datasets.clone"] == {"name": "Val only", "files": [f"img_{n}.png" for n in (1, 3, 5, 7, 9)]}
    clone = Dataset.objects.get(project=project, name="Val only")
    for copy in Item.objects.filter(dataset=clone, type="file"):
        assert Item.objects.get(pk=copy.metadata["system"]["clonedFrom"]).blob_id == copy.blob_id
