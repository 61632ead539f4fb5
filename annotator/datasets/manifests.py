"""Manifests: NDJSON registering many items that link to external URLs, as a Command.

One JSON object per line: {"url": "https://…/x.jpg", "path": "/remote/x.jpg", "metadata": {"user": {…}}}.
`url` is required (http or https, no credentials); `path` defaults to the URL's file name at
the root. Nothing is downloaded: the item's stream redirects to its URL. Lines are checked
and inserted in batches, each batch atomic; the report names every rejected line.

A thread parses the next batch while the database writes this one: parsing is pure Python
and touches no database, and the driver lets go of the GIL while it waits for the server.
The thread also turns each line into what the insert sends (a COPY line on PostgreSQL, a
JSON array on SQLite), so that the writing thread only joins and sends: when it formatted
the rows itself, it held the GIL while the server waited for data.
"""

import mimetypes
import queue
import re
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import orjson
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework.exceptions import ParseError

from annotator.accounts.models import User
from annotator.core.errors import ApiError, BadRequest
from annotator.core.ids import new_id
from annotator.core.json import json_text
from annotator.core.parsers import json_loads_bounded
from annotator.datasets.models import Dataset, Item
from annotator.datasets.paths import ancestors, normalize_path, split_path
from annotator.datasets.services import dataset_items_changed

BATCH = 5000
YIELD_EVERY = 64  # lines (~0.7 ms of parsing)
MAX_LINE = 64 * 1024
MAX_REPORTED = 1000
T = TypeVar("T")
Row = tuple[str, str, Any]
"""A file item to insert: (path, directory, its insert record: a COPY line or a JSON array)."""


def _entry(line: str, number: int) -> tuple[str, dict[str, Any]]:
    """(item path, system+user metadata) for one manifest line; BadRequest if it is wrong."""
    if len(line) > MAX_LINE:
        raise BadRequest(f"line {number} is longer than {MAX_LINE} characters")
    try:
        record = json_loads_bounded(line)  # NaN and Infinity too: PostgreSQL's jsonb refuses them
    except ParseError as exc:
        raise BadRequest(f"line {number} is not JSON") from exc
    if not isinstance(record, dict):
        raise BadRequest(f"line {number} is not a JSON object")
    url = record.get("url")
    if not isinstance(url, str):
        raise BadRequest(f"line {number} has no url")
    name = unquote(_url_path(url, number).rpartition("/")[2]) or "item"
    path = normalize_path(record.get("path") or f"/{name}")
    metadata = record.get("metadata") or {}
    if not isinstance(metadata, dict) or not isinstance(metadata.get("user", {}), dict):
        raise BadRequest(f"line {number}: metadata.user must be an object")
    mimetype = _mimetype(path) or _mimetype(name) or "application/octet-stream"
    system = {"url": url, "isLink": True, "mimetype": mimetype, "originalname": name, "refs": []}
    return path, {"system": system, "user": metadata.get("user", {})}


