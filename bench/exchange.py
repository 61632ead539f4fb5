"""Export and import throughput and the exporting worker's memory (issue 7).

A dataset of ITEMS items (640x480, link items: no image bytes are involved) with
PER_ITEM annotations each (70% boxes with an attribute, 30% 8-point polygons), then:
(a) export to COCO, ROUNDS times, in this process as the worker runs it (`export_to_path`):
    annotations per second, median and p95 over the rounds;
(b) the export's memory: the process's peak RSS growth during one export (Linux
    /proc/self/clear_refs resets the peak; VmHWM minus VmRSS before), at 1x and, with
    BENCH_EXCHANGE_SCALE=10 (the default is 1, i.e. only 1x), at 10x the items;
(c) import of that COCO file into a second dataset holding the same items (annotations
    matched by filename), IMPORT_ROUNDS times: annotations per second.

Without BENCH_DATABASE_URL it runs on SQLite in a throwaway VAR_DIR; with it, on that
scratch PostgreSQL database (the bench's projects are removed before and after).
"""

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
ITEMS = int(os.environ.get("BENCH_EXCHANGE_ITEMS", "10000"))
PER_ITEM = 10
SCALE = int(os.environ.get("BENCH_EXCHANGE_SCALE", "1"))
FORMAT = os.environ.get("BENCH_EXCHANGE_FORMAT", "coco")
ROUNDS, IMPORT_ROUNDS = 5, 3
LABELS = [f"label-{n}" for n in range(20)]
PROJECT_PREFIX = "Exchange bench "
TARGETS = {
    "export_annotations_per_second": 50_000,
    "export_memory_growth_mb": 150,
    "import_annotations_per_second": 20_000,
}


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS


def cleanup() -> None:
    from annotator.accounts.models import Project, User
    from annotator.annotations.models import Annotation, AnnotationChange

    projects = list(Project.objects.filter(name__startswith=PROJECT_PREFIX).values_list("id", flat=True))
    AnnotationChange.objects.filter(item__dataset__project_id__in=projects).delete()
    Annotation.objects.filter(dataset__project_id__in=projects).delete()
    Project.objects.filter(pk__in=projects).delete()
    User.objects.filter(email__startswith="exchange-bench-").delete()


def _items(dataset, user, count: int, var_dir: str) -> list[str]:
    """`count` link items with a known size, ids in path order."""
    from annotator.datasets.models import Item
    from bench.data import register_manifest, write_manifest

    records = ({"url": f"https://cdn.example.com/img/{n:07d}.jpg", "path": f"/img/{n:07d}.jpg"} for n in range(count))
    manifest = write_manifest(Path(var_dir) / f"{dataset.id}.ndjson", records)
    register_manifest(dataset=dataset, user=user, path=manifest)
    files = Item.objects.filter(dataset=dataset, type="file")
    files.update(metadata={"system": {"width": 640, "height": 480, "mimetype": "image/jpeg"}, "user": {}})
    return list(files.order_by("filename").values_list("id", flat=True))


def _annotate(dataset, user, item_ids: list[str]) -> None:
    """PER_ITEM annotations per item, inserted in bulk (the bench measures exports, not saves)."""
    from django.db import transaction

    from annotator.annotations.models import Annotation
    from annotator.core.ids import new_id

    rng = random.Random(3)
    batch: list[Annotation] = []

    def flush():
        with transaction.atomic():
            Annotation.objects.bulk_create(batch, batch_size=2000)
        batch.clear()

    for item_id in item_ids:
        for n in range(PER_ITEM):
            x, y = rng.uniform(0, 500), rng.uniform(0, 350)
            if n < 7:
                kind = "box"
                coordinates = [{"x": x, "y": y, "z": 0.0}, {"x": x + rng.uniform(5, 130), "y": y + 40, "z": 0.0}]
            else:
                kind = "segment"
                coordinates = [[{"x": x + 10 * k, "y": y + (k % 3) * 9, "z": 0.0} for k in range(8)]]
            batch.append(
                Annotation(
                    id=new_id(),
                    item_id=item_id,
                    dataset_id=dataset.id,
                    type=kind,
                    label=LABELS[rng.randrange(len(LABELS))],
                    coordinates=coordinates,
                    metadata={"system": {"attributes": {"occluded": n % 2 == 0}}, "user": {}},
                    creator=user,
                    updated_by=user,
                )
            )
        if len(batch) >= 20_000:
            flush()
    flush()


def prepare(var_dir: str, run: str, items: int) -> dict:
    from annotator.accounts import services as accounts
    from annotator.datasets import services as datasets
    from annotator.ontologies import services as ontologies
    from annotator.ontologies.models import Recipe

    user = accounts.user_create(email=f"exchange-bench-{run}-{items}@example.com", password="bench-password-1")
    project = accounts.project_create(user=user, name=f"{PROJECT_PREFIX}{run} {items}")
    labels = [{"tag": tag, "color": f"#{(n * 40503) % 0xFFFFFF:06x}"} for n, tag in enumerate(LABELS)]
    made = {}
    for name in ("Source", "Target"):
        dataset = datasets.dataset_create(user=user, project_id=project.id, name=name, labels=labels)
        recipe = Recipe.objects.get(pk=dataset.metadata["system"]["recipes"][0])
        ontologies.ontology_attributes_upsert(
            user=user,
            ontology_id=recipe.ontologies.get().id,
            items=[{"key": "occluded", "title": "Occluded", "type": "boolean", "scope": ["*"]}],
            upsert=True,
        )
        made[name] = (dataset, _items(dataset, user, items, var_dir))
    started = time.perf_counter()
    _annotate(made["Source"][0], user, made["Source"][1])
    return {
        "user": user,
        "source": made["Source"][0],
        "target": made["Target"][0],
        "fill": time.perf_counter() - started,
    }


