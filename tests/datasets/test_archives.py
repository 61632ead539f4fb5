"""Zip uploads: checked in the request (zip slip, bombs, links), imported as a Command."""

import io
import stat
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from annotator.core.models import Command
from annotator.datasets.models import Item
from tests.conftest import command_finished
from tests.images import jpeg, png

pytestmark = pytest.mark.django_db(transaction=True)


def make_zip(entries: dict[str, bytes], *, links: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def post_zip(api, dataset, data: bytes, path="/batch"):
    upload = io.BytesIO(data)
    upload.name = "images.zip"
    return api.post(f"/api/v1/datasets/{dataset.id}/archive", {"file": upload, "path": path}, format="multipart")


def archives_left() -> list[Path]:
    folder = Path(django_settings.MEDIA_ROOT) / "uploads"
    return list(folder.glob("*")) if folder.exists() else []


def test_a_zip_of_images_is_imported_with_its_folders(client_for, members, dataset, celery_worker):
    # given
    api = client_for(members["engineer"])
    data = make_zip(
        {
            "a/one.png": png(color=(1, 1, 1)),
            "a/b/two.jpg": jpeg(),
            "three.png": png(color=(3, 3, 3)),
            "notes.txt": b"not an image",
        }
    )

    # when
    started = post_zip(api, dataset, data)
    done = command_finished(api, started.json()["id"])

    # then
    assert started.status_code == 200
    assert done["status"] == "success"
    assert done["spec"]["imported"] == 3
    assert done["spec"]["rejectedCount"] == 1
    assert done["spec"]["rejected"][0]["entry"] == "notes.txt"
    files = set(Item.objects.filter(dataset=dataset, type="file").values_list("filename", flat=True))
    assert files == {"/batch/a/one.png", "/batch/a/b/two.jpg", "/batch/three.png"}
    assert Item.objects.filter(dataset=dataset, type="dir", filename="/batch/a/b").exists()
    assert archives_left() == []


@pytest.mark.parametrize(
    "entries",
    [
        {"../escape.png": png()},
        {"a/../../escape.png": png()},
        {"/etc/absolute.png": png()},
        {"C:/windows/drive.png": png()},
    ],
)
def test_zip_slip_refuses_the_whole_archive(client_for, members, dataset, entries):
    data = make_zip({"fine.png": png(), **entries})
    response = post_zip(client_for(members["owner"]), dataset, data)
    assert response.status_code == 400
    assert response.json()["code"] == "unsafe_archive"
    assert next(iter(entries)) in response.json()["message"]
    assert not Item.objects.filter(dataset=dataset).exists()
    assert not Command.objects.exists()
    assert archives_left() == []


def test_links_in_archives_are_refused(client_for, members, dataset):
    response = post_zip(client_for(members["owner"]), dataset, make_zip({"ok.png": png()}, links=("link.png",)))
    assert response.status_code == 400
    assert "link.png" in response.json()["message"]


def test_a_zip_bomb_is_refused(client_for, members, dataset, settings):
    settings.ARCHIVE_MAX_UNCOMPRESSED_BYTES = 1_000_000
    bomb = make_zip({f"zeros_{n}.png": bytes(600_000) for n in range(3)})  # 1.8 MB of zeros, a few KB zipped
    response = post_zip(client_for(members["owner"]), dataset, bomb)
    assert response.status_code == 400
    assert response.json()["code"] == "archive_too_large"
    assert not Command.objects.exists()


def test_an_entry_compressed_suspiciously_well_is_refused(client_for, members, dataset):
    response = post_zip(client_for(members["owner"]), dataset, make_zip({"zeros.png": bytes(5_000_000)}))
    assert response.status_code == 400
    assert "compression ratio" in str(response.json()["details"])


@pytest.mark.parametrize("data", [b"not a zip at all", make_zip({})])
def test_unreadable_or_empty_archives_are_400(client_for, members, dataset, data):
    response = post_zip(client_for(members["owner"]), dataset, data)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_archive"
    assert archives_left() == []


@pytest.mark.parametrize("role", ["annotationManager", "annotator", "reviewer"])
def test_roles_without_item_create_cannot_upload_archives(client_for, members, dataset, role):
    response = post_zip(client_for(members[role]), dataset, make_zip({"a.png": png()}))
    assert response.status_code == 403
    assert not Command.objects.exists()


def test_a_stranger_gets_404(client_for, members, dataset):
    assert post_zip(client_for(members["stranger"]), dataset, make_zip({"a.png": png()})).status_code == 404
