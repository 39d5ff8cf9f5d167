"""What the app keeps beside its chats: /api/vote, /api/document (versions), /api/suggestions, and
their admin pages. The owner only; errors in the app's shape."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from cerebro.models import Chat, ChatMessage, Document, DocumentVersion, Suggestion, Vote

VOTE = "/cerebro/api/vote"
DOCUMENT = "/cerebro/api/document"
SUGGESTIONS = "/cerebro/api/suggestions"


@pytest.fixture
def answered_chat(user) -> tuple[Chat, ChatMessage]:
    chat = Chat.objects.create(user=user, title="mine")
    ChatMessage.objects.create(chat=chat, role="user", content="Question")
    return chat, ChatMessage.objects.create(chat=chat, role="assistant", content="Answer")


@pytest.fixture
def document_with_suggestion(user) -> tuple[Document, Suggestion]:
    document = Document.objects.create(id=uuid.uuid4(), user=user)
    version = DocumentVersion.objects.create(
        document=document, created_at=document.created_at, title="Essay", content="x"
    )
    return document, Suggestion.objects.create(
        version=version, original_text="teh", suggested_text="the", description="Typo"
    )


@pytest.mark.django_db
def test_a_vote_sent_as_the_app_sends_it_is_recorded_and_listed(signed_in, answered_chat):
    chat, answer = answered_chat
    # The app's fetch posts JSON.stringify(...) without a Content-Type: the browser sends text/plain.
    body = json.dumps({"chatId": str(chat.pk), "messageId": str(answer.pk), "type": "up"})

    up = signed_in.patch(VOTE, body, content_type="text/plain;charset=UTF-8")
    down = signed_in.patch(VOTE, {"chatId": str(chat.pk), "messageId": str(answer.pk), "type": "down"}, format="json")
    listed = signed_in.get(VOTE, {"chatId": str(chat.pk)})

    assert up.status_code == 200 and down.status_code == 200, down.json()
    assert listed.status_code == 200, listed.json()
    assert listed.json() == [{"chatId": str(chat.pk), "messageId": str(answer.pk), "isUpvoted": False}]
    assert Vote.objects.count() == 1


@pytest.mark.django_db
def test_votes_are_the_chat_owners_only(client_of, other_user, answered_chat):
    chat, answer = answered_chat
    intruder = client_of(other_user)

    listed = intruder.get(VOTE, {"chatId": str(chat.pk)})
    cast = intruder.patch(VOTE, {"chatId": str(chat.pk), "messageId": str(answer.pk), "type": "up"}, format="json")

    assert listed.status_code == 403 and listed.json()["code"] == "forbidden:vote", listed.json()
    assert cast.status_code == 403 and cast.json()["code"] == "forbidden:vote", cast.json()
    assert not Vote.objects.exists()


@pytest.mark.django_db
def test_a_vote_needs_a_message_of_that_chat(signed_in, user, answered_chat):
    chat, _ = answered_chat
    elsewhere = ChatMessage.objects.create(
        chat=Chat.objects.create(user=user, title="other"), role="assistant", content="y"
    )

    wrong_message = signed_in.patch(
        VOTE, {"chatId": str(chat.pk), "messageId": str(elsewhere.pk), "type": "up"}, format="json"
    )
    unknown_chat = signed_in.get(VOTE, {"chatId": str(uuid.uuid4())})
    missing = signed_in.get(VOTE)
    bad_type = signed_in.patch(
        VOTE, {"chatId": str(chat.pk), "messageId": str(elsewhere.pk), "type": "meh"}, format="json"
    )

    assert wrong_message.status_code == 404 and wrong_message.json()["code"] == "not_found:vote", wrong_message.json()
    assert unknown_chat.status_code == 404, unknown_chat.json()
    assert missing.status_code == 400 and missing.json()["code"] == "bad_request:api", missing.json()
    assert bad_type.status_code == 400, bad_type.json()
    assert not Vote.objects.exists()


@pytest.mark.django_db
def test_a_document_saved_as_the_app_saves_it_gets_versions_in_order(signed_in, user):
    document_id = uuid.uuid4()
    # The artifact editor posts JSON.stringify(...) without a Content-Type, many times a second.
    saves = [
        signed_in.post(
            f"{DOCUMENT}?id={document_id}",
            json.dumps({"title": "Essay", "content": f"draft {n}", "kind": "code"}),
            content_type="text/plain;charset=UTF-8",
        )
        for n in range(5)
    ]

    assert all(r.status_code == 200 for r in saves), saves[-1].json()
    moments = [r.json()[0]["createdAt"] for r in saves]
    assert moments == sorted(moments) and len(set(moments)) == 5
    versions = signed_in.get(DOCUMENT, {"id": str(document_id)}).json()
    assert [v["content"] for v in versions] == [f"draft {n}" for n in range(5)]
    assert {v["kind"] for v in versions} == {"code"} and {v["userId"] for v in versions} == {str(user.pk)}


@pytest.mark.django_db
def test_restoring_a_version_deletes_the_later_ones_and_their_suggestions(signed_in, document_with_suggestion):
    document, suggestion = document_with_suggestion
    first = document.versions.get()
    later = DocumentVersion.objects.create(
        document=document, created_at=first.created_at + timedelta(seconds=1), title="Essay", content="y"
    )
    Suggestion.objects.create(version=later, original_text="y", suggested_text="z")
    timestamp = signed_in.get(DOCUMENT, {"id": str(document.pk)}).json()[0]["createdAt"]

    r = signed_in.delete(f"{DOCUMENT}?id={document.pk}&timestamp={timestamp}")

    assert r.status_code == 200, r.json()
    assert [v["content"] for v in r.json()] == ["y"]
    assert list(Suggestion.objects.all()) == [suggestion]


@pytest.mark.django_db
def test_documents_are_their_owners_only(client_of, other_user, document_with_suggestion):
    document, _ = document_with_suggestion
    intruder = client_of(other_user)

    read = intruder.get(DOCUMENT, {"id": str(document.pk)})
    restored = intruder.delete(f"{DOCUMENT}?id={document.pk}&timestamp=2000-01-01T00:00:00.000Z")
    suggestions = intruder.get(SUGGESTIONS, {"documentId": str(document.pk)})

    assert read.status_code == 403 and read.json()["code"] == "forbidden:document", read.json()
    assert restored.status_code == 403, restored.json()
    assert suggestions.status_code == 403 and suggestions.json()["code"] == "forbidden:suggestions"
    assert DocumentVersion.objects.count() == 1 and Suggestion.objects.count() == 1


@pytest.mark.django_db
def test_an_invalid_document_request_is_a_bad_request(signed_in, document_with_suggestion):
    document, _ = document_with_suggestion

    bad_kind = signed_in.post(f"{DOCUMENT}?id={uuid.uuid4()}", {"title": "x", "kind": "video"}, format="json")
    bad_time = signed_in.delete(f"{DOCUMENT}?id={document.pk}&timestamp=Thu Oct 30 2025")
    unknown = signed_in.delete(f"{DOCUMENT}?id={uuid.uuid4()}&timestamp=2000-01-01")

    assert bad_kind.status_code == 400 and bad_kind.json()["code"] == "bad_request:api", bad_kind.json()
    assert bad_time.status_code == 400 and "timestamp" in bad_time.json()["details"], bad_time.json()
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found:document", unknown.json()
    assert not Document.objects.exclude(pk=document.pk).exists()


@pytest.mark.django_db
def test_a_timestamp_with_any_offset_is_read_in_utc(signed_in, document_with_suggestion):
    # Found by fuzzing: PostgreSQL refuses offsets beyond +-15:59, so the moment is sent in UTC.
    document, _ = document_with_suggestion

    r = signed_in.delete(f"{DOCUMENT}?id={document.pk}&timestamp=0427-04-15T11:21:58.2725%2B21:49")
    too_early = signed_in.delete(f"{DOCUMENT}?id={document.pk}&timestamp=0001-01-01T00:00:00%2B05:00")

    assert r.status_code == 200, r.json()
    assert [v["title"] for v in r.json()] == ["Essay"]
    assert too_early.status_code == 400, too_early.json()


@pytest.mark.django_db
def test_suggestions_list_the_owners_suggestions(signed_in, document_with_suggestion):
    document, suggestion = document_with_suggestion

    r = signed_in.get(SUGGESTIONS, {"documentId": str(document.pk)})
    unknown = signed_in.get(SUGGESTIONS, {"documentId": str(uuid.uuid4())})

    assert r.status_code == 200, r.json()
    [listed] = r.json()
    assert listed["id"] == str(suggestion.pk) and listed["documentId"] == str(document.pk)
    assert listed["originalText"] == "teh" and listed["suggestedText"] == "the" and listed["isResolved"] is False
    assert unknown.status_code == 200 and unknown.json() == []


@pytest.mark.django_db
def test_staff_see_votes_documents_and_suggestions_in_the_admin(
    client, staff_user, answered_chat, document_with_suggestion
):
    chat, answer = answered_chat
    Vote.objects.create(chat=chat, message=answer, is_upvoted=True)
    document, _ = document_with_suggestion
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)

    pages = {
        "votes": client.get("/admin/cerebro/vote/"),
        "documents": client.get("/admin/cerebro/document/"),
        "document": client.get(f"/admin/cerebro/document/{document.pk}/change/"),
        "suggestions": client.get("/admin/cerebro/suggestion/"),
    }

    assert {name: page.status_code for name, page in pages.items()} == dict.fromkeys(pages, 200)
    assert "Essay" in pages["document"].content.decode()
    assert "Typo" in pages["suggestions"].content.decode()


@pytest.mark.django_db
def test_restoring_at_the_last_representable_moment_deletes_nothing(signed_in, document_with_suggestion):
    document, suggestion = document_with_suggestion

    r = signed_in.delete(f"{DOCUMENT}?id={document.pk}&timestamp=9999-12-31T23:59:59.999Z")

    assert r.status_code == 200, r.json()
    assert r.json() == []
    assert document.versions.count() == 1 and list(Suggestion.objects.all()) == [suggestion]
