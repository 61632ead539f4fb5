from celery import shared_task

BACKFILL_BATCH = 50


@shared_task(name="datasets.thumbnails_make", autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def thumbnails_make(sha256s: list[str]) -> None:
    """Make the thumbnails of blobs whose uploads committed (collected: see core/job_queue);
    gone blobs are fine, and a retry skips the thumbnails already made."""
    from annotator.datasets.services import blob_thumbnails_make

    blob_thumbnails_make(sha256s=sha256s)


@shared_task(name="datasets.thumbnail_make", autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def thumbnail_make(sha256: str) -> None:
    """One blob's thumbnail: the job earlier versions queued, still run if it waits in a broker."""
    thumbnails_make([sha256])


@shared_task(name="datasets.thumbnails_backfill")
def thumbnails_backfill() -> int:
    """Queue thumbnails for blobs without one (e.g. uploads whose job was lost with an
    in-memory broker when the process stopped). Sent when the server starts."""
    from annotator.datasets.models import Blob

    missing = list(
        Blob.objects.filter(has_thumbnail=False, mimetype__startswith="image/").values_list("sha256", flat=True)
    )
    for start in range(0, len(missing), BACKFILL_BATCH):
        thumbnails_make.delay(missing[start : start + BACKFILL_BATCH])
    return len(missing)
