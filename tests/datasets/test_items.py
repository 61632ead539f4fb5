"""Items: upload, binaries, folders, metadata diffs, deletion, and every bad input."""

import io
import json
import threading
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotator.datasets import services
from annotator.datasets.models import Blob, Dataset, Item
from tests.conftest import wait_until
from tests.images import jpeg, png

pytestmark = pytest.mark.django_db

ALL = ["owner", "engineer", "annotationManager", "annotator", "reviewer"]
WRITERS = {"owner", "engineer"}


def media_files() -> set[str]:
    """Stored blobs and spooled uploads (thumbnails are left out: other tests' jobs make them)."""
    root = Path(django_settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for folder in ("blobs", "tmp") for p in (root / folder).rglob("*") if p.is_file()}


# --- upload --------------------------------------------------------------------------------------
def test_upload_reads_the_image_and_echoes_the_size(upload, members, dataset):
    # given
    data = png(40, 30)

    # when
    response = upload(
        members["owner"], dataset, "/a/b/one.png", data, metadata=json.dumps({"user": {"split": "train"}})
    )

    # then
    assert response.status_code == 201
    assert response["x-item-op"] == "created"
    body = response.json()
    system = body["metadata"]["system"]
    assert (system["width"], system["height"], system["mimetype"]) == (40, 30, "image/png")
    assert system["size"] == len(data)
    assert body["metadata"]["user"] == {"split": "train"}
    assert (body["filename"], body["name"], body["dir"], body["type"]) == ("/a/b/one.png", "one.png", "/a/b", "file")
    dataset.refresh_from_db()
    assert dataset.items_count == 1


def test_a_new_item_answers_with_no_task_refs_without_asking_for_them(upload, members, dataset):
    # A new item cannot be in a task yet: neither its answer nor its event reads task items.
    with CaptureQueriesContext(connection) as queries:
        response = upload(members["owner"], dataset, "/fresh.png")

    assert response.status_code == 201
    assert response.json()["metadata"]["system"]["refs"] == []
    assert not [q["sql"] for q in queries.captured_queries if "tasks_taskitem" in q["sql"]]


def test_upload_creates_the_folders_and_the_tree_shows_them(upload, members, dataset, client_for):
    upload(members["owner"], dataset, "/a/b/one.png")
    upload(members["owner"], dataset, "/a/two.png")
    folders = set(Item.objects.filter(dataset=dataset, type="dir").values_list("filename", "dir"))
    assert folders == {("/a", "/"), ("/a/b", "/a")}
    tree = client_for(members["annotator"]).get(f"/api/v1/datasets/{dataset.id}").json()["directoryTree"]
    assert [c["path"] for c in tree["children"]] == ["/a"]
    assert [c["path"] for c in tree["children"][0]["children"]] == ["/a/b"]


def test_an_upload_into_existing_folders_reads_its_path_and_them_in_one_query(upload, members, dataset):
    upload(members["owner"], dataset, "/x/y/one.png")

    with CaptureQueriesContext(connection) as queries:
        response = upload(members["owner"], dataset, "/x/y/two.png")

    assert response.status_code == 201
    item_statements = [q["sql"] for q in queries.captured_queries if '"datasets_item"' in q["sql"]]
    assert len(item_statements) == 2  # the read of the path and its folders, and the item's insert
    assert item_statements[0].startswith("SELECT") and item_statements[1].startswith("INSERT")
    assert Item.objects.filter(dataset=dataset, type="dir").count() == 2


@pytest.mark.django_db(transaction=True)  # the stored bytes are released after the rollback
def test_uploading_under_a_file_as_if_it_were_a_folder_is_409_and_changes_nothing(upload, members, dataset):
    upload(members["owner"], dataset, "/a", png(color=(9, 9, 9)))
    before = (set(Item.objects.values_list("filename", "type")), set(Blob.objects.values_list("pk", flat=True)))
    files_before = media_files()

    response = upload(members["owner"], dataset, "/a/b.png", png(color=(7, 7, 7)))

    assert response.status_code == 409
    assert "/a exists and is not a folder" in response.json()["message"]
    assert (set(Item.objects.values_list("filename", "type")), set(Blob.objects.values_list("pk", flat=True))) == before
    wait_until(lambda: media_files() == files_before, message="the refused upload's bytes to go")


