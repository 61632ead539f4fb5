"""HTTP through uvicorn into Django's WSGI handler on reused threads (core/sync_http.py)."""

import http.client
import io
import os
import socket
import threading
import uuid

from PIL import Image

from annotator.accounts.services import api_key_create
from annotator.core.sync_http import wsgi_environ
from annotator.datasets import services as datasets
from annotator.datasets.models import Item
from tests.images import png


def test_the_environ_is_what_a_wsgi_server_would_build():
    body = io.BytesIO(b"12345")
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/é x",
        "raw_path": b"/api/v1/%C3%A9%20x",
        "root_path": "",
        "query_string": b"a=1&b=%C3%A9",
        "http_version": "1.1",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 51000),
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", b"999"),  # the spooled body's own size wins
            (b"x-many", b"a"),
            (b"x-many", b"b"),
            (b"transfer-encoding", b"chunked"),
        ],
    }

    environ = wsgi_environ(scope, body, 5)

    assert environ["PATH_INFO"] == "/api/v1/é x".encode().decode("latin-1")
    assert environ["QUERY_STRING"] == "a=1&b=%C3%A9"
    assert environ["CONTENT_TYPE"] == "application/json"
    assert environ["CONTENT_LENGTH"] == "5"
    assert environ["HTTP_X_MANY"] == "a,b"
    assert environ["HTTP_TRANSFER_ENCODING"] == "chunked"
    assert "HTTP_CONTENT_LENGTH" not in environ and "HTTP_CONTENT_TYPE" not in environ
    assert (environ["REMOTE_ADDR"], environ["SERVER_PORT"]) == ("127.0.0.1", "8000")
    assert environ["wsgi.input"] is body


def noise_png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(out, "PNG")
    return out.getvalue()


def _world(members, project):
    owner = members["owner"]
    dataset = datasets.dataset_create(user=owner, project_id=project.id, name="Bridge")
    return owner, dataset


def _token(user) -> str:
    return f"Bearer {api_key_create(user=user, name='tests')[1]}"


def test_a_chunked_upload_with_no_length_is_read_whole(live_server, members, project):
    """dtlpy streams uploads chunked, with no Content-Length; the spooled body gives Django one."""
    owner, dataset = _world(members, project)
    image = png(width=64, height=48)
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="path"\r\n\r\n/chunked/one.png\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="one.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + image
        + f"\r\n--{boundary}--\r\n".encode()
    )
    connection = http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=30)
    connection.putrequest("POST", f"/api/v1/datasets/{dataset.id}/items")
    connection.putheader("Authorization", _token(owner))
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    for start in range(0, len(body), 1000):
        piece = body[start : start + 1000]
        connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    connection.send(b"0\r\n\r\n")
    response = connection.getresponse()
    answer = response.read()

    assert response.status in (200, 201), answer
    item = Item.objects.get(dataset=dataset, filename="/chunked/one.png")
    assert item.metadata["system"]["size"] == len(image)
    assert (item.metadata["system"]["width"], item.metadata["system"]["height"]) == (64, 48)


def test_a_ranged_download_streams_exact_bytes_and_a_dropped_one_frees_its_thread(
    live_server, members, project, settings
):
    owner, dataset = _world(members, project)
    image = noise_png(900, 900)  # ~2.4 MB that does not compress: more than the socket buffers
    item, _ = datasets.item_upload(user=owner, dataset_id=dataset.id, path="/big.png", fileobj=io.BytesIO(image))
    headers = {"Authorization": _token(owner)}

    connection = http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=30)
    connection.request("GET", f"/api/v1/items/{item.id}/stream", headers={**headers, "Range": "bytes=100-65635"})
    response = connection.getresponse()
    assert response.status == 206
    assert response.read() == image[100:65636]

    # More clients walk away mid-download than there are threads: each thread must come back.
    for _ in range(settings.HTTP_THREADS + 2):
        dropped = socket.create_connection(("127.0.0.1", live_server.port), timeout=30)
        dropped.sendall(
            f"GET /api/v1/items/{item.id}/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: {headers['Authorization']}\r\n\r\n".encode()
        )
        assert dropped.recv(64).startswith(b"HTTP/1.1 200")
        dropped.close()

    answers = []

    def fetch():
        client = http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=30)
        client.request("GET", f"/api/v1/items/{item.id}/stream", headers=headers)
        reply = client.getresponse()
        answers.append((reply.status, reply.read() == image))

    fetchers = [threading.Thread(target=fetch) for _ in range(4)]
    for fetcher in fetchers:
        fetcher.start()
    for fetcher in fetchers:
        fetcher.join(timeout=60)
    assert answers == [(200, True)] * 4
