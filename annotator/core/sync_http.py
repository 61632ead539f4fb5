"""HTTP requests served by Django's synchronous handler on a pool of long-lived threads.

Every view and middleware of the app is synchronous. Under Django's ASGI handler each request
still crossed between the event loop and threads five times (the outer middleware, the static
files' async middleware, the async core handler, the view), on a thread created and joined for
that one request, which then opened a database connection of its own. That was a fifth of the
server's CPU on a simple API read. Here uvicorn keeps the sockets (and Channels the
websockets), while each HTTP request, its body spooled as Django's ASGI handler spools it, runs
through Django's WSGI handler on a thread of a fixed pool: one crossing each way, and the
threads are reused.

An answer of one chunk (every API answer) is handed back to the event loop to send, so the
thread does not wait on the loop. A streamed body goes out from its thread, waiting on the
socket as it writes, so a slow download holds a thread for its length: HTTP_THREADS (default
32) bounds how many run at once.
"""

import asyncio
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from tempfile import SpooledTemporaryFile
from urllib.parse import unquote_to_bytes

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler


def _adopt_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Let async_to_sync in this thread run on the server's loop, as it does under Django's
    ASGI handler (asgiref looks for these). The embedded channel layer's queues live on that
    loop; without this, async_to_sync would start a new loop in a new thread on every call."""
    SyncToAsync.threadlocal.main_event_loop = loop
    SyncToAsync.threadlocal.main_event_loop_pid = os.getpid()


def wsgi_environ(scope: dict, body, size: int) -> dict:
    """The WSGI environ of an ASGI HTTP scope, as a WSGI server builds it (PEP 3333): the path
    percent-decoded to bytes and carried as latin-1, headers as HTTP_*, repeated ones joined."""
    raw_path = scope.get("raw_path") or scope["path"].encode()
    root_path = scope.get("root_path", "").encode().decode("latin-1")
    path = unquote_to_bytes(raw_path).decode("latin-1")
    server = scope.get("server") or ("localhost", 80)
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root_path,
        "PATH_INFO": path[len(root_path) :] if root_path and path.startswith(root_path) else path,
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "CONTENT_LENGTH": str(size),  # the body as spooled: chunked uploads (dtlpy) have a length too
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if scope.get("client"):
        environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = scope["client"][0], str(scope["client"][1])
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").lower()
        if name == "content-length":
            continue
        key = "CONTENT_TYPE" if name == "content-type" else "HTTP_" + name.upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


class SyncHttpApp:
    """The ASGI application for HTTP: Django's WSGI handler on HTTP_THREADS reused threads."""

    def __init__(self) -> None:
        self.handler = WSGIHandler()
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()

    def _pool(self, loop: asyncio.AbstractEventLoop) -> ThreadPoolExecutor:
        if self._executor is None:  # made on the first request: its threads must know the loop
            with self._executor_lock:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(
                        settings.HTTP_THREADS,
                        thread_name_prefix="http",
                        initializer=_adopt_server_loop,
                        initargs=(loop,),
                    )
        return self._executor

    async def __call__(self, scope, receive, send) -> None:
        loop = asyncio.get_running_loop()
        limit, folder = settings.FILE_UPLOAD_MAX_MEMORY_SIZE, settings.FILE_UPLOAD_TEMP_DIR
        with SpooledTemporaryFile(max_size=limit, dir=folder) as body:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                body.write(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            size = body.tell()
            body.seek(0)
            last = await loop.run_in_executor(self._pool(loop), self._respond, scope, body, size, send, receive, loop)
        await _send_all(send, last)

    def _respond(self, scope, body, size: int, send, receive, loop) -> tuple[dict, ...]:
        """On a pool thread: run the request through Django. The response's last messages are
        returned for the event loop to send: an answer of one chunk (any API answer) goes out
        without this thread waiting on the loop. A body of more chunks streams out from here."""
        status_and_headers: list = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info=None):
            status_and_headers[:] = [
                int(status.split(" ", 1)[0]),
                [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers],
            ]

        response = self.handler(wsgi_environ(scope, body, size), start_response)
        stream: _Stream | None = None
        try:
            status, headers = status_and_headers
            # The start goes out with the first chunk of the body, and the last chunk is held
            # back to go out with more_body False.
            held: tuple[dict, ...] = ({"type": "http.response.start", "status": status, "headers": headers},)
            pending = b""
            for chunk in response:
                if chunk:
                    if pending:
                        stream = stream or _Stream(send, receive, loop)
                        if not stream.push(*held, {"type": "http.response.body", "body": pending, "more_body": True}):
                            return ()
                        held = ()
                    pending = chunk
            return (*held, {"type": "http.response.body", "body": pending, "more_body": False})
        finally:
            if stream is not None:
                stream.close()
            response.close()  # Django's request_finished: this thread's database connections go back


class _Stream:
    """A body of several chunks, sent from its pool thread, which waits on the socket as it
    writes; a client that goes away ends it (the thread is not held for the whole download)."""

    def __init__(self, send, receive, loop: asyncio.AbstractEventLoop) -> None:
        self.send, self.loop = send, loop
        self.gone = threading.Event()
        self.watcher = asyncio.run_coroutine_threadsafe(_watch_for_disconnect(receive, self.gone), loop)

    def push(self, *messages: dict) -> bool:
        """Send `messages`; False once the client has gone."""
        if self.gone.is_set():
            return False
        asyncio.run_coroutine_threadsafe(_send_all(self.send, messages), self.loop).result()
        return True

    def close(self) -> None:
        self.watcher.cancel()


async def _send_all(send, messages: tuple[dict, ...]) -> None:
    for message in messages:
        await send(message)


async def _watch_for_disconnect(receive, gone: threading.Event) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    gone.set()
