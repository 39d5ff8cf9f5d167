"""A provider for any server that speaks OpenAI's chat-completions API, built on the official SDK.

OpenAI, vLLM, Ollama, llama.cpp's server, LM Studio and most gateways accept the same request:
``POST {base_url}/chat/completions``. ``base_url`` is the API root *including* its version
segment, exactly as those servers document it (``https://api.openai.com/v1``,
``http://localhost:11434/v1`` for Ollama, ``http://localhost:8000/v1`` for vLLM).

The ``openai`` package does the HTTP work: the request, the server-sent events of a stream, the
timeouts, and the retries (``max_retries``; connection errors, timeouts, 408, 409, 429 and 5xx,
with exponential backoff and jitter, honouring ``Retry-After`` up to two minutes and failing at
once beyond that). This module adds what the SDK leaves to its caller:

- a stream is never retried once a chunk has been handed to the caller (the SDK retries only
  until the response headers arrive), and any failure after that is ``stream_interrupted``;
- the usage of every answer, estimated (and marked so) when the server sends none;
- every failure ends as ``LanguageModelError`` (``EXTERNAL_API_ERROR``, 502) with no secret in it.

An SDK client is opened per call and closed after it: an async client belongs to the event loop
that made it, and one client per call keeps a provider safe to share between threads, loops and
Celery processes. What makes a client slow to build, reading the CA bundle (~170 ms), is done
once per process: every client shares one TLS context.
"""

from __future__ import annotations

import functools
import logging
import re
import ssl
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import httpx2
import openai

from core.llm.errors import LanguageModelError
from core.llm.tokens import estimated_usage
from core.llm.types import Completion, Message, StreamChunk, Usage

logger = logging.getLogger("core.llm")

PROVIDER_NAME = "openai-compatible"
CONNECT_TIMEOUT_MAX_SECONDS = 10.0
UPSTREAM_MESSAGE_MAX_CHARS = 300

# The SDK insists on a key; a keyless server (Ollama, vLLM) gets this one, and never sees it: the
# Authorization header is omitted from every request instead.
_NO_KEY = "no-key"
_SECRET_PATTERNS = (
    re.compile(r"Bearer\s+\S+", re.IGNORECASE),
    re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"),
)


def redact(text: str, secret: str = "") -> str:
    """``text`` shortened, with ``secret`` and anything shaped like a bearer token or API key masked."""
    if secret:
        text = text.replace(secret, "[redacted]")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub("[redacted]", text)
    return text[:UPSTREAM_MESSAGE_MAX_CHARS]


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Built once per process; an SSLContext is safe to share between threads and event loops.
    return httpx2.create_ssl_context()


def _usage(raw: object) -> Usage | None:
    prompt = getattr(raw, "prompt_tokens", None)
    completion = getattr(raw, "completion_tokens", None)
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    total = getattr(raw, "total_tokens", None)
    if not isinstance(total, int):
        total = prompt + completion
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total)


def _upstream_error_text(body: object) -> str:
    """The message of an OpenAI-style error body (or Ollama's plain ``error`` string)."""
    if isinstance(body, Mapping):
        if "error" in body:
            return _upstream_error_text(body["error"])
        return str(body.get("message") or body.get("code") or "")
    return "" if body is None else str(body)


class _Call:
    """What one provider call has seen: the HTTP attempts the SDK made and, for a stream, its answer so far."""

    def __init__(self, messages: Sequence[Message], model: str) -> None:
        self.messages = messages
        self.model = model
        self.attempts = 0
        self.text: list[str] = []
        self.usage: Usage | None = None
        self.finish_reason: str | None = None

    @property
    def started(self) -> bool:
        """True once a chunk has reached the caller: from then on nothing may be retried."""
        return bool(self.text)

    def count_attempt(self, request: httpx2.Request) -> None:
        self.attempts += 1

    async def acount_attempt(self, request: httpx2.Request) -> None:
        self.attempts += 1

    def chunk_for(self, event: Any) -> StreamChunk | None:
        """The chunk for one streamed event, None when it carries no text."""
        try:
            if isinstance(event.model, str) and event.model:
                self.model = event.model
            self.usage = _usage(event.usage) or self.usage
            if not event.choices:
                return None
            choice = event.choices[0]
            if choice.finish_reason:
                self.finish_reason = str(choice.finish_reason)
            content = choice.delta.content if choice.delta is not None else None
        except (AttributeError, TypeError, IndexError):
            raise ValueError("malformed stream event") from None
        if not content:
            return None
        self.text.append(str(content))
        return StreamChunk(delta=str(content))

    def final_chunk(self) -> StreamChunk:
        usage = self.usage or estimated_usage(self.messages, "".join(self.text))
        return StreamChunk(delta="", usage=usage, finish_reason=self.finish_reason, model=self.model)


