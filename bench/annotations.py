"""Annotation saves, listing and DQL against a real server (`manage.py serve`, uvicorn).

Measured over HTTP, each client on its own keep-alive connection:
(a) save latency: sequential `POST /items/{id}/annotations/batch` with `{"create": [10 boxes]}`,
    the studio's batch save; median and p95;
(b) concurrent saves: CLIENTS threads, each saving such batches on its own items for
    CONCURRENT_SECONDS; batch saves per second (the client threads share the machine's CPUs);
(c) listing an item with 2,000 annotations (1,000 boxes, 1,000 8-point polygons):
    `GET /items/{id}/annotations`, and the DQL pages dtlpy's `item.annotations.list()` reads;
(d) PostgreSQL only: annotation DQL on a dataset of 1,000,000 annotations (10,000 items,
    20 labels): a label filter sorted by id, page 1 and a keyset page deep in.

Without BENCH_DATABASE_URL it runs (a)-(c) on SQLite in a throwaway VAR_DIR. With
BENCH_DATABASE_URL naming a scratch PostgreSQL database it runs (a)-(d) there; the million
annotations are filled once (COPY) and reused on later runs, the rest is removed afterwards.
BENCH_WORKERS=n (default 1) serves with n processes, which needs the scale-out mode: REDIS_URL.
"""

import http.client
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.data import register_manifest, write_manifest
from bench.server import machine_speed_ms, running_server

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PORT = 8768
WORKERS = int(os.environ.get("BENCH_WORKERS", "1"))
LABELS = [f"label-{n}" for n in range(20)]
SAVE_ROUNDS, SAVE_WARMUP = 300, 20
CLIENTS = int(os.environ.get("BENCH_ANNOTATION_CLIENTS", "8"))
CONCURRENT_SECONDS = float(os.environ.get("BENCH_ANNOTATION_SECONDS", "10"))
ITEMS_PER_CLIENT = 25
LISTED = 2000
LIST_ROUNDS, LIST_WARMUP = 50, 5
DQL_ANNOTATIONS = int(os.environ.get("BENCH_DQL_ANNOTATIONS", "1000000"))
DQL_ITEMS = int(os.environ.get("BENCH_DQL_ITEMS", "10000"))
DQL_ROUNDS, DQL_WARMUP = 50, 5
DQL_EMAIL = "annotation-dql-bench@example.com"
TARGETS = {"save_median_ms": 15.0, "saves_per_second": 300.0, "list_2000_ms": 100.0, "dql_page_ms": 100.0}


# --- data ---------------------------------------------------------------------------------------------
def _link_items(dataset, user, count: int, prefix: str, var_dir: str) -> list[str]:
    """`count` link items (registered as a manifest is, COPY on PostgreSQL); their ids in order."""
    from annotator.datasets.models import Item

    records = (
        {"url": f"https://cdn.example.com{prefix}/{n:06d}.jpg", "path": f"{prefix}/{n:06d}.jpg"} for n in range(count)
    )
    manifest = Path(var_dir) / f"{prefix.strip('/').replace('/', '-')}.ndjson"
    register_manifest(dataset=dataset, user=user, path=write_manifest(manifest, records))
    return list(
        Item.objects.filter(dataset=dataset, type="file", filename__startswith=f"{prefix}/")
        .order_by("filename")
        .values_list("id", flat=True)
    )


def box(rng: random.Random) -> dict:
    left, top = rng.uniform(0, 600), rng.uniform(0, 440)
    return {
        "type": "box",
        "label": rng.choice(LABELS),
        "coordinates": [
            {"x": round(left, 2), "y": round(top, 2), "z": 0},
            {"x": round(left + rng.uniform(5, 40), 2), "y": round(top + rng.uniform(5, 40), 2), "z": 0},
        ],
        "metadata": {"system": {"attributes": {}}},
    }


def polygon(rng: random.Random) -> dict:
    import math

    cx, cy, r = rng.uniform(50, 590), rng.uniform(50, 430), rng.uniform(5, 40)
    ring = [
        {"x": round(cx + r * math.cos(k * math.pi / 4), 2), "y": round(cy + r * math.sin(k * math.pi / 4), 2)}
        for k in range(8)
    ]
    return {"type": "segment", "label": rng.choice(LABELS), "coordinates": [ring], "metadata": {"system": {}}}


