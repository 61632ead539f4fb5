"""Tasks at scale on PostgreSQL: the pull queue, creating a big task, and push latency.

Needs BENCH_DATABASE_URL naming a scratch PostgreSQL database (migrated and written to; its
datasets and users are filled once and reused on later runs, each run's tasks are deleted at
the end). BENCH_REDIS_URL (e.g. redis://127.0.0.1:6379/6) adds Redis: channel layer, broker
and cache on Redis, the Celery worker still embedded; and (c) runs. The scale-out switches:
BENCH_WEB_WORKERS=N (needs Redis) runs N server processes plus a Celery worker process, and
BENCH_DATABASE_POOL=0 turns PostgreSQL's connection pool off; without them the server runs as
`manage.py serve` does out of the box. Measured through the HTTP API and websockets:

(a) pull queue: a pulling task (batchSize 1, maxBatchWorkload 1) over PULL_ITEMS items;
    PULLERS annotator threads, each on its own keep-alive connection with its own API key,
    `POST /annotationtasks/{id}/pull`, work on the item, complete it through the task status
    endpoint, and pull the next. All start at the same instant (a shift starting: every one
    of them pulls at once). For PACED_SECONDS they work at a brisk human pace (THINK_SECONDS
    per item on average, exponentially distributed); pull and completion latency p50/p95 are
    taken over that window, each annotator's first pull (the burst) on its own. Then they drain
    the rest of the queue flat out (no work between requests: the server's saturation
    throughput, latencies reported but not the target). Item duplicates and items never
    handed out (both must be 0) are counted over the whole queue, and checked again in the
    database;
(b) creating a task over BIG_ITEMS items with a 2-assignee workload:
    `POST /annotationtasks` until its Command is `success`;
(c) push latency (Redis only): SOCKETS websockets of different users on /ws/; a manager adds
    an item to one user's assignment (`addToTask`) and we time until that user's socket gets
    `assignment.changed`, over TRIALS trials; first with every socket on its own user group,
    then with every socket also watching the project (each change fans out to all of them).

The client threads and sockets run on the same machine as the server and share its CPUs.
"""

import asyncio
import http.client
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from contextlib import nullcontext
from pathlib import Path

from bench.data import register_manifest, write_manifest
from bench.server import deployment_env, running_server, running_worker

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PORT = 8770
PULLERS = int(os.environ.get("BENCH_TASK_PULLERS", "100"))
PULL_ITEMS = int(os.environ.get("BENCH_TASK_PULL_ITEMS", "10000"))
BIG_ITEMS = int(os.environ.get("BENCH_TASK_ITEMS", "100000"))
SOCKETS = int(os.environ.get("BENCH_TASK_SOCKETS", "1000"))
TRIALS = int(os.environ.get("BENCH_TASK_PUSH_TRIALS", "50"))
THINK_SECONDS = float(os.environ.get("BENCH_TASK_THINK", "10.0"))
PACED_SECONDS = float(os.environ.get("BENCH_TASK_PACED_SECONDS", "60"))
# The server as deployed by default (1 process, a PostgreSQL connection per request) unless
# these ask for the scale-out switches: several processes (needs Redis) and pooled connections.
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "1"))
DATABASE_POOL = os.environ.get("BENCH_DATABASE_POOL", "1") in ("1", "true", "yes")
PEOPLE = max(PULLERS, SOCKETS, 2)
OWNER = "tasks-bench-owner@example.com"
TARGETS = {"pull_p95_ms": 50.0, "duplicates": 0, "dropped": 0, "create_100k_seconds": 10.0, "push_p95_ms": 100.0}
ALL_FILES = json.dumps({"filter": {"$and": [{"hidden": False}, {"type": "file"}]}, "page": 0, "resource": "items"})


def person(n: int) -> str:
    return f"tasks-bench-{n:04d}@example.com"


