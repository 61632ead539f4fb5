"""manage.py backup / restore: a round trip of a whole project into an empty install, and refusals."""

import io
import json
import tarfile
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError

from annotator.accounts.models import Membership, Project, User
from annotator.annotations.models import Annotation
from annotator.core import backup
from annotator.datasets.documents import recipe_instructions_upload
from annotator.datasets.models import Blob, Dataset, Item
from annotator.datasets.services import blob_thumbnails_make
from annotator.ontologies.models import Recipe
from annotator.tasks.models import Task, TaskItem, TaskItemStatusChange
from annotator.tasks.queue import assignment_pull, item_statuses_set
from tests.conftest import bearer_client
from tests.factories import MembershipFactory, ProjectFactory

ALL_MODELS = [model for model, _rows_of in backup.PROJECT_MODELS] + backup.SHARED_MODELS


def test_every_model_is_backed_up_or_excluded_with_a_reason():
    """A new table must be added to the backup or, with a reason, to its exclusions."""
    every = {model._meta.label_lower for model in apps.get_models()}
    covered = {backup.model_key(model) for model in ALL_MODELS}
    assert covered.isdisjoint(backup.EXCLUDED_MODELS)
    assert every == covered | set(backup.EXCLUDED_MODELS)
    assert all(reason.strip() for reason in backup.EXCLUDED_MODELS.values())


def _rows(model, **filters) -> list[dict]:
    return list(model._base_manager.filter(**filters).order_by("pk").values())


def _database_snapshot(project_id: str) -> dict[str, list[dict]]:
    """Every row of the project per model, the users they name (no credentials) and the blobs."""
    snapshot = {}
    for model, rows_of in backup.PROJECT_MODELS:
        snapshot[backup.model_key(model)] = list(
            model._base_manager.filter(rows_of(project_id)).order_by("pk").values()
        )
    members = User.objects.filter(memberships__project_id=project_id)
    snapshot["users"] = list(members.order_by("pk").values(*backup.USER_FIELDS))
    snapshot["blobs"] = _rows(Blob)
    return snapshot


def _media_files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def _api_snapshot(owner: User, project_id: str) -> dict:
    api = bearer_client(owner)
    snapshot = {}
    for item in Item.objects.filter(dataset__project_id=project_id).order_by("pk"):
        snapshot[f"item {item.pk}"] = api.get(f"/api/v1/items/{item.pk}").json()
        snapshot[f"annotations {item.pk}"] = api.get(f"/api/v1/items/{item.pk}/annotations").json()
        if item.blob_id:
            response = api.get(f"/api/v1/items/{item.pk}/stream")
            assert response.status_code == 200
            snapshot[f"stream {item.pk}"] = (
                b"".join(response.streaming_content) if response.streaming else response.content
            )
    for annotation in Annotation.objects.filter(dataset__project_id=project_id).order_by("pk"):
        snapshot[f"history {annotation.pk}"] = api.get(f"/api/v1/annotations/{annotation.pk}/history").json()
    for task in Task.objects.filter(project_id=project_id).order_by("pk"):
        snapshot[f"task {task.pk}"] = api.get(f"/api/v1/annotationtasks/{task.pk}").json()
    return snapshot


def _counts() -> dict[str, int]:
    return {backup.model_key(model): model._base_manager.count() for model in ALL_MODELS}


@pytest.fixture
def demo(db, settings, tmp_path):
    """The demo project (annotations of every type incl. a binary mask, a note thread, a pulling task
    and its QA task), with items pulled and given statuses, next to another project that stays out."""
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", stdout=io.StringIO())
    project = Project.objects.get(name="Demo project")
    annotator = User.objects.get(email="annotator@example.com")
    task = Task.objects.get(project=project, type=Task.Type.ANNOTATION)
    pulled = assignment_pull(user=annotator, task_id=task.pk)
    item_statuses_set(user=annotator, task_id=task.pk, item_ids=[pulled[0].item_id], status="discard")
    item_statuses_set(user=annotator, task_id=task.pk, item_ids=[pulled[0].item_id], status=None, operation="delete")
    assert TaskItemStatusChange.objects.filter(task_item__task=task).count() >= 2
    assert Annotation.objects.filter(dataset__project=project, type="binary").exists()
    assert Annotation.objects.filter(dataset__project=project, type="note").exists()
    recipe = Recipe.objects.get(project=project)
    recipe_instructions_upload(user=project.creator, recipe_id=recipe.pk, fileobj=io.BytesIO(b"%PDF-1.4 instructions"))
    blob_thumbnails_make(sha256s=[Item.objects.filter(dataset__project=project, blob__isnull=False).first().blob_id])
    MembershipFactory(project=ProjectFactory(name="Other project"), role="annotator")
    return project


