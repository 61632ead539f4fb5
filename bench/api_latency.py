"""Latency of the foundation's hot API paths against a real server (uvicorn, embedded mode).

A throwaway VAR_DIR holds a fresh SQLite database, so the figures do not depend on local
data. Each path is called sequentially over one keep-alive connection; we report the
median and 95th percentile in milliseconds, plus the machine's load while it ran.
"""

import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.server import running_server

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PROJECTS = 50
ROUNDS = 300
WARMUP = 20


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def prepare(env: dict[str, str]) -> str:
    """Migrate the fresh database and create a user with projects; returns an API key."""
    script = f"""
import django; django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from annotator.accounts import services
user = services.user_create(email="bench@example.com", password="bench-password-1")
for n in range({PROJECTS}):
    services.project_create(user=user, name=f"Bench {{n}}")
print(services.api_key_create(user=user, name="bench")[1])
"""
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def measure(conn: http.client.HTTPConnection, method: str, path: str, headers: dict, body: str | None = None):
    timings = []
    for i in range(WARMUP + ROUNDS):
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status >= 400:
            raise RuntimeError(f"{method} {path} -> {response.status}")
        if i >= WARMUP:
            timings.append(elapsed)
    return {"median_ms": round(statistics.median(timings), 2), "p95_ms": round(percentile(timings, 0.95), 2)}


def main() -> None:
    with tempfile.TemporaryDirectory() as var_dir:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        env |= {
            "VAR_DIR": var_dir,
            "DJANGO_SETTINGS_MODULE": "annotator.settings",
            "LOG_LEVEL": "WARNING",
            "LOGIN_FAILURE_LIMIT": "100000",
        }
        api_key = prepare(env)
        port = 8765
        with running_server(port, env):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            auth = {"Authorization": f"Bearer {api_key}"}
            project_id = json.loads(_get(conn, "/api/v1/projects", auth))[0]["id"]
            login_body = {"type": "user_credentials", "username": "bench@example.com", "password": "bench-password-1"}
            load_before = os.getloadavg()
            results = {
                "GET /api/v1/users/me": measure(conn, "GET", "/api/v1/users/me", auth),
                f"GET /api/v1/projects ({PROJECTS} projects)": measure(conn, "GET", "/api/v1/projects", auth),
                "GET /api/v1/projects/{id}/members": measure(
                    conn, "GET", f"/api/v1/projects/{project_id}/members", auth
                ),
                "POST /token (password login)": measure(
                    conn, "POST", "/token?default", {"Content-Type": "application/json"}, json.dumps(login_body)
                ),
            }
            load_after = os.getloadavg()
    report = {
        "benchmark": "api_latency",
        "rounds": ROUNDS,
        "machine": {"cpus": os.cpu_count(), "loadavg_before": load_before, "loadavg_after": load_after},
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "api_latency.json").write_text(json.dumps(report, indent=2))
    print(f"api_latency: {ROUNDS} sequential requests each, cpus={os.cpu_count()}, load={load_before[0]:.2f}")
    for name, figures in results.items():
        print(f"  {name:<45} median {figures['median_ms']:>7.2f} ms   p95 {figures['p95_ms']:>7.2f} ms")


def _get(conn: http.client.HTTPConnection, path: str, headers: dict) -> str:
    conn.request("GET", path, headers=headers)
    return conn.getresponse().read().decode()


if __name__ == "__main__":
    main()