class OpenAICompatibleProvider:
    """Chat completions from an OpenAI-compatible server. Safe to share between threads."""

    name = PROVIDER_NAME

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str = "",
        default_model: str,
        timeout_seconds: float = 60.0,
        max_retries: int = 2,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("The language model base URL must start with http:// or https://")
        self.base_url = base_url.rstrip("/")
        self.default_model = default_model
        self.timeout_seconds = timeout_seconds
        self.max_retries = max(0, max_retries)
        self._api_key = api_key

    def __repr__(self) -> str:
        # Never the key, and not the URL either: it may carry credentials.
        return f"OpenAICompatibleProvider(model={self.default_model!r})"

    def complete(
        self,
        messages: Sequence[Message],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Completion:
        """The whole answer to ``messages``, or ``LanguageModelError`` once the SDK's retries are spent.

        ``usage`` comes from the server's ``usage`` field, or is estimated (and marked so) when
        the server sends none. ``options`` are further request fields (``stop``, ``seed``,
        ``response_format`` ...) sent as they are.
        """
        request = self._request(messages, model, temperature, max_tokens, options, stream=False)
        call = _Call(messages, request["model"])
        with self._failures_translated(call), self._client(call) as client:
            answer = client.chat.completions.create(**request)
            return self._completion(answer, call)

    def stream(
        self,
        messages: Sequence[Message],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Iterator[StreamChunk]:
        """The answer to ``messages`` piece by piece; the last chunk carries usage and finish reason.

        Retried (by the SDK) only until the response starts; any failure after the first chunk
        raises ``LanguageModelError`` with reason ``stream_interrupted``.
        """
        request = self._request(messages, model, temperature, max_tokens, options, stream=True)
        call = _Call(messages, request["model"])
        with (
            self._failures_translated(call),
            self._client(call) as client,
            client.chat.completions.create(**request) as events,
        ):
            for event in events:
                chunk = call.chunk_for(event)
                if chunk is not None:
                    yield chunk
        yield call.final_chunk()

    async def acomplete(
        self,
        messages: Sequence[Message],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Completion:
        """``complete`` for async code: the same result and errors, never blocking the event loop."""
        request = self._request(messages, model, temperature, max_tokens, options, stream=False)
        call = _Call(messages, request["model"])
        with self._failures_translated(call):
            async with self._async_client(call) as client:
                answer = await client.chat.completions.create(**request)
                return self._completion(answer, call)

    async def astream(
        self,
        messages: Sequence[Message],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[StreamChunk]:
        """``stream`` for async code (``async for chunk in provider.astream(...)``), holding no thread.

        Closing the iterator early (a client went away) closes the upstream connection.
        """
        request = self._request(messages, model, temperature, max_tokens, options, stream=True)
        call = _Call(messages, request["model"])
        with self._failures_translated(call):
            async with (
                self._async_client(call) as client,
                await client.chat.completions.create(**request) as events,
            ):
                async for event in events:
                    chunk = call.chunk_for(event)
                    if chunk is not None:
                        yield chunk
        yield call.final_chunk()

    # --- shared by the four calls above ---------------------------------------------------------

    def _client_options(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "api_key": self._api_key or _NO_KEY,
            "max_retries": self.max_retries,
            # For streams the read timeout bounds the silence between two chunks, not the whole answer.
            "timeout": openai.Timeout(
                self.timeout_seconds, connect=min(self.timeout_seconds, CONNECT_TIMEOUT_MAX_SECONDS)
            ),
        }

    def _client(self, call: _Call) -> openai.OpenAI:
        http_client = openai.DefaultHttpx2Client(
            verify=_tls_context(), follow_redirects=False, event_hooks={"request": [call.count_attempt]}
        )
        return openai.OpenAI(**self._client_options(), http_client=http_client)

    def _async_client(self, call: _Call) -> openai.AsyncOpenAI:
        http_client = openai.DefaultAsyncHttpx2Client(
            verify=_tls_context(), follow_redirects=False, event_hooks={"request": [call.acount_attempt]}
        )
        return openai.AsyncOpenAI(**self._client_options(), http_client=http_client)

    def _request(
        self,
        messages: Sequence[Message],
        model: str | None,
        temperature: float | None,
        max_tokens: int | None,
        options: Mapping[str, Any] | None,
        *,
        stream: bool,
    ) -> dict[str, Any]:
        """Keyword arguments for ``chat.completions.create``; ``options`` fill in what the call leaves unset."""
        request: dict[str, Any] = {
            "model": model or self.default_model,
            "messages": [dict(message) for message in messages],
            "stream": stream,
        }
        if temperature is not None:
            request["temperature"] = temperature
        if max_tokens is not None:
            request["max_tokens"] = max_tokens
        extra_body = {key: value for key, value in (options or {}).items() if key not in request}
        if stream:
            # Without this OpenAI and most servers send no usage in a stream.
            request["stream_options"] = {**extra_body.pop("stream_options", {}), "include_usage": True}
        request["extra_body"] = extra_body
        if not self._api_key:
            request["extra_headers"] = {"Authorization": openai.Omit()}
        return request

    def _completion(self, answer: Any, call: _Call) -> Completion:
        try:
            choice = answer.choices[0]
            text = choice.message.content or ""
        except (AttributeError, TypeError, IndexError):
            raise ValueError("no choices[0].message in the answer") from None
        return Completion(
            text=str(text),
            model=str(getattr(answer, "model", None) or call.model),
            usage=_usage(getattr(answer, "usage", None)) or estimated_usage(call.messages, str(text)),
            provider=self.name,
            finish_reason=getattr(choice, "finish_reason", None),
        )

    @contextmanager
    def _failures_translated(self, call: _Call) -> Iterator[None]:
        """Turns whatever the SDK raises into ``LanguageModelError``, logged once, with no secret in it."""
        try:
            yield
        except openai.APIStatusError as exc:
            status = exc.status_code
            reason = "rate_limited" if status == 429 else "server_error" if status >= 500 else "rejected"
            message = _upstream_error_text(exc.body)
            raise self._failure(reason, call, upstream_status=status, upstream_message=message) from None
        except openai.APIError as exc:
            # The exception's own text is not kept for connection errors: it can contain the URL.
            if call.started:
                reason = "stream_interrupted"
            elif isinstance(exc, openai.APITimeoutError):
                reason = "timeout"
            elif isinstance(exc, openai.APIConnectionError):
                reason = "connect"
            else:  # an {"error": ...} event before any text
                reason = "server_error"
            message = (
                type(exc).__name__ if isinstance(exc, openai.APIConnectionError) else _upstream_error_text(exc.body)
            )
            raise self._failure(reason, call, upstream_message=message) from None
        except ValueError as exc:  # a body or event that is not JSON, or not shaped like an answer
            raise self._failure("invalid_response", call, upstream_message=str(exc)) from None

    def _failure(
        self, reason: str, call: _Call, *, upstream_status: int | None = None, upstream_message: str = ""
    ) -> LanguageModelError:
        error = LanguageModelError(
            reason,
            provider=self.name,
            attempts=max(call.attempts, 1),
            upstream_status=upstream_status,
            upstream_message=redact(upstream_message, self._api_key),
        )
        logger.warning(
            "language model call failed: %s",
            error.upstream_message or reason,
            extra={"reason": reason, "attempts": error.attempts, "upstream_status": upstream_status},
        )
        return error
