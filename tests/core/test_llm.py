"""The language-model provider layer, against a real local OpenAI-compatible HTTP server."""

from __future__ import annotations

import socket
import time

import anyio
import pytest
from django.core.exceptions import ImproperlyConfigured

from core.errors import DomainError
from core.llm import (
    OFFLINE_PREFIX,
    ChatProvider,
    LanguageModelError,
    OfflineProvider,
    OpenAICompatibleProvider,
    StreamChunk,
    get_provider,
)
from core.llm.openai_compatible import redact
from tests.fakes.openai_server import FAKE_API_KEY, FAKE_MODEL

MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Say hello to the whole team before the stand-up meeting starts today"},
]


def _provider(
    base_url: str, *, api_key: str = FAKE_API_KEY, timeout: float = 3.0, max_retries: int = 2
) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(
        base_url=base_url,
        api_key=api_key,
        default_model="default-model",
        timeout_seconds=timeout,
        max_retries=max_retries,
    )


@pytest.fixture
def provider(fake_openai_server) -> OpenAICompatibleProvider:
    return _provider(fake_openai_server.base_url)


@pytest.fixture
def anyio_backend():
    return "asyncio"


def _collect(chunks) -> tuple[list[str], StreamChunk]:
    chunks = list(chunks)
    return [chunk.delta for chunk in chunks[:-1]], chunks[-1]


async def _acollect(chunks) -> tuple[list[str], StreamChunk]:
    collected = [chunk async for chunk in chunks]
    return [chunk.delta for chunk in collected[:-1]], collected[-1]


def _drain_into(received: list[str], chunks) -> None:
    for chunk in chunks:
        received.append(chunk.delta)


async def _adrain_into(received: list[str], chunks) -> None:
    async for chunk in chunks:
        received.append(chunk.delta)


# --- plain completions ----------------------------------------------------------------------------


def test_complete_returns_text_model_usage_and_finish_reason(provider, fake_openai_server):
    # given
    fake_openai_server.reply("Hello, team!", usage=(21, 4), model="served-model")

    # when
    completion = provider.complete(MESSAGES, temperature=0.2, max_tokens=64, options={"seed": 7})

    # then
    assert completion.text == "Hello, team!"
    assert completion.model == "served-model"
    assert completion.provider == "openai-compatible"
    assert completion.finish_reason == "stop"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (21, 4)
    assert completion.usage.total_tokens == 25
    assert completion.usage.estimated is False
    [request] = fake_openai_server.requests
    assert request.method == "POST"
    assert request.path == "/v1/chat/completions"
    assert request.json == {
        "model": "default-model",
        "messages": MESSAGES,
        "stream": False,
        "temperature": 0.2,
        "max_tokens": 64,
        "seed": 7,
    }
    assert request.headers["authorization"] == f"Bearer {FAKE_API_KEY}"


def test_complete_uses_the_model_asked_for_and_a_base_url_with_trailing_slash(fake_openai_server):
    # given
    provider = _provider(fake_openai_server.base_url + "/")

    # when
    completion = provider.complete(MESSAGES, model="other-model")

    # then
    assert completion.text == "echo: " + MESSAGES[-1]["content"]
    [request] = fake_openai_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.json["model"] == "other-model"


def test_complete_without_usage_from_the_server_is_estimated_and_labelled(provider, fake_openai_server):
    # given
    fake_openai_server.reply("Hello, team!", usage=None)

    # when
    completion = provider.complete(MESSAGES)

    # then
    assert completion.usage.estimated is True
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.completion_tokens > 0
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens


def test_auth_header_is_sent_only_when_a_key_is_set(fake_openai_server, monkeypatch):
    # given: no key configured, and the openai package's own variable set in the environment
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment-0123")
    without_key = _provider(fake_openai_server.base_url, api_key="")

    # when
    without_key.complete(MESSAGES)
    list(without_key.stream(MESSAGES))

    # then
    assert len(fake_openai_server.requests) == 2
    assert all("authorization" not in request.headers for request in fake_openai_server.requests)


def test_malformed_answer_is_an_invalid_response_error(provider, fake_openai_server):
    # given
    fake_openai_server.reply_raw(b'{"choices": []}')

    # when
    with pytest.raises(LanguageModelError) as caught:
        provider.complete(MESSAGES)

    # then
    assert caught.value.reason == "invalid_response"
    assert caught.value.status == 502
    assert len(fake_openai_server.requests) == 1


