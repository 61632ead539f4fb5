"""Thumbnails: made beside the blob, also when two jobs for the same bytes run at once."""

import io
import threading

from PIL import Image

from annotator.datasets.images import make_thumbnail
from tests.images import jpeg


def test_concurrent_jobs_for_the_same_blob_all_succeed(tmp_path):
    source = tmp_path / "blob"
    source.write_bytes(jpeg(1600, 1200))
    target = tmp_path / "thumbnails" / "ab" / "cd" / "blob.jpg"
    start, errors = threading.Barrier(8), []

    def job():
        start.wait()
        try:
            make_thumbnail(source, target, size=256)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    workers = [threading.Thread(target=job) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert errors == []
    assert sorted(path.name for path in target.parent.iterdir()) == ["blob.jpg"]  # no temporary file left
    with Image.open(io.BytesIO(target.read_bytes())) as thumbnail:
        assert thumbnail.format == "JPEG" and max(thumbnail.size) == 256