# --- data (in this process, before the server starts) -------------------------------------------------------
def _link_items(dataset, user, count: int, var_dir: str) -> None:
    """`count` link items, registered as a manifest is (COPY on PostgreSQL)."""
    records = (
        {"url": f"https://cdn.example.com/{dataset.name}/{n:06d}.jpg", "path": f"/{n // 1000:03d}/{n:06d}.jpg"}
        for n in range(count)
    )
    register_manifest(dataset=dataset, user=user, path=write_manifest(Path(var_dir) / f"{dataset.id}.ndjson", records))


def prepare(var_dir: str, run: str) -> dict:
    """The owner, PEOPLE annotators in one project, and three datasets; API keys for this run."""
    from django.db import connection

    from annotator.accounts import services as accounts
    from annotator.accounts.models import Membership, Project, User
    from annotator.datasets import services as datasets
    from annotator.datasets.models import Dataset, Item

    owner = User.objects.filter(email=OWNER).first() or accounts.user_create(email=OWNER, password="bench-password-1")
    project = Project.objects.filter(memberships__user=owner, name="Tasks bench").first()
    if project is None:
        project = accounts.project_create(user=owner, name="Tasks bench")
    emails = [person(n) for n in range(PEOPLE)]
    known = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    fresh = [User(email=email) for email in emails if email not in known]
    for user in fresh:
        user.set_unusable_password()
    User.objects.bulk_create(fresh, batch_size=1000)
    people = {u.email: u for u in User.objects.filter(email__in=emails)}
    Membership.objects.bulk_create(
        [Membership(project=project, user=people[email], role="annotator") for email in emails],
        ignore_conflicts=True,
        batch_size=1000,
    )
    sizes = {"Queue": PULL_ITEMS, "Big": BIG_ITEMS, "Push": TRIALS * 2 + 1}
    dataset_ids = {}
    for name, size in sizes.items():
        dataset = Dataset.objects.filter(project=project, name=name).first()
        if dataset is None:
            dataset = datasets.dataset_create(user=owner, project_id=project.id, name=name, labels=[{"tag": "cat"}])
        have = Item.objects.filter(dataset=dataset, type="file").count()
        if have != size:
            Item.objects.filter(dataset=dataset).delete()
            started = time.perf_counter()
            _link_items(dataset, owner, size, var_dir)
            print(f"  filled {name}: {size:,} items in {time.perf_counter() - started:.1f} s")
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {Item._meta.db_table}")
        dataset_ids[name] = dataset.id
    push_items = list(
        Item.objects.filter(dataset_id=dataset_ids["Push"], type="file").order_by("id").values_list("id", flat=True)
    )
    keyed = emails[: max(PULLERS, SOCKETS)]
    return {
        "project": project.id,
        "datasets": dataset_ids,
        "push_items": push_items,
        "owner_key": accounts.api_key_create(user=owner, name=f"bench-{run}")[1],
        "emails": emails,
        "keys": [accounts.api_key_create(user=people[email], name=f"bench-{run}")[1] for email in keyed],
    }


def cleanup(run: str) -> None:
    from annotator.accounts.models import ApiToken
    from annotator.tasks.models import Task

    Task.objects.filter(name__endswith=f"[{run}]", parent__isnull=False).delete()
    Task.objects.filter(name__endswith=f"[{run}]").delete()
    ApiToken.objects.filter(name=f"bench-{run}").delete()


# --- HTTP --------------------------------------------------------------------------------------------------
def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def figures(samples: list[float]) -> dict:
    if not samples:
        return {"n": 0}
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(percentile(samples, 0.95), 2),
        "max_ms": round(max(samples), 2),
        "n": len(samples),
    }


