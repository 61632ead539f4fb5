"""Filling benchmark datasets fast: link items registered as a manifest is (COPY on PostgreSQL).

Call after django.setup(); the server is not involved.
"""

import json
from collections.abc import Iterable
from pathlib import Path


def write_manifest(path: Path, records: Iterable[dict]) -> Path:
    """An NDJSON manifest of `{"url", "path", "metadata"?}` records."""
    with path.open("w") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    return path


def register_manifest(*, dataset, user, path: Path) -> dict:
    """Register a manifest's lines as items of `dataset`; the register report."""
    from annotator.core.commands import SilentProgress
    from annotator.datasets.manifests import read_lines, register

    return register(
        dataset=dataset, user=user, lines=read_lines(path), progress=SilentProgress(), total_bytes=path.stat().st_size
    )
