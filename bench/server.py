"""The server a benchmark talks to: `manage.py serve` in a child process, ready when /healthz is."""

import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def deployment_env(var_dir: str, database_url: str) -> dict[str, str]:
    """This environment for a benchmark's server on `database_url`, without the caller's own
    DATABASE_URL and REDIS_URL (the benchmark adds Redis itself when it wants it)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    return env | {
        "VAR_DIR": var_dir,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "annotator.settings",
        "LOG_LEVEL": "WARNING",
    }


def machine_speed_ms() -> float:
    """The best of five runs of a fixed pure-Python workload, in ms: this shared machine's
    speed at the moment (it has been seen to change by half within an hour), printed beside
    a benchmark's figures so runs from different hours can be compared. Lower is faster."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        total = 0
        for n in range(1_000_000):
            total += n
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


@contextmanager
def running_server(
    port: int, env: dict[str, str], timeout: float = 30.0, workers: int = 1
) -> Iterator[subprocess.Popen]:
    # Benchmarks drive one user far past a person's pace; the limiter still runs (its cost is
    # measured) but with a ceiling no benchmark reaches.
    env = {"API_RATE_LIMIT": "1000000/min", **env}
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_healthy(port, timeout)
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def running_worker(env: dict[str, str], concurrency: int = 2) -> Iterator[subprocess.Popen]:
    """A Celery worker process (scale-out mode), as `make worker` runs it."""
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "annotator",
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env={**env, "CELERY_WORKER_EMBEDDED": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_consuming(env)
        yield worker
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def _wait_until_consuming(env: dict[str, str], timeout: float = 60.0) -> None:
    """Return once the worker has run a job. Its start (importing Django and Celery, about two
    seconds of a core) otherwise fell inside the timed run, on the cores the server needs."""
    from celery import Celery

    url = env.get("REDIS_URL")
    if not url:
        return  # an in-memory broker: no worker process consumes it
    probe = Celery("bench-probe", broker=url, backend=url)
    try:
        probe.send_task("core.ping", args=["ready"]).get(timeout=timeout)
    finally:
        probe.close()


def _wait_until_healthy(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not start")
