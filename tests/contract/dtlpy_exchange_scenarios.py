"""dtlpy against a live server: dataset.export (json, zip, per-item folders) and
download_annotations, on a dataset the test prepared (DATASET_ID).

Started by tests/contract/test_dtlpy_exchange.py with .venv-dtlpy's Python. Input from the
environment: ANNOTATOR_URL, API_KEY, DATASET_ID, WORK_DIR, DATALOOP_PATH. Prints one JSON
report: what the SDK wrote to disk, as plain data.
"""

import json
import os
import zipfile
from pathlib import Path

import dtlpy as dl  # DATALOOP_PATH must be set before this import
from scenario_steps import print_report, step  # beside this script

BASE = os.environ["ANNOTATOR_URL"]
WORK = Path(os.environ["WORK_DIR"])

dl.verbose.logging_level = "error"
dl.add_environment(environment=f"{BASE}/api/v1", gate_url=BASE, alias="local", verify_ssl=False, url=f"{BASE}/")
dl.setenv("local")
dl.login_token(os.environ["API_KEY"])
dataset = dl.datasets.get(dataset_id=os.environ["DATASET_ID"])


def summary(document: dict) -> dict:
    return {
        "filename": document["filename"],
        "annotations": sorted((a["type"], a["label"]) for a in document.get("annotations") or []),
    }


def export_json():
    path = dataset.export(local_path=str(WORK / "export-json"), include_annotations=True)
    with open(path) as handle:
        documents = json.load(handle)
    return sorted((summary(d) for d in documents), key=lambda s: s["filename"])


def export_zip():
    """ZIP export: the SDK downloads the zip item and unzips it into local_path."""
    root = dataset.export(local_path=str(WORK / "export-zip"), include_annotations=True, export_type=dl.ExportType.ZIP)
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*") if p.is_file())


def export_zip_kept():
    path = dataset.export(
        local_path=str(WORK / "export-zip-kept"),
        include_annotations=True,
        export_type=dl.ExportType.ZIP,
        output_export_type=dl.OutputExportType.ZIP,
    )
    with zipfile.ZipFile(path) as archive:
        return sorted(archive.namelist())


def export_folders():
    root = dataset.export(
        local_path=str(WORK / "export-folders"),
        include_annotations=True,
        output_export_type=dl.OutputExportType.FOLDERS,
    )
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*.json"))


def export_filtered():
    filters = dl.Filters(field="dir", values="/photos")
    path = dataset.export(local_path=str(WORK / "export-filtered"), filters=filters, include_annotations=True)
    with open(path) as handle:
        return sorted(d["filename"] for d in json.load(handle))


def download_annotations():
    root = WORK / "download"
    dataset.download_annotations(local_path=str(root))
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*.json"))
    documents = [json.loads(p.read_text()) for p in sorted(root.rglob("*.json"))]
    return {"files": files, "documents": [summary(d) for d in documents]}


step("export json", export_json)
step("export zip", export_zip)
step("export zip kept", export_zip_kept)
step("export folders", export_folders)
step("export filtered", export_filtered)
step("download_annotations", download_annotations)
print_report()
