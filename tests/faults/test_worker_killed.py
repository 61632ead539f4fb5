"""Fault: the Celery worker is SIGKILLed in the middle of an import or an export. The command
ends as failed with a clear error once its heartbeat is older than the lease (it never shows
as running forever), and nothing of a killed import is visible."""

import io

import orjson
import psycopg
import pytest

from annotator.annotations.models import Annotation
from annotator.core.models import Command
from annotator.datasets import services as datasets
from annotator.datasets.models import Item
from tests.conftest import _test_database_url, wait_until
from tests.exchange.conftest import box, zip_bytes
from tests.faults.conftest import LEASE_SECONDS, api_session, needs_scale_out, process_env
from tests.images import png

pytestmark = [pytest.mark.django_db(transaction=True), needs_scale_out]

IMPORT_ITEMS = 600
EXPORT_ITEMS = 300


@pytest.fixture
def scale_out(media_root, processes):
    """A private Redis, a server and one worker on it: only this worker can take our jobs."""
    redis = processes.redis()
    env = process_env(media_root, REDIS_URL=redis.url)
    server = processes.server(env)
    worker = processes.worker(env, "faults-doomed")
    return server, worker


def _image(index: int) -> bytes:
    return png(8, 8, color=(index % 256, index // 256, 7))


def _failed_for_stale_heartbeat(api, server, command_id: str) -> dict:
    """Read the command through the API until it is failed; it must not pass for running
    much longer than the lease."""
    body = wait_until(
        lambda: (
            (body := api.get(f"{server.url}/api/v1/commands/{command_id}", timeout=10).json())["status"] == "failed"
            and body
        ),
        timeout=LEASE_SECONDS + 15,
        interval=0.2,
        message="the command to be failed",
    )
    assert body["error"] == "The worker running this command stopped responding."
    return body


def _import_writing_rows() -> bool:
    """True once another session holds a write lock on the items table: the import's transaction
    has inserted items that nobody else can see yet."""
    with psycopg.connect(_test_database_url(), autocommit=True) as observer:
        return bool(
            observer.execute(
                """SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                   WHERE c.relname = %s AND l.mode = 'RowExclusiveLock' AND l.granted AND l.pid <> pg_backend_pid()""",
                [Item._meta.db_table],
            ).fetchone()
        )


def test_a_worker_killed_mid_import_fails_the_command_and_leaves_nothing(members, fresh_dataset, scale_out):
    server, worker = scale_out
    api, _token = api_session(members["engineer"])
    entries: dict[str, bytes] = {}
    for i in range(IMPORT_ITEMS):
        entries[f"json/{i}.json"] = orjson.dumps({"filename": f"/{i}.png", "annotations": [box()]})
        entries[f"items/{i}.png"] = _image(i)
    upload = {"file": ("import.zip", zip_bytes(entries)), "format": (None, "dataloop"), "missingLabels": (None, "add")}

    # when the worker is killed while the import's transaction holds written rows
    started = api.post(f"{server.url}/api/v1/datasets/{fresh_dataset.id}/import", files=upload, timeout=60)
    assert started.status_code == 200, started.text
    wait_until(_import_writing_rows, timeout=60, interval=0.01, message="the import to write rows")
    worker.kill()

    # then the command fails with a clear error, and no item or annotation of the import exists
    assert Command.objects.get(pk=started.json()["id"]).status == Command.Status.IN_PROGRESS  # killed mid-run
    _failed_for_stale_heartbeat(api, server, started.json()["id"])
    listed = api.get(f"{server.url}/api/v1/datasets/{fresh_dataset.id}", timeout=10).json()
    assert listed["itemsCount"] == 0
    assert not Item.objects.filter(dataset=fresh_dataset).exists()
    assert not Annotation.objects.filter(dataset=fresh_dataset).exists()


def _many_items(dataset, owner) -> None:
    """EXPORT_ITEMS image items sharing one uploaded image's bytes (uploading each is slow)."""
    template, _op = datasets.item_upload(
        user=owner, dataset_id=dataset.id, path="/0.png", fileobj=io.BytesIO(_image(0))
    )
    copied = {f.attname: getattr(template, f.attname) for f in Item._meta.concrete_fields if f.name != "id"}
    Item.objects.bulk_create(
        Item(**{**copied, "filename": f"/{i}.png", "name": f"{i}.png"}) for i in range(1, EXPORT_ITEMS)
    )


def test_a_worker_killed_mid_export_fails_the_command(members, dataset, media_root, scale_out):
    server, worker = scale_out
    for i in range(EXPORT_ITEMS):
        datasets.item_upload(
            user=members["owner"], dataset_id=dataset.id, path=f"/{i}.png", fileobj=io.BytesIO(_image(i))
        )
    api, _token = api_session(members["engineer"])

    # when the worker is killed once it has started writing the export's zip
    started = api.post(f"{server.url}/api/v1/datasets/{dataset.id}/export", json={"format": "dataloop"}, timeout=30)
    assert started.status_code == 200, started.text
    wait_until(
        lambda: any((media_root / "tmp").glob("*/export.zip")), timeout=60, interval=0.005, message="the export's zip"
    )
    worker.kill()

    # then the command, still marked running when it was killed, is failed with a clear error
    assert Command.objects.get(pk=started.json()["id"]).status == Command.Status.IN_PROGRESS
    done = _failed_for_stale_heartbeat(api, server, started.json()["id"])
    assert "downloadUrl" not in done["spec"]
