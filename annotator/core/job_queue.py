"""Queueing jobs so that a broker outage does not fail the request that asked for one.

Jobs are sent after the request's transaction commits. If the broker (Redis) is down at that
moment, the write has already happened: raising would answer 500 for a change that was made
and lose the job. Instead the job waits in this process and a retry thread sends it once the
broker is back (jobs still waiting when the process stops are lost; the thumbnail backfill sent
at startup recovers those, and a command whose job never ran stays queued, visibly).

Small jobs that come by the hundred a second (a thumbnail per uploaded image) are collected
instead: `job_collect` hands its value to a sender thread, which waits COLLECT_SECONDS after the
first value for others, then sends them all as one job with a list (and what arrives while it
publishes goes with the next). Publishing through Celery cost an upload about 2 ms, and running
a job cost the worker several more than the thumbnail itself.
"""

import atexit
import logging
import threading
import time
from collections import defaultdict
from typing import Any

logger = logging.getLogger(__name__)

RETRY_INTERVAL_SECONDS = 1.0
COLLECT_SECONDS = 0.05


class _Retrier:
    """One thread that resends jobs the broker refused, oldest first, until they go out."""

    def __init__(self) -> None:
        self._waiting: list[tuple[Any, tuple[Any, ...]]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, task, args: tuple[Any, ...]) -> None:
        with self._lock:
            self._waiting.append((task, args))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="job-retrier", daemon=True)
                self._thread.start()

    def waiting(self) -> int:
        with self._lock:
            return len(self._waiting)

    def _run(self) -> None:
        while True:
            time.sleep(RETRY_INTERVAL_SECONDS)
            with self._lock:
                if not self._waiting:
                    self._thread = None
                    return
                task, args = self._waiting[0]
            try:
                task.apply_async(args=args, retry=False)
            except Exception:  # noqa: BLE001 - still down; try again after the interval
                continue
            with self._lock:
                self._waiting.pop(0)
            logger.info("job %s sent after the broker came back", task.name)


_retrier = _Retrier()


def job_send(task, *args: Any) -> None:
    """Queue `task(*args)`; if the broker cannot take it now, keep it and resend it later."""
    try:
        task.apply_async(args=args)
    except Exception:  # noqa: BLE001 - kombu raises its own OperationalError, redis its errors
        logger.warning("the broker refused job %s; it will be resent when the broker is back", task.name)
        _retrier.submit(task, args)


def jobs_waiting() -> int:
    """How many jobs wait for the broker in this process."""
    return _retrier.waiting()


class _Collector:
    """One thread that sends the values collected for each task as one job per task."""

    def __init__(self, wait: float = COLLECT_SECONDS, sleep=time.sleep) -> None:
        self._wait, self._sleep = wait, sleep
        self._pending: defaultdict[Any, list[Any]] = defaultdict(list)
        self._arrived = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, task, value: Any) -> None:
        with self._arrived:
            self._pending[task].append(value)
            self._arrived.notify()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="job-collector", daemon=True)
                self._thread.start()

    def flush(self) -> None:
        """Send what is pending now, on this thread (at exit, where the daemon thread dies)."""
        with self._arrived:
            pending, self._pending = self._pending, defaultdict(list)
        self._send(pending)

    def _run(self) -> None:
        while True:
            with self._arrived:
                while not self._pending:
                    self._arrived.wait()
            self._sleep(self._wait)  # the burst's next values join this job
            with self._arrived:
                pending, self._pending = self._pending, defaultdict(list)
            self._send(pending)

    @staticmethod
    def _send(pending: dict[Any, list[Any]]) -> None:
        for task, values in pending.items():
            job_send(task, values)


_collector = _Collector()
atexit.register(_collector.flush)


def job_collect(task, value: Any) -> None:
    """Queue `value` for `task(values: list)`, sent with the other values that arrive meanwhile
    (a job per value would cost the request, and the worker, far more than the work)."""
    _collector.add(task, value)
