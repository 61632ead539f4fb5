"""Listing a big dataset by DQL: a page of 100 at page 1 and deep in, on PostgreSQL.

Needs BENCH_DATABASE_URL naming a scratch PostgreSQL database (it is migrated and filled
with BENCH_LISTING_ITEMS items, 1,000,000 by default, once; later runs reuse them).
Measured through the HTTP API of `manage.py serve` with a metadata filter and a sort:
- keyset paging as dtlpy does it for id order ({"id": {"$lt": last}} with sort id descending),
- page-number paging (OFFSET) as dtlpy does it for other sorts, at page 1 and page 1,000 (OFFSET
  100,000: it walks every row it skips, so page 10,000 is out of reach of any index).
The sort key is declared to the server as a deployment would (`manage.py items_sort_index
metadata.user.score`); BENCH_LISTING_SORT_INDEX=0 drops that index to measure without it.
"""

import http.client
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.data import register_manifest, write_manifest
from bench.server import running_server

ROOT = Path(__file__).resolve().parent.parent
ITEMS = int(os.environ.get("BENCH_LISTING_ITEMS", "1000000"))
ROUNDS = 30
SORT_INDEX = os.environ.get("BENCH_LISTING_SORT_INDEX", "1") != "0"
PORT = 8767


def fill(var_dir: str) -> tuple[str, str]:
    """(dataset id, api key), creating the dataset on the first run."""
    import django

    django.setup()
    from django.core.management import call_command

    from annotator.accounts import services as accounts
    from annotator.accounts.models import User
    from annotator.datasets import services as datasets
    from annotator.datasets.models import Dataset

    call_command("migrate", verbosity=0)
    user = User.objects.filter(email="listing-bench@example.com").first()
    if user is None:
        user = accounts.user_create(email="listing-bench@example.com", password="bench-password-1")
        project = accounts.project_create(user=user, name="Listing bench")
        dataset = datasets.dataset_create(user=user, project_id=project.id, name="Big")
        records = (
            {
                "url": f"https://cdn.example.com/{n % 1000}/{n:07d}.jpg",
                "path": f"/{n % 1000}/{n:07d}.jpg",
                "metadata": {"user": {"split": "train" if n % 10 else "val", "score": n % 997}},
            }
            for n in range(ITEMS)
        )
        manifest = write_manifest(Path(var_dir) / "big.ndjson", records)
        register_manifest(dataset=dataset, user=user, path=manifest)
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE datasets_item")
    call_command("items_sort_index", "metadata.user.score", drop=not SORT_INDEX, stdout=io.StringIO())
    dataset = Dataset.objects.get(project__memberships__user=user, name="Big")
    return dataset.id, accounts.api_key_create(user=user, name="bench")[1]


def timed(conn, dataset_id, key, body) -> tuple[float, dict]:
    started = time.perf_counter()
    conn.request(
        "POST",
        f"/api/v1/datasets/{dataset_id}/query",
        body=json.dumps(body),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    response = conn.getresponse()
    data = json.loads(response.read())
    if response.status != 200:
        raise RuntimeError(data)
    return (time.perf_counter() - started) * 1000, data


def figures(samples: list[float]) -> str:
    samples = sorted(samples)
    return f"median {statistics.median(samples):7.1f} ms   p95 {samples[int(0.95 * (len(samples) - 1))]:7.1f} ms"


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        print("listing: skipped (set BENCH_DATABASE_URL to a scratch PostgreSQL database)")
        return
    with tempfile.TemporaryDirectory() as var_dir:
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env |= {
            "VAR_DIR": var_dir,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "annotator.settings",
            "LOG_LEVEL": "WARNING",
        }
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        dataset_id, key = fill(var_dir)
        with running_server(PORT, env):
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
            base = {"resource": "items", "pageSize": 100}
            keyset_filter = [{"hidden": False}, {"type": "file"}, {"metadata.user.split": "train"}]
            keyset_first = {**base, "filter": {"$and": keyset_filter}, "sort": {"id": "descending"}, "page": 0}
            # The cursor dtlpy would hold ~10,000 pages deep: read it from the database once.
            from annotator.datasets.models import Item

            deep_id = (
                Item.objects.filter(dataset_id=dataset_id, type="file", metadata__user__split="train")
                .order_by("-id")
                .values_list("id", flat=True)[min(999_900, ITEMS * 9 // 10 - 200)]
            )
            keyset_deep = {**keyset_first, "filter": {"$and": [*keyset_filter, {"id": {"$lt": deep_id}}]}}
            sorted_query = {**base, "filter": {"$and": keyset_filter}, "sort": {"metadata.user.score": "descending"}}
            cases = {
                "keyset, page 1": keyset_first,
                "keyset, ~page 10,000": keyset_deep,
                "offset sort by metadata, page 1": {**sorted_query, "page": 0},
                "offset sort by metadata, page 1,000": {**sorted_query, "page": 1000},
            }
            load = os.getloadavg()[0]
            print(f"listing: {ITEMS:,} items on PostgreSQL, pageSize 100, {ROUNDS} rounds,", end=" ")
            print(f"cpus={os.cpu_count()}, load={load:.2f}, sort index {'on' if SORT_INDEX else 'off'}")
            for name, body in cases.items():
                timed(conn, dataset_id, key, body)  # warm
                samples = [timed(conn, dataset_id, key, body)[0] for _ in range(ROUNDS)]
                print(f"  {name:<38} {figures(samples)}")


if __name__ == "__main__":
    main()
