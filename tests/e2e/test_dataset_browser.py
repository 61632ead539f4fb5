"""The dataset browser (/datasets/<id>/): upload by drag and drop or the file picker, folders,
DQL filters, the item preview, read-only members, and keyset paging while scrolling.

Data is set up through the services in a thread of its own (see `run_in_thread`), before the page
is driven; controls are found by role and accessible name, and every wait is an `expect`.
"""

import base64
import io
import json
import re

import pytest
from playwright.sync_api import expect

from annotator.annotations.services import annotation_status_set, annotations_create
from annotator.datasets import services as dataset_services
from annotator.datasets.models import Item
from annotator.ontologies.selectors import recipe_get, recipe_ontologies
from annotator.ontologies.services import ontology_labels_add
from tests.e2e.test_journeys import run_in_thread
from tests.factories import MembershipFactory, ProjectFactory
from tests.images import png

pytestmark = pytest.mark.e2e

DROP_ZONE = "Upload images: drop files here or press Enter to choose"
OPEN = re.compile(r"^Open ")


def make_dataset(owner, name: str = "Street photos"):
    project = ProjectFactory(creator=owner)
    return run_in_thread(lambda: dataset_services.dataset_create(user=owner, project_id=project.id, name=name))


def add_items(owner, dataset, items: list[tuple[str, bytes, dict | None]]) -> None:
    """Upload (path, bytes, user metadata) items through the service, as the API would."""

    def upload_all():
        for path, data, metadata in items:
            dataset_services.item_upload(
                user=owner,
                dataset_id=dataset.id,
                path=path,
                fileobj=io.BytesIO(data),
                metadata={"user": metadata} if metadata else None,
            )

    run_in_thread(upload_all)


def drop_files(page, target, files: list[tuple[str, bytes]]) -> None:
    """Drop real files on `target`: a DataTransfer built in the page from the bytes, then a drop event."""
    payload = [{"name": name, "data": base64.b64encode(data).decode()} for name, data in files]
    transfer = page.evaluate_handle(
        """(files) => {
            const transfer = new DataTransfer();
            for (const file of files) {
                const bytes = Uint8Array.from(atob(file.data), (c) => c.charCodeAt(0));
                transfer.items.add(new File([bytes], file.name, { type: "image/png" }));
            }
            return transfer;
        }""",
        payload,
    )
    target.dispatch_event("dragover", {"dataTransfer": transfer})
    target.dispatch_event("drop", {"dataTransfer": transfer})


def tiles(page):
    return page.get_by_role("list", name="Items").get_by_role("button", name=OPEN)


def tile_names(page) -> list[str]:
    return [label.removeprefix("Open ") for label in tiles(page).evaluate_all("(b) => b.map((x) => x.ariaLabel)")]


def status(page, text: str):
    return page.get_by_role("status").filter(has_text=text)


def folder(page, name: str):
    return page.get_by_role("tree", name="Folders").get_by_role("button", name=name, exact=True)


@pytest.fixture
def sorted_dataset(live_server):
    """A dataset with items in /train and /val (metadata.user.split says which) and one at the top."""
    owner = ProjectFactory().creator
    dataset = make_dataset(owner)
    add_items(
        owner,
        dataset,
        [
            ("/train/red.png", png(160, 120, (214, 39, 40)), {"split": "train"}),
            ("/train/green.png", png(160, 120, (44, 160, 44)), {"split": "train"}),
            ("/val/blue.png", png(120, 90, (31, 119, 180)), {"split": "val", "weather": "rain"}),
            ("/orange.png", png(160, 120, (255, 127, 14)), None),
        ],
    )
    return owner, dataset


