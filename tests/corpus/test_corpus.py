"""The bad-input corpus (tests/corpus/generate.py) sent through the API, one test per case.

Each refused case must come back as a clear 4xx in the API's one error shape, with the
database (every row of every app model) and the storage (every file under MEDIA_ROOT)
exactly as they were. The few cases that a documented rule accepts check that outcome.
"""

import io
import json
from pathlib import Path
from unittest import mock

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import MULTIPART_CONTENT, encode_multipart
from django.test.utils import override_settings

from annotator.accounts.models import Project, User
from annotator.annotations.models import Annotation
from annotator.annotations.services import annotations_create
from annotator.datasets import services as datasets
from annotator.datasets.models import Blob, Dataset, Item
from annotator.datasets.paths import normalize_path
from tests.annotations.conftest import HEIGHT, LABELS, WIDTH, box
from tests.conftest import bearer_client
from tests.corpus import generate
from tests.corpus.generate import Case
from tests.factories import MembershipFactory, ProjectFactory
from tests.images import png

CASES = generate.all_cases()
assert (generate.WIDTH, generate.HEIGHT) == (WIDTH, HEIGHT), "the corpus assumes the annotations tests' item size"


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """One world for the module, committed once; each test runs in a transaction that is
    rolled back, so every case starts from the same rows (and its own checks see the files).

    An owner and an annotator; a dataset whose recipe has the annotations tests' labels; one
    64x48 image item with one box on it.
    """
    media = tmp_path_factory.mktemp("corpus-media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media):
        # no thumbnail job: a worker of the run would write to the world's rows meanwhile
        with mock.patch("annotator.core.job_queue.job_collect"):
            project = ProjectFactory()
            owner, annotator = project.creator, MembershipFactory(project=project, role="annotator").user
            dataset = datasets.dataset_create(user=owner, project_id=project.id, name="Corpus", labels=LABELS)
            item, _op = datasets.item_upload(
                user=owner, dataset_id=dataset.id, path="/photos/a.png", fileobj=io.BytesIO(png(WIDTH, HEIGHT))
            )
            annotation = annotations_create(user=owner, item_id=item.id, annotations=[box(attributes={})])[0][0]
            # Made now, so that a thumbnail job another test queued for the same bytes finds it
            # done: the embedded worker shares this process's settings, this media folder too.
            datasets.blob_thumbnails_make(sha256s=[item.blob_id])
        try:
            yield {
                "clients": {"owner": bearer_client(owner), "annotator": bearer_client(annotator)},
                "ids": {"dataset": dataset.id, "item": item.id, "annotation": annotation.id},
                "media": Path(media),
            }
        finally:
            Project.objects.filter(pk=project.pk).delete()  # datasets, items, annotations, recipes
            Blob.objects.filter(sha256=item.blob_id, items__isnull=True).delete()
            User.objects.filter(pk__in=[owner.pk, annotator.pk]).delete()  # and their tokens


@pytest.fixture
def world(shared_world, db, settings):
    settings.MEDIA_ROOT = shared_world["media"]
    return shared_world


# Columns that authenticating a request writes by design, whatever the request says.
BOOKKEEPING = {"accounts.ApiToken": {"last_used_at"}}
BOUNDARY = "corpus-boundary-7f3a"
ANNOTATION_WRITES = ("annotations.Annotation", "annotations.AnnotationChange", "datasets.Item", "datasets.Dataset")
ITEM_WRITES = ("datasets.Item", "datasets.Dataset", "datasets.Blob")


def database_state() -> dict[str, list[dict]]:
    """Every row of every model of the app, in primary-key order (bookkeeping columns aside)."""
    state = {}
    for model in apps.get_models():
        if model.__module__.startswith("annotator."):
            skip = BOOKKEEPING.get(model._meta.label, set())
            rows = model.objects.order_by("pk").values()
            state[model._meta.label] = [{k: v for k, v in row.items() if k not in skip} for row in rows]
    return state


def storage_state(media: Path) -> dict[str, int]:
    return {str(path.relative_to(media)): path.stat().st_size for path in media.rglob("*") if path.is_file()}


def send(case: Case, world: dict):
    request = case.request()
    url = request.path.format(**world["ids"]) + (f"?{request.query}" if request.query else "")
    client = world["clients"][case.role]
    if request.json_text is not None:
        return client.generic(request.method, url, request.json_text.encode(), content_type="application/json")
    payload = dict(request.form)
    if request.files:
        payload["file"] = [SimpleUploadedFile(name, data, content_type=mime) for name, data, mime in request.files]
    # generic() rather than post(), so that any method can carry a multipart body
    body = encode_multipart(BOUNDARY, payload)
    return client.generic(request.method, url, body, content_type=f"{MULTIPART_CONTENT}; boundary={BOUNDARY}")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_refused_and_changes_nothing(case: Case, world):
    # given the world as it is
    database, storage = database_state(), storage_state(world["media"])

    # when the case is sent
    response = send(case, world)

    # then
    assert response.status_code in case.status, (response.status_code, response.content[:500])
    assert b"Traceback" not in response.content
    if case.accepted:
        ACCEPTED[case.accepted](case, response, world, database, storage)
        return
    body = response.json()
    assert body["status"] == response.status_code
    assert isinstance(body["message"], str) and body["message"].strip(), body
    if case.codes:
        assert body["code"] in case.codes, body
    assert database_state() == database, "the database changed"
    assert storage_state(world["media"]) == storage, "the storage changed"


# --- documented outcomes for the cases a rule accepts ------------------------------------------------
def _unchanged_except(database: dict, *labels: str) -> None:
    after = database_state()
    assert {k: v for k, v in after.items() if k not in labels} == {
        k: v for k, v in database.items() if k not in labels
    }, "tables other than those the request may write changed"


def stored_as_drawn(case, response, world, database, storage):
    sent = case.request().json_text
    rings = json.loads(sent)[0]["coordinates"]
    stored = response.json()[0]["coordinates"]
    drawn = [[(float(p["x"]), float(p["y"])) for p in ring] for ring in rings]
    assert [[(p["x"], p["y"]) for p in ring] for ring in stored] == drawn
    row = Annotation.objects.get(pk=response.json()[0]["id"])
    assert [[(p["x"], p["y"]) for p in ring] for ring in row.coordinates] == drawn
    _unchanged_except(database, *ANNOTATION_WRITES)
    assert storage_state(world["media"]) == storage


def item_system_unchanged(case, response, world, database, storage):
    before = next(row for row in database["datasets.Item"] if row["id"] == world["ids"]["item"])
    after = Item.objects.get(pk=world["ids"]["item"])
    assert after.metadata["system"] == before["metadata"]["system"]
    assert response.json()["metadata"]["system"] == before["metadata"]["system"]
    _unchanged_except(database, "datasets.Item", "datasets.Dataset")
    assert storage_state(world["media"]) == storage


def dataset_system_unchanged(case, response, world, database, storage):
    before = next(row for row in database["datasets.Dataset"] if row["id"] == world["ids"]["dataset"])
    assert Dataset.objects.get(pk=world["ids"]["dataset"]).metadata["system"] == before["metadata"]["system"]
    _unchanged_except(database, "datasets.Dataset")
    assert storage_state(world["media"]) == storage


def _new_files_are_blobs(world, storage) -> None:
    new = set(storage_state(world["media"])) - set(storage)
    blobs = {blob.relative_path for blob in Blob.objects.all()}
    assert new <= blobs, f"files other than content-addressed blobs appeared: {new - blobs}"


def upload_system_from_bytes(case, response, world, database, storage):
    system = response.json()["metadata"]["system"]
    assert (system["width"], system["height"], system["mimetype"]) == (WIDTH, HEIGHT, "image/png")
    assert system["size"] == len(case.request().files[0][1])
    assert "refs" not in system or system["refs"] == []
    _new_files_are_blobs(world, storage)
    _unchanged_except(database, *ITEM_WRITES)


def name_kept_blob_content_addressed(case, response, world, database, storage):
    assert response.json()["filename"] == normalize_path(case.request().form["path"])
    _new_files_are_blobs(world, storage)
    _unchanged_except(database, *ITEM_WRITES)


def status_history_not_stored(case, response, world, database, storage):
    created = response.json()[0]
    assert "statusHistory" not in created["metadata"]["system"]
    assert "statusHistory" not in Annotation.objects.get(pk=created["id"]).metadata["system"]
    _unchanged_except(database, *ANNOTATION_WRITES)
    assert storage_state(world["media"]) == storage


ACCEPTED = {
    check.__name__: check
    for check in (
        stored_as_drawn,
        item_system_unchanged,
        dataset_system_unchanged,
        upload_system_from_bytes,
        name_kept_blob_content_addressed,
        status_history_not_stored,
    )
}


def test_every_documented_outcome_has_a_check():
    assert {case.accepted for case in CASES if case.accepted} <= set(ACCEPTED)


def test_the_corpus_is_generated_deterministically(tmp_path):
    # given the cases generated twice (the big ones aside: they are built the same way)
    small = [case for case in CASES if case.category not in ("50 MB JSON body",) and "many-entries" not in case.name]
    again = {case.name: case for case in generate.all_cases()}
    # then each request is byte for byte the same
    for case in small:
        assert case.request() == again[case.name].request(), case.name
    # and the script writes one folder per case, with its request and expectation
    polyglots = [case for case in CASES if case.category == "polyglot"]
    assert generate.write(tmp_path, polyglots) == len(polyglots)
    written = sorted(path.parent.name for path in tmp_path.rglob("request.json"))
    assert written == sorted(case.name for case in polyglots)
    manifest = json.loads((tmp_path / "polyglot" / "polyglot-png+html" / "request.json").read_text())
    assert manifest["expect"]["status"] == [400] and manifest["path"] == generate.UPLOAD
    assert (tmp_path / "polyglot" / "polyglot-png+html" / "file0.bin").read_bytes().startswith(b"\x89PNG")