def call(conn: http.client.HTTPConnection, method: str, path: str, key: str, body=None):
    """(milliseconds, status, parsed JSON or raw bytes) of one request."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    data = json.dumps(body).encode() if body is not None else b""
    started = time.perf_counter()
    conn.request(method, f"/api/v1{path}", body=data, headers=headers)
    response = conn.getresponse()
    raw = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    try:
        return elapsed, response.status, json.loads(raw)
    except ValueError:
        return elapsed, response.status, raw[:300]


def checked(conn, method: str, path: str, key: str, body=None):
    _elapsed, status, data = call(conn, method, path, key, body)
    if status != 200:
        raise RuntimeError(f"{method} {path}: HTTP {status}: {str(data)[:500]}")
    return data


def command_wait(conn, key: str, command: dict, timeout: float = 600.0) -> dict:
    deadline = time.monotonic() + timeout
    while command["status"] not in ("success", "failed"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"command {command['id']} still {command['status']} after {timeout} s")
        time.sleep(0.05)
        command = checked(conn, "GET", f"/commands/{command['id']}", key)
    if command["status"] != "success":
        raise RuntimeError(f"command {command['id']} failed: {command.get('error')}")
    return command


def task_create(conn, key: str, body: dict) -> tuple[str, float]:
    """(task id, seconds from the POST until the Command is success)."""
    started = time.perf_counter()
    command = command_wait(conn, key, checked(conn, "POST", "/annotationtasks", key, body))
    return command["spec"]["createdTaskId"], time.perf_counter() - started


# --- (a) the pull queue -------------------------------------------------------------------------------------
def pull_alone(facts: dict, run: str, rounds: int = 200) -> dict:
    """The baseline: one annotator alone pulls and completes `rounds` items of their own pulling task."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
    task_id, _seconds = task_create(
        conn,
        facts["owner_key"],
        {
            "name": f"Pull alone [{run}]",
            "datasetId": facts["datasets"]["Queue"],
            "projectId": facts["project"],
            "query": ALL_FILES,
            "metadata": {"system": {"batchSize": 1, "maxBatchWorkload": 1, "allowedAssignees": facts["emails"][:1]}},
        },
    )
    key = facts["keys"][0]
    pulls, completes = [], []
    for _ in range(rounds):
        elapsed, status, data = call(conn, "POST", f"/annotationtasks/{task_id}/pull", key)
        if status != 200 or len(data["items"]) != 1:
            raise RuntimeError(f"pull alone: HTTP {status}: {str(data)[:300]}")
        pulls.append(elapsed)
        body = {
            "itemIds": [data["items"][0]["item"]["id"]],
            "statusPayload": {"operation": "create", "status": "completed"},
        }
        elapsed, status, data = call(conn, "POST", f"/assignments/items/tasks/{task_id}/status", key, body)
        if status != 200:
            raise RuntimeError(f"complete alone: HTTP {status}: {str(data)[:300]}")
        completes.append(elapsed)
    return {"pull": figures(pulls), "complete": figures(completes)}


