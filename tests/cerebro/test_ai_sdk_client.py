"""POST /api/chat driven by the AI SDK's own client code, the way the minicontratos app drives it.

The SDK (``ai`` 5.0.26, the app's version, pinned with its lockfile in tests/cerebro/ai_sdk/) is
installed from the npm registry into ``VAR_DIR/node/ai-sdk`` once, then reused. A node script runs
its chat engine (``AbstractChat`` with ``DefaultChatTransport``, what ``useChat`` runs) against a
live server: the SDK parses and validates the UI message stream itself, so a chunk it does not
accept is an error here. Without node and npm this test fails in CI (``tool`` markers).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from cerebro import conf
from cerebro.models import Chat, ChatMessage
from tests.conftest import bearer_for
from tests.factories import UserFactory

pytestmark = [pytest.mark.tool("node"), pytest.mark.tool("npm")]

CLIENT_DIR = Path(__file__).resolve().parent / "ai_sdk"
CLIENT_FILES = ("package.json", "package-lock.json", "chat.mjs")
CHAT = "/cerebro/api/chat"


@pytest.fixture(scope="session")
def ai_sdk_client() -> Path:
    """A folder holding the pinned SDK (``npm ci``, once per lockfile) and the client script."""
    target = Path(settings.VAR_DIR) / "node" / "ai-sdk"
    target.mkdir(parents=True, exist_ok=True)
    lock = (CLIENT_DIR / "package-lock.json").read_bytes()
    marker = target / "node_modules" / ".installed-from"
    wanted = hashlib.sha256(lock).hexdigest()
    for name in CLIENT_FILES:
        shutil.copyfile(CLIENT_DIR / name, target / name)
    if not marker.exists() or marker.read_text() != wanted:
        installed = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--cache", str(target / "npm-cache")],
            cwd=target,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert installed.returncode == 0, f"npm ci failed:\n{installed.stdout}\n{installed.stderr}"
        marker.write_text(wanted)
    return target


def run_ai_sdk_chat(client_dir: Path, *, base_url: str, user, chat_id: str, text: str, **extra_env: str) -> dict:
    env = {
        **os.environ,
        "CHAT_API": base_url + CHAT,
        "TOKEN": bearer_for(user, product="cerebro")["HTTP_AUTHORIZATION"].removeprefix("Bearer "),
        "CHAT_ID": chat_id,
        "TEXT": text,
        **extra_env,
    }
    done = subprocess.run(
        ["node", str(client_dir / "chat.mjs")], cwd=client_dir, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"the SDK client failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout)


def text_of(message: dict) -> str:
    return "".join(part["text"] for part in message["parts"] if part["type"] == "text")


@pytest.mark.django_db(transaction=True)
def test_the_ai_sdk_renders_the_assistants_text_with_no_error(asgi_server, llm_endpoint_configured, ai_sdk_client):
    # Given a model that answers in four pieces
    person = UserFactory()
    chat_id = str(uuid.uuid4())
    llm_endpoint_configured.reply_stream(["Olá", ", ", "Ada", "!"], chunk_delay=0.05)

    # When the SDK's chat sends a message, then resumes the chat as the app does on every page
    result = run_ai_sdk_chat(ai_sdk_client, base_url=asgi_server, user=person, chat_id=chat_id, text="Say hello")

    # Then it shows the assistant's text, whole, with no error
    sent = result["afterSend"]
    assert result["errors"] == [] and sent["error"] is None and sent["status"] == "ready", result
    user_message, answer = sent["messages"]
    assert user_message["role"] == "user" and text_of(user_message) == "Say hello"
    assert answer["role"] == "assistant" and text_of(answer) == "Olá, Ada!"
    # and the answer it shows is the one stored, under the id the stream announced (votes use it)
    stored = ChatMessage.objects.get(role="assistant")
    assert str(stored.pk) == answer["id"] and stored.content == "Olá, Ada!" and stored.complete
    assert str(ChatMessage.objects.get(role="user").pk) == user_message["id"]
    assert Chat.objects.get(pk=chat_id).user == person
    # and resuming the just-finished answer hands it over whole, which the SDK accepts
    assert result["statusAfterResume"] == "ready", result
    [restored] = result["dataParts"]
    assert restored["type"] == "data-appendMessage" and json.loads(restored["data"])["id"] == answer["id"]
    assert [(r["method"], r["status"]) for r in result["requests"]] == [("POST", 200), ("GET", 200)]


@pytest.mark.django_db(transaction=True)
def test_the_ai_sdk_resumes_nothing_when_no_answer_runs(asgi_server, llm_not_configured, ai_sdk_client, monkeypatch):
    # Given answers are handed over whole for no time after they finish (offline provider)
    person = UserFactory()
    monkeypatch.setattr(conf, "CHAT_RESTORE_SECONDS", 0)

    # When the SDK sends a message and then resumes
    result = run_ai_sdk_chat(
        ai_sdk_client, base_url=asgi_server, user=person, chat_id=str(uuid.uuid4()), text="Anyone there?"
    )

    # Then the offline provider's text is shown, and the resume (204) leaves the chat ready
    assert result["errors"] == [] and result["afterSend"]["status"] == "ready", result
    assert text_of(result["afterSend"]["messages"][-1]).startswith("[offline]")
    assert [(r["method"], r["status"]) for r in result["requests"]] == [("POST", 200), ("GET", 204)]
    assert result["statusAfterResume"] == "ready" and result["dataParts"] == []


@pytest.mark.django_db(transaction=True)
def test_the_apps_error_handler_reads_a_refusal(asgi_server, llm_endpoint_configured, ai_sdk_client):
    # Given a chat of another user
    owner, intruder = UserFactory(), UserFactory()
    chat = Chat.objects.create(user=owner, title="Ada's")

    # When the SDK sends a message into it
    result = run_ai_sdk_chat(ai_sdk_client, base_url=asgi_server, user=intruder, chat_id=str(chat.pk), text="hi")

    # Then the app's fetch wrapper reads the code from the body, and nothing was stored or asked
    assert result["afterSend"]["status"] == "error", result
    assert result["errors"][0]["message"] == "forbidden:chat"
    assert result["errors"][0]["cause"] == "This chat belongs to another user"
    assert not ChatMessage.objects.exists() and llm_endpoint_configured.requests == []


@pytest.mark.django_db(transaction=True)
def test_a_model_failure_reaches_the_sdk_as_an_error(asgi_server, llm_endpoint_configured, ai_sdk_client):
    # Given a model that fails after its first piece
    person = UserFactory()
    llm_endpoint_configured.reply_stream(["Par", "tial"], drop_after=1)

    # When the SDK sends a message
    result = run_ai_sdk_chat(ai_sdk_client, base_url=asgi_server, user=person, chat_id=str(uuid.uuid4()), text="hi")

    # Then it shows the partial text and reports the error frame
    assert result["afterSend"]["status"] == "error", result
    assert text_of(result["afterSend"]["messages"][-1]) == "Par"
    assert ChatMessage.objects.get(role="assistant").complete is False