def export_once(facts: dict, path: Path) -> dict:
    """One export, run in a fresh process as a worker would: its memory growth is then the
    export's own, not hidden by memory this process freed earlier (seeding, other rounds)."""
    from django.db import connection

    connection.close()  # the child opens its own; SQLite must see committed data
    child = subprocess.run(
        [sys.executable, "-m", "bench.exchange", "--export-child", facts["user"].email, facts["source"].id, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode:
        raise RuntimeError(child.stderr[-3000:])
    result = json.loads(child.stdout.strip().splitlines()[-1])
    return {**result, "zip_mb": path.stat().st_size / 2**20}


def export_child(email: str, dataset_id: str, path: str) -> None:
    """In the child: set up, note the memory in use, export, report time and peak growth."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from annotator.accounts.models import User
    from annotator.exchange.exporting import export_to_path
    from annotator.exchange.formats import get_format

    get_format(FORMAT)  # imported before the baseline, like a warm worker
    user = User.objects.get(email=email)
    _reset_peak()
    before = _rss_kb("VmRSS")
    started = time.perf_counter()
    counts = export_to_path(user=user, dataset_id=dataset_id, format_name=FORMAT, path=Path(path))
    seconds = time.perf_counter() - started
    growth = (_rss_kb("VmHWM") - before) / 1024
    annotations = counts["annotationsCount"]
    result = {"seconds": seconds, "annotations": annotations, "per_second": annotations / seconds}
    print(json.dumps({**result, "memory_growth_mb": growth}))


def import_once(facts: dict, path: Path) -> dict:
    from annotator.annotations.models import Annotation, AnnotationChange
    from annotator.datasets.models import Item
    from annotator.exchange.importing import import_from_path

    target = facts["target"]
    AnnotationChange.objects.filter(item__dataset=target).delete()
    Annotation.objects.filter(dataset=target).delete()
    Item.objects.filter(dataset=target).update(annotations_count=0, annotated=False)
    started = time.perf_counter()
    report = import_from_path(
        user=facts["user"], dataset_id=target.id, format_name=FORMAT, path=path, filename=path.name
    )
    seconds = time.perf_counter() - started
    imported = report["annotationsImported"]
    return {"seconds": seconds, "annotations": imported, "per_second": imported / seconds}


def spread(values: list[float]) -> dict:
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered), 1),
        "p95": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1),
        "n": len(ordered),
    }


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    database = "postgresql" if url else "sqlite"
    with tempfile.TemporaryDirectory() as var_dir:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        env |= {"VAR_DIR": var_dir, "DJANGO_SETTINGS_MODULE": "annotator.settings", "LOG_LEVEL": "WARNING"}
        if url:
            env["DATABASE_URL"] = url
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        run = f"{int(time.time())}-{os.getpid()}"
        load_before = os.getloadavg()
        cleanup()
        try:
            facts = prepare(var_dir, run, ITEMS)
            out = Path(var_dir) / f"export-{FORMAT}.zip"
            exports = [export_once(facts, out) for _ in range(ROUNDS)]
            imports = [import_once(facts, out) for _ in range(IMPORT_ROUNDS)] if FORMAT != "masks" else []
            scaled = None
            if SCALE > 1:
                big = prepare(var_dir, run, ITEMS * SCALE)
                scaled = export_once(big, Path(var_dir) / "export-scaled.zip")
        finally:
            cleanup()
        load_after = os.getloadavg()
    results = {
        "export annotations/s": spread([e["per_second"] for e in exports]),
        "export seconds": spread([e["seconds"] for e in exports]),
        "export memory growth MB": spread([e["memory_growth_mb"] for e in exports]),
        "import annotations/s": spread([i["per_second"] for i in imports]) if imports else None,
        f"export at {SCALE}x: memory growth MB": scaled and round(scaled["memory_growth_mb"], 1),
        f"export at {SCALE}x: annotations/s": scaled and round(scaled["per_second"], 1),
    }
    report = {
        "benchmark": "exchange",
        "database": database,
        "format": FORMAT,
        "items": ITEMS,
        "annotations": ITEMS * PER_ITEM,
        "fill_seconds": round(facts["fill"], 1),
        "zip_mb": round(exports[-1]["zip_mb"], 1),
        "machine": {"cpus": os.cpu_count(), "loadavg_before": load_before, "loadavg_after": load_after},
        "targets": TARGETS,
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"exchange-{FORMAT}-{database}.json").write_text(json.dumps(report, indent=2))
    print(
        f"exchange ({FORMAT}) on {database}: {ITEMS:,} items, {ITEMS * PER_ITEM:,} annotations; cpus={os.cpu_count()}, "
        f"load before {load_before[0]:.2f} / after {load_after[0]:.2f} (1-min average)"
    )
    for name, value in results.items():
        if isinstance(value, dict):
            print(f"  {name:<40} median {value['median']:>10,.1f}   p95 {value['p95']:>10,.1f}   (n={value['n']})")
        elif value is not None:
            print(f"  {name:<40} {value:>10,.1f}")
    print("  targets: export >= 50,000 annotations/s, memory growth < 150 MB and flat at 10x, import >= 20,000/s")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--export-child"]:
        export_child(*sys.argv[2:5])
    else:
        main()