@pytest.fixture
def archive(demo, tmp_path) -> Path:
    path = tmp_path / "demo.tar"
    out = io.StringIO()
    call_command("backup", "--project", "Demo project", "--out", str(path), stdout=out)
    assert demo.pk in out.getvalue()
    return path


def _empty_the_install(settings, tmp_path) -> None:
    Project.objects.all().delete()
    User.objects.all().delete()
    Blob.objects.all().delete()
    assert set(_counts().values()) == {0}
    settings.MEDIA_ROOT = tmp_path / "empty-media"


def test_round_trip_into_an_empty_install_keeps_every_row_byte_and_api_answer(demo, archive, settings, tmp_path):
    owner = demo.creator
    rows_before = _database_snapshot(demo.pk)
    api_before = _api_snapshot(owner, demo.pk)
    files_before = _media_files(tmp_path / "media")
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile(backup.MANIFEST))
        # The other project's users and rows stay out.
        assert "other project" not in json.dumps(manifest).lower()
    assert manifest["counts"]["tasks.taskitemstatuschange"] >= 2
    item_blobs = Blob.objects.filter(items__dataset__project=demo).distinct().count()
    assert manifest["counts"]["datasets.blob"] == item_blobs + 1  # the recipe's instructions PDF

    _empty_the_install(settings, tmp_path)
    out = io.StringIO()
    call_command("restore", str(archive), stdout=out)
    assert "Restored project" in out.getvalue()

    assert _database_snapshot(demo.pk) == rows_before
    blob_files = {name: data for name, data in files_before.items() if name.startswith(("blobs/", "thumbnails/"))}
    assert any(name.startswith("thumbnails/") for name in blob_files)
    assert _media_files(tmp_path / "empty-media") == blob_files
    # Restored users have no password: they must reset it; they log in with API keys made anew.
    assert not User.objects.get(pk=owner.pk).has_usable_password()
    assert _api_snapshot(User.objects.get(pk=owner.pk), demo.pk) == api_before
    # Sequences moved past the restored ids: new serial rows can be written.
    Membership.objects.filter(project=demo, role="annotator").delete()
    Membership.objects.create(
        project_id=demo.pk, user=User.objects.get(email="annotator@example.com"), role="annotator"
    )


def test_restore_maps_users_by_email_and_renames_with_as_name(demo, archive, settings, tmp_path):
    members_before = sorted(Membership.objects.filter(project=demo).values_list("user__email", "role"))
    _empty_the_install(settings, tmp_path)
    existing = User.objects.create_user("Owner@Example.com", password="kept-password")

    call_command("restore", str(archive), "--as-name", "Demo again", stdout=io.StringIO())

    restored = Project.objects.get(pk=demo.pk)
    assert restored.name == "Demo again"
    assert restored.creator_id == existing.pk
    assert User.objects.get(pk=existing.pk).check_password("kept-password")
    assert User.objects.filter(email="owner@example.com").count() == 1
    assert sorted(Membership.objects.filter(project=restored).values_list("user__email", "role")) == members_before
    assert Item.objects.filter(dataset__project=restored, creator_id=existing.pk).exists()


def _unchanged(settings):
    """Counts of every table and the media files, to show a refused restore changed nothing."""
    media = Path(settings.MEDIA_ROOT)
    return _counts(), sorted(str(p) for p in media.rglob("*") if p.is_file()) if media.exists() else []