def test_an_answer_that_is_not_json_is_an_invalid_response_error(provider, fake_openai_server):
    # given
    fake_openai_server.reply_raw(b"<html>gateway page</html>")

    # when
    with pytest.raises(LanguageModelError) as caught:
        provider.complete(MESSAGES)

    # then
    assert (caught.value.reason, caught.value.status, caught.value.attempts) == ("invalid_response", 502, 1)


# --- streams --------------------------------------------------------------------------------------


def test_stream_yields_deltas_then_a_final_chunk_with_the_servers_usage(provider, fake_openai_server):
    # given
    fake_openai_server.reply_stream(["Hel", "lo, ", "team!"], usage=(21, 4), model="served-model")

    # when
    deltas, final = _collect(provider.stream(MESSAGES))

    # then
    assert deltas == ["Hel", "lo, ", "team!"]
    assert final.delta == ""
    assert final.is_final
    assert final.usage.as_dict() == {
        "prompt_tokens": 21,
        "completion_tokens": 4,
        "total_tokens": 25,
        "estimated": False,
    }
    assert final.finish_reason == "stop"
    assert final.model == "served-model"
    [request] = fake_openai_server.requests
    assert request.json["stream"] is True
    assert request.json["stream_options"] == {"include_usage": True}
    assert request.headers["authorization"] == f"Bearer {FAKE_API_KEY}"


def test_stream_without_a_usage_chunk_falls_back_to_an_estimate(provider, fake_openai_server):
    # given: a server that ignores stream_options and ends without [DONE]
    fake_openai_server.reply_stream(["Hello ", "team"], usage=None, send_done=False, finish_reason="length")

    # when
    deltas, final = _collect(provider.stream(MESSAGES))

    # then
    assert "".join(deltas) == "Hello team"
    assert final.usage.estimated is True
    assert final.usage.completion_tokens > 0
    assert final.finish_reason == "length"


def test_stream_of_a_plain_reply_joins_back_to_the_text(provider, fake_openai_server):
    # given
    fake_openai_server.reply("A whole sentence, streamed word by word.", usage=(9, 8))

    # when
    deltas, final = _collect(provider.stream(MESSAGES))

    # then
    assert "".join(deltas) == "A whole sentence, streamed word by word."
    assert len(deltas) == 7
    assert final.usage.total_tokens == 17


@pytest.mark.anyio
async def test_astream_yields_deltas_and_the_usage_chunk(provider, fake_openai_server):
    # given
    fake_openai_server.reply_stream(["Hel", "lo"], usage=(21, 2))

    # when
    deltas, final = await _acollect(provider.astream(MESSAGES))

    # then
    assert deltas == ["Hel", "lo"]
    assert (final.usage.total_tokens, final.usage.estimated) == (23, False)
    assert fake_openai_server.requests[0].json["stream_options"] == {"include_usage": True}


@pytest.mark.anyio
async def test_acomplete_returns_the_completion(provider, fake_openai_server):
    # given
    fake_openai_server.reply("Hi!", usage=(3, 1))

    # when
    completion = await provider.acomplete(MESSAGES)

    # then
    assert (completion.text, completion.usage.total_tokens, completion.provider) == ("Hi!", 4, "openai-compatible")


@pytest.mark.anyio
async def test_astream_leaves_the_event_loop_free_while_waiting_for_chunks(provider, fake_openai_server):
    # given: a slow stream (4 x 0.1 s) and another task that ticks every 10 ms
    fake_openai_server.reply_stream(["a ", "b ", "c ", "d ", "e"], chunk_delay=0.1)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await anyio.sleep(0.01)
            ticks += 1

    # when
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(ticker)
        deltas, _ = await _acollect(provider.astream(MESSAGES))
        tasks.cancel_scope.cancel()

    # then: the ticker ran throughout the stream, so the stream never blocked the loop
    assert "".join(deltas) == "a b c d e"
    assert ticks >= 20


# --- retries and failures -------------------------------------------------------------------------