def test_an_item_outlives_its_author(upload, members, dataset, client_for):
    # Authors have no index and no constraint on items: Django sets them to null itself.
    item_id = upload(members["engineer"], dataset, "/left.png").json()["id"]

    members["engineer"].delete()  # as the admin deletes a user

    body = client_for(members["owner"]).get(f"/api/v1/items/{item_id}").json()
    assert (body["creator"], body["updatedBy"]) == (None, None)
    assert Item.objects.filter(pk=item_id, creator=None, updated_by=None).exists()


def test_skip_mode_keeps_the_first_item(upload, members, dataset):
    first = upload(members["owner"], dataset, "/x.png", png(color=(1, 1, 1))).json()
    again = upload(members["owner"], dataset, "/x.png", png(color=(2, 2, 2)), mode="skip")
    assert again.status_code == 200
    assert again["x-item-op"] == "skip"
    assert again.json()["id"] == first["id"]
    assert Item.objects.get(pk=first["id"]).metadata["system"]["size"] == first["metadata"]["system"]["size"]


@pytest.mark.django_db(transaction=True)  # blobs are released after commit
def test_overwrite_mode_replaces_the_bytes_and_frees_the_old_blob(upload, members, dataset):
    first = upload(members["owner"], dataset, "/x.png", png(color=(1, 1, 1))).json()
    old_blob = Item.objects.get(pk=first["id"]).blob_id
    new_data = jpeg(64, 48)

    response = upload(members["owner"], dataset, "/x.png", new_data, mode="overwrite")

    assert response["x-item-op"] == "overwrite"
    body = response.json()
    assert body["id"] == first["id"]
    assert body["metadata"]["system"]["size"] == len(new_data)
    assert body["metadata"]["system"]["mimetype"] == "image/jpeg"
    assert not Blob.objects.filter(pk=old_blob).exists()
    assert Item.objects.filter(dataset=dataset, type="file").count() == 1


@pytest.mark.django_db(transaction=True)  # blobs are released after commit
def test_identical_bytes_share_one_blob_until_the_last_item_goes(upload, members, dataset, client_for):
    # given: the same bytes under two paths
    data = png(color=(9, 9, 9))
    one = upload(members["owner"], dataset, "/one.png", data).json()
    two = upload(members["owner"], dataset, "/two.png", data).json()
    blob = Item.objects.get(pk=one["id"]).blob
    assert Item.objects.get(pk=two["id"]).blob_id == blob.sha256
    assert Blob.objects.count() == 1

    # when one goes, the blob stays; when both go, it is removed with its file
    api = client_for(members["owner"])
    api.delete(f"/api/v1/items/{one['id']}")
    assert Blob.objects.filter(pk=blob.sha256).exists()
    api.delete(f"/api/v1/items/{two['id']}")
    assert not Blob.objects.filter(pk=blob.sha256).exists()
    assert blob.relative_path not in media_files()


@pytest.mark.parametrize("role", ALL)
def test_upload_by_role(upload, members, dataset, role):
    response = upload(members[role], dataset, "/r.png")
    assert response.status_code == (201 if role in WRITERS else 403)
    assert Item.objects.filter(dataset=dataset, type="file").exists() is (role in WRITERS)


def test_a_stranger_cannot_upload_or_see_items(upload, members, dataset, client_for):
    item = upload(members["owner"], dataset, "/r.png").json()
    assert upload(members["stranger"], dataset, "/s.png").status_code == 404
    api = client_for(members["stranger"])
    for call in (
        api.get(f"/api/v1/items/{item['id']}"),
        api.get(f"/api/v1/items/{item['id']}/stream"),
        api.get(f"/api/v1/items/{item['id']}/thumbnail"),
        api.patch(f"/api/v1/items/{item['id']}", {"metadata": {"user": {"x": 1}}}, format="json"),
        api.delete(f"/api/v1/items/{item['id']}"),
        api.get(f"/api/v1/datasets/{dataset.id}"),
        api.post(f"/api/v1/datasets/{dataset.id}/query", {"resource": "items", "filter": {}}, format="json"),
    ):
        assert call.status_code == 404
    assert Item.objects.get(pk=item["id"]).metadata["user"] == {}