# The plain URL of nearly every manifest line, matched in C (urlsplit was a quarter of the
# parsing): a lowercase scheme, a host name, no user info, port or whitespace. Anything else
# goes through urlsplit, which accepts the same URLs and gives them the same path.
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]+(/[^?#\s]*)?(?:[?#]\S*)?")


def _url_path(url: str, number: int) -> str:
    """The path of an http(s) URL without credentials; BadRequest for any other."""
    plain = _PLAIN_URL.fullmatch(url)
    if plain is not None:
        return plain.group(1) or ""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.username or parts.password:
        raise BadRequest(f"line {number}: url must be http(s) without credentials")
    return parts.path


_MIMETYPES: dict[str, str | None] = {}


def _mimetype(path: str) -> str | None:
    """mimetypes.guess_type by extension, memoised: it is slow enough to show per line."""
    extension = path.rpartition(".")[2].lower() if "." in path.rpartition("/")[2] else ""
    if extension not in _MIMETYPES:
        _MIMETYPES[extension] = mimetypes.guess_type(f"x.{extension}")[0] if extension else None
    return _MIMETYPES[extension]


def register(*, dataset: Dataset, user: User, lines, progress, total_bytes: int) -> dict[str, Any]:
    """Insert the manifest's items; returns the report. `lines` yields (number, text, bytes read).

    A batch is first written without looking up its paths: the unique constraint on paths
    refuses it if one exists, and it is written again, skipping the paths that exist. After
    the first such clash every later batch is looked up first.
    """
    records = _item_records(dataset, user)
    known_dirs = set(Item.objects.filter(dataset=dataset, type=Item.Type.DIR).values_list("filename", flat=True))
    created = skipped = 0
    rejected: list[dict[str, Any]] = []
    clashed = False

    def write(batch: list[Row], *, look_up: bool) -> None:
        nonlocal created, skipped
        with transaction.atomic():
            _commit_without_waiting_for_disk()
            existing = _existing(dataset, [row[0] for row in batch]) if look_up else set()
            rows, seen, new_dirs = [], set(), {}
            for row in batch:
                path, directory, _record = row
                if path in existing or path in seen:
                    continue
                seen.add(path)
                if directory not in known_dirs and directory not in new_dirs:
                    for folder in ancestors(directory):
                        if folder not in known_dirs and folder not in new_dirs:
                            parent, folder_name = split_path(folder)
                            new_dirs[folder] = Item(
                                dataset=dataset,
                                type=Item.Type.DIR,
                                filename=folder,
                                name=folder_name,
                                dir=parent,
                                metadata={"system": {}, "user": {}},
                                creator=user,
                                updated_by=user,
                            )
                rows.append(row)
            Item.objects.bulk_create(new_dirs.values(), ignore_conflicts=True)
            records.insert([record for _path, _directory, record in rows])
            dataset_items_changed(dataset_id=dataset.pk, files=len(rows))
        known_dirs.update(new_dirs)
        created += len(rows)
        skipped += len(batch) - len(rows)

    for batch, consumed, full in _ahead(_batches(lines, rejected, records)):
        if not clashed:
            try:
                write(batch, look_up=False)
            except IntegrityError:
                clashed = True
        if clashed:
            write(batch, look_up=True)
        if full:
            progress.update(100 * consumed / max(total_bytes, 1))
    return {"created": created, "skipped": skipped, "rejectedCount": len(rejected), "rejected": rejected[:MAX_REPORTED]}


def _batches(
    lines, rejected: list[dict[str, Any]], records: "_CopyRecords | _JsonRecords"
) -> Iterator[tuple[list[Row], int, bool]]:
    """([(path, directory, insert record)], bytes read, whether the batch is full) for the
    good lines; the bad ones go to `rejected`."""
    batch: list[Row] = []
    consumed = 0
    record = records.start_batch()
    for number, text, consumed in lines:
        if number % YIELD_EVERY == 0:
            # Hand the GIL to the writing thread if it waits for it: between its round trips it
            # needs it only briefly, but waited up to the interpreter's 5 ms switch interval for
            # this thread to let go, and the server idled meanwhile (a fifth of the time).
            time.sleep(0)
        if not text.strip():
            continue
        try:
            path, metadata = _entry(text, number)
        except ApiError as exc:
            if len(rejected) < MAX_REPORTED:
                rejected.append({"line": number, "reason": str(exc.detail)})
            else:
                rejected.append({"line": number})
            continue
        directory, name = split_path(path)
        batch.append((path, directory, record(path, name, directory, json_text(metadata))))
        if len(batch) >= BATCH:
            yield batch, consumed, True
            batch = []
            record = records.start_batch()
    if batch:
        yield batch, consumed, False


def _ahead(iterable: Iterable[T], depth: int = 2) -> Iterator[T]:
    """The items of `iterable`, produced by a thread that runs up to `depth` items ahead.

    An exception in the thread is raised here; leaving early stops the thread.
    """
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(message: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                ready.put(message, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in iterable:
                if not put(("item", item)):
                    return
            put(("done", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            put(("error", exc))

    thread = threading.Thread(target=produce, name="manifest-parse", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = ready.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join()


def _commit_without_waiting_for_disk() -> None:
    """Let this transaction's COMMIT return before its WAL reaches the disk (PostgreSQL).

    A batch's commit waited ~25 ms for its flush, a seventh of a manifest's time. Nothing is
    promised before the Command ends, and the Command's own final write commits
    synchronously, which flushes every earlier commit with it: a crash can lose only the
    batches of a manifest that then reads as failed, and registering it again skips the
    paths that did land.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _existing(dataset: Dataset, paths: list[str]) -> set[str]:
    """Which of `paths` the dataset already has."""
    if connection.vendor == "postgresql":  # one array parameter, not thousands of them
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT filename FROM {Item._meta.db_table} WHERE dataset_id = %s AND filename = ANY(%s)",
                [dataset.pk, paths],
            )
            return {filename for (filename,) in cursor.fetchall()}
    return set(Item.objects.filter(dataset=dataset, filename__in=paths).values_list("filename", flat=True))


_COLUMNS = (
    "id",
    "dataset_id",
    "type",
    "filename",
    "name",
    "dir",
    "hidden",
    "metadata",
    "description",
    "annotated",
    "annotations_count",
    "creator_id",
    "updated_by_id",
    "created_at",
    "updated_at",
)


class _CopyRecords:
    """PostgreSQL: an item's record is a line of COPY text, in _COLUMNS' order; a batch is
    one COPY (several times faster than INSERTs there)."""

    def __init__(self, dataset: Dataset, user: User):
        self.dataset_id, self.user_id = dataset.id, user.id

    def start_batch(self):
        """The record maker for one batch: a batch's items share their creation time."""
        now = timezone.now().isoformat()
        # Paths hold no tab, newline, carriage return or backslash (normalize_path), and orjson
        # escapes every control character, so only the metadata's backslashes need escaping.
        head = f"\t{self.dataset_id}\t{Item.Type.FILE}\t"
        tail = f"\t\tf\t0\t{self.user_id}\t{self.user_id}\t{now}\t{now}\n"

        def copy_line(path: str, name: str, directory: str, metadata: str) -> str:
            if "\\" in metadata:
                metadata = metadata.replace("\\", "\\\\")
            return f"{new_id()}{head}{path}\t{name}\t{directory}\tf\t{metadata}{tail}"

        return copy_line

    def insert(self, records: list[str]) -> None:
        with connection.cursor() as cursor:
            sql = f"COPY {Item._meta.db_table} ({', '.join(_COLUMNS)}) FROM STDIN"
            with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
                copy.write("".join(records))


class _JsonRecords:
    """SQLite: an item's record is a JSON array of what varies per item; a batch is one
    INSERT ... SELECT FROM json_each over the array of them. An executemany let go of the GIL
    around every row's step and waited to get it back from the parse thread, so the two
    threads ran in turn, not side by side."""

    _FIELD = "json_extract(value, '$[{}]')".format
    # Each column's value: a field of the record, or a parameter shared by the batch.
    _VALUES = {
        "id": _FIELD(0),
        "dataset_id": "%s",
        "type": "%s",
        "filename": _FIELD(1),
        "name": _FIELD(2),
        "dir": _FIELD(3),
        "hidden": "0",
        "metadata": _FIELD(4),
        "description": "''",
        "annotated": "0",
        "annotations_count": "0",
        "creator_id": "%s",
        "updated_by_id": "%s",
        "created_at": _FIELD(5),
        "updated_at": _FIELD(5),
    }

    def __init__(self, dataset: Dataset, user: User):
        self.dataset_id, self.user_id = dataset.id, user.id
        values = ", ".join(self._VALUES[column] for column in _COLUMNS)
        self.sql = f"INSERT INTO {Item._meta.db_table} ({', '.join(_COLUMNS)}) SELECT {values} FROM json_each(%s)"

    def start_batch(self):
        """The record maker for one batch: a batch's items share their creation time."""
        stamp = connection.ops.adapt_datetimefield_value(timezone.now())

        def json_row(path: str, name: str, directory: str, metadata: str) -> str:
            # The metadata goes as a string, so what is stored is exactly its JSON text.
            return orjson.dumps((new_id(), path, name, directory, metadata, stamp)).decode()

        return json_row

    def insert(self, records: list[str]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                self.sql, [self.dataset_id, Item.Type.FILE, self.user_id, self.user_id, f"[{','.join(records)}]"]
            )


def _item_records(dataset: Dataset, user: User) -> "_CopyRecords | _JsonRecords":
    """The file items' record maker and writer for this database. Either way the parse thread
    makes the records, so that the writing thread only joins and sends them (the ORM's
    bulk_create spends most of its time compiling SQL per row)."""
    return (_CopyRecords if connection.vendor == "postgresql" else _JsonRecords)(dataset, user)


def read_lines(path: Path):
    """(line number, text, bytes read so far) for each line of an NDJSON file."""
    consumed = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            consumed += len(raw)
            yield number, raw.decode("utf-8", errors="replace"), consumed