def pull_queue(facts: dict, run: str) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
    allowed = facts["emails"][:PULLERS]
    task_id, create_seconds = task_create(
        conn,
        facts["owner_key"],
        {
            "name": f"Pull [{run}]",
            "datasetId": facts["datasets"]["Queue"],
            "projectId": facts["project"],
            "query": ALL_FILES,
            "metadata": {"system": {"batchSize": 1, "maxBatchWorkload": 1, "allowedAssignees": allowed}},
        },
    )
    # Per thread: (seconds since the start, milliseconds) of each request, by phase.
    pulls: list[list[tuple[float, float]]] = [[] for _ in range(PULLERS)]
    completes: list[list[tuple[float, float]]] = [[] for _ in range(PULLERS)]
    taken: list[list[str]] = [[] for _ in range(PULLERS)]
    errors: list[list[str]] = [[] for _ in range(PULLERS)]
    start = threading.Barrier(PULLERS + 1)
    began = [0.0]

    def annotator(index: int) -> None:
        key = facts["keys"][index]
        pace = random.Random(index)
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
        call(conn, "GET", "/users/me", key)  # connected before the clock starts
        start.wait()
        empty = 0
        while empty < 3 and len(errors[index]) < 20:
            try:
                elapsed, status, data = call(conn, "POST", f"/annotationtasks/{task_id}/pull", key)
            except (OSError, http.client.HTTPException) as exc:
                errors[index].append(f"pull: {type(exc).__name__}: {exc}")
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
                continue
            if status != 200:
                errors[index].append(f"pull: HTTP {status}: {str(data)[:200]}")
                continue
            items = [entry["item"]["id"] for entry in data["items"]]
            if not items:
                empty += 1  # the queue is empty, or its last rows are being taken by others
                time.sleep(0.05)
                continue
            empty = 0
            pulls[index].append((time.perf_counter() - began[0], elapsed))
            taken[index] += items
            if time.perf_counter() - began[0] < PACED_SECONDS:
                think = pace.expovariate(1 / THINK_SECONDS)
                time.sleep(think)  # annotating the item
                if think > 4:  # the server closes keep-alive connections idle for 5 s; a browser reconnects
                    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
            body = {"itemIds": items, "statusPayload": {"operation": "create", "status": "completed"}}
            for _attempt in range(3):  # a client retries a failed completion: else the item stays held
                try:
                    elapsed, status, data = call(conn, "POST", f"/assignments/items/tasks/{task_id}/status", key, body)
                except (OSError, http.client.HTTPException) as exc:
                    errors[index].append(f"status: {type(exc).__name__}: {exc}")
                    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
                    continue
                if status == 200:
                    completes[index].append((time.perf_counter() - began[0], elapsed))
                    break
                errors[index].append(f"status: HTTP {status}: {str(data)[:200]}")

    threads = [threading.Thread(target=annotator, args=(i,)) for i in range(PULLERS)]
    for thread in threads:
        thread.start()
    began[0] = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began[0]
    handed = [item for per_thread in taken for item in per_thread]
    from annotator.tasks.models import TaskItem

    rows = TaskItem.objects.filter(task_id=task_id)
    failures = [e for per_thread in errors for e in per_thread]
    all_pulls = [sample for per_thread in pulls for sample in per_thread]
    all_completes = [sample for per_thread in completes for sample in per_thread]
    burst = [per_thread[0][1] for per_thread in pulls if per_thread]
    # Steady state: every pull in the paced window but each annotator's first (the burst, above).
    paced = [(at, ms) for per_thread in pulls for at, ms in per_thread[1:] if at < PACED_SECONDS]
    return {
        "items": PULL_ITEMS,
        "annotators": PULLERS,
        "think_seconds": THINK_SECONDS,
        "paced_seconds": PACED_SECONDS,
        "task_create_seconds": round(create_seconds, 2),
        "seconds": round(seconds, 1),
        "paced items": len(paced),
        "burst pull": figures(burst),
        "paced pull": figures([ms for _at, ms in paced]),
        "paced complete": figures([ms for at, ms in all_completes if at < PACED_SECONDS]),
        "flat-out pull": figures([ms for at, ms in all_pulls if at >= PACED_SECONDS]),
        "flat-out complete": figures([ms for at, ms in all_completes if at >= PACED_SECONDS]),
        "flat-out items_per_second": round(
            len([1 for at, _ms in all_pulls if at >= PACED_SECONDS]) / max(seconds - PACED_SECONDS, 0.001), 1
        ),
        "duplicates": len(handed) - len(set(handed)),
        "dropped": PULL_ITEMS - len(set(handed)),
        "db_completed": rows.filter(status="completed").count(),
        "db_open": rows.filter(status__isnull=True).count(),
        "errors": len(failures),
        "first_errors": failures[:5],
    }


# --- (b) a big task ------------------------------------------------------------------------------------------
def big_task(facts: dict, run: str) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
    key = facts["owner_key"]
    first, second = facts["emails"][:2]
    task_id, seconds = task_create(
        conn,
        key,
        {
            "name": f"Big [{run}]",
            "datasetId": facts["datasets"]["Big"],
            "projectId": facts["project"],
            "query": ALL_FILES,
            "workload": [{"assigneeId": first, "load": 50}, {"assigneeId": second, "load": 50}],
        },
    )
    task = checked(conn, "GET", f"/annotationtasks/{task_id}", key)
    assignments = checked(conn, "GET", f"/assignments?projects={facts['project']}&taskId={task_id}", key)["items"]
    return {
        "items": BIG_ITEMS,
        "seconds": round(seconds, 2),
        "totalItems": task["totalItems"],
        "per_assignee": sorted(a["totalItems"] for a in assignments),
    }


