"""Upload throughput through the API, and how soon thumbnails follow.

1,000 distinct 640x480 JPEGs are posted as multipart over keep-alive connections by
UPLOADERS client threads against `manage.py serve` on a throwaway VAR_DIR; we report images
per second and the time until every thumbnail exists, as a multiple of the upload time.

Embedded mode (one process, SQLite) unless BENCH_DATABASE_URL (a scratch PostgreSQL
database, migrated and written to) and BENCH_REDIS_URL are set: then the scale-out mode,
with BENCH_WEB_WORKERS server processes (default 2) and one Celery worker process.
"""

import http.client
import io
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

from PIL import Image, ImageDraw

from bench.server import running_server, running_worker

ROOT = Path(__file__).resolve().parent.parent
IMAGES = int(os.environ.get("BENCH_UPLOAD_IMAGES", "1000"))
UPLOADERS = int(os.environ.get("BENCH_UPLOADERS", "4"))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "")
SCALE_OUT = bool(DATABASE_URL and REDIS_URL)
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "2")) if SCALE_OUT else 1
PORT = 8766


def jpeg(seed: int) -> bytes:
    rng = random.Random(seed)
    image = Image.new("RGB", (640, 480), tuple(rng.randint(0, 255) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randint(0, 600), rng.randint(0, 440)
        draw.rectangle(
            (x, y, x + rng.randint(20, 200), y + rng.randint(20, 200)),
            fill=tuple(rng.randint(0, 255) for _ in range(3)),
        )
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def multipart(path: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\nfile\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="path"\r\n\r\n{path}\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.rsplit("/", 1)[-1]}"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode(),
        data,
        f"\r\n--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _refuse_leftovers() -> None:
    """Exit if the scale-out run would start behind earlier work: jobs still queued in the
    broker, or blobs without a thumbnail (the server's start queues them all again). Either
    makes the worker busy with old jobs, and the thumbnails look three times slower."""
    import redis

    from annotator.datasets.models import Blob

    queued = redis.Redis.from_url(REDIS_URL).llen("celery")
    unthumbnailed = Blob.objects.filter(has_thumbnail=False).count()
    if queued or unthumbnailed:
        sys.exit(
            f"upload: {queued} jobs wait in BENCH_REDIS_URL's queue and {unthumbnailed} blobs lack a thumbnail "
            "from earlier runs; give the benchmark a scratch database and Redis database"
        )


def main() -> None:
    with tempfile.TemporaryDirectory() as var_dir:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        env |= {"VAR_DIR": var_dir, "DJANGO_SETTINGS_MODULE": "annotator.settings", "LOG_LEVEL": "WARNING"}
        if SCALE_OUT:
            env |= {"DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL}
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command

        from annotator.accounts import services as accounts
        from annotator.datasets import services as datasets
        from annotator.datasets.models import Blob

        call_command("migrate", verbosity=0)
        if SCALE_OUT:
            _refuse_leftovers()
        user = accounts.user_create(email=f"bench-{uuid.uuid4().hex}@example.com", password="bench-password-1")
        project = accounts.project_create(user=user, name="Bench")
        dataset = datasets.dataset_create(user=user, project_id=project.id, name="Uploads")
        api_key = accounts.api_key_create(user=user, name="bench")[1]
        # Fresh bytes on every run: a database kept between runs already has thumbnails for old ones.
        seed = random.randrange(1 << 40) if SCALE_OUT else 0
        payloads = [multipart(f"/bench/{n:05d}.jpg", jpeg(seed + n)) for n in range(IMAGES)]
        with running_server(PORT, env, workers=WEB_WORKERS), running_worker(env) if SCALE_OUT else nullcontext():
            latencies: list[float] = []
            chunks = [payloads[i::UPLOADERS] for i in range(UPLOADERS)]

            def upload_all(batch):
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
                for body, content_type in batch:
                    started = time.perf_counter()
                    conn.request(
                        "POST",
                        f"/api/v1/datasets/{dataset.id}/items",
                        body=body,
                        headers={"Authorization": f"Bearer {api_key}", "Content-Type": content_type},
                    )
                    response = conn.getresponse()
                    response.read()
                    if response.status not in (200, 201):
                        raise RuntimeError(f"upload failed: {response.status}")
                    latencies.append((time.perf_counter() - started) * 1000)

            load_before = os.getloadavg()
            started = time.perf_counter()
            with ThreadPoolExecutor(UPLOADERS) as pool:
                list(pool.map(upload_all, chunks))
            upload_seconds = time.perf_counter() - started
            while Blob.objects.filter(items__dataset=dataset, has_thumbnail=False).exists():
                time.sleep(0.05)
            thumbnails_seconds = time.perf_counter() - started
    latencies.sort()
    mode = f"scale-out, {WEB_WORKERS} server processes + 1 worker" if SCALE_OUT else "embedded"
    print(
        f"upload: {IMAGES} JPEGs 640x480, {UPLOADERS} client threads, {mode}, cpus={os.cpu_count()}, "
        f"load={load_before[0]:.2f}"
    )
    print(f"  throughput {IMAGES / upload_seconds:.1f} images/s ({upload_seconds:.1f} s)")
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    ratio = thumbnails_seconds / upload_seconds
    print(f"  per upload median {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms")
    print(f"  all thumbnails ready after {thumbnails_seconds:.1f} s = {ratio:.2f}x the upload time")


if __name__ == "__main__":
    main()
