"""The sustained load test: annotators, reviewers and a manager against a real deployment.

`python -m bench.load.run` (or `make load`) on this machine, aimed at 127.0.0.1 only:

1. empties the PostgreSQL database LOAD_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/load:
   its public schema is dropped and migrated afresh) and seeds it: a project, a dataset of
   LOAD_ITEMS manifest items, LOAD_ANNOTATORS annotators, LOAD_REVIEWERS reviewers and a
   manager, each with an API key;
2. starts LOAD_WEB_WORKERS server processes (`manage.py serve`; by default one per core, as a
   deployment on this machine would run them: one process is one core, the GIL) and a Celery
   worker process, on PostgreSQL and LOAD_REDIS_URL (default redis://127.0.0.1:6379/10);
   creates, over the API, a pulling annotation task over every item and a QA task on it
   shared by the reviewers;
3. runs locust headless for LOAD_SECONDS (default 300) with bench/load/locustfile.py, sampling the
   server's and the worker's memory (RSS of each process tree) every LOAD_SAMPLE_SECONDS;
4. checks what the clients did against the database and prints the figures with MET / NOT MET
   per target (it reports; it does not fail on a missed target). The JSON goes to
   bench/results/load.json.

Memory is judged flat when the least-squares slope of the server's RSS after a warm-up (the
first fifth of the run, at most a minute) is under FLAT_MB_PER_MINUTE.
"""

import contextlib
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from bench.annotations import LABELS
from bench.data import register_manifest, write_manifest
from bench.server import deployment_env, running_server, running_worker
from bench.tasks import ALL_FILES, load, task_create

ROOT = Path(__file__).resolve().parent.parent.parent
RESULTS = ROOT / "bench" / "results"
PORT = 8772
DATABASE_URL = os.environ.get("LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/load")
REDIS_URL = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/10")
SECONDS = int(os.environ.get("LOAD_SECONDS", "300"))
WEB_WORKERS = int(os.environ.get("LOAD_WEB_WORKERS", str(os.cpu_count() or 1)))
ITEMS = int(os.environ.get("LOAD_ITEMS", "6000"))
ANNOTATORS = int(os.environ.get("LOAD_ANNOTATORS", "50"))
REVIEWERS = int(os.environ.get("LOAD_REVIEWERS", "5"))
SAMPLE_SECONDS = float(os.environ.get("LOAD_SAMPLE_SECONDS", "5"))
P95_TARGET_MS = 200.0
FLAT_MB_PER_MINUTE = 2.0
PASSWORD = "load-bench-password-1"


def person(role: str, n: int) -> str:
    return f"load-{role}-{n:03d}@example.com"


# --- the deployment ------------------------------------------------------------------------------------------
def fresh_database() -> None:
    """Drop every table of the `load` database and migrate: each run starts from nothing."""
    from django.core.management import call_command
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0)


def seed(var_dir: str) -> dict:
    from annotator.accounts import services as accounts
    from annotator.accounts.models import Membership, User
    from annotator.datasets import services as datasets

    owner = accounts.user_create(email="load-owner@example.com", password=PASSWORD)
    project = accounts.project_create(user=owner, name="Load test")
    dataset = datasets.dataset_create(
        user=owner, project_id=project.id, name="Load", labels=[{"tag": label} for label in LABELS]
    )
    records = (
        {"url": f"https://cdn.example.com/load/{n:06d}.jpg", "path": f"/{n // 1000:03d}/{n:06d}.jpg"}
        for n in range(ITEMS)
    )
    register_manifest(dataset=dataset, user=owner, path=write_manifest(Path(var_dir) / "load.ndjson", records))
    manager = accounts.user_create(email="load-manager@example.com", password=PASSWORD)
    people = {
        "annotators": [person("annotator", n) for n in range(ANNOTATORS)],
        "reviewers": [person("reviewer", n) for n in range(REVIEWERS)],
    }
    roles = {"annotators": "annotator", "reviewers": "reviewer"}
    facts: dict = {"project": project.id, "dataset": dataset.id}
    Membership.objects.create(project=project, user=manager, role="annotationManager")
    for group, emails in people.items():
        users = [User(email=email) for email in emails]
        for user in users:
            user.set_unusable_password()
        User.objects.bulk_create(users)
        Membership.objects.bulk_create([Membership(project=project, user=u, role=roles[group]) for u in users])
        facts[group] = [
            {"email": u.email, "key": accounts.api_key_create(user=u, name="load")[1]}
            for u in User.objects.filter(email__in=emails).order_by("email")
        ]
    facts["owner_key"] = accounts.api_key_create(user=owner, name="load")[1]
    facts["manager"] = {"email": manager.email, "password": PASSWORD}
    return facts