# --- (c) push latency -----------------------------------------------------------------------------------------
async def push_latency(facts: dict, run: str) -> dict:
    import websockets

    owner_key = facts["owner_key"]
    target_index = SOCKETS // 2
    target = facts["emails"][target_index]
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
    items = facts["push_items"]
    query = json.dumps({"filter": {"$and": [{"id": {"$in": [items[0]]}}]}, "resource": "items"})
    task_id, _seconds = await asyncio.to_thread(
        task_create,
        conn,
        owner_key,
        {
            "name": f"Push [{run}]",
            "datasetId": facts["datasets"]["Push"],
            "projectId": facts["project"],
            "query": query,
            "workload": [{"assigneeId": target, "load": 100}],
        },
    )

    sockets: list = [None] * SOCKETS
    received = [0] * SOCKETS
    task_updates = [0] * SOCKETS  # `task.updated` events each socket got (the project fan-out)
    closed: dict[int, str] = {}  # socket index: why it closed before the end
    waiting: dict[str, asyncio.Future] = {}
    subscribed = asyncio.Queue()
    opened = time.perf_counter()

    async def open_socket(index: int) -> None:
        headers = {"Authorization": f"Bearer {facts['keys'][index]}"}
        try:
            ws = await websockets.connect(
                f"ws://127.0.0.1:{PORT}/ws/", additional_headers=headers, open_timeout=120, max_queue=None
            )
            hello = json.loads(await ws.recv())
            if hello.get("type") != "hello":
                raise RuntimeError(f"no hello: {hello}")
            sockets[index] = ws
        except (OSError, TimeoutError, RuntimeError, websockets.WebSocketException) as exc:
            closed[index] = f"open: {type(exc).__name__}: {exc}"

    async def read(index: int) -> None:
        try:
            async for raw in sockets[index]:
                at = time.perf_counter()
                message = json.loads(raw)
                received[index] += 1
                if message.get("type") == "subscribed":
                    subscribed.put_nowait(index)
                elif message.get("event") == "task.updated":
                    task_updates[index] += 1
                elif index == target_index and message.get("event") == "assignment.changed":
                    future = waiting.pop("target", None)
                    if future is not None and not future.done():
                        future.set_result(at)
        except websockets.ConnectionClosed as exc:
            closed.setdefault(index, f"{time.perf_counter() - opened:.1f} s in: {type(exc).__name__}: {exc}")

    for begin in range(0, SOCKETS, 50):
        await asyncio.gather(*(open_socket(i) for i in range(begin, min(begin + 50, SOCKETS))))
    open_seconds = time.perf_counter() - opened
    failed_to_open = len(closed)
    if sockets[target_index] is None:
        raise RuntimeError(f"the target's socket did not open: {closed[target_index]}")
    readers = [asyncio.create_task(read(i)) for i in range(SOCKETS) if sockets[i] is not None]

    def add_item(n: int) -> float:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)  # fresh: keep-alive ends after 5 s idle
        call(conn, "GET", "/users/me", owner_key)
        body = {
            "query": json.dumps({"filter": {"$and": [{"id": {"$in": [items[n]]}}]}, "resource": "items"}),
            "workload": [{"assigneeId": target, "load": 100}],
        }
        elapsed, status, data = call(conn, "POST", f"/annotationtasks/{task_id}/addToTask", owner_key, body)
        if status != 200:
            raise RuntimeError(f"addToTask: HTTP {status}: {str(data)[:300]}")
        return elapsed

    async def trials(first_item: int, fan_out: bool = False) -> dict:
        """TRIALS changes, one at a time. With the fan-out, the next change waits until every socket
        has its `task.updated` of this one (else it would queue behind the last one's 1,000 sends)."""
        latencies, requests, everyone, lost = [], [], [], 0
        for n in range(TRIALS):
            if target_index in closed:
                lost += TRIALS - n
                break
            future = asyncio.get_running_loop().create_future()
            waiting["target"] = future
            before = list(task_updates)
            started = time.perf_counter()
            requests.append(await asyncio.to_thread(add_item, first_item + n))
            try:
                at = await asyncio.wait_for(future, timeout=5)
                latencies.append((at - started) * 1000)
            except TimeoutError:
                lost += 1
            if fan_out:
                live = [i for i, ws in enumerate(sockets) if ws is not None and i not in closed]
                deadline = time.perf_counter() + 10
                while time.perf_counter() < deadline and any(task_updates[i] <= before[i] for i in live):
                    await asyncio.sleep(0.005)
                everyone.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.1)
        result = {
            "push": figures(latencies),
            "addToTask_request": figures(requests),
            "lost": lost,
            "sockets_open": sum(1 for i, ws in enumerate(sockets) if ws is not None and i not in closed),
        }
        if fan_out:
            result["all_sockets_heard"] = figures(everyone)
        return result

    await asyncio.sleep(1)
    own_group = await trials(1)
    group = f"project.{facts['project']}"
    live = [i for i, ws in enumerate(sockets) if ws is not None and i not in closed]
    for begin in range(0, len(live), 100):
        await asyncio.gather(
            *(sockets[i].send(json.dumps({"action": "subscribe", "group": group})) for i in live[begin : begin + 100]),
            return_exceptions=True,
        )
    confirmations = 0
    try:
        while confirmations < len(live):
            await asyncio.wait_for(subscribed.get(), timeout=60)
            confirmations += 1
    except TimeoutError:
        pass
    await asyncio.sleep(1)
    received_before_fanout = sum(received)
    fan_out = await trials(1 + TRIALS, fan_out=True)
    await asyncio.sleep(1)
    fan_out["subscribed"] = confirmations
    fan_out["messages_per_trial"] = round((sum(received) - received_before_fanout) / TRIALS, 1)
    still_open = sum(1 for i, ws in enumerate(sockets) if ws is not None and i not in closed)
    lost_sockets = dict(closed)
    for ws in sockets:
        if ws is not None:
            await ws.close()
    await asyncio.gather(*readers, return_exceptions=True)
    return {
        "sockets": SOCKETS,
        "open_seconds": round(open_seconds, 1),
        "failed_to_open": failed_to_open,
        "still_open": still_open,
        "own user group only": own_group,
        "all sockets also watching the project": fan_out,
        "closed_early": len(lost_sockets),
        "first_closures": sorted(lost_sockets.values())[:5],
    }


