"""A real, local, scriptable OpenAI-compatible HTTP server for tests, and the fixtures that start it.

Registered as a pytest plugin in tests/conftest.py, so every test folder can use:

- ``fake_openai_server``: a started ``FakeOpenAIServer`` on 127.0.0.1 (free port), stopped after
  the test. ``server.base_url`` ends in ``/v1`` like a real server's.
- ``llm_endpoint_configured``: the same server, with ``LLM_BASE_URL``/``LLM_API_KEY`` pointing at
  it and a 5 s timeout, so ``core.llm.get_provider()`` talks to it.
- ``llm_not_configured``: ``LLM_BASE_URL`` empty, so ``get_provider()`` is the offline provider.

Script it before the call under test; each request takes the next queued response, and with the
queue empty it answers ``"echo: <last user message>"``::

    fake_openai_server.reply("Hello!", usage=(12, 3))          # plain or streamed, as asked
    fake_openai_server.reply_stream(["Hel", "lo"], usage=None, chunk_delay=0.1, drop_after=1)
    fake_openai_server.fail(503, headers={"Retry-After": "1"})
    fake_openai_server.reply("late", delay=2.0)                # for timeouts

Every request is recorded (``server.requests``: method, path, headers, JSON body).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

FAKE_MODEL = "fake-model"
FAKE_API_KEY = "sk-test-fake-openai-key-0123456789"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    json: Any

    @property
    def wants_stream(self) -> bool:
        return isinstance(self.json, dict) and bool(self.json.get("stream"))


@dataclass
class ScriptedResponse:
    """One queued answer. ``text`` answers in whichever form the request asked for;
    ``stream_deltas`` always answers as a stream; ``status`` >= 400 answers with an error body."""

    status: int = 200
    text: str | None = None
    stream_deltas: list[str] | None = None
    model: str = FAKE_MODEL
    usage: tuple[int, int] | None = None  # (prompt_tokens, completion_tokens); None: no usage sent
    finish_reason: str = "stop"
    error_message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    raw_body: bytes | None = None
    delay: float = 0.0  # before the status line
    chunk_delay: float = 0.0  # between stream events
    drop_after: int | None = None  # cut the connection after this many content events
    send_done: bool = True
    error_event_after: int | None = None  # send an in-stream {"error": ...} after this many events


def _word_count_usage(request_json: Any, text: str) -> tuple[int, int]:
    messages = request_json.get("messages", []) if isinstance(request_json, dict) else []
    prompt = sum(len(str(m.get("content", "")).split()) for m in messages if isinstance(m, dict))
    return prompt, len(text.split())


def _usage_json(usage: tuple[int, int]) -> dict[str, int]:
    prompt, completion = usage
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _echo_text(request_json: Any) -> str:
    messages = request_json.get("messages", []) if isinstance(request_json, dict) else []
    user = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    return "echo: " + (str(user[-1].get("content", "")) if user else "")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes; no 40 ms stalls
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return  # keep test output clean

    def do_GET(self) -> None:
        self.server.fake.record(self, None)
        if self.path.rstrip("/") == "/v1/models":
            self._send_json(200, {"object": "list", "data": [{"id": FAKE_MODEL, "object": "model"}]})
        else:
            self._send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        request = self.server.fake.record(self, body)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
            return
        scripted = self.server.fake.next_response(body)
        if scripted.delay and not self.server.fake.pause(scripted.delay):
            return
        try:
            self._answer(scripted, request)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (e.g. it timed out)

    def _answer(self, scripted: ScriptedResponse, request: RecordedRequest) -> None:
        if scripted.raw_body is not None:
            self._send(scripted.status, scripted.raw_body, "application/json", scripted.headers)
        elif scripted.status >= 400:
            error = {"message": scripted.error_message or f"fake error {scripted.status}", "type": "server_error"}
            self._send_json(scripted.status, {"error": error}, scripted.headers)
        elif scripted.stream_deltas is not None:
            self._send_stream(scripted, scripted.stream_deltas, request)
        else:
            text = scripted.text if scripted.text is not None else _echo_text(request.json)
            if request.wants_stream:
                self._send_stream(scripted, re.findall(r"\S+\s*|\s+", text), request)
            else:
                self._send_completion(scripted, text, request)

    def _send_completion(self, scripted: ScriptedResponse, text: str, request: RecordedRequest) -> None:
        payload: dict[str, Any] = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": scripted.model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": scripted.finish_reason}
            ],
        }
        usage = scripted.usage if scripted.usage is not None else None
        if usage is not None:
            payload["usage"] = _usage_json(usage)
        self._send_json(scripted.status, payload, scripted.headers)

    def _send_stream(self, scripted: ScriptedResponse, deltas: list[str], request: RecordedRequest) -> None:
        self.send_response(scripted.status)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in scripted.headers.items():
            self.send_header(name, value)
        self.end_headers()

        def event(data: dict[str, Any] | str) -> None:
            text = data if isinstance(data, str) else json.dumps(data)
            self._write_chunk(f"data: {text}\n\n".encode())

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            return {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "model": scripted.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            }

        event(chunk({"role": "assistant", "content": ""}))
        for number, delta in enumerate(deltas):
            if scripted.drop_after is not None and number >= scripted.drop_after:
                self._drop()
                return
            if scripted.error_event_after is not None and number >= scripted.error_event_after:
                event({"error": {"message": scripted.error_message or "fake stream error", "type": "server_error"}})
                self._end_chunks()
                return
            if number and scripted.chunk_delay and not self.server.fake.pause(scripted.chunk_delay):
                return
            event(chunk({"content": delta}))
        event(chunk({}, scripted.finish_reason))
        include_usage = isinstance(request.json, dict) and (request.json.get("stream_options") or {}).get(
            "include_usage"
        )
        if include_usage and scripted.usage is not None:
            event({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": scripted.model,
                   "choices": [], "usage": _usage_json(scripted.usage)})  # fmt: skip
        if scripted.send_done:
            event("[DONE]")
        self._end_chunks()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _drop(self) -> None:
        # Leave the chunked body unfinished and close: the client sees a broken stream.
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", headers or {})

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeOpenAIServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a client that hung up mid-answer is part of the script, not a test failure


class FakeOpenAIServer:
    """An OpenAI-compatible server on 127.0.0.1 answering from a script; see the module docstring."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._queue: deque[ScriptedResponse] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeOpenAIServer:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            # A short poll interval keeps stop() (and so each test's teardown) quick.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-openai",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in a scripted delay
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the server first"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # --- script ---------------------------------------------------------------------------------

    def enqueue(self, response: ScriptedResponse) -> None:
        with self._lock:
            self._queue.append(response)

    def reply(
        self,
        text: str,
        *,
        usage: tuple[int, int] | None = (10, 5),
        model: str = FAKE_MODEL,
        finish_reason: str = "stop",
        delay: float = 0.0,
    ) -> None:
        """Answer ``text``: a JSON completion, or an SSE stream when the request asks to stream."""
        self.enqueue(ScriptedResponse(text=text, usage=usage, model=model, finish_reason=finish_reason, delay=delay))

    def reply_stream(
        self,
        deltas: list[str],
        *,
        usage: tuple[int, int] | None = (10, 5),
        model: str = FAKE_MODEL,
        finish_reason: str = "stop",
        delay: float = 0.0,
        chunk_delay: float = 0.0,
        drop_after: int | None = None,
        error_event_after: int | None = None,
        send_done: bool = True,
    ) -> None:
        """Answer with an SSE stream of ``deltas`` (usage chunk only if the request asked for it)."""
        self.enqueue(
            ScriptedResponse(
                stream_deltas=deltas,
                usage=usage,
                model=model,
                finish_reason=finish_reason,
                delay=delay,
                chunk_delay=chunk_delay,
                drop_after=drop_after,
                error_event_after=error_event_after,
                send_done=send_done,
            )
        )

    def fail(
        self, status: int, *, message: str = "", headers: dict[str, str] | None = None, delay: float = 0.0
    ) -> None:
        """Answer with HTTP ``status`` and an OpenAI-style error body."""
        self.enqueue(ScriptedResponse(status=status, error_message=message, headers=headers or {}, delay=delay))

    def reply_raw(self, body: bytes, *, status: int = 200) -> None:
        """Answer with exactly ``body`` (for malformed answers)."""
        self.enqueue(ScriptedResponse(status=status, raw_body=body))

    # --- used by the handler --------------------------------------------------------------------

    def record(self, handler: BaseHTTPRequestHandler, body: Any) -> RecordedRequest:
        request = RecordedRequest(
            method=handler.command,
            path=handler.path,
            headers={name.lower(): value for name, value in handler.headers.items()},
            json=body,
        )
        with self._lock:
            self.requests.append(request)
        return request

    def next_response(self, request_json: Any) -> ScriptedResponse:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        text = _echo_text(request_json)
        return ScriptedResponse(text=text, usage=_word_count_usage(request_json, text))

    def pause(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless the server stops first; True when the sleep ran its course."""
        return not self._stopping.wait(seconds)


@pytest.fixture
def fake_openai_server():
    """A started fake OpenAI-compatible server, stopped after the test."""
    server = FakeOpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def llm_endpoint_configured(settings, fake_openai_server):
    """Settings pointing ``core.llm.get_provider()`` at the fake server (with a key and a 5 s timeout)."""
    settings.LLM_BASE_URL = fake_openai_server.base_url
    settings.LLM_API_KEY = FAKE_API_KEY
    settings.LLM_DEFAULT_MODEL = FAKE_MODEL
    settings.LLM_TIMEOUT_SECONDS = 5.0
    settings.LLM_MAX_RETRIES = 2
    return fake_openai_server


@pytest.fixture
def llm_not_configured(settings):
    """Settings with no language model: ``core.llm.get_provider()`` is the offline provider."""
    settings.LLM_BASE_URL = ""
    settings.LLM_API_KEY = ""
