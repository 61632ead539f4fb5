"""Exports and imports from the dataset page: the Export dialog follows its Command to a download
link, the Downloads list keeps up live, and the Import dialog ends with its report (counts on
success, the rejected entries when nothing was imported).

Data is set up through the services in a thread of their own (see `run_in_thread`); controls are
found by role and accessible name, and every wait is an `expect`.
"""

import io
import json
import re
import zipfile

import pytest
from playwright.sync_api import expect

from annotator.annotations.models import Annotation
from annotator.annotations.services import annotations_create
from annotator.core.models import Command
from annotator.datasets import services as dataset_services
from annotator.datasets.models import Item
from annotator.exchange.exporting import dataset_export_start
from annotator.tasks.models import TaskItem
from annotator.tasks.queue import item_statuses_set
from annotator.tasks.services import task_create_start
from tests.conftest import wait_until
from tests.e2e.test_journeys import run_in_thread
from tests.factories import MembershipFactory, ProjectFactory
from tests.images import png

pytestmark = pytest.mark.e2e

# The issue asks for COCO. Until the COCO module is on this branch the export fails in the
# worker, so a local run before that merge sets this to "dataloop".
EXPORT_FORMAT = "coco"
FORMAT_TITLES = {
    "dataloop": "Dataloop JSON",
    "coco": "COCO",
    "yolo": "YOLO",
    "voc": "Pascal VOC",
    "masks": "Semantic PNG masks",
}
LABELS = [{"tag": "car", "color": "#e03131"}, {"tag": "person", "color": "#1c7ed6"}]
WIDTH, HEIGHT = 64, 48
DOWNLOAD = re.compile(r"^Download .+\.zip$")


def box(label: str = "car", left: float = 4, top: float = 4, right: float = 30, bottom: float = 20) -> dict:
    return {
        "type": "box",
        "label": label,
        "coordinates": [{"x": left, "y": top, "z": 0}, {"x": right, "y": bottom, "z": 0}],
    }


def labelled_dataset(owner, items: list[str], *, annotated: dict[str, list[dict]] | None = None):
    """A dataset whose recipe has LABELS, with a WIDTH x HEIGHT image at each path."""
    project = ProjectFactory(creator=owner)

    def make():
        dataset = dataset_services.dataset_create(
            user=owner, project_id=project.id, name="Street photos", labels=LABELS
        )
        for n, path in enumerate(items):
            item, _op = dataset_services.item_upload(
                user=owner, dataset_id=dataset.id, path=path, fileobj=io.BytesIO(png(WIDTH, HEIGHT, (40 * n, 90, 160)))
            )
            if annotated and path in annotated:
                annotations_create(user=owner, item_id=item.id, annotations=annotated[path])
        return dataset

    return run_in_thread(make)


def open_dataset(page, log_in, user, dataset) -> None:
    log_in(user)
    page.goto(f"/datasets/{dataset.id}/")
    expect(page.get_by_role("list", name="Items").get_by_role("button", name=re.compile("^Open "))).not_to_have_count(0)


def export_dialog(page):
    return page.get_by_role("dialog", name="Export dataset")


def import_dialog(page):
    return page.get_by_role("dialog", name="Import annotations")


def downloads(page):
    return page.get_by_role("region", name="Downloads")


def shoot(page, path, **options) -> None:
    """A screenshot (progress bars are drawn at their value: app.css turns Pico's easing off)."""
    page.screenshot(path=path, animations="disabled", **options)


def zip_of(download) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(download.path().read_bytes()))