# --- the run ----------------------------------------------------------------------------------------------------
def load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load {one:.2f} (1 min) / {five:.2f} (5 min)"


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        print("tasks: skipped (set BENCH_DATABASE_URL to a scratch PostgreSQL database)")
        return
    redis_url = os.environ.get("BENCH_REDIS_URL")
    if WEB_WORKERS > 1 and not redis_url:
        sys.exit("tasks: BENCH_WEB_WORKERS > 1 needs BENCH_REDIS_URL (the scale-out mode)")
    run = f"{int(time.time())}-{os.getpid()}"
    report: dict = {"benchmark": "tasks", "redis": bool(redis_url), "cpus": os.cpu_count(), "targets": TARGETS}
    with tempfile.TemporaryDirectory() as var_dir:
        env = deployment_env(var_dir, url)
        os.environ.update(env)  # this process: PostgreSQL, no Redis (data and checks only)
        if redis_url:
            env |= {"REDIS_URL": redis_url, "CHANNELS_PREFIX": f"bench-tasks-{run}"}
            # One process keeps the Celery worker inside it; several need a worker process of their own.
            env["CELERY_WORKER_EMBEDDED"] = "1" if WEB_WORKERS == 1 else "0"
        env["DATABASE_POOL"] = "1" if DATABASE_POOL else "0"
        report["server"] = (
            f"{WEB_WORKERS} process(es){' + a worker process' if WEB_WORKERS > 1 else ''}, "
            f"database pool {'on' if DATABASE_POOL else 'off'}"
        )
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        print(
            f"tasks on PostgreSQL{' + Redis' if redis_url else ''}, server {report['server']}, "
            f"cpus={os.cpu_count()}: preparing"
        )
        facts = prepare(var_dir, run)
        connection.close()
        try:
            worker = running_worker(env) if WEB_WORKERS > 1 else nullcontext()
            with running_server(PORT, env, timeout=60, workers=WEB_WORKERS), worker:
                report["load before"] = load()
                report["pull alone"] = pull_alone(facts, run)
                report["pull queue"] = pull_queue(facts, run)
                connection.close()
                report["load after (a)"] = load()
                print_pull(report["pull queue"], report)
                report["create task"] = big_task(facts, run)
                report["load after (b)"] = load()
                print_big(report["create task"], report)
                if redis_url:
                    report["push"] = asyncio.run(push_latency(facts, run))
                    report["load after (c)"] = load()
                    print_push(report["push"], report)
                else:
                    print("  (c) push: skipped (set BENCH_REDIS_URL, e.g. redis://127.0.0.1:6379/6)")
        finally:
            cleanup(run)
            connection.close()
            RESULTS.mkdir(parents=True, exist_ok=True)
            (RESULTS / f"tasks-postgresql-{'pool' if DATABASE_POOL else 'nopool'}-{WEB_WORKERS}.json").write_text(
                json.dumps(report, indent=2)
            )
    print(
        "  targets: pull p95 < 50 ms (paced) with 0 duplicates and 0 dropped; 100k-item task < 10 s; push p95 < 100 ms"
    )


