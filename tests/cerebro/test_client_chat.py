"""POST /api/chat in the minicontratos app's shape (AI SDK 5 UI messages), beside the spec's.

What decides the answer is what the request looks like: a JSON object without ``messages`` is the
app's, and gets the UI message stream and errors the app's error handler reads; the spec's body
keeps its stream and envelope.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cerebro import conf
from cerebro.models import Chat, ChatMessage
from tests.cerebro.documents import PNG_BYTES
from tests.conftest import bearer_for
from tests.factories import UserFactory

CHAT = "/cerebro/api/chat"
UPLOAD = "/cerebro/api/files/upload"


def app_body(chat_id, *parts, message_id=None, model="chat-model", visibility="private") -> dict:
    return {
        "id": str(chat_id),
        "message": {"id": str(message_id or uuid.uuid4()), "role": "user", "parts": list(parts)},
        "selectedChatModel": model,
        "selectedVisibilityType": visibility,
    }


def text(value: str) -> dict:
    return {"type": "text", "text": value}


def chunks_of(response) -> list:
    """The UI message chunks of a streamed answer (``[DONE]`` as the string)."""
    lines = [line.removeprefix("data: ") for line in b"".join(response).decode().split("\n") if line]
    return [line if line == "[DONE]" else json.loads(line) for line in lines]


def streamed_text(chunks: list) -> str:
    return "".join(chunk["delta"] for chunk in chunks if isinstance(chunk, dict) and chunk["type"] == "text-delta")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def uploaded(signed_in):
    def upload(name: str, data: bytes, content_type: str) -> dict:
        r = signed_in.post(
            UPLOAD, {"file": SimpleUploadedFile(name, data, content_type=content_type)}, format="multipart"
        )
        assert r.status_code == 200, r.json()
        return r.json()

    return upload


@pytest.mark.django_db
def test_the_apps_body_is_answered_with_the_ui_message_stream(signed_in, user, llm_endpoint_configured):
    llm_endpoint_configured.reply_stream(["Blue ", "light ", "scatters."], usage=(20, 3))
    chat_id, message_id = uuid.uuid4(), uuid.uuid4()

    r = signed_in.post(CHAT, app_body(chat_id, text("Why is the sky blue?"), message_id=message_id), format="json")

    assert r.status_code == 200, r
    assert r["Content-Type"].startswith("text/event-stream")
    assert r["X-Vercel-AI-UI-Message-Stream"] == "v1"
    assert r["X-RateLimit-Limit"] == "30"
    chunks = chunks_of(r)
    assert [c if c == "[DONE]" else c["type"] for c in chunks] == [
        "start",
        "start-step",
        "text-start",
        "text-delta",
        "text-delta",
        "text-delta",
        "text-end",
        "finish-step",
        "finish",
        "[DONE]",
    ]
    assert streamed_text(chunks) == "Blue light scatters."
    answer = ChatMessage.objects.get(role="assistant")
    assert chunks[0] == {"type": "start", "messageId": str(answer.pk)}
    assert answer.content == "Blue light scatters." and answer.prompt_tokens == 20 and answer.complete
    question = ChatMessage.objects.get(role="user")
    assert question.pk == message_id and question.parts == [text("Why is the sky blue?")]
    chat = Chat.objects.get(pk=chat_id)
    assert chat.user == user and chat.title == "Why is the sky blue?" and chat.model_id == "chat-model"


@pytest.mark.django_db
def test_the_model_reads_the_stored_conversation_then_the_new_message(signed_in, llm_endpoint_configured):
    chat_id = uuid.uuid4()
    llm_endpoint_configured.reply_stream(["Lisbon."])
    b"".join(signed_in.post(CHAT, app_body(chat_id, text("Where do I live?")), format="json"))
    llm_endpoint_configured.reply_stream(["Portugal."])

    r = signed_in.post(CHAT, app_body(chat_id, text("Which country is that in?")), format="json")

    assert streamed_text(chunks_of(r)) == "Portugal."
    prompt = llm_endpoint_configured.requests[-1].json["messages"]
    assert prompt[0]["role"] == "system"
    assert prompt[1:] == [
        {"role": "user", "content": "Where do I live?"},
        {"role": "assistant", "content": "Lisbon."},
        {"role": "user", "content": "Which country is that in?"},
    ]


@pytest.mark.django_db
def test_the_apps_model_choice_maps_to_a_configured_model(signed_in, llm_endpoint_configured, monkeypatch):
    monkeypatch.setattr(conf, "CHAT_MODELS", {"chat-model-reasoning": "fake-reasoner"})
    llm_endpoint_configured.reply_stream(["Thought."])

    b"".join(signed_in.post(CHAT, app_body(uuid.uuid4(), text("Think"), model="chat-model-reasoning"), format="json"))
    b"".join(signed_in.post(CHAT, app_body(uuid.uuid4(), text("Talk"), model="chat-model"), format="json"))

    assert [request.json["model"] for request in llm_endpoint_configured.requests] == ["fake-reasoner", "fake-model"]


@pytest.mark.django_db
def test_an_uploaded_image_reaches_the_model_inline(signed_in, uploaded, llm_endpoint_configured):
    image = uploaded("pixel.png", PNG_BYTES, "image/png")
    file_part = {"type": "file", "url": image["url"], "name": image["pathname"], "mediaType": "image/png"}

    r = signed_in.post(CHAT, app_body(uuid.uuid4(), file_part, text("What is in this picture?")), format="json")

    assert r.status_code == 200, r.content
    b"".join(r)
    question = llm_endpoint_configured.requests[-1].json["messages"][-1]
    assert question == {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in this picture?"},
            {
                "type": "image_url",
                "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG_BYTES).decode()},
            },
        ],
    }
    assert ChatMessage.objects.get(role="user").parts == [file_part, text("What is in this picture?")]


@pytest.mark.django_db
def test_an_uploaded_text_file_reaches_the_model_as_its_text(signed_in, uploaded, llm_endpoint_configured):
    notes = uploaded("notes.md", b"# Contract\nThe fee is 10,000 EUR.", "text/markdown")

    r = signed_in.post(
        CHAT,
        app_body(
            uuid.uuid4(), text("What is the fee?"), {"type": "file", "url": notes["url"], "mediaType": "text/markdown"}
        ),
        format="json",
    )

    b"".join(r)
    content = llm_endpoint_configured.requests[-1].json["messages"][-1]["content"]
    assert content[1] == {"type": "text", "text": "Attached file notes.md:\n# Contract\nThe fee is 10,000 EUR."}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/cat.png",
        "http://127.0.0.1:8000/admin/",
        "http://testserver/cerebro/api/files/download/forged-token",
        "file:///etc/passwd",
        "http://[::1",
        "/cerebro/api/files/download/" + "x" * 4000,
    ],
)
def test_a_file_part_that_is_not_the_users_upload_is_refused(signed_in, llm_endpoint_configured, url):
    r = signed_in.post(
        CHAT,
        app_body(uuid.uuid4(), text("look"), {"type": "file", "url": url, "mediaType": "image/png"}),
        format="json",
    )

    assert r.status_code == 400, r.json()
    assert r.json()["code"] == "bad_request:api"
    assert "/api/files/upload" in r.json()["cause"] or "upload the file again" in r.json()["cause"]
    assert not Chat.objects.exists() and llm_endpoint_configured.requests == []


@pytest.mark.django_db
def test_another_users_upload_is_refused(signed_in, client_of, other_user, llm_endpoint_configured):
    theirs = client_of(other_user).post(
        UPLOAD, {"file": SimpleUploadedFile("pixel.png", PNG_BYTES, content_type="image/png")}, format="multipart"
    )
    part = {"type": "file", "url": theirs.json()["url"], "mediaType": "image/png"}

    r = signed_in.post(CHAT, app_body(uuid.uuid4(), text("look"), part), format="json")

    assert r.status_code == 400, r.json()
    assert llm_endpoint_configured.requests == []


@pytest.mark.django_db
def test_sending_the_same_message_again_continues_the_chat_from_it(signed_in, llm_endpoint_configured):
    # Given a chat with a question and its answer
    chat_id, question_id = uuid.uuid4(), uuid.uuid4()
    llm_endpoint_configured.reply_stream(["First answer."])
    b"".join(signed_in.post(CHAT, app_body(chat_id, text("Tell me"), message_id=question_id), format="json"))
    llm_endpoint_configured.reply_stream(["Second answer."])

    # When the client regenerates (sends the same question again)
    r = signed_in.post(CHAT, app_body(chat_id, text("Tell me"), message_id=question_id), format="json")

    # Then the model sees the question once, and the chat holds it with the new answer only
    assert streamed_text(chunks_of(r)) == "Second answer."
    assert llm_endpoint_configured.requests[-1].json["messages"][1:] == [{"role": "user", "content": "Tell me"}]
    stored = list(ChatMessage.objects.filter(chat_id=chat_id).order_by("created_at").values_list("role", "content"))
    assert stored == [("user", "Tell me"), ("assistant", "Second answer.")]


@pytest.mark.django_db
def test_a_message_id_of_another_chat_is_a_conflict(signed_in, llm_endpoint_configured):
    message_id = uuid.uuid4()
    b"".join(signed_in.post(CHAT, app_body(uuid.uuid4(), text("one"), message_id=message_id), format="json"))

    r = signed_in.post(CHAT, app_body(uuid.uuid4(), text("two"), message_id=message_id), format="json")

    assert r.status_code == 409, r.json()
    assert r.json()["code"] == "bad_request:api" and r.json()["error"] == "conflict"
    assert Chat.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": "not-a-uuid"}, "id"),
        ({"selectedVisibilityType": "everyone"}, "selectedVisibilityType"),
        ({"message": {"id": str(uuid.uuid4()), "role": "assistant", "parts": [text("x")]}}, "message"),
        ({"message": {"id": str(uuid.uuid4()), "role": "user", "parts": []}}, "message"),
        ({"message": {"id": str(uuid.uuid4()), "role": "user", "parts": [{"type": "tool-call"}]}}, "message"),
        ({"message": {"id": str(uuid.uuid4()), "role": "user", "parts": [{"type": "text"}]}}, "message"),
        ({"message": {"id": str(uuid.uuid4()), "role": "user", "parts": ["text"]}}, "message"),
    ],
)
def test_an_invalid_app_body_is_a_bad_request_in_the_apps_shape(signed_in, change, field):
    r = signed_in.post(CHAT, {**app_body(uuid.uuid4(), text("hi")), **change}, format="json")

    assert r.status_code == 400, r.json()
    body = r.json()
    assert body["code"] == "bad_request:api" and body["error"] == "validation_error"
    assert field in body["details"] and body["cause"].startswith("Validation failed")
    assert not Chat.objects.exists()


@pytest.mark.django_db
def test_errors_follow_the_shape_of_the_request(client, user):
    # Given no credential
    app = client.post(CHAT, app_body(uuid.uuid4(), text("hi")), content_type="application/json")
    spec = client.post(CHAT, {"messages": [{"role": "user", "content": "hi"}]}, content_type="application/json")

    # Then the app's request reads the app's code, the spec's request exactly the spec's envelope
    assert app.status_code == spec.status_code == 401, (app.content, spec.content)
    assert app.json()["code"] == "unauthorized:chat" and app.json()["error"] == "authentication_error"
    assert set(spec.json()) == {"error", "message"} and spec.json()["error"] == "authentication_error"


@pytest.mark.django_db
def test_the_app_is_rate_limited_in_its_shape(client, user, llm_not_configured):
    auth = bearer_for(user, product="cerebro")
    statuses = []
    for _ in range(31):
        r = client.post(CHAT, app_body(uuid.uuid4(), text("hi")), content_type="application/json", **auth)
        statuses.append(r.status_code)
        if r.status_code == 200:
            b"".join(r)

    assert statuses == [200] * 30 + [429]
    assert r.json()["code"] == "rate_limit:chat" and "Retry-After" in r


@pytest.mark.django_db
def test_the_offline_provider_answers_the_app_and_says_so(signed_in, llm_not_configured):
    r = signed_in.post(CHAT, app_body(uuid.uuid4(), text("Hello")), format="json")

    assert streamed_text(chunks_of(r)).startswith("[offline] No language model is configured")


@pytest.mark.django_db
def test_a_model_failure_ends_the_ui_stream_with_an_error_chunk(signed_in, llm_endpoint_configured):
    llm_endpoint_configured.reply_stream(["Par", "tial"], drop_after=1)

    chunks = chunks_of(signed_in.post(CHAT, app_body(uuid.uuid4(), text("hi")), format="json"))

    types = [c if c == "[DONE]" else c["type"] for c in chunks]
    assert types == ["start", "start-step", "text-start", "text-delta", "text-end", "error", "[DONE]"]
    assert chunks[-2]["errorText"]
    assert ChatMessage.objects.get(role="assistant").complete is False


@pytest.mark.django_db
def test_resuming_a_chat_id_that_is_not_a_uuid_is_404_in_the_apps_shape(signed_in):
    r = signed_in.get(f"{CHAT}/null,null/stream")

    assert r.status_code == 404, r.json()
    assert r.json()["code"] == "not_found:chat"


@pytest.mark.django_db
def test_the_answer_streams_when_the_resumable_store_is_down(signed_in, llm_endpoint_configured, monkeypatch):
    # Given the store that keeps answers resumable is unreachable
    from cerebro.services import chat_stream

    class Unreachable:
        async def open(self, **kwargs):
            raise ConnectionError("the store is down")

    monkeypatch.setattr(chat_stream, "stream_store", Unreachable)
    llm_endpoint_configured.reply_stream(["Still ", "here."])

    # When the app sends a message
    r = signed_in.post(CHAT, app_body(uuid.uuid4(), text("hi")), format="json")

    # Then the answer streams and is stored all the same (it only cannot be resumed)
    assert r.status_code == 200, r
    assert streamed_text(chunks_of(r)) == "Still here."
    assert ChatMessage.objects.get(role="assistant").complete is True


@pytest.mark.django_db(transaction=True)
def test_the_answer_goes_on_when_the_client_goes_away(asgi_server, llm_endpoint_configured):
    # Given a slow answer, and a client that leaves after its first frame (the user reloads the page)
    person = UserFactory()
    chat_id = uuid.uuid4()
    llm_endpoint_configured.reply_stream(["One ", "two ", "three ", "four ", "five."], chunk_delay=0.3)
    headers = {"Authorization": bearer_for(person, product="cerebro")["HTTP_AUTHORIZATION"]}
    with (
        httpx.Client(base_url=asgi_server, timeout=30) as client,
        client.stream("POST", CHAT, json=app_body(chat_id, text("Count")), headers=headers) as response,
    ):
        assert next(response.iter_bytes()).startswith(b"data: ")

    # When the reloaded page resumes the chat
    with httpx.Client(base_url=asgi_server, timeout=30) as client:
        resumed = client.get(f"{CHAT}/{chat_id}/stream", headers=headers)

    # Then the answer was finished and stored whole, and the resume handed it over
    assert resumed.status_code == 200, resumed.text
    assert '"delta":"five."' in resumed.text or "appendMessage" in resumed.text
    deadline = time.monotonic() + 15
    while not ChatMessage.objects.filter(role="assistant").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    answer = ChatMessage.objects.get(role="assistant")
    assert answer.content == "One two three four five." and answer.complete is True


@pytest.mark.django_db(transaction=True)
def test_an_answer_that_outlives_its_request_takes_no_thread_of_its_own(user, llm_not_configured):
    # Given a turn whose request (Django runs each in a thread-sensitive context) reads one frame
    # and is gone before the answer ends, as when the client disconnects
    from asgiref.sync import SyncToAsync, ThreadSensitiveContext

    from cerebro.services import chat_stream
    from cerebro.services.chat import chat_turn_begin_from_parts

    turn = chat_turn_begin_from_parts(
        user=user,
        chat_id=uuid.uuid4(),
        message_id=uuid.uuid4(),
        parts=[text("Hello")],
        chat_model="chat-model",
        visibility="private",
    )
    executors_before = dict(SyncToAsync.context_to_thread_executor)

    async def a_request_that_leaves() -> None:
        async with ThreadSensitiveContext():
            frames = ui_answer_stream(turn)
            await anext(frames)
            producers = list(chat_stream._producing)
            await frames.aclose()
        await asyncio.gather(*producers)

    # When the answer finishes after the request's context has ended
    from cerebro.services.chat_stream import ui_answer_stream

    asyncio.run(a_request_that_leaves())

    # Then it was stored whole, and no thread (with its database connection) was left behind for it
    answer = ChatMessage.objects.get(role="assistant")
    assert answer.complete is True and answer.content.startswith("[offline]")
    assert dict(SyncToAsync.context_to_thread_executor) == executors_before


@pytest.mark.django_db
def test_a_download_link_of_another_product_is_refused(signed_in, uploaded, llm_endpoint_configured):
    # Given a link to the user's own upload, but signed for the marketplace's download path
    from accounts.tokens import download_link_issue
    from cerebro.models import Upload

    upload = Upload.objects.get(pk=uploaded("pixel.png", PNG_BYTES, "image/png")["id"])
    token, _ = download_link_issue(
        product="marketplace", cid=upload.cid, filename="pixel.png", content_type="image/png", ttl_seconds=60
    )
    part = {"type": "file", "url": f"/cerebro/api/files/download/{token}", "mediaType": "image/png"}

    r = signed_in.post(CHAT, app_body(uuid.uuid4(), text("look"), part), format="json")

    assert r.status_code == 400, r.json()
    assert llm_endpoint_configured.requests == []


@pytest.mark.django_db
def test_the_app_chats_with_its_own_session_cookie(client, llm_endpoint_configured):
    # Given the app's Auth.js v5 session (as its browser sends it, with its Origin)
    import time as clock

    from accounts.identity import nextauth
    from tests.cerebro.conftest import NEXTAUTH_SECRET

    client.cookies["authjs.session-token"] = nextauth.encode_session_token(
        {"sub": "u-7", "id": "u-7", "type": "regular", "email": "ada@example.com", "exp": int(clock.time()) + 600},
        NEXTAUTH_SECRET,
        cookie_name="authjs.session-token",
    )
    llm_endpoint_configured.reply_stream(["Hi ", "Ada."])
    chat_id = uuid.uuid4()

    # When it sends a message, then opens the sidebar
    r = client.post(
        CHAT, app_body(chat_id, text("Hello")), content_type="application/json", HTTP_ORIGIN="http://testserver"
    )
    history = client.get("/cerebro/api/history", {"limit": 20})

    # Then it reads the answer in the UI message stream, and finds the chat in its history
    assert r.status_code == 200, r
    assert streamed_text(chunks_of(r)) == "Hi Ada."
    assert [chat["id"] for chat in history.json()["chats"]] == [str(chat_id)]