def dataloop_zip(documents: dict[str, object], images: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, document in documents.items():
            archive.writestr(name, json.dumps(document))
        for name, data in images.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --- export --------------------------------------------------------------------------------------
def test_an_owner_exports_coco_and_downloads_it(live_server, page, log_in, screenshot_dir):
    # given: two items, one of them with a box
    owner = ProjectFactory().creator
    dataset = labelled_dataset(owner, ["/a.png", "/b.png"], annotated={"/a.png": [box()]})
    open_dataset(page, log_in, owner, dataset)
    expect(downloads(page)).to_be_hidden()

    # when: the Export dialog is opened and the format chosen
    page.get_by_role("button", name="Export…").click()
    dialog = export_dialog(page)
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("radio", name="All items")).to_be_checked()
    # Nothing is filtered yet, so there is no "current filter" to export by.
    expect(dialog.get_by_role("radio", name="Items matching the current filter")).to_be_disabled()
    expect(dialog.get_by_label("Task")).to_have_value("")
    dialog.get_by_label("Format").select_option(label=FORMAT_TITLES[EXPORT_FORMAT])
    shoot(page, screenshot_dir / "export-dialog-open.png")
    dialog.get_by_role("button", name="Export", exact=True).click()

    # then: the bar reaches 100% and a link names the file
    progress = dialog.get_by_role("progressbar", name="Export progress")
    expect(progress).to_have_js_property("value", 100)
    link = dialog.get_by_role("link", name=DOWNLOAD)
    expect(link).to_be_visible()
    expect(dialog.get_by_role("status")).to_have_text("Done: 2 items · 1 annotation.")
    shoot(page, screenshot_dir / "export-dialog-done.png")
    command = Command.objects.get(type="dataset.export", spec__datasetId=dataset.id)
    assert command.spec["format"] == EXPORT_FORMAT
    assert command.spec["itemsQuery"] is None and command.spec["taskStatus"] is None
    assert command.spec["includeImages"] is False
    file_name = command.result["fileName"]
    expect(link).to_have_accessible_name(f"Download {file_name}")
    expect(link).to_have_attribute("href", f"/api/v1/items/{command.result['outputItemId']}/stream")

    # when: the link is followed, with the browser's session cookie
    with page.expect_download() as download:
        link.click()

    # then: the zip arrives under its name
    assert download.value.suggested_filename == file_name
    assert zip_of(download.value).namelist()

    # when: the dialog is closed
    dialog.get_by_role("button", name="Close").last.click()
    expect(dialog).to_be_hidden()

    # then: the Downloads list shows the export with its contents and link
    region = downloads(page)
    expect(region).to_be_visible()
    rows = region.get_by_role("row")
    expect(rows).to_have_count(2)  # the header and the export
    expect(rows.nth(1)).to_contain_text(FORMAT_TITLES[EXPORT_FORMAT])
    expect(rows.nth(1)).to_contain_text("2 items · 1 annotation")
    expect(region.get_by_role("link", name=f"Download {file_name}")).to_have_attribute("download", file_name)
    shoot(page, screenshot_dir / "downloads-list.png", full_page=True)


