"""Fault: the server process is SIGKILLed while an annotation batch save is in its transaction.
After a restart the item has all of the batch or none of it, and its count agrees."""

import sqlite3
import threading

import psycopg
import pytest
import requests
from django.conf import settings

from annotator.annotations.models import Annotation, AnnotationChange
from tests.annotations.conftest import box
from tests.conftest import _test_database_url, wait_until
from tests.faults.conftest import SCALE_OUT, api_session, process_env

pytestmark = pytest.mark.django_db(transaction=True)

BATCH_SIZE = 2000


def _post_in_background(session, url: str, body: dict) -> dict:
    """POST on a thread; what happened (a response or the connection dropping) lands in the dict."""
    outcome: dict = {}

    def post():
        try:
            outcome["response"] = session.post(url, json=body, timeout=60)
        except requests.ConnectionError as exc:
            outcome["dropped"] = exc

    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    outcome["thread"] = thread
    return outcome


class PostgresHold:
    """Blocks the batch's history insert with a table lock, so the kill lands after its
    annotation rows were written inside its still open transaction."""

    def __init__(self) -> None:
        self.holder = psycopg.connect(_test_database_url())
        # Observed from a second, autocommit connection: pg_stat_activity is a per-transaction snapshot.
        self.observer = psycopg.connect(_test_database_url(), autocommit=True)
        self.holder.execute(f'LOCK TABLE "{AnnotationChange._meta.db_table}" IN SHARE MODE')

    def batch_waiting_with_rows_written(self) -> int | None:
        """The backend pid of a transaction that inserted annotations and now waits on our lock."""
        row = self.observer.execute(
            """SELECT a.pid FROM pg_stat_activity a
               JOIN pg_locks l ON l.pid = a.pid AND l.granted AND l.mode = 'RowExclusiveLock'
               JOIN pg_class c ON c.oid = l.relation AND c.relname = %s
               WHERE a.wait_event_type = 'Lock' AND a.datname = current_database()""",
            [Annotation._meta.db_table],
        ).fetchone()
        return row[0] if row else None

    def release(self, backend_pid: int | None) -> None:
        """End the lock; the orphaned backend then finds its client gone and rolls back."""
        self.holder.rollback()
        self.holder.close()
        if backend_pid is not None:
            wait_until(
                lambda: (
                    not self.observer.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend_pid]).fetchone()
                ),
                timeout=30,
                message="the killed server's database session to end",
            )
        self.observer.close()


def _sqlite_write_transaction_open() -> bool:
    """True while another connection holds SQLite's write lock (the batch's IMMEDIATE transaction)."""
    probe = sqlite3.connect(settings.DATABASES["default"]["NAME"], timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        return "locked" in str(exc)
    else:
        probe.execute("ROLLBACK")
        return False
    finally:
        probe.close()


def test_a_batch_save_killed_mid_request_is_all_or_nothing(members, item, media_root, processes):
    # given a server and an API session whose key's last use is fresh (so the batch is the only writer)
    env = process_env(media_root, REDIS_URL=processes.redis().url) if SCALE_OUT else process_env(media_root)
    server = processes.server(env)
    api, _token = api_session(members["owner"])
    assert api.get(f"{server.url}/api/v1/items/{item.id}", timeout=10).json()["annotationsCount"] == 0
    batch = {"create": [box(left=1 + i % 8, label="cat") for i in range(BATCH_SIZE)]}

    # when the server is killed while the batch's transaction is open
    hold = PostgresHold() if SCALE_OUT else None
    backend = None
    try:
        outcome = _post_in_background(api, f"{server.url}/api/v1/items/{item.id}/annotations/batch", batch)
        if hold is not None:
            backend = wait_until(hold.batch_waiting_with_rows_written, timeout=30, message="the batch to write rows")
        else:
            wait_until(_sqlite_write_transaction_open, timeout=30, interval=0.005, message="the batch's transaction")
        server.kill()
        outcome["thread"].join(timeout=30)
    finally:
        if hold is not None:
            hold.release(backend)

    # then the client saw the connection drop, and after a restart the batch is all there or absent
    assert "dropped" in outcome, outcome.get("response")
    restarted = processes.server(env)
    listed = api.get(f"{restarted.url}/api/v1/items/{item.id}/annotations", timeout=10)
    detail = api.get(f"{restarted.url}/api/v1/items/{item.id}", timeout=10).json()
    assert listed.status_code == 200
    stored = Annotation.objects.filter(item_id=item.id).count()
    assert stored in (0, BATCH_SIZE)
    assert detail["annotationsCount"] == stored
    assert AnnotationChange.objects.filter(item_id=item.id).count() == stored
    if hold is not None:  # killed while provably mid-transaction: nothing of it may survive
        assert stored == 0
