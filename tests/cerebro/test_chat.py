"""POST /api/chat (SSE from an async view, read by httpx from a live uvicorn) and GET /api/history."""

import json
import time

import httpx
import pytest
from django.utils import timezone

from cerebro.models import Chat, ChatMessage
from cerebro.services.memory import memory_upsert
from core.llm import OFFLINE_PREFIX
from tests.cerebro.conftest import nextauth_cookie
from tests.conftest import bearer_for
from tests.factories import UserFactory

CHAT = "/cerebro/api/chat"
HISTORY = "/cerebro/api/history"


def parse_frames(raw: str) -> list[tuple[str, dict]]:
    """``event: x\\ndata: {...}\\n\\n`` frames, checked to be exactly in that form."""
    assert raw.endswith("\n\n"), raw[-50:]
    frames = []
    for block in raw[:-2].split("\n\n"):
        event_line, data_line = block.split("\n")
        assert event_line.startswith("event: ") and data_line.startswith("data: "), block
        frames.append((event_line.removeprefix("event: "), json.loads(data_line.removeprefix("data: "))))
    return frames


def _headers(user) -> dict[str, str]:
    return {"Authorization": bearer_for(user, product="cerebro")["HTTP_AUTHORIZATION"]}


@pytest.mark.django_db(transaction=True)
def test_the_offline_provider_streams_spec_frames_and_says_it_is_offline(asgi_server, llm_not_configured):
    person = UserFactory()
    chat_id = "8d3c1f0e-1111-4a6b-9a57-0d1c2b3a4f5e"
    body = {"id": chat_id, "messages": [{"role": "user", "content": "Hello, how are you?"}], "modelId": "gpt-4-turbo"}

    with httpx.Client(base_url=asgi_server, timeout=10) as client:
        response = client.post(CHAT, json=body, headers=_headers(person))
        raw = response.text

    assert response.status_code == 200, raw
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-ratelimit-limit"] == "30"
    frames = parse_frames(raw)
    assert [event for event, _ in frames[:-1]] == ["message"] * (len(frames) - 1)
    assert all(data["type"] == "text" for _, data in frames[:-1])
    text = "".join(data["content"] for _, data in frames[:-1])
    assert text.startswith(OFFLINE_PREFIX)
    event, done = frames[-1]
    assert event == "done"
    assert done["usage"]["tokens"] > 0 and done["provider"] == "offline" and done["chatId"] == chat_id
    chat = Chat.objects.get(pk=chat_id)
    assert chat.user == person and chat.title == "Hello, how are you?"
    assert list(chat.messages.order_by("created_at").values_list("role", "content")) == [
        ("user", "Hello, how are you?"),
        ("assistant", text),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_configured_model_streams_incrementally_with_the_working_set_injected(asgi_server, llm_endpoint_configured):
    person = UserFactory()
    memory_upsert(
        user=person, key="pref:language", content={"language": "Portuguese"}, layer="permanent", confidence=0.9
    )
    memory_upsert(
        user=person, key="pin", content={"pin": "9911"}, layer="permanent", confidence=1.0, sensitivity="secret"
    )
    llm_endpoint_configured.reply_stream(["Olá", "!", " Tudo", " bem."], usage=(42, 4), chunk_delay=0.3)
    body = {"messages": [{"role": "user", "content": "Which language do I prefer?"}], "modelId": "fake-model"}

    arrivals = []
    with httpx.Client(base_url=asgi_server, timeout=10) as client:
        started = time.monotonic()
        with client.stream("POST", CHAT, json=body, headers=_headers(person)) as response:
            chunks = []
            for chunk in response.iter_text():
                arrivals.append(time.monotonic() - started)
                chunks.append(chunk)
    frames = parse_frames("".join(chunks))

    assert [data.get("content") for _, data in frames[:-1]] == ["Olá", "!", " Tudo", " bem."]
    assert frames[-1] == ("done", frames[-1][1])
    assert frames[-1][1]["usage"]["tokens"] == 46 and frames[-1][1]["usage"]["estimated"] is False
    assert arrivals[0] < arrivals[-1] - 0.5, "frames must arrive as the model produces them, not all at the end"
    prompt = llm_endpoint_configured.requests[-1].json["messages"]
    assert prompt[0]["role"] == "system"
    assert 'pref:language: {"language":"Portuguese"}' in prompt[0]["content"]
    assert "9911" not in json.dumps(prompt)
    assert prompt[-1] == {"role": "user", "content": "Which language do I prefer?"}
    assistant = ChatMessage.objects.get(role="assistant")
    assert assistant.content == "Olá! Tudo bem." and assistant.prompt_tokens == 42 and assistant.complete


@pytest.mark.django_db(transaction=True)
def test_a_model_failure_mid_stream_ends_with_an_error_frame(asgi_server, llm_endpoint_configured):
    person = UserFactory()
    llm_endpoint_configured.reply_stream(["Par", "tial"], drop_after=1)

    with httpx.Client(base_url=asgi_server, timeout=10) as client:
        response = client.post(CHAT, json={"messages": [{"role": "user", "content": "hi"}]}, headers=_headers(person))

    frames = parse_frames(response.text)
    assert frames[0] == ("message", {"type": "text", "content": "Par"})
    assert frames[-1][0] == "error" and frames[-1][1]["error"] == "external_api_error"
    assistant = ChatMessage.objects.get(role="assistant")
    assert assistant.content == "Par" and assistant.complete is False


@pytest.mark.django_db(transaction=True)
def test_a_nextauth_cookie_signs_in_the_chat(asgi_server, llm_not_configured):
    person = UserFactory(email="chat@example.com", email_verified_at=timezone.now())
    cookie = nextauth_cookie({"sub": "na-1", "email": "chat@example.com", "email_verified": True})

    with httpx.Client(base_url=asgi_server, timeout=10, cookies={"next-auth.session-token": cookie}) as client:
        response = client.post(CHAT, json={"messages": [{"role": "user", "content": "hi"}]})

    assert response.status_code == 200, response.text
    assert Chat.objects.get().user == person


@pytest.mark.django_db
def test_errors_before_the_stream_are_json_in_the_envelope(client, user):
    anonymous = client.post(CHAT, {"messages": [{"role": "user", "content": "hi"}]}, content_type="application/json")
    auth = bearer_for(user, product="cerebro")
    malformed = client.post(CHAT, b"{nope", content_type="application/json", **auth)
    invalid = client.post(CHAT, {"messages": []}, content_type="application/json", **auth)
    not_last_user = client.post(
        CHAT, {"messages": [{"role": "assistant", "content": "x"}]}, content_type="application/json", **auth
    )
    wrong_method = client.get(CHAT, **auth)

    assert anonymous.status_code == 401 and anonymous.json()["error"] == "authentication_error"
    assert malformed.status_code == 400 and malformed.json()["error"] == "bad_request"
    assert invalid.status_code == 400 and invalid.json()["error"] == "validation_error"
    assert "messages" in invalid.json()["details"]
    assert not_last_user.status_code == 400, not_last_user.content
    assert wrong_method.status_code == 405, wrong_method.content


@pytest.mark.django_db
def test_a_chat_of_another_user_is_404(client, user, other_user):
    chat = Chat.objects.create(user=other_user, title="theirs")

    r = client.post(
        CHAT,
        {"id": str(chat.pk), "messages": [{"role": "user", "content": "hi"}]},
        content_type="application/json",
        **bearer_for(user, product="cerebro"),
    )

    assert r.status_code == 404, r.json()
    assert r.json()["error"] == "not_found"


@pytest.mark.django_db
def test_chat_is_rate_limited_at_30_a_minute(client, user, monkeypatch):
    from cerebro.views import chat as chat_views

    def no_answer(turn):  # the stream itself is not what this test is about
        async def empty():
            yield b""

        return empty()

    monkeypatch.setattr(chat_views, "_answer", no_answer)
    auth = bearer_for(user, product="cerebro")
    body = {"messages": [{"role": "user", "content": "hi"}]}

    statuses = [client.post(CHAT, body, content_type="application/json", **auth).status_code for _ in range(31)]

    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429


@pytest.mark.django_db
def test_history_lists_the_users_chats_with_paging(signed_in, user, other_user, django_assert_max_num_queries):
    for n in range(5):
        chat = Chat.objects.create(user=user, title=f"chat {n}")
        for _ in range(n):
            ChatMessage.objects.create(chat=chat, role="user", content="x")
    Chat.objects.create(user=other_user, title="not mine")

    with django_assert_max_num_queries(6):
        r = signed_in.get(HISTORY, {"limit": 2, "offset": 1})

    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["total"] == 5 and body["hasMore"] is True
    assert len(body["chats"]) == 2
    chat = body["chats"][0]
    assert set(chat) >= {"id", "title", "createdAt", "messageCount", "visibility"}
    assert chat["visibility"] == "private"
    assert chat["messageCount"] == 3


@pytest.mark.django_db
def test_history_validates_limit(signed_in):
    assert (r := signed_in.get(HISTORY, {"limit": 101})).status_code == 400, r.content
    assert (r := signed_in.get(HISTORY, {"offset": -1})).status_code == 400, r.content