def test_an_owner_uploads_by_drag_and_drop_and_with_the_file_picker(live_server, page, log_in):
    # given: a dataset with one folder
    owner = ProjectFactory().creator
    dataset = make_dataset(owner)
    add_items(owner, dataset, [("/train/seed.png", png(), None)])
    log_in(owner)
    page.goto(f"/datasets/{dataset.id}/")
    expect(tiles(page)).to_have_count(1)

    # when: three images are dropped on the drop zone
    zone = page.get_by_role("button", name=DROP_ZONE)
    drop_files(page, zone, [(f"drop-{i}.png", png(64 + i, 48, (40 * i, 90, 160))) for i in range(3)])

    # then: the progress bar fills, the status counts them, and they appear in the grid and the database
    progress = page.get_by_role("progressbar", name="Upload progress")
    expect(progress).to_be_visible()
    expect(progress).to_have_js_property("value", 100)
    assert progress.get_attribute("max") == "100"
    expect(status(page, "Uploaded 3 of 3.")).to_be_visible()
    for i in range(3):
        expect(tiles(page).and_(page.get_by_role("button", name=f"Open drop-{i}.png"))).to_have_count(1)
    expect(tiles(page)).to_have_count(4)
    uploaded = Item.objects.filter(dataset=dataset, type="file", dir="/").order_by("name")
    assert [(item.filename, item.metadata["system"]["width"]) for item in uploaded] == [
        ("/drop-0.png", 64),
        ("/drop-1.png", 65),
        ("/drop-2.png", 66),
    ]
    expect(page.locator("#item-count")).to_have_text("4")

    # when: a folder is chosen and the zone is opened with the keyboard, which opens the file picker
    folder(page, "train").click()
    expect(zone).to_contain_text("to upload into /train")
    with page.expect_file_chooser() as chooser:
        zone.focus()
        page.keyboard.press("Enter")
    chooser.value.set_files([{"name": "picked.png", "mimeType": "image/png", "buffer": png(50, 40, (0, 0, 0))}])

    # then: the file lands in that folder
    expect(status(page, "Uploaded 1 of 1.")).to_be_visible()
    expect(page.get_by_role("button", name="Open picked.png")).to_be_visible()
    assert sorted(tile_names(page)) == ["picked.png", "seed.png"]
    picked = Item.objects.get(dataset=dataset, name="picked.png")
    assert (picked.filename, picked.dir) == ("/train/picked.png", "/train")


def test_the_folder_tree_filters_the_grid(sorted_dataset, page, log_in):
    owner, dataset = sorted_dataset
    log_in(owner)
    page.goto(f"/datasets/{dataset.id}/")
    expect(tiles(page)).to_have_count(4)
    expect(folder(page, "All items")).to_have_attribute("aria-current", "true")

    folder(page, "train").click()
    expect(folder(page, "train")).to_have_attribute("aria-current", "true")
    expect(folder(page, "All items")).to_have_attribute("aria-current", "false")
    expect(tiles(page)).to_have_count(2)
    assert sorted(tile_names(page)) == ["green.png", "red.png"]

    folder(page, "val").click()
    expect(tiles(page)).to_have_count(1)
    expect(page.get_by_role("button", name="Open blue.png")).to_be_visible()

    folder(page, "All items").click()
    expect(tiles(page)).to_have_count(4)
    assert sorted(tile_names(page)) == ["blue.png", "green.png", "orange.png", "red.png"]


def test_a_dql_filter_narrows_the_grid_and_mistakes_show_in_the_alert(sorted_dataset, page, log_in):
    owner, dataset = sorted_dataset
    log_in(owner)
    page.goto(f"/datasets/{dataset.id}/")
    expect(tiles(page)).to_have_count(4)
    dql = page.get_by_role("textbox", name="Filter (DQL)")
    apply = page.get_by_role("button", name="Apply")
    alert = page.get_by_role("alert")

    dql.fill('{"metadata.user.split": "val"}')
    apply.click()
    expect(tiles(page)).to_have_count(1)
    expect(page.get_by_role("button", name="Open blue.png")).to_be_visible()
    expect(status(page, "Showing 1 item")).to_have_text("Showing 1 item")

    # Not JSON: the page says so without asking the server, and the grid stays as it was.
    dql.fill('{"metadata.user.split": ')
    apply.click()
    expect(alert).to_contain_text("The filter must be JSON")
    expect(tiles(page)).to_have_count(1)

    # An unknown operator: the server's 400 message.
    dql.fill('{"metadata.user.split": {"$near": "val"}}')
    apply.click()
    expect(alert).to_contain_text("Unknown operator '$near' on field 'metadata.user.split'")

    # A good filter again hides the alert; Clear shows everything.
    dql.fill('{"metadata.user.split": "train"}')
    apply.click()
    expect(alert).to_be_hidden()
    expect(tiles(page)).to_have_count(2)
    page.get_by_role("button", name="Clear").click()
    expect(dql).to_have_value("")
    expect(tiles(page)).to_have_count(4)