def test_500_and_429_are_retried_then_the_answer_is_returned(provider, fake_openai_server):
    # given
    fake_openai_server.fail(500)
    fake_openai_server.fail(429, headers={"Retry-After": "0"})
    fake_openai_server.reply("Finally.", usage=(5, 1))

    # when
    completion = provider.complete(MESSAGES)

    # then
    assert completion.text == "Finally."
    assert len(fake_openai_server.requests) == 3


def test_stream_failing_before_its_first_chunk_is_retried(provider, fake_openai_server):
    # given
    fake_openai_server.fail(503)
    fake_openai_server.reply_stream(["ok"], usage=(1, 1))

    # when
    deltas, final = _collect(provider.stream(MESSAGES))

    # then
    assert deltas == ["ok"]
    assert final.usage.total_tokens == 2
    assert len(fake_openai_server.requests) == 2


@pytest.mark.anyio
async def test_astream_failing_before_its_first_chunk_is_retried(provider, fake_openai_server):
    # given
    fake_openai_server.fail(502)
    fake_openai_server.fail(429)
    fake_openai_server.reply_stream(["ok"])

    # when
    deltas, _ = await _acollect(provider.astream(MESSAGES))

    # then
    assert deltas == ["ok"]
    assert len(fake_openai_server.requests) == 3


def test_gives_up_after_max_retries_with_a_502_domain_error_that_holds_no_secret(provider, fake_openai_server):
    # given: the server keeps failing, and echoes the key in its error message
    for _ in range(3):
        fake_openai_server.fail(500, message=f"upstream broke; key {FAKE_API_KEY} rejected")

    # when
    with pytest.raises(LanguageModelError) as caught:
        provider.complete(MESSAGES)

    # then
    error = caught.value
    assert isinstance(error, DomainError)
    assert (error.code, error.status) == ("EXTERNAL_API_ERROR", 502)
    assert error.details == {
        "provider": "openai-compatible",
        "reason": "server_error",
        "attempts": 3,
        "upstreamStatus": 500,
    }
    assert len(fake_openai_server.requests) == 3
    assert FAKE_API_KEY not in error.message
    assert FAKE_API_KEY not in str(error.details)
    assert FAKE_API_KEY not in error.upstream_message
    assert "upstream broke" in error.upstream_message
    assert "127.0.0.1" not in error.message


@pytest.mark.anyio
async def test_acomplete_gives_up_after_max_retries(provider, fake_openai_server):
    # given
    for _ in range(3):
        fake_openai_server.fail(503)

    # when
    with pytest.raises(LanguageModelError) as caught:
        await provider.acomplete(MESSAGES)

    # then
    assert (caught.value.status, caught.value.attempts) == (502, 3)
    assert len(fake_openai_server.requests) == 3


def test_retry_after_within_bounds_is_honoured(provider, fake_openai_server):
    # given
    fake_openai_server.fail(429, headers={"Retry-After": "0.4"})
    fake_openai_server.reply("ok")
    started = time.monotonic()

    # when
    completion = provider.complete(MESSAGES)

    # then
    assert completion.text == "ok"
    assert time.monotonic() - started >= 0.4


def test_retry_after_beyond_bounds_fails_at_once(provider, fake_openai_server):
    # given: the server asks for ten minutes; the openai package waits two at most
    fake_openai_server.fail(429, headers={"Retry-After": "600"})
    fake_openai_server.reply("never reached")

    # when
    with pytest.raises(LanguageModelError) as caught:
        provider.complete(MESSAGES)

    # then
    assert caught.value.reason == "rate_limited"
    assert caught.value.details["upstreamStatus"] == 429
    assert len(fake_openai_server.requests) == 1


def test_a_rejected_request_is_not_retried(provider, fake_openai_server):
    # given
    fake_openai_server.fail(400, message="context length exceeded")

    # when
    with pytest.raises(LanguageModelError) as caught:
        provider.complete(MESSAGES)

    # then
    assert caught.value.reason == "rejected"
    assert caught.value.message == "The language model service rejected the request (HTTP 400)"
    assert caught.value.upstream_message == "context length exceeded"
    assert len(fake_openai_server.requests) == 1