def create_tasks(facts: dict) -> None:
    """A pulling annotation task over every item (one at a time) and a QA task on it for the reviewers."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
    key = facts["owner_key"]
    facts["annotation_task"], _ = task_create(
        conn,
        key,
        {
            "name": "Annotate",
            "datasetId": facts["dataset"],
            "projectId": facts["project"],
            "query": ALL_FILES,
            "metadata": {
                "system": {
                    "batchSize": 1,
                    "maxBatchWorkload": 1,
                    "allowedAssignees": [a["email"] for a in facts["annotators"]],
                }
            },
        },
    )
    facts["qa_task"], _ = task_create(
        conn,
        key,
        {
            "name": "Review",
            "datasetId": facts["dataset"],
            "projectId": facts["project"],
            "query": ALL_FILES,
            "spec": {"type": "qa", "parentTaskId": facts["annotation_task"]},
            "workload": [{"assigneeId": r["email"], "load": 100 / REVIEWERS} for r in facts["reviewers"]],
        },
    )


# --- memory ----------------------------------------------------------------------------------------------------
class MemorySampler(threading.Thread):
    """RSS (MB) of each named process and its children, every SAMPLE_SECONDS, until stopped."""

    def __init__(self, processes: dict[str, int]):
        super().__init__(daemon=True)
        self.processes = processes
        self.samples: list[dict] = []
        self.stopped = threading.Event()
        self.began = time.monotonic()

    @staticmethod
    def tree_usage(pid: int) -> tuple[float, float]:
        """(RSS in MB, CPU seconds so far) of a process and its children."""
        try:
            root = psutil.Process(pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0, 0.0
        rss, cpu = 0, 0.0
        for process in tree:
            with contextlib.suppress(psutil.NoSuchProcess):  # a child that ended meanwhile
                rss += process.memory_info().rss
                times = process.cpu_times()
                cpu += times.user + times.system
        return rss / 2**20, cpu

    def run(self) -> None:
        while True:
            sample: dict = {"t": round(time.monotonic() - self.began, 1)}
            for name, pid in self.processes.items():
                rss, cpu = self.tree_usage(pid)
                sample |= {name: round(rss, 1), f"{name}_cpu_seconds": round(cpu, 2)}
            self.samples.append(sample)
            if self.stopped.wait(SAMPLE_SECONDS):
                return


def memory_figures(samples: list[dict], name: str) -> dict:
    warm_up = min(60.0, SECONDS / 5)
    steady = [(s["t"], s[name]) for s in samples if s["t"] >= warm_up]
    slope = 0.0
    if len(steady) >= 2:
        mean_t = statistics.fmean(t for t, _ in steady)
        mean_mb = statistics.fmean(mb for _, mb in steady)
        spread = sum((t - mean_t) ** 2 for t, _ in steady)
        slope = sum((t - mean_t) * (mb - mean_mb) for t, mb in steady) / spread * 60 if spread else 0.0
    return {
        "start_mb": samples[0][name],
        "middle_mb": samples[len(samples) // 2][name],
        "end_mb": samples[-1][name],
        "max_mb": max(s[name] for s in samples),
        "slope_mb_per_minute": round(slope, 2),
        "warm_up_seconds": warm_up,
        "flat": abs(slope) < FLAT_MB_PER_MINUTE,
        "cpu_seconds": round(samples[-1][f"{name}_cpu_seconds"] - samples[0][f"{name}_cpu_seconds"], 1),
    }


# --- the database check -------------------------------------------------------------------------------------------
def database_check(facts: dict, record: dict) -> dict:
    from django.db.models import Count

    from annotator.annotations.models import Annotation
    from annotator.tasks.models import TaskItem, TaskItemStatusChange

    rows = TaskItem.objects.filter(task_id=facts["annotation_task"])
    holder = dict(rows.filter(assignment__isnull=False).values_list("item_id", "assignment__annotator__email"))
    pullers: dict[str, set] = {}
    for email, item_id in record["pulled"]:
        pullers.setdefault(item_id, set()).add(email)
    completers = (
        TaskItemStatusChange.objects.filter(task_item__task_id=facts["annotation_task"], status="completed")
        .values("task_item__item_id")
        .annotate(people=Count("actor", distinct=True))
    )
    created = {annotation_id for _email, annotation_id in record["created"]}
    marks = dict(
        Annotation.objects.filter(item__dataset_id=facts["dataset"])
        .exclude(type="note")
        .values_list("id", "metadata__user__loadMark")
    )
    stored = set(marks)
    sent = set(record["sent"])
    answered = {marks[annotation_id] for annotation_id in created & stored}
    stored_marks = list(marks.values())
    completed_in_db = set(rows.filter(status="completed").values_list("item_id", flat=True))
    reopened = set(rows.filter(reopened_at__isnull=False).values_list("item_id", flat=True))
    completed_by_clients = {item_id for _email, item_id in record["completed"]}
    qa_items = set(TaskItem.objects.filter(task_id=facts["qa_task"]).values_list("item_id", flat=True))
    counts = {
        "completed": len(completed_in_db),
        "held_open": rows.filter(assignment__isnull=False, status__isnull=True).count(),
        "queued": rows.filter(assignment__isnull=True, status__isnull=True).count(),
    }
    return {
        "items_pulled": len(pullers),
        "pulled_by_two_annotators": sum(1 for people in pullers.values() if len(people) > 1),
        "pulled_but_held_by_another": sum(
            1 for item_id, people in pullers.items() if item_id in holder and holder[item_id] not in people
        ),
        "completed_by_two_people": sum(1 for row in completers if row["people"] > 1),
        "saves_by_clients": len(record["created"]),
        "annotations_in_db": len(stored),
        "saves_missing_in_db": len(created - stored),
        "saves_stored_twice": len(stored_marks) - len(set(stored_marks)),
        "annotations_no_client_sent": sum(1 for mark in stored_marks if mark not in sent),
        # Sent, stored, but the answer never reached the client: in flight when the run stopped.
        "saves_in_flight_at_stop": len((set(stored_marks) & sent) - answered),
        "task_items": rows.count(),
        **counts,
        "lost_from_queue": ITEMS - sum(counts.values()),
        "completions_lost": len(completed_by_clients - completed_in_db - reopened),
        "completed_missing_from_qa": len(completed_in_db - qa_items),
        "approved": len(record["approved"]),
        "issues": len(record["issues"]),
    }


# --- the run ------------------------------------------------------------------------------------------------------
def run_locust(env: dict, facts_path: Path, record_path: Path) -> None:
    users = ANNOTATORS + REVIEWERS + 1
    subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(Path(__file__).with_name("locustfile.py")),
            "--headless",
            "--host",
            f"http://127.0.0.1:{PORT}",
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{SECONDS}s",
            "--stop-timeout",
            "60",  # people finish the item in hand, so the database check sees settled work
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env={**env, "LOAD_FACTS": str(facts_path), "LOAD_RECORD": str(record_path), "PYTHONPATH": str(ROOT)},
        check=False,  # locust exits 1 when any request failed: the report says so
    )


def main() -> None:
    run = f"{int(time.time())}-{os.getpid()}"
    report: dict = {"benchmark": "load", "seconds": SECONDS, "cpus": os.cpu_count(), "web_workers": WEB_WORKERS}
    with tempfile.TemporaryDirectory() as var_dir:
        env = deployment_env(var_dir, DATABASE_URL)
        os.environ.update(env)  # this process: seeding and the checks, on PostgreSQL without Redis
        env |= {"REDIS_URL": REDIS_URL, "CHANNELS_PREFIX": f"bench-load-{run}", "CELERY_WORKER_EMBEDDED": "0"}
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.db import connection

        started = time.perf_counter()
        fresh_database()
        facts = seed(var_dir)
        connection.close()
        print(
            f"load: {ANNOTATORS} annotators, {REVIEWERS} reviewers, 1 manager for {SECONDS} s, "
            f"{WEB_WORKERS} server process(es) + a worker, {ITEMS:,} items "
            f"(seeded in {time.perf_counter() - started:.1f} s)"
        )
        facts_path, record_path = Path(var_dir) / "facts.json", Path(var_dir) / "record.json"
        with running_server(PORT, env, timeout=60, workers=WEB_WORKERS) as server, running_worker(env) as worker:
            create_tasks(facts)
            facts_path.write_text(json.dumps(facts))
            sampler = MemorySampler({"server": server.pid, "worker": worker.pid})
            report["load before"] = load()
            sampler.start()
            run_locust(env, facts_path, record_path)
            sampler.stopped.set()
            sampler.join()
            report["load after"] = load()
        record = json.loads(record_path.read_text())
        report["requests"] = record["requests"]
        report["errors"] = record["errors"]
        report["memory"] = {name: memory_figures(sampler.samples, name) for name in ("server", "worker")}
        report["requests_per_second"] = round(sum(r["n"] for r in record["requests"].values()) / SECONDS, 1)
        report["server_cpu_ms_per_request"] = round(
            1000 * report["memory"]["server"]["cpu_seconds"] / max(1, sum(r["n"] for r in record["requests"].values())),
            1,
        )
        report["memory_samples"] = sampler.samples
        report["database"] = database_check(facts, record)
        connection.close()
    report["targets"] = targets(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(report, indent=2))
    print_report(report)


def targets(report: dict) -> dict:
    requests, check = report["requests"], report["database"]
    failures = sum(r["failures"] for r in requests.values())
    return {
        "zero errors": failures == 0,
        "save p95 < 200 ms": requests.get("POST save", {}).get("p95_ms", 1e9) < P95_TARGET_MS,
        "pull p95 < 200 ms": requests.get("POST pull", {}).get("p95_ms", 1e9) < P95_TARGET_MS,
        "no lost or duplicated work": not any(
            check[key]
            for key in (
                "pulled_by_two_annotators",
                "pulled_but_held_by_another",
                "completed_by_two_people",
                "saves_missing_in_db",
                "saves_stored_twice",
                "annotations_no_client_sent",
                "lost_from_queue",
                "completions_lost",
                "completed_missing_from_qa",
            )
        ),
        "server memory flat": report["memory"]["server"]["flat"],
    }


def print_report(report: dict) -> None:
    print(f"  {report['load before']} before, {report['load after']} after")
    print(f"  {'request':<44} {'count':>7} {'fail':>5} {'median':>8} {'p95':>8} {'p99':>8}   (ms)")
    for name, figure in report["requests"].items():
        print(
            f"  {name:<44} {figure['n']:>7} {figure['failures']:>5} {figure['median_ms']:>8.0f} "
            f"{figure['p95_ms']:>8.0f} {figure['p99_ms']:>8.0f}"
        )
    for error in report["errors"][:10]:
        print(f"  error: {error['occurrences']} x {error['request']}: {error['error']}")
    for name, memory in report["memory"].items():
        print(
            f"  {name} RSS: start {memory['start_mb']} MB, middle {memory['middle_mb']} MB, end {memory['end_mb']} MB, "
            f"max {memory['max_mb']} MB; slope after {memory['warm_up_seconds']:.0f} s warm-up "
            f"{memory['slope_mb_per_minute']} MB/min (flat: |slope| < {FLAT_MB_PER_MINUTE} MB/min)"
        )
    print(
        f"  {report['requests_per_second']} requests/s; the server used {report['memory']['server']['cpu_seconds']} "
        f"CPU seconds ({report['server_cpu_ms_per_request']} ms a request), the worker "
        f"{report['memory']['worker']['cpu_seconds']}"
    )
    print("  database check: " + ", ".join(f"{key} {value}" for key, value in report["database"].items()))
    for name, met in report["targets"].items():
        print(f"  {'MET    ' if met else 'NOT MET'} {name}")


if __name__ == "__main__":
    main()