def test_an_annotation_filter_shows_the_items_with_a_matching_annotation(sorted_dataset, page, log_in, screenshot_dir):
    owner, dataset = sorted_dataset

    def annotate() -> None:
        recipe = recipe_get(user=owner, recipe_id=dataset.metadata["system"]["recipes"][0])
        labels = [{"tag": "car"}, {"tag": "bus"}]
        ontology_labels_add(user=owner, ontology_id=recipe_ontologies(recipe)[0].id, labels=labels)
        items = {i.name: i for i in Item.objects.filter(dataset=dataset, type="file")}
        car = {"type": "box", "label": "car", "coordinates": [{"x": 10, "y": 10}, {"x": 50, "y": 40}]}
        annotations_create(user=owner, item_id=items["red.png"].id, annotations=[car])
        bus = {**car, "label": "bus"}
        (bus,), _rules = annotations_create(user=owner, item_id=items["blue.png"].id, annotations=[bus])
        annotation_status_set(user=owner, annotation_id=bus.id, status="issue", message="A van, not a bus.")

    run_in_thread(annotate)
    log_in(owner)
    page.goto(f"/datasets/{dataset.id}/")
    expect(tiles(page)).to_have_count(4)
    annotations = page.get_by_role("textbox", name=re.compile("^With an annotation matching"))
    apply = page.get_by_role("button", name="Apply")
    alert = page.get_by_role("alert")

    # Each tile says how many annotations its item has: the bus, and the note on it.
    expect(page.get_by_role("button", name="Open blue.png").locator(".tile-count")).to_have_text("2")
    expect(page.get_by_role("button", name="Open blue.png")).to_have_attribute("aria-description", "2 annotations")
    expect(page.get_by_role("button", name="Open green.png").locator(".tile-count")).to_have_count(0)

    annotations.fill('{"label": "car"}')
    apply.click()
    expect(tiles(page)).to_have_count(1)
    expect(page.get_by_role("button", name="Open red.png")).to_be_visible()
    page.get_by_role("button", name="an open issue").click()
    expect(annotations).to_have_value('{"metadata.system.status": "issue"}')
    expect(page.get_by_role("button", name="Open blue.png")).to_be_visible()
    expect(tiles(page)).to_have_count(1)
    page.screenshot(path=str(screenshot_dir / "dataset-annotation-filter.png"))

    # The export offers what the grid shows.
    page.get_by_role("button", name="Export…").click()
    dialog = page.get_by_role("dialog", name="Export dataset")
    expect(dialog.get_by_role("radio", name="Items matching the current filter")).to_be_enabled()
    expect(dialog).to_contain_text('With an annotation matching {"metadata.system.status":"issue"}')
    dialog.get_by_role("button", name="Close").first.click()

    # Both filters together; mistakes in the annotation filter, in the page and from the server.
    page.get_by_role("textbox", name="Filter (DQL)").fill('{"metadata.user.split": "train"}')
    apply.click()
    expect(status(page, "No items match.")).to_be_visible()
    annotations.fill('{"label": ')
    apply.click()
    expect(alert).to_contain_text("The annotation filter must be JSON")
    annotations.fill('{"label": {"$near": "car"}}')
    apply.click()
    expect(alert).to_contain_text("Unknown operator '$near'")
    page.get_by_role("button", name="Clear").click()
    expect(annotations).to_have_value("")
    expect(tiles(page)).to_have_count(4)


def test_a_tile_opens_the_preview_with_the_metadata(sorted_dataset, page, log_in, screenshot_dir):
    owner, dataset = sorted_dataset
    log_in(owner)
    page.goto(f"/datasets/{dataset.id}/")

    page.get_by_role("button", name="Open blue.png").click()

    preview = page.get_by_role("complementary", name="blue.png")
    expect(preview).to_be_visible()
    expect(preview.get_by_role("img", name="blue.png")).to_be_visible()
    expect(preview).to_contain_text("/val/blue.png")
    expect(preview).to_contain_text("120 \N{MULTIPLICATION SIGN} 90")
    expect(preview).to_contain_text("image/png")
    metadata = preview.locator("pre")
    expect(metadata).to_contain_text('"weather": "rain"')
    assert json.loads(metadata.inner_text()) == {"split": "val", "weather": "rain"}
    # Screenshots with the thumbnails drawn: wait until every image has loaded.
    page.wait_for_function("[...document.querySelectorAll('main img')].every((i) => i.complete && i.naturalWidth > 0)")
    page.screenshot(path=screenshot_dir / "dataset-browser-preview.png", full_page=True)

    preview.get_by_role("button", name="Close preview").click()
    expect(preview).to_be_hidden()