def test_a_slow_answer_times_out_after_its_retries(fake_openai_server):
    # given: every attempt outlasts the timeout
    provider = _provider(fake_openai_server.base_url, timeout=0.3, max_retries=1)
    fake_openai_server.reply("too late", delay=3.0)
    fake_openai_server.reply("too late again", delay=3.0)
    started = time.monotonic()

    # when
    with pytest.raises(LanguageModelError) as caught:
        provider.complete(MESSAGES)

    # then: a timeout is retried like a lost connection (the openai package's policy), then reported
    assert (caught.value.reason, caught.value.status, caught.value.attempts) == ("timeout", 502, 2)
    assert time.monotonic() - started < 2.5
    assert len(fake_openai_server.requests) == 2


def test_a_slow_first_attempt_is_retried_and_the_second_answer_returned(fake_openai_server):
    # given
    provider = _provider(fake_openai_server.base_url, timeout=0.3, max_retries=1)
    fake_openai_server.reply("too late", delay=3.0)
    fake_openai_server.reply("in time")

    # when
    completion = provider.complete(MESSAGES)

    # then
    assert completion.text == "in time"
    assert len(fake_openai_server.requests) == 2


def test_an_unreachable_server_is_retried_then_reported():
    # given: a port nothing listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = _provider(f"http://127.0.0.1:{port}/v1")

    # when
    with pytest.raises(LanguageModelError) as caught:
        provider.complete(MESSAGES)

    # then
    assert caught.value.reason == "connect"
    assert caught.value.attempts == 3
    assert str(port) not in caught.value.message


def test_no_retry_once_a_stream_has_yielded(provider, fake_openai_server):
    # given: the connection drops after two chunks; a second answer is queued but must not be asked for
    fake_openai_server.reply_stream(["one ", "two ", "three"], drop_after=2)
    fake_openai_server.reply("second answer")
    received: list[str] = []

    # when
    with pytest.raises(LanguageModelError) as caught:
        _drain_into(received, provider.stream(MESSAGES))

    # then
    assert received == ["one ", "two "]
    assert caught.value.reason == "stream_interrupted"
    assert caught.value.status == 502
    assert len(fake_openai_server.requests) == 1


@pytest.mark.anyio
async def test_no_retry_once_an_async_stream_has_yielded(provider, fake_openai_server):
    # given
    fake_openai_server.reply_stream(["one ", "two ", "three"], drop_after=1)
    fake_openai_server.reply("second answer")
    received: list[str] = []

    # when
    with pytest.raises(LanguageModelError) as caught:
        await _adrain_into(received, provider.astream(MESSAGES))

    # then
    assert received == ["one "]
    assert caught.value.reason == "stream_interrupted"
    assert len(fake_openai_server.requests) == 1


def test_a_stream_that_stalls_mid_answer_is_interrupted_not_retried(fake_openai_server):
    # given: the silence between two chunks outlasts the timeout
    provider = _provider(fake_openai_server.base_url, timeout=0.3)
    fake_openai_server.reply_stream(["one ", "two"], chunk_delay=2.0)
    received: list[str] = []

    # when
    with pytest.raises(LanguageModelError) as caught:
        _drain_into(received, provider.stream(MESSAGES))

    # then
    assert received == ["one "]
    assert caught.value.reason == "stream_interrupted"
    assert len(fake_openai_server.requests) == 1


def test_an_error_event_mid_stream_is_reported(provider, fake_openai_server):
    # given
    fake_openai_server.reply_stream(["one ", "two"], error_event_after=1)

    # when
    received: list[str] = []
    with pytest.raises(LanguageModelError) as caught:
        _drain_into(received, provider.stream(MESSAGES))

    # then
    assert received == ["one "]
    assert caught.value.reason == "stream_interrupted"
    assert caught.value.upstream_message == "fake stream error"


def test_an_upstream_401_is_rejected_without_retry_and_without_the_key(fake_openai_server):
    # given: the server echoes the key it refused
    fake_openai_server.fail(401, message="Incorrect API key provided: sk-live-abcdef123456")
    provider = _provider(fake_openai_server.base_url, api_key="sk-live-abcdef123456")

    # when
    with pytest.raises(LanguageModelError) as caught:
        provider.complete(MESSAGES)

    # then
    [request] = fake_openai_server.requests
    assert request.headers["authorization"] == "Bearer sk-live-abcdef123456"
    assert caught.value.reason == "rejected"
    assert caught.value.details["upstreamStatus"] == 401
    assert caught.value.upstream_message == "Incorrect API key provided: [redacted]"
    assert "sk-live" not in repr(provider)


