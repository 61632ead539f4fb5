"""The export and import management commands: same engine, a terminal progress bar, clear errors."""

import zipfile

import pytest
from django.core.management import CommandError, call_command

from annotator.annotations.models import Annotation
from annotator.annotations.services import annotations_create
from tests.exchange.conftest import box

pytestmark = pytest.mark.django_db


def test_export_then_import_from_the_terminal(dataset, item, fresh_dataset, members, tmp_path, capsys):
    # given an annotated item
    owner = members["owner"]
    annotations_create(user=owner, item_id=item.id, annotations=[box(), box(left=20, right=30)])
    out = tmp_path / "out.zip"

    # when it is exported with its images and imported into another dataset
    call_command("export", dataset.id, "--format", "dataloop", "--out", str(out), "--user", owner.email, "--images")
    call_command("import", fresh_dataset.id, str(out), "--format", "dataloop", "--user", owner.email)

    # then both commands said what they did, with a progress bar on stderr
    captured = capsys.readouterr()
    assert "1 items, 2 annotations" in captured.out
    assert "1 items created, 0 matched, 2 annotations imported" in captured.out
    assert "100%" in captured.err
    with zipfile.ZipFile(out) as archive:
        assert "items/photos/a.png" in archive.namelist()
    assert Annotation.objects.filter(dataset=fresh_dataset).count() == 2


def test_a_rejected_import_lists_the_entries_and_changes_nothing(dataset, item, members, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(
        '[{"filename": "/photos/a.png", "annotations": [{"type": "box", "label": "cat", "coordinates": 5}]}]'
    )
    with pytest.raises(CommandError, match="1 entries rejected"):
        call_command("import", dataset.id, str(bad), "--format", "dataloop", "--user", members["owner"].email)
    assert "rejected bad.json[0]: annotations[0]" in capsys.readouterr().err
    assert not Annotation.objects.filter(item=item).exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--user", "nobody@example.com"], "No user with the email"),
        (["--user", "{annotator}"], "does not allow"),
        (["--user", "{owner}", "--filter", "{nope"], "--filter is not JSON"),
        (["--user", "{owner}", "--task", "abc"], "taskStatus must be"),
    ],
)
def test_export_errors_are_clear(dataset, members, tmp_path, arguments, message):
    emails = {"{owner}": members["owner"].email, "{annotator}": members["annotator"].email}
    arguments = [emails.get(a, a) for a in arguments]
    with pytest.raises(CommandError, match=message):
        call_command("export", dataset.id, "--out", str(tmp_path / "x.zip"), *arguments)