def test_an_annotator_browses_but_sees_no_drop_zone(sorted_dataset, page, log_in):
    _owner, dataset = sorted_dataset
    annotator = MembershipFactory(project=dataset.project, role="annotator").user
    log_in(annotator)
    page.goto(f"/datasets/{dataset.id}/")

    expect(tiles(page)).to_have_count(4)
    expect(page.get_by_role("button", name=DROP_ZONE)).to_have_count(0)
    expect(page.get_by_role("progressbar", name="Upload progress")).to_have_count(0)
    expect(page.locator("input[type=file]")).to_have_count(0)


def test_scrolling_to_the_bottom_loads_the_next_page(live_server, page, log_in):
    # given: more items than one page (100) holds
    owner = ProjectFactory().creator
    dataset = make_dataset(owner)
    image = png(40, 30, (120, 120, 200))
    add_items(owner, dataset, [(f"/many/img-{i:03}.png", image, None) for i in range(130)])
    log_in(owner)

    # when: the page opens, one page of items is shown
    page.goto(f"/datasets/{dataset.id}/")
    expect(tiles(page)).to_have_count(100)
    expect(status(page, "Showing 100+ items")).to_be_visible()
    assert tile_names(page) == [f"img-{i:03}.png" for i in range(100)]

    # then: scrolling to the last tile loads the rest, in id order and without repeats
    tiles(page).last.scroll_into_view_if_needed()
    expect(tiles(page)).to_have_count(130)
    expect(status(page, "Showing 130 items")).to_be_visible()
    assert tile_names(page) == [f"img-{i:03}.png" for i in range(130)]

    # when: the screen is taller than the first page, the next one loads without any scrolling
    page.set_viewport_size({"width": 1280, "height": 4000})
    page.goto(f"/datasets/{dataset.id}/")
    expect(tiles(page)).to_have_count(130)
    expect(status(page, "Showing 130 items")).to_be_visible()
    assert page.evaluate("window.scrollY") == 0


def test_a_zip_import_and_a_clone_show_live_progress_until_done(live_server, page, log_in, celery_worker):
    # given
    import zipfile

    owner = ProjectFactory().creator
    dataset = make_dataset(owner)
    add_items(owner, dataset, [("/train/a.png", png(color=(1, 2, 3)), {"split": "train"})])
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        for i in range(3):
            bundle.writestr(f"zipped/z{i}.png", png(30 + i, 20, (i, 80, 80)))
    log_in(owner)
    page.goto(f"/datasets/{dataset.id}/")
    expect(tiles(page)).to_have_count(1)

    # when: a zip is imported through the page
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Upload a zip").click()
    chooser.value.set_files(files=[{"name": "batch.zip", "mimeType": "application/zip", "buffer": archive.getvalue()}])

    # then: its progress bar fills and the report appears, and the items are there
    expect(page.get_by_role("progressbar", name="Importing batch.zip progress")).to_have_js_property("value", 100)
    expect(status(page, "Done: 3 imported, 0 skipped, 0 rejected.")).to_be_visible()
    expect(tiles(page)).to_have_count(4)
    assert Item.objects.filter(dataset=dataset, dir="/zipped").count() == 3

    # when: the shown items are cloned into a new dataset
    page.once("dialog", lambda dialog: dialog.accept("Copy of photos"))
    page.get_by_role("button", name="Clone shown items…").click()

    # then: its progress ends with a link to the clone
    expect(page.get_by_role("progressbar", name="Cloning into Copy of photos progress")).to_have_js_property(
        "value", 100
    )
    page.get_by_role("link", name="Open Copy of photos").click()
    expect(page.get_by_role("heading", name="Copy of photos", level=1)).to_be_visible()
    expect(tiles(page)).to_have_count(4)
