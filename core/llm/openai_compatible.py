"""A provider for any server that speaks OpenAI's chat-completions API.

OpenAI, vLLM, Ollama, llama.cpp's server, LM Studio and most gateways accept the same request:
``POST {base_url}/chat/completions``. ``base_url`` is the API root *including* its version
segment, exactly as those servers document it (``https://api.openai.com/v1``,
``http://localhost:11434/v1`` for Ollama, ``http://localhost:8000/v1`` for vLLM); nothing is
appended but ``/chat/completions``.

Failure policy, the same for every method:

- connect errors, 429 and 5xx are retried up to ``max_retries`` times with exponential backoff
  and jitter; a ``Retry-After`` header is honoured when it is within ``retry_after_max_seconds``,
  and beyond that the call fails at once rather than hold a worker for minutes;
- a read timeout is not retried (the model may have been running and billing for the whole
  timeout), nor are other 4xx answers (the same request would be rejected again);
- a stream is never retried once a chunk has been handed to the caller: the caller has already
  shown or stored it, and a second answer would not continue the first;
- every failure ends as ``LanguageModelError`` (``EXTERNAL_API_ERROR``, 502) with no secret in it.

An HTTP client is opened per call: an ``httpx.AsyncClient`` belongs to the event loop that made
it, and one client per call keeps a provider safe to share between threads, loops and Celery
processes. Against a model's latency the extra TCP handshake does not show.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from core.llm.errors import LanguageModelError
from core.llm.tokens import estimated_usage
from core.llm.types import Completion, Message, StreamChunk, Usage

logger = logging.getLogger("core.llm")

PROVIDER_NAME = "openai-compatible"
CONNECT_TIMEOUT_MAX_SECONDS = 10.0
UPSTREAM_MESSAGE_MAX_CHARS = 300

_STREAM_HEADERS = {"Accept": "text/event-stream"}
_RETRYABLE_TRANSPORT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_SECRET_PATTERNS = (
    re.compile(r"Bearer\s+\S+", re.IGNORECASE),
    re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"),
)


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry and how long to wait in between."""

    max_retries: int = 2
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 8.0
    retry_after_max_seconds: float = 20.0

    def delay_seconds(self, attempt: int, retry_after: str | None = None) -> float | None:
        """Seconds to wait after failed attempt number ``attempt`` (1-based), or None to give up.

        Gives up when ``max_retries`` retries are spent, or when the server's ``Retry-After``
        asks for longer than ``retry_after_max_seconds``. Otherwise honours ``Retry-After`` when
        present, else waits ``base * 2**(attempt-1)`` capped at ``backoff_max_seconds``, with
        jitter (50-100% of that) so that many workers do not retry in step.
        """
        if attempt > self.max_retries:
            return None
        requested = parse_retry_after(retry_after)
        if requested is not None:
            if requested > self.retry_after_max_seconds:
                return None
            return requested
        backoff = min(self.backoff_max_seconds, self.backoff_base_seconds * 2 ** (attempt - 1))
        return backoff * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date); None when absent or invalid."""
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def redact(text: str, secret: str = "") -> str:
    """``text`` shortened, with ``secret`` and anything shaped like a bearer token or API key masked."""
    if secret:
        text = text.replace(secret, "[redacted]")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub("[redacted]", text)
    return text[:UPSTREAM_MESSAGE_MAX_CHARS]


@dataclass(frozen=True)
class _Failure:
    error: LanguageModelError
    retryable: bool
    retry_after: str | None = None


class _ServerSentEvents:
    """Turns the lines of a ``text/event-stream`` body into the ``data`` of each event."""

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed(self, line: str) -> str | None:
        if line == "":
            return self.flush()
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        if field == "data":
            self._data.append(value.removeprefix(" "))
        return None

    def flush(self) -> str | None:
        if not self._data:
            return None
        data, self._data = "\n".join(self._data), []
        return data


def _parse_usage(raw: Any) -> Usage | None:
    if not isinstance(raw, Mapping):
        return None
    prompt, completion = raw.get("prompt_tokens"), raw.get("completion_tokens")
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    total = raw.get("total_tokens")
    if not isinstance(total, int):
        total = prompt + completion
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total)


def _upstream_error_text(body: Any) -> str:
    """The ``error.message`` of an OpenAI-style error body (or Ollama's ``error`` string)."""
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            return str(error.get("message") or error.get("code") or "")
        if error is not None:
            return str(error)
    return ""


class _StreamState:
    """What a stream has said so far; builds the chunks handed to the caller."""

    def __init__(self, provider: OpenAICompatibleProvider, messages: Sequence[Message], model: str) -> None:
        self._provider = provider
        self._messages = messages
        self.model = model
        self.text: list[str] = []
        self.usage: Usage | None = None
        self.finish_reason: str | None = None

    def chunk_for(self, data: str, attempt: int, started: bool) -> StreamChunk | None:
        """The chunk for one event's data, None when it carries no text; raises on an error event."""
        try:
            event = json.loads(data)
        except ValueError:
            event = None
        if not isinstance(event, Mapping):
            raise self._provider.error("invalid_response", attempt, upstream_message="malformed stream event")
        if "error" in event:
            raise self._provider.error(
                "stream_interrupted" if started else "server_error",
                attempt,
                upstream_message=_upstream_error_text(event),
            )
        if isinstance(event.get("model"), str) and event["model"]:
            self.model = event["model"]
        usage = _parse_usage(event.get("usage"))
        if usage is not None:
            self.usage = usage
        choices = event.get("choices") or []
        if not choices or not isinstance(choices[0], Mapping):
            return None
        choice = choices[0]
        if choice.get("finish_reason"):
            self.finish_reason = str(choice["finish_reason"])
        delta = choice.get("delta") or {}
        content = delta.get("content") if isinstance(delta, Mapping) else None
        if not content:
            return None
        self.text.append(content)
        return StreamChunk(delta=content)

    def final_chunk(self) -> StreamChunk:
        usage = self.usage or estimated_usage(self._messages, "".join(self.text))
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
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("The language model base URL must start with http:// or https://")
        self.base_url = base_url.rstrip("/")
        self.default_model = default_model
        self.timeout_seconds = timeout_seconds
        self.retry_policy = retry_policy or RetryPolicy()
        self._api_key = api_key
        self._url = f"{self.base_url}/chat/completions"

    def __repr__(self) -> str:
        # Never the key, and not the URL either: it may carry credentials.
        return f"OpenAICompatibleProvider(model={self.default_model!r})"

    # --- sync ---------------------------------------------------------------------------------

    def complete(
        self,
        messages: Sequence[Message],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Completion:
        """The whole answer to ``messages``, or ``LanguageModelError`` after the retry policy is spent.

        ``usage`` comes from the server's ``usage`` field, or is estimated (and marked so) when
        the server sends none. ``options`` are further request fields (``stop``, ``seed``,
        ``response_format`` ...) sent as they are.
        """
        body = self._body(messages, model, temperature, max_tokens, options, stream=False)
        attempt = 0
        with self._client() as client:
            while True:
                attempt += 1
                try:
                    response = client.post(self._url, json=body)
                except httpx.TransportError as exc:
                    failure = self._transport_failure(exc, attempt)
                else:
                    failure = self._status_failure(response.status_code, response.headers, response.content, attempt)
                    if failure is None:
                        return self._completion(response.content, messages, body["model"], attempt)
                delay = self._delay_or_raise(failure, attempt)
                time.sleep(delay)

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

        Retries (per the policy) only before the first chunk is yielded; any failure after
        that raises ``LanguageModelError`` with reason ``stream_interrupted``.
        """
        body = self._body(messages, model, temperature, max_tokens, options, stream=True)
        attempt = 0
        with self._client() as client:
            while True:
                attempt += 1
                started = False
                try:
                    with client.stream("POST", self._url, json=body, headers=_STREAM_HEADERS) as response:
                        failure = None
                        if response.status_code >= 300:
                            failure = self._status_failure(
                                response.status_code, response.headers, response.read(), attempt
                            )
                        if failure is None:
                            state = _StreamState(self, messages, body["model"])
                            events = _ServerSentEvents()
                            for line in response.iter_lines():
                                data = events.feed(line)
                                if data is None:
                                    continue
                                if data == "[DONE]":
                                    break
                                chunk = state.chunk_for(data, attempt, started)
                                if chunk is not None:
                                    started = True
                                    yield chunk
                            else:
                                data = events.flush()
                                if data is not None and data != "[DONE]":
                                    chunk = state.chunk_for(data, attempt, started)
                                    if chunk is not None:
                                        yield chunk
                            yield state.final_chunk()
                            return
                except httpx.TransportError as exc:
                    if started:
                        raise self._interrupted(exc, attempt) from None
                    failure = self._transport_failure(exc, attempt)
                delay = self._delay_or_raise(failure, attempt)
                time.sleep(delay)

    # --- async --------------------------------------------------------------------------------

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
        body = self._body(messages, model, temperature, max_tokens, options, stream=False)
        attempt = 0
        async with self._async_client() as client:
            while True:
                attempt += 1
                try:
                    response = await client.post(self._url, json=body)
                except httpx.TransportError as exc:
                    failure = self._transport_failure(exc, attempt)
                else:
                    failure = self._status_failure(response.status_code, response.headers, response.content, attempt)
                    if failure is None:
                        return self._completion(response.content, messages, body["model"], attempt)
                delay = self._delay_or_raise(failure, attempt)
                await asyncio.sleep(delay)

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
        body = self._body(messages, model, temperature, max_tokens, options, stream=True)
        attempt = 0
        async with self._async_client() as client:
            while True:
                attempt += 1
                started = False
                try:
                    async with client.stream("POST", self._url, json=body, headers=_STREAM_HEADERS) as response:
                        failure = None
                        if response.status_code >= 300:
                            failure = self._status_failure(
                                response.status_code, response.headers, await response.aread(), attempt
                            )
                        if failure is None:
                            state = _StreamState(self, messages, body["model"])
                            events = _ServerSentEvents()
                            async for line in response.aiter_lines():
                                data = events.feed(line)
                                if data is None:
                                    continue
                                if data == "[DONE]":
                                    break
                                chunk = state.chunk_for(data, attempt, started)
                                if chunk is not None:
                                    started = True
                                    yield chunk
                            else:
                                data = events.flush()
                                if data is not None and data != "[DONE]":
                                    chunk = state.chunk_for(data, attempt, started)
                                    if chunk is not None:
                                        yield chunk
                            yield state.final_chunk()
                            return
                except httpx.TransportError as exc:
                    if started:
                        raise self._interrupted(exc, attempt) from None
                    failure = self._transport_failure(exc, attempt)
                delay = self._delay_or_raise(failure, attempt)
                await asyncio.sleep(delay)

    # --- shared -------------------------------------------------------------------------------

    def error(
        self, reason: str, attempt: int, *, upstream_status: int | None = None, upstream_message: str = ""
    ) -> LanguageModelError:
        return LanguageModelError(
            reason,
            provider=self.name,
            attempts=attempt,
            upstream_status=upstream_status,
            upstream_message=redact(upstream_message, self._api_key),
        )

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _timeout(self) -> httpx.Timeout:
        # For streams the read timeout bounds the silence between two chunks, not the whole answer.
        return httpx.Timeout(self.timeout_seconds, connect=min(self.timeout_seconds, CONNECT_TIMEOUT_MAX_SECONDS))

    def _client(self) -> httpx.Client:
        return httpx.Client(timeout=self._timeout(), headers=self._headers(), follow_redirects=False)

    def _async_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self._timeout(), headers=self._headers(), follow_redirects=False)

    def _body(
        self,
        messages: Sequence[Message],
        model: str | None,
        temperature: float | None,
        max_tokens: int | None,
        options: Mapping[str, Any] | None,
        *,
        stream: bool,
    ) -> dict[str, Any]:
        body: dict[str, Any] = dict(options or {})
        body.update(model=model or self.default_model, messages=[dict(message) for message in messages], stream=stream)
        if temperature is not None:
            body["temperature"] = temperature
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        if stream:
            # Without this OpenAI and most servers send no usage in a stream.
            body["stream_options"] = {**body.get("stream_options", {}), "include_usage": True}
        return body

    def _transport_failure(self, exc: httpx.TransportError, attempt: int) -> _Failure:
        # The exception text is not kept: it can contain the URL.
        if isinstance(exc, _RETRYABLE_TRANSPORT_ERRORS):
            return _Failure(self.error("connect", attempt, upstream_message=type(exc).__name__), retryable=True)
        if isinstance(exc, httpx.TimeoutException):
            return _Failure(self.error("timeout", attempt, upstream_message=type(exc).__name__), retryable=False)
        return _Failure(self.error("server_error", attempt, upstream_message=type(exc).__name__), retryable=False)

    def _status_failure(self, status: int, headers: httpx.Headers, content: bytes, attempt: int) -> _Failure | None:
        if 200 <= status < 300:
            return None
        try:
            upstream_message = _upstream_error_text(json.loads(content))
        except ValueError:
            upstream_message = content.decode("utf-8", "replace")
        if status == 429:
            reason, retryable = "rate_limited", True
        elif status >= 500:
            reason, retryable = "server_error", True
        else:
            reason, retryable = "rejected", False
        error = self.error(reason, attempt, upstream_status=status, upstream_message=upstream_message)
        return _Failure(error, retryable=retryable, retry_after=headers.get("Retry-After"))

    def _delay_or_raise(self, failure: _Failure, attempt: int) -> float:
        delay = self.retry_policy.delay_seconds(attempt, failure.retry_after) if failure.retryable else None
        error = failure.error
        log_fields = {"reason": error.reason, "attempt": attempt, "upstream_status": error.upstream_status}
        if delay is None:
            logger.warning("language model call failed: %s", error.upstream_message or error.reason, extra=log_fields)
            raise error
        logger.info("language model call failed, retrying", extra={**log_fields, "delay_seconds": round(delay, 3)})
        return delay

    def _interrupted(self, exc: httpx.TransportError, attempt: int) -> LanguageModelError:
        error = self.error("stream_interrupted", attempt, upstream_message=type(exc).__name__)
        logger.warning("language model stream interrupted: %s", error.upstream_message, extra={"attempt": attempt})
        return error

    def _completion(self, content: bytes, messages: Sequence[Message], model: str, attempt: int) -> Completion:
        try:
            payload = json.loads(content)
            choice = payload["choices"][0]
            text = choice["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            error = self.error("invalid_response", attempt, upstream_message="no choices[0].message in the answer")
            logger.warning("language model answer was malformed", extra={"attempt": attempt})
            raise error from None
        if not isinstance(text, str):
            text = str(text)
        usage = _parse_usage(payload.get("usage")) or estimated_usage(messages, text)
        return Completion(
            text=text,
            model=str(payload.get("model") or model),
            usage=usage,
            provider=self.name,
            finish_reason=choice.get("finish_reason"),
        )