def test_an_export_of_the_shown_folder_with_a_task_status_and_images(live_server, page, log_in, screenshot_dir):
    # given: three items, two in /train, in a task where one /train item is completed
    owner = ProjectFactory().creator
    dataset = labelled_dataset(
        owner, ["/train/a.png", "/train/b.png", "/val/c.png"], annotated={"/train/a.png": [box()]}
    )
    ids = {item.filename: item.id for item in Item.objects.filter(dataset=dataset, type="file")}
    command = run_in_thread(
        lambda: task_create_start(
            user=owner,
            body={
                "name": "Label cars",
                "datasetId": dataset.id,
                "workload": [{"assigneeId": owner.email, "load": 100}],
            },
        )
    )
    wait_until(lambda: TaskItem.objects.filter(task_id=command.spec["createdTaskId"]).count() == 3, timeout=30)
    task_id = command.spec["createdTaskId"]
    run_in_thread(
        lambda: item_statuses_set(user=owner, task_id=task_id, item_ids=[ids["/train/a.png"]], status="completed")
    )
    open_dataset(page, log_in, owner, dataset)

    # when: the /train folder is open and the export takes it, the task's completed items and the images
    page.get_by_role("tree", name="Folders").get_by_role("button", name="train", exact=True).click()
    expect(page.get_by_role("list", name="Items").get_by_role("button", name=re.compile("^Open "))).to_have_count(2)
    page.get_by_role("button", name="Export…").click()
    dialog = export_dialog(page)
    dialog.get_by_label("Format").select_option(label="Dataloop JSON")
    scope = dialog.get_by_role("radio", name="Items matching the current filter")
    expect(scope).to_be_enabled()
    expect(dialog).to_contain_text("Folder /train")
    scope.check()
    status = dialog.get_by_label("Status")
    expect(status).to_be_disabled()
    dialog.get_by_label("Task").select_option(label="Label cars")
    expect(status).to_be_enabled()
    # Asking without a status is refused in the page, before any request.
    dialog.get_by_role("button", name="Export", exact=True).click()
    expect(dialog.get_by_role("alert")).to_have_text("Name the task status the items must have.")
    status.fill("completed")
    expect(dialog.get_by_role("alert")).to_be_hidden()
    dialog.get_by_role("checkbox", name="Include images").check()
    shoot(page, screenshot_dir / "export-dialog-filtered.png")
    dialog.get_by_role("button", name="Export", exact=True).click()

    # then: only the completed /train item is in the zip, with its image
    link = dialog.get_by_role("link", name=DOWNLOAD)
    expect(link).to_be_visible()
    expect(dialog.get_by_role("status")).to_have_text("Done: 1 item · 1 annotation · images.")
    sent = Command.objects.get(type="dataset.export", spec__datasetId=dataset.id).spec
    assert sent["itemsQuery"] == {"filter": {"filename": "/train/**"}}
    assert sent["taskStatus"] == {"taskId": task_id, "status": "completed"}
    assert sent["includeImages"] is True
    with page.expect_download() as download:
        link.click()
    names = sorted(zip_of(download.value).namelist())
    assert names == ["items/train/a.png", "json/train/a.json"]


def test_the_downloads_list_shows_an_export_started_elsewhere(live_server, page, log_in):
    # given: the page is open on a dataset without exports
    owner = ProjectFactory().creator
    dataset = labelled_dataset(owner, ["/a.png"])
    open_dataset(page, log_in, owner, dataset)
    expect(downloads(page)).to_be_hidden()

    # when: someone else exports the dataset (through the API, say)
    run_in_thread(lambda: dataset_export_start(user=owner, dataset_id=dataset.id, format_name="dataloop"))

    # then: the list appears and gains its download link when the export is done, without a reload
    region = downloads(page)
    expect(region.get_by_role("link", name=DOWNLOAD)).to_be_visible()
    expect(region.get_by_role("row").nth(1)).to_contain_text("Dataloop JSON")
    expect(region.get_by_role("row").nth(1)).to_contain_text("1 item · 0 annotations")


# --- import ----------------------------------------------------------------------------------------
def test_an_import_of_a_dataloop_zip_reports_what_it_did(live_server, page, log_in, screenshot_dir):
    # given: a dataset with one item, and a zip with a new image and its boxes (one with a new label)
    owner = ProjectFactory().creator
    dataset = labelled_dataset(owner, ["/old.png"])
    upload = dataloop_zip(
        {"json/x.json": {"filename": "/x.png", "annotations": [box(), box("bus", 10, 10, 40, 40)]}},
        {"items/x.png": png(WIDTH, HEIGHT, (10, 200, 10))},
    )
    open_dataset(page, log_in, owner, dataset)

    # when: the zip is imported through the Import dialog
    page.get_by_role("button", name="Import annotations…").click()
    dialog = import_dialog(page)
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("radio", name="Add them to the ontology")).to_be_checked()
    dialog.get_by_label("File").set_input_files(
        files=[{"name": "labels.zip", "mimeType": "application/zip", "buffer": upload}]
    )
    dialog.get_by_label("Format").select_option(label="Dataloop JSON")
    shoot(page, screenshot_dir / "import-dialog-open.png")
    dialog.get_by_role("button", name="Import", exact=True).click()

    # then: the bar fills and the report counts what happened
    expect(dialog.get_by_role("progressbar", name="Import progress")).to_have_js_property("value", 100)
    expect(dialog.get_by_role("status")).to_have_text("Done: the import is complete.")
    report = dialog.get_by_role("region", name="Report")
    for term, value in [
        ("Items created", "1"),
        ("Items matched", "0"),
        ("Annotations imported", "2"),
        ("Labels added", "1"),
        ("Skipped", "0"),
    ]:
        expect(report.get_by_role("term").filter(has_text=term).locator("xpath=following-sibling::dd")).to_have_text(
            value
        )
    expect(report).to_contain_text("Labels added to the ontology: bus")
    expect(report.get_by_role("table")).to_be_hidden()
    shoot(page, screenshot_dir / "import-dialog-done.png")
    item = Item.objects.get(dataset=dataset, filename="/x.png")
    assert sorted(Annotation.objects.filter(item=item).values_list("label", flat=True)) == ["bus", "car"]

    # and: the grid shows the new item once the dialog is closed
    dialog.get_by_role("button", name="Close").last.click()
    expect(page.get_by_role("button", name="Open x.png")).to_be_visible()
    expect(page.locator("#item-count")).to_have_text("2")