def test_a_server_error_event_before_any_text_is_a_server_error(provider, fake_openai_server):
    # given
    fake_openai_server.reply_stream(["never sent"], error_event_after=0)

    # when
    with pytest.raises(LanguageModelError) as caught:
        list(provider.stream(MESSAGES))

    # then
    assert caught.value.reason == "server_error"
    assert caught.value.upstream_message == "fake stream error"


# --- redaction -----------------------------------------------------------------------------------


def test_redact_masks_the_key_and_key_shaped_strings():
    assert redact("key abc123 bad", "abc123") == "key [redacted] bad"
    assert redact("got Bearer xyz and sk-abcdefgh") == "got [redacted] and [redacted]"
    assert len(redact("x" * 1000)) == 300


# --- offline provider and selection ---------------------------------------------------------------


def test_offline_completion_says_no_model_is_configured_and_summarises_the_request():
    # given
    provider = OfflineProvider()

    # when
    completion = provider.complete(MESSAGES)

    # then
    assert completion.text.startswith(f"{OFFLINE_PREFIX}, so this is not a model's answer.")
    assert '"Say hello to the whole team before the stand-up meeting starts today"' in completion.text
    assert "2 messages" in completion.text
    assert completion.provider == "offline"
    assert completion.model == "offline"
    assert completion.usage.estimated is True
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.completion_tokens > 0
    assert provider.complete(MESSAGES) == completion


def test_offline_summary_cuts_long_messages():
    long_message = [{"role": "user", "content": " ".join(f"word{n}" for n in range(40))}]

    text = OfflineProvider().complete(long_message).text

    assert '"word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 ..."' in text
    assert "(40 words)" in text


def test_offline_stream_says_so_and_ends_with_usage():
    # given
    provider = OfflineProvider()

    # when
    deltas, final = _collect(provider.stream(MESSAGES))

    # then
    assert "".join(deltas) == provider.complete(MESSAGES).text
    assert "".join(deltas).startswith(OFFLINE_PREFIX)
    assert final.usage == provider.complete(MESSAGES).usage
    assert final.finish_reason == "stop"


@pytest.mark.anyio
async def test_offline_async_stream_and_completion_say_so():
    provider = OfflineProvider()

    deltas, final = await _acollect(provider.astream(MESSAGES))
    completion = await provider.acomplete(MESSAGES)

    assert "".join(deltas) == completion.text
    assert completion.text.startswith(OFFLINE_PREFIX)
    assert final.usage.estimated is True


def test_get_provider_is_offline_without_a_base_url(llm_not_configured):
    provider = get_provider()

    assert provider.name == "offline"
    assert isinstance(provider, ChatProvider)
    assert provider.complete(MESSAGES).text.startswith(OFFLINE_PREFIX)


def test_get_provider_talks_to_the_configured_endpoint(llm_endpoint_configured):
    # given
    llm_endpoint_configured.reply("configured", usage=(2, 1))

    # when
    provider = get_provider()
    completion = provider.complete(MESSAGES)

    # then
    assert provider.name == "openai-compatible"
    assert isinstance(provider, ChatProvider)
    assert completion.text == "configured"
    [request] = llm_endpoint_configured.requests
    assert request.json["model"] == FAKE_MODEL
    assert request.headers["authorization"] == f"Bearer {FAKE_API_KEY}"


def test_get_provider_takes_its_retry_budget_from_the_settings(llm_endpoint_configured, settings):
    # given
    settings.LLM_MAX_RETRIES = 0
    llm_endpoint_configured.fail(503)
    llm_endpoint_configured.reply("never reached")

    # when
    with pytest.raises(LanguageModelError) as caught:
        get_provider().complete(MESSAGES)

    # then
    assert (caught.value.reason, caught.value.attempts) == ("server_error", 1)
    assert len(llm_endpoint_configured.requests) == 1


def test_get_provider_refuses_a_base_url_without_scheme(settings):
    settings.LLM_BASE_URL = "localhost:11434/v1"

    with pytest.raises(ImproperlyConfigured):
        get_provider()