def prepare_saves(var_dir: str, run: str) -> dict:
    """A user, a project and a dataset (recipe with LABELS) for (a)-(c), with its items."""
    from annotator.accounts import services as accounts
    from annotator.annotations import services as annotations
    from annotator.datasets import services as datasets

    user = accounts.user_create(email=f"annotation-bench-{run}@example.com", password="bench-password-1")
    project = accounts.project_create(user=user, name=f"Annotation bench {run}")
    labels = [{"tag": tag, "color": f"#{(n * 40503) % 0xFFFFFF:06x}"} for n, tag in enumerate(LABELS)]
    dataset = datasets.dataset_create(user=user, project_id=project.id, name="Saves", labels=labels)
    sequential = _link_items(dataset, user, 10, "/sequential", var_dir)
    concurrent = _link_items(dataset, user, CLIENTS * ITEMS_PER_CLIENT, "/concurrent", var_dir)
    (listed,) = _link_items(dataset, user, 1, "/listed", var_dir)
    rng = random.Random(7)
    for half in (box, polygon):
        annotations.annotations_create(user=user, item_id=listed, annotations=[half(rng) for _ in range(LISTED // 2)])
    return {
        "user_id": user.id,
        "project_id": project.id,
        "key": accounts.api_key_create(user=user, name="bench")[1],
        "dataset": dataset.id,
        "sequential": sequential,
        "concurrent": concurrent,
        "listed": listed,
    }


def cleanup_saves() -> None:
    """Remove (a)-(c)'s data, also an interrupted run's, from a reused database (PostgreSQL);
    the 1M dataset stays."""
    from annotator.accounts.models import Project, User
    from annotator.annotations.models import Annotation, AnnotationChange

    projects = list(Project.objects.filter(name__startswith="Annotation bench ").values_list("id", flat=True))
    Annotation.objects.filter(dataset__project_id__in=projects).delete()
    AnnotationChange.objects.filter(item__dataset__project_id__in=projects).delete()
    Project.objects.filter(pk__in=projects).delete()
    User.objects.filter(email__startswith="annotation-bench-", email__endswith="@example.com").delete()


def prepare_dql(var_dir: str) -> dict:
    """The 1M-annotation dataset, filled on the first run with COPY; reused afterwards."""
    from django.db import connection, transaction

    from annotator.accounts import services as accounts
    from annotator.accounts.models import User
    from annotator.annotations.models import Annotation
    from annotator.datasets import services as datasets
    from annotator.datasets.models import Dataset, Item

    user = User.objects.filter(email=DQL_EMAIL).first()
    if user is None:
        user = accounts.user_create(email=DQL_EMAIL, password="bench-password-1")
        project = accounts.project_create(user=user, name="Annotation DQL bench")
        labels = [{"tag": tag, "color": f"#{(n * 40503) % 0xFFFFFF:06x}"} for n, tag in enumerate(LABELS)]
        datasets.dataset_create(user=user, project_id=project.id, name="Annotations 1M", labels=labels)
    dataset = Dataset.objects.get(project__memberships__user=user, name="Annotations 1M")
    filled = Annotation.objects.filter(dataset=dataset).count()
    fill_seconds = None
    if filled != DQL_ANNOTATIONS:
        started = time.perf_counter()
        Annotation.objects.filter(dataset=dataset).delete()
        items = list(Item.objects.filter(dataset=dataset, type="file").order_by("id").values_list("id", flat=True))
        if len(items) < DQL_ITEMS:
            items = _link_items(dataset, user, DQL_ITEMS, "/dql", var_dir)
        with transaction.atomic():
            _copy_annotations(dataset.id, items[:DQL_ITEMS], user.id)
            per_item = DQL_ANNOTATIONS // DQL_ITEMS
            Item.objects.filter(pk__in=items[:DQL_ITEMS]).update(annotations_count=per_item, annotated=True)
            Dataset.objects.filter(pk=dataset.id).update(annotated_count=DQL_ITEMS)
        fill_seconds = time.perf_counter() - started
    # Every run starts from a freshly vacuumed table, as autovacuum leaves it, so that runs
    # compare. The visibility map matters: without it (after a bulk load, or churn that has not
    # reached autovacuum's threshold) counting a filter's matches visits the heap row by row.
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {Annotation._meta.db_table}")
        cursor.execute(f"VACUUM (ANALYZE) {Item._meta.db_table}")
    label_7 = Annotation.objects.filter(dataset=dataset, label="label-7").order_by("id")
    matches = label_7.count()
    deep_id = label_7.values_list("id", flat=True)[matches * 9 // 10]
    return {
        "key": accounts.api_key_create(user=user, name="bench")[1],
        "dataset": dataset.id,
        "label_7": matches,
        "deep_position": matches * 9 // 10,
        "deep_id": deep_id,
        "fill_seconds": fill_seconds,
    }


def _copy_annotations(dataset_id: str, items: list[str], user_id: int) -> None:
    """DQL_ANNOTATIONS rows spread evenly over `items` (contiguous per item, ids ascending),
    label n % 20 and, independently of it, 70% boxes, 20% 8-point polygons, 10% points."""
    from django.db import connection
    from django.utils import timezone

    from annotator.annotations.models import Annotation
    from annotator.core.ids import new_id

    fields = [
        "id",
        "item",
        "dataset",
        "type",
        "label",
        "coordinates",
        "metadata",
        "description",
        "version",
        "creator",
        "updated_by",
        "created_at",
        "updated_at",
    ]
    columns = ", ".join(Annotation._meta.get_field(name).column for name in fields)
    box_json = json.dumps([{"x": 10.0, "y": 20.0, "z": 0.0}, {"x": 50.0, "y": 60.0, "z": 0.0}])
    ring = [{"x": 10.0 + k, "y": 20.0 + (k % 3), "z": 0.0} for k in range(8)]
    polygon_json = json.dumps([ring])
    point_json = json.dumps({"x": 5.0, "y": 6.0, "z": 0.0})
    metadata = json.dumps({"system": {"attributes": {}}, "user": {}})
    now = timezone.now()
    per_item = DQL_ANNOTATIONS // len(items)
    sql = f"COPY {Annotation._meta.db_table} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:  # psycopg 3
        n = 0
        for item_id in items:
            for _ in range(per_item):
                shape = (n // len(LABELS)) % 10  # independent of the label
                kind, coordinates = (
                    ("box", box_json)
                    if shape < 7
                    else ("segment", polygon_json)
                    if shape < 9
                    else ("point", point_json)
                )
                label = LABELS[n % len(LABELS)]
                copy.write_row(
                    (
                        new_id(),
                        item_id,
                        dataset_id,
                        kind,
                        label,
                        coordinates,
                        metadata,
                        None,
                        1,
                        user_id,
                        user_id,
                        now,
                        now,
                    )
                )
                n += 1


# --- measuring -------------------------------------------------------------------------------------------
def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def figures(samples: list[float]) -> dict:
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(percentile(samples, 0.95), 2),
        "n": len(samples),
    }


def call(conn: http.client.HTTPConnection, method: str, path: str, key: str, body: bytes | None = None):
    """(milliseconds, status, body bytes) of one request."""
    headers = {"Authorization": f"Bearer {key}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    return (time.perf_counter() - started) * 1000, response.status, data


def checked(result, expected: int = 200):
    elapsed, status, data = result
    if status != expected:
        raise RuntimeError(f"HTTP {status}: {data[:500]!r}")
    return elapsed, data


def save_body(rng: random.Random) -> bytes:
    return json.dumps({"create": [box(rng) for _ in range(10)]}).encode()


def sequential_saves(key: str, items: list[str]) -> dict:
    rng = random.Random(1)
    bodies = [save_body(rng) for _ in range(SAVE_WARMUP + SAVE_ROUNDS)]
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    samples = []
    for n, body in enumerate(bodies):
        elapsed, data = checked(
            call(conn, "POST", f"/api/v1/items/{items[n % len(items)]}/annotations/batch", key, body)
        )
        if n == 0 and len(json.loads(data)["created"]) != 10:
            raise RuntimeError("a batch save did not create 10 annotations")
        if n >= SAVE_WARMUP:
            samples.append(elapsed)
    return figures(samples)


def concurrent_saves(key: str, items: list[str]) -> dict:
    """CLIENTS threads, each on its own connection and its own ITEMS_PER_CLIENT items."""
    bodies = [save_body(random.Random(n)) for n in range(64)]
    latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    failures: list[list[str]] = [[] for _ in range(CLIENTS)]
    start = threading.Barrier(CLIENTS + 1)
    stop = threading.Event()

    def client(index: int) -> None:
        mine = items[index * ITEMS_PER_CLIENT : (index + 1) * ITEMS_PER_CLIENT]
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        call(conn, "GET", "/api/v1/users/me", key)  # connect before the clock starts
        start.wait()
        n = 0
        while not stop.is_set():
            path = f"/api/v1/items/{mine[n % len(mine)]}/annotations/batch"
            elapsed, status, data = call(conn, "POST", path, key, bodies[(index * 7 + n) % len(bodies)])
            if status == 200:
                latencies[index].append(elapsed)
            else:
                failures[index].append(f"{status} {data[:200]!r}")
            n += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    start.wait()
    started = time.perf_counter()
    time.sleep(CONCURRENT_SECONDS)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started  # includes each client's last request
    done = [x for per_client in latencies for x in per_client]
    errors = [x for per_client in failures for x in per_client]
    return {
        "clients": CLIENTS,
        "seconds": round(elapsed, 2),
        "saves": len(done),
        "saves_per_second": round(len(done) / elapsed, 1),
        "errors": len(errors),
        "first_errors": errors[:3],
        **figures(done),
    }


def repeated(conn, method: str, path: str, key: str, body: bytes | None, rounds: int, warmup: int, check=None):
    samples = []
    for n in range(warmup + rounds):
        elapsed, data = checked(call(conn, method, path, key, body))
        if n == 0 and check is not None:
            check(json.loads(data), len(data))
        if n >= warmup:
            samples.append(elapsed)
    return figures(samples)


def listing(key: str, dataset_id: str, item_id: str) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    size = {}

    def check(data, length):
        if len(data) != LISTED:
            raise RuntimeError(f"listed {len(data)} annotations, not {LISTED}")
        size["bytes"] = length

    results = {
        "GET /items/{id}/annotations": repeated(
            conn, "GET", f"/api/v1/items/{item_id}/annotations", key, None, LIST_ROUNDS, LIST_WARMUP, check
        )
    }
    results["GET /items/{id}/annotations"]["response_bytes"] = size["bytes"]
    # dtlpy's item.annotations.list(): DQL pages of 1000 by keyset, all types but notes.
    types = ["box", "class", "ellipse", "point", "segment", "polyline", "binary"]
    first = {
        "resource": "annotations",
        "filter": {"$and": [{"type": {"$in": types}}, {"itemId": item_id}]},
        "sort": {"id": "ascending"},
        "page": 0,
        "pageSize": 1000,
    }

    def both_pages() -> float:
        path = f"/api/v1/datasets/{dataset_id}/query"
        took, data = checked(call(conn, "POST", path, key, json.dumps(first).encode()))
        page = json.loads(data)
        last = page["items"][-1]["id"]
        second = {**first, "filter": {"$and": [*first["filter"]["$and"], {"id": {"$gt": last}}]}}
        took2, data2 = checked(call(conn, "POST", path, key, json.dumps(second).encode()))
        if len(page["items"]) + len(json.loads(data2)["items"]) != LISTED:
            raise RuntimeError("the DQL pages did not hold every annotation")
        return took + took2

    samples = [both_pages() for _ in range(LIST_WARMUP + LIST_ROUNDS)][LIST_WARMUP:]
    results["dtlpy item.annotations.list() (2 DQL pages)"] = figures(samples)
    return results


def dql(key: str, facts: dict) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
    path = f"/api/v1/datasets/{facts['dataset']}/query"
    base = {"resource": "annotations", "sort": {"id": "ascending"}, "page": 0, "pageSize": 100}
    page_1 = {**base, "filter": {"$and": [{"label": "label-7"}]}}
    deep = {**base, "filter": {"$and": [{"label": "label-7"}, {"id": {"$gt": facts["deep_id"]}}]}}
    sdk_types = ["box", "cube", "cube_3d", "class", "comparison", "ellipse", "point", "segment", "polyline", "pose"]
    sdk_types += ["binary", "subtitle", "text_mark", "gis", "ref_semantic_3d", "polyline_3d", "text", "ref_image"]
    as_dtlpy = {**base, "filter": {"$and": [{"type": {"$in": sdk_types}}, {"label": "label-7"}]}}

    def check_page(expected_total):
        def check(data, _length):
            if len(data["items"]) != 100 or data["totalItemsCount"] != expected_total:
                raise RuntimeError(f"unexpected page: {len(data['items'])} items of {data['totalItemsCount']}")
            if {a["label"] for a in data["items"]} != {"label-7"}:
                raise RuntimeError("the label filter let other labels through")

        return check

    total, deep_total = facts["label_7"], facts["label_7"] - facts["deep_position"] - 1
    return {
        "label filter, page 1": repeated(
            conn, "POST", path, key, json.dumps(page_1).encode(), DQL_ROUNDS, DQL_WARMUP, check_page(total)
        ),
        f"label filter, keyset {facts['deep_position']:,} deep": repeated(
            conn, "POST", path, key, json.dumps(deep).encode(), DQL_ROUNDS, DQL_WARMUP, check_page(deep_total)
        ),
        "label filter as dtlpy sends it (+ type $in), page 1": repeated(
            conn, "POST", path, key, json.dumps(as_dtlpy).encode(), DQL_ROUNDS, DQL_WARMUP, check_page(total)
        ),
    }


# --- the run ----------------------------------------------------------------------------------------------
def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    database = "postgresql" if url else "sqlite"
    if WORKERS > 1 and not os.environ.get("REDIS_URL"):
        sys.exit("annotations: BENCH_WORKERS > 1 needs REDIS_URL (several server processes are the scale-out mode)")
    with tempfile.TemporaryDirectory() as var_dir:
        dropped = {"DATABASE_URL"} if WORKERS > 1 else {"DATABASE_URL", "REDIS_URL"}
        env = {k: v for k, v in os.environ.items() if k not in dropped}
        env |= {"VAR_DIR": var_dir, "DJANGO_SETTINGS_MODULE": "annotator.settings", "LOG_LEVEL": "WARNING"}
        if url:
            env["DATABASE_URL"] = url
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        run = f"{int(time.time())}-{os.getpid()}"
        if url:
            cleanup_saves()
        saves = prepare_saves(var_dir, run)
        dql_facts = prepare_dql(var_dir) if url else None
        connection.close()
        try:
            with running_server(PORT, env, workers=WORKERS):
                load_before, speed_before = os.getloadavg(), machine_speed_ms()
                results = {
                    "save batch of 10 boxes, sequential": sequential_saves(saves["key"], saves["sequential"]),
                    f"{CLIENTS} concurrent clients saving batches": concurrent_saves(saves["key"], saves["concurrent"]),
                    **{
                        f"{LISTED} annotations: {name}": value
                        for name, value in listing(saves["key"], saves["dataset"], saves["listed"]).items()
                    },
                }
                if dql_facts:
                    for name, value in dql(dql_facts["key"], dql_facts).items():
                        results[f"{DQL_ANNOTATIONS:,} annotations: {name}"] = value
                load_after, speed_after = os.getloadavg(), machine_speed_ms()
        finally:
            if url:
                cleanup_saves()
                connection.close()
    report = {
        "benchmark": "annotations",
        "database": database,
        "server_processes": WORKERS,
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_before": load_before,
            "loadavg_after": load_after,
            "speed_ms_before": speed_before,
            "speed_ms_after": speed_after,
        },
        "targets": TARGETS,
        "dql_fill_seconds": dql_facts and dql_facts["fill_seconds"],
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = f"-{WORKERS}-workers" if WORKERS > 1 else ""
    (RESULTS / f"annotations-{database}{suffix}.json").write_text(json.dumps(report, indent=2))
    print(
        f"annotations on {database}, {WORKERS} server process(es): cpus={os.cpu_count()}, "
        f"load before {load_before[0]:.2f} / after {load_after[0]:.2f} (1-min average), "
        f"speed reference {speed_before} / {speed_after} ms (bench/server.py machine_speed_ms; lower is faster)"
    )
    if dql_facts and dql_facts["fill_seconds"] is not None:
        print(f"  filled {DQL_ANNOTATIONS:,} annotations on {DQL_ITEMS:,} items in {dql_facts['fill_seconds']:.0f} s")
    for name, value in results.items():
        line = f"  {name:<62} median {value['median_ms']:>8.2f} ms   p95 {value['p95_ms']:>8.2f} ms"
        if "saves_per_second" in value:
            line += f"   {value['saves_per_second']:.1f} saves/s ({value['saves']} in {value['seconds']} s"
            line += f", {value['errors']} errors)"
        print(line)
    if not url:
        print("  (1M-annotation DQL skipped: set BENCH_DATABASE_URL to a scratch PostgreSQL database)")
    print(
        "  targets: save median <= 15 ms, >= 300 concurrent saves/s, 2,000-annotation list < 100 ms, "
        "1M DQL page < 100 ms"
    )


if __name__ == "__main__":
    main()