def test_an_import_of_a_bad_file_lists_the_rejected_entries(live_server, page, log_in, screenshot_dir):
    # given: a JSON array of items with a label the ontology lacks, a box outside the image and no filename
    owner = ProjectFactory().creator
    dataset = labelled_dataset(owner, ["/a.png", "/b.png"])
    documents = [
        {"filename": "/a.png", "annotations": [box(), box("bus")]},
        {"filename": "/b.png", "annotations": [box(right=500)]},
        {"annotations": []},
    ]
    open_dataset(page, log_in, owner, dataset)

    # when: it is imported with missing labels refused
    page.get_by_role("button", name="Import annotations…").click()
    dialog = import_dialog(page)
    dialog.get_by_label("File").set_input_files(
        files=[{"name": "bad.json", "mimeType": "application/json", "buffer": json.dumps(documents).encode()}]
    )
    dialog.get_by_role("radio", name="Refuse them: nothing is imported").check()
    dialog.get_by_role("button", name="Import", exact=True).click()

    # then: the report lists every rejected entry and nothing was imported
    expect(dialog.get_by_role("status")).to_have_text("Failed: 3 entries rejected; nothing was imported.")
    rejected = dialog.get_by_role("table", name="Rejected entries (3)")
    expect(rejected.get_by_role("row")).to_have_count(4)
    expect(rejected).to_contain_text("bad.json[0]: annotations[1]")
    expect(rejected).to_contain_text("label 'bus' is not in the ontology")
    expect(rejected).to_contain_text("bad.json[1]: annotations[0]")
    expect(rejected).to_contain_text("outside the 64x48 image")
    expect(rejected).to_contain_text("an item document needs a filename")
    expect(
        dialog.get_by_role("region", name="Report").get_by_role("term").filter(has_text="Annotations imported")
    ).to_be_visible()
    shoot(page, screenshot_dir / "import-dialog-rejected.png")
    assert not Annotation.objects.filter(dataset=dataset).exists()

    # when: no file is chosen, the dialog says so without a request
    dialog.get_by_label("File").set_input_files(files=[])
    dialog.get_by_role("button", name="Import", exact=True).click()
    expect(dialog.get_by_role("alert")).to_have_text("Choose a file to import.")


def test_an_annotator_sees_neither_export_nor_import(live_server, page, log_in):
    owner = ProjectFactory().creator
    dataset = labelled_dataset(owner, ["/a.png"])
    annotator = MembershipFactory(project=dataset.project, role="annotator").user
    open_dataset(page, log_in, annotator, dataset)

    expect(page.get_by_role("button", name="Export…")).to_have_count(0)
    expect(page.get_by_role("button", name="Import annotations…")).to_have_count(0)
    expect(page.locator("dialog")).to_have_count(0)