CORRUPT = png()[:60]
BAD_FILES = {
    "truncated png": CORRUPT,
    "truncated jpeg": jpeg(64, 48)[:-40],
    "text": b"just some text, not an image",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "html": b"<html><body><script>alert(1)</script></body></html>",
    "empty": b"",
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_non_images_get_400_and_leave_nothing_behind(upload, members, dataset, case):
    before = media_files()
    response = upload(members["owner"], dataset, "/bad.png", BAD_FILES[case])
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_image"
    assert not Item.objects.filter(dataset=dataset).exists()
    assert not Blob.objects.exists()
    assert media_files() == before


def test_a_decompression_bomb_gets_400(upload, members, dataset, settings):
    settings.IMAGE_MAX_PIXELS = 10_000  # 200x200 = 40,000 pixels is "too many" here
    before = media_files()
    response = upload(members["owner"], dataset, "/bomb.png", png(200, 200))
    assert response.status_code == 400
    assert response.json()["code"] == "image_too_large"
    assert not Item.objects.filter(dataset=dataset).exists()
    assert media_files() == before


def test_an_oversized_upload_gets_413(upload, members, dataset, settings):
    settings.ITEM_MAX_UPLOAD_BYTES = 100
    before = media_files()
    response = upload(members["owner"], dataset, "/big.png", png(64, 64))
    assert response.status_code == 413
    assert not Item.objects.filter(dataset=dataset).exists()
    assert media_files() == before


@pytest.mark.parametrize(
    "path", ["/a/../../etc/passwd.png", "/a/\x00.png", "/a/\u202egnp.exe", "", "/", "/a/" + "x" * 300]
)
def test_path_tricks_get_400(upload, members, dataset, path):
    response = upload(members["owner"], dataset, path or " ")
    assert response.status_code == 400
    assert not Item.objects.filter(dataset=dataset).exists()


def test_bad_metadata_and_mode_get_400(upload, members, dataset):
    assert upload(members["owner"], dataset, "/m.png", metadata="{not json").status_code == 400
    assert upload(members["owner"], dataset, "/m.png", metadata=json.dumps({"user": [1]})).status_code == 400
    assert upload(members["owner"], dataset, "/m.png", mode="append").status_code == 400
    assert not Item.objects.filter(dataset=dataset).exists()


def test_missing_file_field_is_400(client_for, members, dataset):
    response = client_for(members["owner"]).post(
        f"/api/v1/datasets/{dataset.id}/items", {"path": "/x.png"}, format="multipart"
    )
    assert response.status_code == 400


def upload_concurrently(user, dataset, mode: str, uploads: int = 6) -> list[str]:
    """`uploads` threads upload different bytes to one path at once: each one's op."""
    results: list[str] = []
    errors: list[BaseException] = []

    def upload_once(n: int) -> None:
        try:
            _item, op = services.item_upload(
                user=user, dataset_id=dataset.id, path="/same.png", fileobj=io.BytesIO(png(color=(n, n, n))), mode=mode
            )
            results.append(op)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=upload_once, args=(n,)) for n in range(uploads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_uploads_of_one_path_in_skip_mode_make_one_item(members, project):
    # given
    dataset = services.dataset_create(user=members["owner"], project_id=project.id, name="Race")

    # when
    results = upload_concurrently(members["owner"], dataset, "skip")

    # then
    assert sorted(results).count("created") == 1
    assert Item.objects.filter(dataset=dataset, filename="/same.png").count() == 1
    dataset.refresh_from_db()
    assert dataset.items_count == 1
    # no blob is left without an item
    wait_until(lambda: Blob.objects.count() == 1, message="unused blobs to be released")


@pytest.mark.django_db(transaction=True)
def test_concurrent_uploads_of_one_path_in_overwrite_mode_make_one_item_holding_the_last_bytes(members, project):
    # given
    dataset = services.dataset_create(user=members["owner"], project_id=project.id, name="Race")

    # when
    results = upload_concurrently(members["owner"], dataset, "overwrite")

    # then: one upload made the item and each later one replaced its bytes
    assert sorted(results) == ["created"] + ["overwrite"] * 5
    item = Item.objects.get(dataset=dataset, filename="/same.png")
    dataset.refresh_from_db()
    assert dataset.items_count == 1
    # only the bytes the item holds are kept
    wait_until(
        lambda: list(Blob.objects.values_list("pk", flat=True)) == [item.blob_id], message="replaced blobs to go"
    )


# --- binaries ------------------------------------------------------------------------------------
def test_stream_serves_the_bytes_with_validators_and_ranges(upload, members, dataset, client_for):
    data = png(50, 50)
    item = upload(members["owner"], dataset, "/s.png", data).json()
    api = client_for(members["annotator"])
    url = f"/api/v1/items/{item['id']}/stream"

    full = api.get(url)
    assert full.status_code == 200
    assert b"".join(full.streaming_content) == data
    assert full["Content-Type"] == "image/png"
    assert full["Content-Length"] == str(len(data))
    # uploaded bytes are never sniffed into another type, and nothing in them may run
    assert full["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in full["Content-Security-Policy"] and "default-src 'none'" in full["Content-Security-Policy"]
    etag, last_modified = full["ETag"], full["Last-Modified"]

    assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert api.get(url, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304

    part = api.get(url, HTTP_RANGE="bytes=10-19")
    assert part.status_code == 206
    assert b"".join(part.streaming_content) == data[10:20]
    assert part["Content-Range"] == f"bytes 10-19/{len(data)}"

    tail = api.get(url, HTTP_RANGE="bytes=-5")
    assert b"".join(tail.streaming_content) == data[-5:]
    from_start = api.get(url, HTTP_RANGE="bytes=0-")
    assert b"".join(from_start.streaming_content) == data

    beyond = api.get(url, HTTP_RANGE=f"bytes={len(data) + 10}-")
    assert beyond.status_code == 416
    assert beyond["Content-Range"] == f"bytes */{len(data)}"


@pytest.mark.django_db(transaction=True)
def test_thumbnails_are_made_by_the_worker_after_commit(members, project, client_for, celery_worker, settings):
    # given
    import io

    dataset = services.dataset_create(user=members["owner"], project_id=project.id, name="Thumbs")
    item, _ = services.item_upload(
        user=members["owner"], dataset_id=dataset.id, path="/big.jpg", fileobj=io.BytesIO(jpeg(1200, 900))
    )

    # when the worker has run
    wait_until(lambda: Blob.objects.get(pk=item.blob_id).has_thumbnail, timeout=30, message="the thumbnail job")

    # then
    response = client_for(members["annotator"]).get(f"/api/v1/items/{item.id}/thumbnail")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    from PIL import Image

    thumb = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert max(thumb.size) == settings.THUMBNAIL_SIZE


def test_a_file_whose_row_was_rolled_back_is_released(members, dataset):
    # given: bytes on the disk with no row, as an upload that failed at its commit leaves them
    orphan = Blob(sha256="c" * 64, size=3, mimetype="image/png")
    path = Path(django_settings.MEDIA_ROOT) / orphan.relative_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"png")

    # when
    services.blobs_release(sha256s=[orphan.sha256])

    # then
    assert not path.exists()
    assert not Blob.objects.filter(pk=orphan.sha256).exists()


def test_a_thumbnail_that_fails_does_not_stop_the_others_of_its_job(upload, members, dataset):
    # given: two uploads whose thumbnails are one job, and the first's bytes gone from the disk
    broken, fine = (
        Item.objects.get(pk=upload(members["owner"], dataset, f"/{n}.png", png(color=(n, n, n))).json()["id"])
        for n in (1, 2)
    )
    Blob.objects.update(has_thumbnail=False)
    (Path(django_settings.MEDIA_ROOT) / broken.blob.relative_path).unlink()

    # when
    with pytest.raises(FileNotFoundError):
        services.blob_thumbnails_make(sha256s=[broken.blob_id, fine.blob_id])

    # then: the job fails (and retries) for the broken one, and the other's thumbnail is made
    assert dict(Blob.objects.values_list("pk", "has_thumbnail")) == {broken.blob_id: False, fine.blob_id: True}
    assert (Path(django_settings.MEDIA_ROOT) / fine.blob.thumbnail_relative_path).is_file()


def test_thumbnail_is_404_until_it_is_ready(upload, members, dataset, client_for):
    item = upload(members["owner"], dataset, "/t.png").json()
    Blob.objects.update(has_thumbnail=False)
    response = client_for(members["owner"]).get(f"/api/v1/items/{item['id']}/thumbnail")
    assert response.status_code == 404
    assert response.json()["code"] == "thumbnail_not_ready"


# --- metadata and deletion ----------------------------------------------------------------------------
def test_patch_deep_merges_and_null_deletes(upload, members, dataset, client_for):
    item = upload(
        members["owner"], dataset, "/p.png", metadata=json.dumps({"user": {"a": {"b": 1, "c": 2}, "d": 3}})
    ).json()
    api = client_for(members["engineer"])

    body = api.patch(
        f"/api/v1/items/{item['id']}", {"metadata": {"user": {"a": {"b": 10}, "d": None, "e": "new"}}}, format="json"
    ).json()

    assert body["metadata"]["user"] == {"a": {"b": 10, "c": 2}, "e": "new"}


def test_patch_ignores_the_read_only_keys_the_sdk_echoes(upload, members, dataset, client_for):
    item = upload(members["owner"], dataset, "/p.png").json()
    echo = {**item, "metadata": {"user": {"k": 1}, "system": {"size": 1}}, "annotationsCount": 99, "url": None}
    body = client_for(members["owner"]).patch(f"/api/v1/items/{item['id']}", echo, format="json").json()
    assert body["metadata"]["user"] == {"k": 1}
    assert body["metadata"]["system"]["size"] == item["metadata"]["system"]["size"]
    assert body["annotationsCount"] == 0


def test_system_metadata_needs_the_flag_and_the_role(upload, members, dataset, client_for):
    item = upload(members["owner"], dataset, "/p.png").json()
    url = f"/api/v1/items/{item['id']}"
    diff = {"metadata": {"system": {"size": 1, "origin": "scanner"}}}

    client_for(members["owner"]).patch(url, diff, format="json")  # no ?system=true: ignored
    assert Item.objects.get(pk=item["id"]).metadata["system"]["size"] == item["metadata"]["system"]["size"]

    assert client_for(members["annotator"]).patch(url + "?system=true", diff, format="json").status_code == 403
    assert "origin" not in Item.objects.get(pk=item["id"]).metadata["system"]

    assert (
        client_for(members["engineer"])
        .patch(url + "?system=true", {"metadata": {"system": {"origin": "scanner"}}}, format="json")
        .status_code
        == 200
    )
    assert Item.objects.get(pk=item["id"]).metadata["system"]["origin"] == "scanner"


def test_moving_an_item_with_system_true_creates_the_folder(upload, members, dataset, client_for):
    item = upload(members["owner"], dataset, "/p.png").json()
    body = (
        client_for(members["owner"])
        .patch(f"/api/v1/items/{item['id']}?system=true", {"filename": "/moved/p.png"}, format="json")
        .json()
    )
    assert (body["filename"], body["dir"]) == ("/moved/p.png", "/moved")
    assert Item.objects.filter(dataset=dataset, type="dir", filename="/moved").exists()


@pytest.mark.parametrize("role", ALL)
def test_metadata_updates_and_deletes_by_role(upload, members, dataset, client_for, role):
    item = upload(members["owner"], dataset, "/p.png").json()
    api = client_for(members[role])
    patched = api.patch(f"/api/v1/items/{item['id']}", {"metadata": {"user": {"by": role}}}, format="json")
    assert patched.status_code == (200 if role in WRITERS else 403)
    deleted = api.delete(f"/api/v1/items/{item['id']}")
    assert deleted.status_code == (200 if role in WRITERS else 403)
    assert Item.objects.filter(pk=item["id"]).exists() is (role not in WRITERS)


@pytest.mark.django_db(transaction=True)  # blobs are released after commit
def test_deleting_a_folder_takes_its_contents_and_fixes_the_count(upload, members, dataset, client_for):
    upload(members["owner"], dataset, "/f/one.png", png(color=(1, 2, 3)))
    upload(members["owner"], dataset, "/f/sub/two.png", png(color=(3, 2, 1)))
    upload(members["owner"], dataset, "/keep.png", png(color=(5, 5, 5)))
    folder = Item.objects.get(dataset=dataset, filename="/f")

    client_for(members["owner"]).delete(f"/api/v1/items/{folder.id}")

    assert set(Item.objects.filter(dataset=dataset).values_list("filename", flat=True)) == {"/keep.png"}
    assert Dataset.objects.get(pk=dataset.pk).items_count == 1
    assert Blob.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_thumbnails_lost_with_their_messages_are_backfilled(members, project, celery_worker):
    # given: an upload whose thumbnail job never ran (as when an in-memory broker stops)
    import io

    from annotator.datasets.jobs import thumbnails_backfill

    dataset = services.dataset_create(user=members["owner"], project_id=project.id, name="Backfill")
    item, _ = services.item_upload(
        user=members["owner"], dataset_id=dataset.id, path="/b.png", fileobj=io.BytesIO(png())
    )
    wait_until(lambda: Blob.objects.get(pk=item.blob_id).has_thumbnail, timeout=30, message="the first thumbnail")
    Blob.objects.update(has_thumbnail=False)

    # when
    thumbnails_backfill.delay()

    # then
    wait_until(lambda: Blob.objects.get(pk=item.blob_id).has_thumbnail, timeout=30, message="the backfilled thumbnail")


def test_bulk_upload_stores_each_file_and_reports_the_bad_ones(client_for, members, dataset):
    # given: three files in one request, one of them not an image
    files = []
    for name, data in [("a.png", png(color=(1, 0, 0))), ("b.jpg", jpeg()), ("c.png", b"nope")]:
        handle = io.BytesIO(data)
        handle.name = name
        files.append(handle)

    # when
    response = client_for(members["owner"]).post(
        f"/api/v1/datasets/{dataset.id}/items", {"file": files, "path": "/bulk"}, format="multipart"
    )

    # then
    assert response.status_code == 200
    body = response.json()
    assert sorted(r["item"]["filename"] for r in body["items"]) == ["/bulk/a.png", "/bulk/b.jpg"]
    assert [(e["name"], e["status"]) for e in body["errors"]] == [("c.png", 400)]
    assert set(Item.objects.filter(dataset=dataset, type="file").values_list("filename", flat=True)) == {
        "/bulk/a.png",
        "/bulk/b.jpg",
    }


def test_bulk_upload_by_a_reader_is_403_for_the_whole_request(client_for, members, dataset):
    files = []
    for name in ("a.png", "b.png"):
        handle = io.BytesIO(png())
        handle.name = name
        files.append(handle)
    response = client_for(members["annotator"]).post(
        f"/api/v1/datasets/{dataset.id}/items", {"file": files}, format="multipart"
    )
    assert response.status_code == 403
    assert not Item.objects.filter(dataset=dataset).exists()


def test_item_query_pages_do_not_grow_queries(client_for, members, dataset, django_assert_max_num_queries):
    # given: more items than one page, made without the API to keep the test fast
    Item.objects.bulk_create(
        Item(
            dataset=dataset,
            filename=f"/q/{n}.png",
            name=f"{n}.png",
            dir="/q",
            metadata={"user": {"n": n}},
            creator=members["owner"],
            updated_by=members["owner"],
        )
        for n in range(60)
    )
    api = client_for(members["annotator"])
    body = {
        "resource": "items",
        "filter": {"$and": [{"type": "file"}, {"metadata.user.n": {"$gte": 0}}]},
        "sort": {"id": "ascending"},
        "page": 0,
        "pageSize": 50,
    }

    # when / then: auth, the access checks, one count, one page and its task refs, whatever the page size
    with django_assert_max_num_queries(9):
        page = api.post(f"/api/v1/datasets/{dataset.id}/query", body, format="json").json()
    assert len(page["items"]) == 50
    assert page["totalItemsCount"] == 60
    assert page["hasNextPage"] is True


@pytest.mark.parametrize("mode", ["skip", "overwrite"])
def test_uploading_onto_a_folder_path_is_409(upload, members, dataset, mode):
    upload(members["owner"], dataset, "/a/one.png")
    response = upload(members["owner"], dataset, "/a", png(color=(7, 7, 7)), mode=mode)
    assert response.status_code == 409
    assert Item.objects.get(dataset=dataset, filename="/a").type == "dir"
