"""Django's SQLite backend, tuned for the embedded default's one process of many threads.

- Writers queue on a lock in the process before `BEGIN IMMEDIATE`. SQLite's own busy
  handler polls with sleeps of 1, 2, 5, 10… ms, so under ASGI (a thread per request) and
  the in-process worker, concurrent writers spent more time asleep than writing; a waiter
  on the lock starts the moment the writer before it commits. Other processes (a manage.py
  command, tests) still meet SQLite's lock and busy timeout as before.
- One connection per database file stays open for the life of the process. Connections come
  and go with each request thread, and when the last one closes SQLite checkpoints and
  deletes the WAL, which the next connection then has to recreate.
"""

from __future__ import annotations

import sqlite3
import threading

from django.db import OperationalError
from django.db.backends.sqlite3 import base

_guard = threading.Lock()
_writer_locks: dict[str, threading.Lock] = {}
_keepers: dict[str, sqlite3.Connection] = {}


def _writer_lock(name: str) -> threading.Lock:
    with _guard:
        return _writer_locks.setdefault(name, threading.Lock())


def _keep_open(name: str) -> None:
    with _guard:
        if name not in _keepers:
            _keepers[name] = sqlite3.connect(name, check_same_thread=False)


class DatabaseWrapper(base.DatabaseWrapper):
    _held: threading.Lock | None = None

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if not self.is_in_memory_db():
            _keep_open(str(self.settings_dict["NAME"]))
        return connection

    def _start_transaction_under_autocommit(self):
        if self.transaction_mode in ("IMMEDIATE", "EXCLUSIVE") and not self.is_in_memory_db():
            lock = _writer_lock(str(self.settings_dict["NAME"]))
            timeout = self.settings_dict["OPTIONS"].get("timeout", 5)
            if not lock.acquire(timeout=timeout):
                raise OperationalError("database is locked")
            self._held = lock
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer()
            raise

    def _release_writer(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            held.release()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_writer()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release_writer()
