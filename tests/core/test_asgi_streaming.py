"""Streamed responses under ASGI (`make run`, uvicorn): sent part by part, no warning, same bytes.

Django's ASGI handler reads a response built on a synchronous iterator (every ``FileResponse``:
WhiteNoise's static files, the APIs' downloads) whole before sending it, and warns
"StreamingHttpResponse must consume synchronous iterators". ``core.middleware.AsyncStreamingMiddleware``
hands it an asynchronous iterator instead. These tests drive Django's real ASGI handler with the
ASGI messages a server sends, and compare with what the synchronous (WSGI) path answers.
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

import django
import pytest
from asgiref.sync import SyncToAsync, async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.http import StreamingHttpResponse
from django.urls import path

from config.urls import urlpatterns as platform_urlpatterns
from core import storage
from core.asgi import get_asgi_application

pytestmark = [pytest.mark.urls("tests.core.test_asgi_streaming"), pytest.mark.django_db]

STATIC_FILE = "/static/admin/css/base.css"
STATIC_SOURCE = Path(django.__file__).parent / "contrib/admin/static/admin/css/base.css"
PART_TIMEOUT_SECONDS = 5.0
second_part_may_go = threading.Event()


def slow_stream_view(request):
    """A synchronous stream whose second part waits until the client has received the first."""

    def parts():
        yield b"first part\n"
        second_part_may_go.wait(timeout=2 * PART_TIMEOUT_SECONDS)
        yield b"second part\n"

    return StreamingHttpResponse(parts(), content_type="text/plain")


urlpatterns = [path("__stream/slow", slow_stream_view), *platform_urlpatterns]


def http_scope(url: str) -> dict:
    path_part, _, query = url.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path_part,
        "raw_path": path_part.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


class AsgiAnswer:
    def __init__(self, start: dict, parts: list[bytes]) -> None:
        self.status = start["status"]
        self.headers = {name.decode().lower(): value.decode() for name, value in start["headers"]}
        self.parts = parts
        self.body = b"".join(parts)


async def asgi_get(url: str, *, on_part=None) -> AsgiAnswer:
    communicator = ApplicationCommunicator(get_asgi_application(), http_scope(url))
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(timeout=60)  # the first request imports every view
    parts = []
    while True:
        message = await communicator.receive_output(timeout=PART_TIMEOUT_SECONDS)
        if message.get("body"):
            parts.append(message["body"])
            if on_part is not None:
                on_part(message["body"])
        if not message.get("more_body", False):
            break
    await communicator.wait(timeout=PART_TIMEOUT_SECONDS)
    return AsgiAnswer(start, parts)


def served_under_asgi(url: str, **kwargs) -> tuple[AsgiAnswer, list[str]]:
    """The answer and every warning raised while serving it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        answer = async_to_sync(asgi_get)(url, **kwargs)
    return answer, [str(warning.message) for warning in caught]


def comparable_headers(headers) -> dict[str, str]:
    """Headers that must not differ between two answers (a request's id and its rate count do)."""
    return {
        name.lower(): value
        for name, value in headers.items()
        if name.lower() not in {"x-request-id", "date"} and not name.lower().startswith("x-ratelimit-")
    }


def test_a_static_file_under_asgi_is_sent_without_a_warning_with_the_bytes_wsgi_sends(client):
    # Given the same static file asked for through the synchronous (WSGI) path
    wsgi = client.get(STATIC_FILE)
    assert wsgi.status_code == 200, wsgi

    # When it is served by Django's ASGI handler
    answer, warned = served_under_asgi(STATIC_FILE)

    # Then nothing warns, and the status, headers and bytes are those of the synchronous answer
    assert warned == []
    assert answer.status == 200
    assert answer.body == STATIC_SOURCE.read_bytes() == b"".join(wsgi.streaming_content)
    assert comparable_headers(answer.headers) == comparable_headers(wsgi.headers)


def test_a_download_under_asgi_is_sent_without_a_warning_with_the_bytes_wsgi_sends(client):
    # Given a stored file of several of the handler's 64 KiB parts, and its signed link
    content = bytes(range(256)) * 1024 + b"tail"
    cid = storage.save_bytes(content).cid
    token, _ = storage.sign_download(
        cid, product="cerebro", filename="report.bin", content_type="application/pdf", ttl_seconds=600
    )
    url = f"/cerebro/api/files/download/{token}"
    wsgi = client.get(url)
    assert wsgi.status_code == 200, wsgi

    # When it is downloaded through the ASGI handler
    answer, warned = served_under_asgi(url)

    # Then nothing warns; the bytes come in parts, the same bytes and headers as under WSGI
    assert warned == []
    assert answer.status == 200
    assert answer.body == content == b"".join(wsgi.streaming_content)
    assert len(answer.parts) > 1
    assert comparable_headers(answer.headers) == comparable_headers(wsgi.headers)
    assert answer.headers["content-length"] == str(len(content))


def test_a_synchronous_stream_under_asgi_sends_each_part_as_it_is_made():
    # Given a stream whose second part is made only once the client holds the first
    second_part_may_go.clear()
    received_before_the_second_was_made: list[bytes] = []

    def on_part(part: bytes) -> None:
        if not second_part_may_go.is_set():
            received_before_the_second_was_made.append(part)
            second_part_may_go.set()

    # When it is served under ASGI
    answer, warned = served_under_asgi("/__stream/slow", on_part=on_part)

    # Then the first part arrived on its own, before the second was made (read whole, it arrived
    # only after the stream's wait ran out), and nothing warned
    assert received_before_the_second_was_made == [b"first part\n"]
    assert answer.body == b"first part\nsecond part\n"
    assert warned == []


def test_under_wsgi_a_synchronous_stream_stays_synchronous(client):
    # Given a synchronous stream served through the WSGI path (gunicorn, the test client)
    second_part_may_go.set()

    # When it is served
    response = client.get("/__stream/slow")

    # Then it is still a synchronous iterator, as gunicorn needs it
    assert response.status_code == 200, response
    assert response.is_async is False
    assert b"".join(response.streaming_content) == b"first part\nsecond part\n"


def test_a_sync_view_under_asgi_runs_with_its_middleware_in_one_thread_hop(monkeypatch):
    # Given a count of every hand-off from the event loop to a thread
    hops = []
    hand_off = SyncToAsync.__call__

    async def counted(self, *args, **kwargs):
        hops.append(getattr(self.func, "__name__", repr(self.func)))
        return await hand_off(self, *args, **kwargs)

    served_under_asgi("/coder/health")  # every view imported first
    monkeypatch.setattr(SyncToAsync, "__call__", counted)

    # When a sync API view is served under ASGI
    answer, _ = served_under_asgi("/coder/health")

    # Then the middleware chain and the view ran in one thread, entered once, beside the hops of
    # the request_started signal and of closing the response (Django's own handler also entered
    # one for each process_request and process_response of seven middleware: 19 in all)
    assert answer.status == 200, answer.body
    assert hops == ["sync_send", "inner", "close"], hops
