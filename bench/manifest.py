"""Manifest registration rate: 100,000 NDJSON lines turned into items (the Command's work).

Runs in this process on a throwaway database: SQLite under a temporary VAR_DIR, or the
PostgreSQL database named by BENCH_DATABASE_URL (it is migrated and written to; use a
scratch database).
"""

import os
import sys
import tempfile
import time
from pathlib import Path

from bench.data import register_manifest, write_manifest

ROOT = Path(__file__).resolve().parent.parent
LINES = int(os.environ.get("BENCH_MANIFEST_LINES", "100000"))


def main() -> None:
    with tempfile.TemporaryDirectory() as var_dir:
        os.environ.pop("REDIS_URL", None)
        os.environ.pop("DATABASE_URL", None)
        if url := os.environ.get("BENCH_DATABASE_URL"):
            os.environ["DATABASE_URL"] = url
        os.environ |= {"VAR_DIR": var_dir, "DJANGO_SETTINGS_MODULE": "annotator.settings", "LOG_LEVEL": "WARNING"}
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from annotator.accounts import services as accounts
        from annotator.datasets import services as datasets

        call_command("migrate", verbosity=0)
        user = accounts.user_create(email=f"bench-{os.getpid()}@example.com", password="bench-password-1")
        project = accounts.project_create(user=user, name=f"Bench {os.getpid()}")
        dataset = datasets.dataset_create(user=user, project_id=project.id, name="Manifest")
        records = (
            {
                "url": f"https://cdn.example.com/shard{n % 100}/img_{n:07d}.jpg",
                "path": f"/shard{n % 100}/img_{n:07d}.jpg",
                "metadata": {"user": {"n": n, "split": "train"}},
            }
            for n in range(LINES)
        )
        manifest = write_manifest(Path(var_dir) / "manifest.ndjson", records)
        load = os.getloadavg()[0]
        started = time.perf_counter()
        report = register_manifest(dataset=dataset, user=user, path=manifest)
        seconds = time.perf_counter() - started
        assert report["created"] == LINES, report
        print(f"manifest: {LINES} lines on {connection.vendor}, cpus={os.cpu_count()}, load={load:.2f}")
        print(f"  {LINES / seconds:,.0f} items/s ({seconds:.1f} s)")


if __name__ == "__main__":
    main()
