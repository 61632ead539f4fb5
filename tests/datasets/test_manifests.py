"""Manifests: NDJSON lines registering link items in bulk, as a Command with a report."""

import io
import json
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from annotator.core.errors import BadRequest
from annotator.core.models import Command
from annotator.datasets.manifests import _url_path
from annotator.datasets.models import Dataset, Item
from tests.conftest import command_finished

pytestmark = pytest.mark.django_db(transaction=True)


def post_manifest(api, dataset, lines: list[str]):
    upload = io.BytesIO("\n".join(lines).encode())
    upload.name = "manifest.ndjson"
    return api.post(f"/api/v1/datasets/{dataset.id}/manifest", {"file": upload}, format="multipart")


GOOD = [
    json.dumps({"url": "https://images.example.com/a/cat.jpg", "metadata": {"user": {"split": "train"}}}),
    json.dumps({"url": "https://images.example.com/b/dog.png", "path": "/pets/dog.png"}),
    json.dumps({"url": "http://images.example.com/c/bird.jpg?x=1", "path": "/pets/birds/bird.jpg"}),
]
BAD = [
    "{not json",
    json.dumps({"url": "ftp://images.example.com/x.jpg"}),
    json.dumps({"path": "/no-url.png"}),
    json.dumps({"url": "https://user:secret@images.example.com/y.jpg"}),
    json.dumps({"url": "https://e.com/z.png", "path": "/../z.png"}),
]


def test_a_manifest_registers_link_items_and_reports_bad_lines(client_for, members, dataset, celery_worker):
    # given
    api = client_for(members["engineer"])

    # when
    started = post_manifest(api, dataset, [GOOD[0], BAD[0], GOOD[1], BAD[1], "", GOOD[2], BAD[2], BAD[3], BAD[4]])
    done = command_finished(api, started.json()["id"])

    # then
    assert done["status"] == "success"
    assert done["spec"]["created"] == 3
    assert [r["line"] for r in done["spec"]["rejected"]] == [2, 4, 7, 8, 9]
    cat = Item.objects.get(dataset=dataset, filename="/cat.jpg")
    assert cat.metadata["system"]["url"] == "https://images.example.com/a/cat.jpg"
    assert cat.metadata["system"]["mimetype"] == "image/jpeg"
    assert cat.metadata["user"] == {"split": "train"}
    # every column as the ORM would have written it (the rows go in as COPY text or JSON)
    assert (cat.type, cat.name, cat.dir, cat.hidden, cat.description) == ("file", "cat.jpg", "/", False, "")
    assert (cat.annotated, cat.annotations_count, cat.blob_id) == (False, 0, None)
    assert cat.creator_id == cat.updated_by_id == members["engineer"].id
    assert cat.created_at == cat.updated_at and abs((timezone.now() - cat.created_at).total_seconds()) < 60
    assert Item.objects.filter(dataset=dataset, type="dir", filename="/pets/birds").exists()
    assert Dataset.objects.get(pk=dataset.pk).items_count == 3
    # the stream of a link item redirects to its URL
    response = api.get(f"/api/v1/items/{cat.id}/stream")
    assert response.status_code == 302
    assert response["Location"] == "https://images.example.com/a/cat.jpg"


def test_registering_again_skips_what_exists(client_for, members, dataset, celery_worker):
    api = client_for(members["owner"])
    command_finished(api, post_manifest(api, dataset, GOOD).json()["id"])
    again = command_finished(api, post_manifest(api, dataset, GOOD).json()["id"])
    assert (again["spec"]["created"], again["spec"]["skipped"]) == (0, 3)
    assert Item.objects.filter(dataset=dataset, type="file").count() == 3


def test_an_empty_manifest_is_400(client_for, members, dataset):
    response = post_manifest(client_for(members["owner"]), dataset, [])
    assert response.status_code == 400
    assert not Command.objects.exists()


@pytest.mark.parametrize("role", ["annotationManager", "annotator", "reviewer"])
def test_roles_without_item_create_cannot_register(client_for, members, dataset, role):
    assert post_manifest(client_for(members[role]), dataset, GOOD).status_code == 403
    assert not Command.objects.exists()


class _Progress:
    def __init__(self) -> None:
        self.percents: list[float] = []

    def update(self, percent: float, *, force: bool = False) -> None:
        self.percents.append(percent)


def _lines(records: list[dict]):
    return [(n, json.dumps(record), n) for n, record in enumerate(records, start=1)]