def print_pull(pull: dict, report: dict) -> None:
    print(
        f"  (a) pull queue: {pull['items']:,} items, {pull['annotators']} annotators, batch 1 "
        f"({report['load before']} before, {report['load after (a)']} after)"
    )
    for name in ("pull", "complete"):
        alone = report["pull alone"][name]
        print(
            f"      1 annotator alone:  {name:<8} median {alone['median_ms']:8.2f} ms   "
            f"p95 {alone['p95_ms']:8.2f} ms   (n={alone['n']})"
        )
    print(
        f"      all {pull['annotators']} start at once, then {pull['think_seconds']} s per item on average "
        f"for {pull['paced_seconds']:.0f} s ({pull['paced items']:,} items), then flat out: "
        f"queue drained after {pull['seconds']} s, {pull['errors']} errors"
    )
    for name in ("burst pull", "paced pull", "paced complete", "flat-out pull", "flat-out complete"):
        figure = pull[name]
        if figure["n"]:
            print(
                f"      {name:<18} median {figure['median_ms']:8.2f} ms   p95 {figure['p95_ms']:8.2f} ms"
                f"   (n={figure['n']})"
            )
    print(f"      flat out: {pull['flat-out items_per_second']} items/s")
    print(
        f"      duplicates {pull['duplicates']}, dropped {pull['dropped']} "
        f"(database: {pull['db_completed']:,} completed, {pull['db_open']} open)"
    )
    for error in pull["first_errors"]:
        print(f"      error: {error}")


def print_big(big: dict, report: dict) -> None:
    print(
        f"  (b) task over {big['items']:,} items, 2 assignees: Command success after {big['seconds']} s "
        f"(totalItems {big['totalItems']:,}, per assignee {big['per_assignee']}; {report['load after (b)']} after)"
    )


def print_push(push: dict, report: dict) -> None:
    print(
        f"  (c) push: {push['sockets']} sockets of different users opened in {push['open_seconds']} s "
        f"({push['failed_to_open']} failed), {push['still_open']} open at the end ({report['load after (c)']} after)"
    )
    for closure in push["first_closures"]:
        print(f"      closed early: {closure}")
    for name in ("own user group only", "all sockets also watching the project"):
        case = push[name]
        line = (
            f"      {name:<38} assignment.changed after median {case['push']['median_ms']:7.2f} ms  "
            f"p95 {case['push']['p95_ms']:7.2f} ms  (the addToTask request alone: median "
            f"{case['addToTask_request']['median_ms']:.1f} ms), lost {case['lost']}"
        )
        line += f", {case['sockets_open']} sockets open"
        if "messages_per_trial" in case:
            line += f", {case['subscribed']} watching, {case['messages_per_trial']} messages per trial"
            heard = case["all_sockets_heard"]
            line += f"; all had task.updated after median {heard['median_ms']:.0f} ms, p95 {heard['p95_ms']:.0f} ms"
        print(line)


if __name__ == "__main__":
    main()
