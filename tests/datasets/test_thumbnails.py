"""Thumbnails: made beside the blob, also when two jobs for the same bytes run at once."""

import io
import threading

import pytest
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


@pytest.mark.parametrize(
    ("size", "expected"),
    [((640, 480), (256, 192)), ((480, 640), (192, 256)), ((1600, 40), (256, 6)), ((100, 50), (100, 50))],
)
def test_a_thumbnail_keeps_the_shape_and_colour_and_never_enlarges(tmp_path, size, expected):
    # JPEGs decode at a reduced scale first: the result must still be the whole picture
    source, target = tmp_path / "blob", tmp_path / "thumb.jpg"
    source.write_bytes(jpeg(*size, color=(200, 40, 90)))

    make_thumbnail(source, target, size=256)

    with Image.open(target) as thumbnail:
        assert thumbnail.size == expected
        red, green, blue = thumbnail.convert("RGB").resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    assert abs(red - 200) <= 6 and abs(green - 40) <= 6 and abs(blue - 90) <= 6