def _rewrite(archive: Path, target: Path, change) -> Path:
    """A copy of the archive with change(name, data) -> data applied to every member."""
    with tarfile.open(archive) as source, tarfile.open(target, "w") as sink:
        for member in source.getmembers():
            data = change(member.name, source.extractfile(member).read())
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            sink.addfile(info, io.BytesIO(data))
    return target


def _manifest_with(**changes):
    def change(name, data):
        if name != backup.MANIFEST:
            return data
        return json.dumps({**json.loads(data), **changes}).encode()

    return change


def _flip_a_blob_byte(name, data):
    if name.startswith("blobs/"):
        return data[:-1] + bytes([data[-1] ^ 1])
    return data


def _refuse(archive: Path, settings, message: str) -> None:
    before = _unchanged(settings)
    with pytest.raises(CommandError, match=message):
        call_command("restore", str(archive), stdout=io.StringIO())
    assert _unchanged(settings) == before


def test_restore_refuses_damaged_archives_and_changes_nothing(demo, archive, settings, tmp_path):
    _empty_the_install(settings, tmp_path)
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"not a tar at all" * 100)
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    cases = [
        (garbage, "cannot be read|no manifest"),
        (truncated, "cannot be read|no manifest|truncated"),
        (_rewrite(archive, tmp_path / "v99.tar", _manifest_with(format_version=99)), "format version 99"),
        (_rewrite(archive, tmp_path / "other.tar", _manifest_with(format="zip")), "not a project backup"),
        (_rewrite(archive, tmp_path / "flipped.tar", _flip_a_blob_byte), "checksum of blobs/.* does not match"),
        (tmp_path / "missing.tar", "No file"),
    ]
    for path, message in cases:
        _refuse(path, settings, message)


def test_restore_refuses_a_project_that_exists(demo, archive, settings):
    rows_before = _database_snapshot(demo.pk)
    _refuse(archive, settings, f"id {demo.pk} exists already")
    assert _database_snapshot(demo.pk) == rows_before


def test_a_restore_failing_halfway_removes_the_binaries_it_wrote(demo, archive, settings, tmp_path):
    """A row that clashes after users and blobs were written: the transaction and the files go."""
    dataset_id = Dataset.objects.get(project=demo, system=False).pk
    _empty_the_install(settings, tmp_path)
    squatter = ProjectFactory(name="Squatter")
    Dataset.objects.create(id=dataset_id, project=squatter, name="same id")
    _refuse(archive, settings, "exist already here")
    assert list(Project.objects.values_list("name", flat=True)) == ["Squatter"]


def test_backup_of_an_unknown_project_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="No project"):
        call_command("backup", "--project", "nope", "--out", str(tmp_path / "x.tar"))
    assert not list(tmp_path.iterdir())


def test_task_items_keep_their_ids_or_get_new_ones_with_their_history(demo, archive, settings, tmp_path):
    """Serial ids belong to the install: restored where they are taken, rows are renumbered, and the
    status history follows its task item."""
    history = _status_history(demo.pk)
    taken_ids = list(TaskItem.objects.filter(task__project=demo).order_by("pk").values_list("pk", flat=True)[:3])
    _empty_the_install(settings, tmp_path)
    other = ProjectFactory()
    dataset = Dataset.objects.create(project=other, name="taken ids")
    task = Task.objects.create(project=other, dataset=dataset, name="t")
    for index, taken_id in enumerate(taken_ids):
        item = Item.objects.create(dataset=dataset, filename=f"/{index}.png", name=f"{index}.png", dir="/")
        TaskItem.objects.create(id=taken_id, task=task, item=item)

    call_command("restore", str(archive), stdout=io.StringIO())

    assert _status_history(demo.pk) == history
    restored_ids = set(TaskItem.objects.filter(task__project_id=demo.pk).values_list("pk", flat=True))
    assert restored_ids.isdisjoint(taken_ids)
    assert list(TaskItem.objects.filter(task=task).order_by("pk").values_list("pk", flat=True)) == taken_ids


def _status_history(project_id: str) -> list[tuple]:
    changes = TaskItemStatusChange.objects.filter(task_item__task__project_id=project_id).order_by("pk")
    return list(changes.values_list("task_item__item_id", "task_item__task_id", "status", "previous", "at"))
