"""dtlpy against a live server: datasets, labels, uploads, queries, updates, downloads.

Started by tests/contract/test_dtlpy_data.py with .venv-dtlpy's Python. Input from the
environment: ANNOTATOR_URL, API_KEY, PROJECT_ID, WORK_DIR (with images prepared by the
test under WORK_DIR/images), DATALOOP_PATH. Prints one JSON report of every step.
"""

import os
from pathlib import Path

import dtlpy as dl  # DATALOOP_PATH must be set before this import
from scenario_steps import print_report, step  # beside this script

BASE = os.environ["ANNOTATOR_URL"]
WORK = Path(os.environ["WORK_DIR"])


dl.verbose.logging_level = "error"
dl.add_environment(environment=f"{BASE}/api/v1", gate_url=BASE, alias="local", verify_ssl=False, url=f"{BASE}/")
dl.setenv("local")
dl.login_token(os.environ["API_KEY"])
project = dl.projects.get(project_id=os.environ["PROJECT_ID"])

# --- datasets and labels -----------------------------------------------------------------------
# (dtlpy itself raises KeyError for a dl.Label without a colour, before any request: give colours.)
step("datasets.create", lambda: project.datasets.create(dataset_name="Plain").name)
step(
    "datasets.create with labels",
    lambda: sorted(
        label.tag
        for label in project.datasets.create(
            dataset_name="Labelled",
            labels=[dl.Label(tag="cat", color=(255, 0, 0)), dl.Label(tag="dog", color=(0, 0, 255))],
        ).labels
    ),
)
dataset = project.datasets.get(dataset_name="Plain")
step("datasets.get by name", lambda: dataset.id)
step("datasets.get by id", lambda: project.datasets.get(dataset_id=dataset.id).name)
step("datasets.list", lambda: sorted(d.name for d in project.datasets.list()))
step("add_labels", lambda: dataset.add_labels(label_list=["car", {"tag": "bus", "color": "#123456"}]) or True)
step("dataset.labels", lambda: sorted((label.tag, label.color) for label in dataset.labels))

# --- uploads ------------------------------------------------------------------------------------------
images = WORK / "images"


def upload_one():
    item = dataset.items.upload(
        local_path=str(images / "single.png"),
        remote_path="/one",
        item_metadata={"user": {"split": "train", "score": 5}},
    )
    return {"filename": item.filename, "user": item.metadata["user"], "size": item.metadata["system"]["size"]}


def upload_folder():
    return sorted(item.filename for item in dataset.items.upload(local_path=str(images / "batch"), remote_path="/many"))


step("upload one with metadata", upload_one)
step("upload a folder", upload_folder)
step(
    "upload skip",
    lambda: dataset.items.upload(local_path=str(images / "single.png"), remote_path="/one").metadata["system"]["size"],
)
step(
    "upload overwrite",
    lambda: dataset.items.upload(
        local_path=str(WORK / "replacement" / "single.png"), remote_path="/one", overwrite=True
    ).metadata["system"]["size"],
)


def tag_batch():
    """Per-item metadata through the SDK's own item.update(): score n, split val for odd n."""
    f = dl.Filters()
    f.add(field="dir", values="/many/batch")
    for page in dataset.items.list(filters=f):
        for item in page:
            n = int(item.name.split("_")[1].split(".")[0])
            item.metadata["user"] = {"score": n, "split": "val" if n % 2 else "train"}
            item.update()
    return True


step("tag batch", tag_batch)

# --- queries ------------------------------------------------------------------------------------------


def names(filters=None, **kwargs):
    pages = dataset.items.list(filters=filters, **kwargs)
    return [item.name for page in pages for item in page]


def metadata_eq():
    f = dl.Filters()
    f.add(field="metadata.user.split", values="val")
    return sorted(names(f))


def metadata_gt():
    f = dl.Filters()
    f.add(field="metadata.user.score", values=6, operator=dl.FiltersOperations.GREATER_THAN)
    return sorted(names(f))


def metadata_in():
    f = dl.Filters()
    f.add(field="metadata.user.score", values=[0, 9], operator=dl.FiltersOperations.IN)
    return sorted(names(f))


def metadata_or():
    f = dl.Filters()
    f.add(field="metadata.user.score", values=1, method=dl.FiltersMethod.OR)
    f.add(field="metadata.user.score", values=2, method=dl.FiltersMethod.OR)
    return sorted(names(f))


def sorted_desc():
    f = dl.Filters()
    f.add(field="dir", values="/many/batch")
    f.sort_by(field="metadata.user.score", value=dl.FiltersOrderByDirection.DESCENDING)
    return names(f)


def glob():
    f = dl.Filters()
    f.add(field="filename", values="/many/batch/img_1*.png")
    return sorted(names(f))


def paging():
    f = dl.Filters()
    f.page_size = 3
    pages = dataset.items.list(filters=f)
    return {"pages": pages.total_pages_count, "names": sorted(item.name for page in pages for item in page)}


step("list all", lambda: len(names()))
step("filter metadata equality", metadata_eq)
step("filter $gt", metadata_gt)
step("filter $in", metadata_in)
step("filter $or", metadata_or)
step("sort descending", sorted_desc)
step("glob on filename", glob)
step("paging", paging)

# --- single items ---------------------------------------------------------------------------------------
step("items.get by filepath", lambda: dataset.items.get(filepath="/one/single.png").name)
one = dataset.items.get(filepath="/one/single.png")
step("items.get by id", lambda: dataset.items.get(item_id=one.id).filename)


def update_metadata():
    item = dataset.items.get(item_id=one.id)
    item.metadata["user"]["reviewed"] = True
    item = item.update()
    return dataset.items.get(item_id=one.id).metadata["user"]


step("item.update", update_metadata)


def bulk_update():
    f = dl.Filters()
    f.add(field="dir", values="/many/batch")
    dataset.items.update(filters=f, update_values={"batch": "b1"})
    g = dl.Filters()
    g.add(field="metadata.user.batch", values="b1")
    return len(names(g))


step("bulk update", bulk_update)


def download():
    downloaded = Path(one.download(local_path=str(WORK / "downloads")))
    return downloaded.read_bytes() == (WORK / "replacement" / "single.png").read_bytes()


step("item.download", download)


def delete_one():
    victim = dataset.items.get(filepath="/many/batch/img_0.png")
    dataset.items.delete(item_id=victim.id)
    try:
        dataset.items.get(item_id=victim.id)
    except dl.exceptions.NotFound:
        return "gone"
    return "still there"


step("items.delete", delete_one)


def clone():
    f = dl.Filters()
    f.add(field="metadata.user.split", values="val")
    cloned = dataset.clone(clone_name="Val only", filters=f, with_items_annotations=False, with_metadata=True)
    return {"name": cloned.name, "files": sorted(item.name for page in cloned.items.list() for item in page)}


step("datasets.clone", clone)

print_report()
