from celery import shared_task


@shared_task(name="datasets.thumbnail_make", autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def thumbnail_make(sha256: str) -> None:
    """Make a blob's thumbnail after its upload committed; a gone blob is fine."""
    from annotator.datasets.services import blob_thumbnail_make

    blob_thumbnail_make(sha256=sha256)


@shared_task(name="datasets.thumbnails_backfill")
def thumbnails_backfill() -> int:
    """Queue thumbnails for blobs without one (e.g. uploads whose job was lost with an
    in-memory broker when the process stopped). Sent when the server starts."""
    from annotator.datasets.models import Blob

    missing = list(
        Blob.objects.filter(has_thumbnail=False, mimetype__startswith="image/").values_list("sha256", flat=True)
    )
    for sha256 in missing:
        thumbnail_make.delay(sha256)
    return len(missing)