def test_batches_that_meet_existing_paths_are_written_again_without_them(members, dataset, monkeypatch):
    from annotator.datasets import manifests

    # given: batches of 3, an item that exists already, and a path repeated across batches
    monkeypatch.setattr(manifests, "BATCH", 3)
    owner = members["owner"]
    record = lambda n, folder="a": {"url": f"https://e.com/{n}.jpg", "path": f"/{folder}/{n}.jpg"}  # noqa: E731
    manifests.register(dataset=dataset, user=owner, lines=_lines([record(4, "b")]), progress=_Progress(), total_bytes=1)
    records = [record(1), record(2), record(3), record(1), record(4, "b"), record(5, "c/d"), record(6, "e"), record(7)]
    progress = _Progress()

    # when
    report = manifests.register(dataset=dataset, user=owner, lines=_lines(records), progress=progress, total_bytes=8)

    # then
    assert (report["created"], report["skipped"], report["rejectedCount"]) == (6, 2, 0)
    files = Item.objects.filter(dataset=dataset, type="file")
    assert sorted(files.values_list("filename", flat=True)) == [
        "/a/1.jpg", "/a/2.jpg", "/a/3.jpg", "/a/7.jpg", "/b/4.jpg", "/c/d/5.jpg", "/e/6.jpg"
    ]  # fmt: skip
    folders = Item.objects.filter(dataset=dataset, type="dir").values_list("filename", flat=True)
    assert sorted(folders) == ["/a", "/b", "/c", "/c/d", "/e"]
    assert Dataset.objects.get(pk=dataset.pk).items_count == 7
    assert progress.percents == [3 / 8 * 100, 6 / 8 * 100]


def test_an_error_while_parsing_reaches_the_caller(members, dataset):
    from annotator.datasets.manifests import register

    def lines():
        yield 1, json.dumps({"url": "https://e.com/1.jpg"}), 1
        raise OSError("the disk went away")

    with pytest.raises(OSError, match="disk went away"):
        register(dataset=dataset, user=members["owner"], lines=lines(), progress=_Progress(), total_bytes=1)


URLS = [
    "https://cdn.example.com/shard1/img_0000001.jpg",
    "http://images.example.com/c/bird.jpg?x=1#top",
    "https://e.com",
    "https://e.com?only=query",
    "https://e.com/a%20b/c%2Fd.png",
    "https://E.COM/Upper.JPG",
    "HTTPS://e.com/upper-scheme.jpg",
    "https://e.com:8443/with-port.jpg",
    "https://[::1]/ipv6.jpg",
    "https://user:secret@e.com/credentials.jpg",
    "https://user@e.com/user-only.jpg",
    "ftp://e.com/x.jpg",
    "https:///no-host.jpg",
    "https://e.com/tab\tinside.jpg",
    " https://e.com/leading-space.jpg",
    "https://e.com/space inside.jpg",
    "https://e.com/ünïcode.jpg",
    "javascript:alert(1)",
]


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("url", URLS)
def test_the_fast_url_check_agrees_with_urlsplit(url):
    parts = urlsplit(url)
    accepted = parts.scheme in {"http", "https"} and parts.hostname and not (parts.username or parts.password)
    if accepted:
        assert _url_path(url, 1) == parts.path
    else:
        with pytest.raises(BadRequest, match="url must be http"):
            _url_path(url, 1)


def test_a_line_with_nan_or_infinity_is_rejected(client_for, members, dataset, celery_worker):
    api = client_for(members["engineer"])
    lines = [
        '{"url": "https://e.com/a.jpg", "metadata": {"user": {"score": NaN}}}',
        '{"url": "https://e.com/b.jpg", "metadata": {"user": {"score": Infinity}}}',
        GOOD[0],
    ]

    done = command_finished(api, post_manifest(api, dataset, lines).json()["id"])

    assert done["status"] == "success"
    assert done["spec"]["created"] == 1
    assert [(r["line"], r["reason"]) for r in done["spec"]["rejected"]] == [
        (1, "line 1 is not JSON"),
        (2, "line 2 is not JSON"),
    ]
    assert list(Item.objects.filter(dataset=dataset, type="file").values_list("filename", flat=True)) == ["/cat.jpg"]


def test_a_line_with_a_nul_character_is_rejected(client_for, members, dataset, celery_worker):
    api = client_for(members["engineer"])
    lines = [r'{"url": "https://e.com/a.jpg", "metadata": {"user": {"note": "a\u0000"}}}', GOOD[0]]

    done = command_finished(api, post_manifest(api, dataset, lines).json()["id"])

    assert done["status"] == "success"
    assert done["spec"]["created"] == 1
    assert [(r["line"], r["reason"]) for r in done["spec"]["rejected"]] == [(1, "line 1 is not JSON")]
    assert list(Item.objects.filter(dataset=dataset, type="file").values_list("filename", flat=True)) == ["/cat.jpg"]


def test_backslashes_and_quotes_in_metadata_arrive_intact(client_for, members, dataset, celery_worker):
    # PostgreSQL takes the rows as COPY text, where a backslash starts an escape; SQLite as a
    # JSON array of rows, the metadata a JSON string in it.
    user = {"win": "C:\\temp\\new", "quote": 'say "hi"', "tab": "a\tb", "nl": "x\ny", "uni": "é\u2028☃"}
    user |= {"precise": 0.30000000000000004, "huge": 2**70, "nested": {"list": [1, None, True, "s"]}}
    api = client_for(members["engineer"])
    line = json.dumps({"url": "https://e.com/odd.jpg", "metadata": {"user": user}})

    done = command_finished(api, post_manifest(api, dataset, [line]).json()["id"])

    assert done["spec"]["created"] == 1, done
    assert Item.objects.get(dataset=dataset, filename="/odd.jpg").metadata["user"] == user
