"""Real processes for fault injection: a server (`manage.py serve`), a Celery worker and a
private Redis, each started on a free 127.0.0.1 port and killed with SIGKILL by the tests."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.conf import settings

from annotator.accounts import services
from tests.conftest import ROOT, _free_port, _test_database_url, wait_until
from tests.exchange.conftest import dataset, fresh_dataset, item  # noqa: F401 - fixtures for the fault tests

SCALE_OUT = bool(settings.REDIS_URL) and settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
needs_scale_out = pytest.mark.skipif(
    not SCALE_OUT,
    reason="needs the scale-out mode (PostgreSQL and Redis); CI runs it in the DATABASE_URL/REDIS_URL pass",
)
# Test processes take a worker for dead after this long without a heartbeat.
LEASE_SECONDS = 3


class Process:
    """A child process whose output goes to a log file, shown when a test fails."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("ab")
        self.popen = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye, exactly as a crash or the OOM killer."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def process_env(media_root: Path, **overrides: str) -> dict[str, str]:
    env = {**os.environ, "DEBUG": "0", "LOG_LEVEL": "WARNING", "MEDIA_ROOT": str(media_root)}
    env["COMMAND_LEASE_SECONDS"] = str(LEASE_SECONDS)
    if SCALE_OUT:
        env |= {"DATABASE_URL": _test_database_url(), "CELERY_WORKER_EMBEDDED": "0"}
    else:
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        env["FAULTS_SQLITE_PATH"] = str(settings.DATABASES["default"]["NAME"])
    return env | overrides


class Server(Process):
    """`manage.py serve` on a free port."""

    def __init__(self, env: dict[str, str], log_dir: Path, port: int | None = None) -> None:
        self.port = port or _free_port()
        command = [
            sys.executable,
            "-m",
            "tests.faults.launch",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        super().__init__(f"server-{self.port}", command, env, log_dir)
        wait_until(self._answers, timeout=60, interval=0.1, message=f"the server to answer /healthz\n{self.log()}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _answers(self) -> bool:
        if self.popen.poll() is not None:
            raise AssertionError(f"the server exited with {self.popen.returncode}:\n{self.log()}")
        try:
            return requests.get(f"{self.url}/healthz", timeout=5).status_code == 200
        except requests.ConnectionError:
            return False


class Worker(Process):
    """A separate Celery worker (scale-out mode): one slot, so a killed job is the only one lost."""

    def __init__(self, env: dict[str, str], log_dir: Path, name: str) -> None:
        command = [sys.executable, "-m", "celery", "-A", "annotator", "worker", "--pool", "threads"]
        command += ["--concurrency", "1", "--hostname", f"{name}@%h", "--without-gossip", "--without-mingle"]
        command += ["--loglevel", "WARNING"]
        super().__init__(name, command, env, log_dir)


class PrivateRedis:
    """A redis-server of the test's own, which it may stop and start again on the same port
    (the machine's shared Redis serves other tests and must stay up)."""

    def __init__(self, log_dir: Path) -> None:
        self.port = _free_port()
        self.log_dir = log_dir
        self.process: Process | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(self.port)]
        command += ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = Process(f"redis-{self.port}", command, dict(os.environ), self.log_dir)
        import redis

        def pongs() -> bool:
            try:
                return redis.Redis(port=self.port, socket_connect_timeout=1).ping()
            except redis.ConnectionError:
                return False

        wait_until(pongs, timeout=15, message="the private Redis to start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.stop()
            self.process = None


@pytest.fixture
def processes(tmp_path):
    """Start servers, workers and Redis through this; whatever is still running is stopped after."""
    started: list = []

    class Launcher:
        log_dir = tmp_path

        def server(self, env, port=None) -> Server:
            started.append(server := Server(env, tmp_path, port))
            return server

        def worker(self, env, name) -> Worker:
            started.append(worker := Worker(env, tmp_path, name))
            return worker

        def redis(self) -> PrivateRedis:
            started.append(instance := PrivateRedis(tmp_path))
            return instance

    yield Launcher()
    for thing in reversed(started):
        thing.stop()


def api_session(user) -> tuple[requests.Session, str]:
    """An HTTP session with a fresh API key of `user` (committed: the server must see it), and the key."""
    _record, token = services.api_key_create(user=user, name="faults")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session, token
