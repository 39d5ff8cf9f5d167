"""The app's sidebar: GET /api/history with cursors, DELETE /api/chat?id= and DELETE /api/history."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from cerebro.models import Chat, ChatMessage, Vote

HISTORY = "/cerebro/api/history"
CHAT = "/cerebro/api/chat"


@pytest.fixture
def forty_five_chats(user, other_user) -> list[str]:
    """45 chats of the user (some active at the very same moment), newest activity first."""
    start = timezone.now()
    ids = []
    for n in range(45):
        chat = Chat.objects.create(user=user, title=f"chat {n}")
        # Pairs share their last activity: the order must still be total.
        Chat.objects.filter(pk=chat.pk).update(updated_at=start - timedelta(minutes=n // 2))
        ids.append(chat.pk)
    Chat.objects.create(user=other_user, title="not mine")
    return [
        str(pk) for pk in Chat.objects.filter(user=user).order_by("-updated_at", "-pk").values_list("pk", flat=True)
    ]


@pytest.mark.django_db
def test_the_sidebars_pages_never_repeat_and_reach_the_oldest_chat(signed_in, forty_five_chats):
    # Given the sidebar's first page (limit only), then ending_before the last chat of each page
    pages = [signed_in.get(HISTORY, {"limit": 20}).json()]
    while pages[-1]["hasMore"]:
        r = signed_in.get(HISTORY, {"ending_before": pages[-1]["chats"][-1]["id"], "limit": 20})
        assert r.status_code == 200, r.json()
        pages.append(r.json())
        assert len(pages) < 10, "the pages do not end"

    # Then every chat comes exactly once, in order, and the last page says it is the end
    listed = [chat["id"] for page in pages for chat in page["chats"]]
    assert listed == forty_five_chats
    assert [len(page["chats"]) for page in pages] == [20, 20, 5]
    assert [page["hasMore"] for page in pages] == [True, True, False]


@pytest.mark.django_db
def test_starting_after_pages_back_towards_the_newest(signed_in, forty_five_chats):
    r = signed_in.get(HISTORY, {"starting_after": forty_five_chats[30], "limit": 5})

    assert r.status_code == 200, r.json()
    assert [chat["id"] for chat in r.json()["chats"]] == forty_five_chats[25:30]
    assert r.json()["hasMore"] is True


@pytest.mark.django_db
def test_a_cursor_page_reads_a_fixed_number_of_queries(signed_in, forty_five_chats, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        r = signed_in.get(HISTORY, {"ending_before": forty_five_chats[10], "limit": 20})

    assert r.status_code == 200, r.json()
    assert set(r.json()["chats"][0]) >= {"id", "title", "createdAt", "visibility", "userId", "messageCount"}


@pytest.mark.django_db
def test_both_cursors_at_once_is_a_bad_request_in_the_apps_shape(signed_in, forty_five_chats):
    r = signed_in.get(HISTORY, {"ending_before": forty_five_chats[0], "starting_after": forty_five_chats[1]})

    assert r.status_code == 400, r.json()
    assert r.json()["code"] == "bad_request:api"
    assert "starting_after or ending_before, not both" in r.json()["cause"]


@pytest.mark.django_db
def test_a_cursor_that_is_not_one_of_the_users_chats_is_404(signed_in, other_user):
    theirs = Chat.objects.create(user=other_user, title="theirs")

    unknown = signed_in.get(HISTORY, {"ending_before": str(uuid.uuid4())})
    foreign = signed_in.get(HISTORY, {"ending_before": str(theirs.pk)})

    assert unknown.status_code == 404 and foreign.status_code == 404, foreign.json()
    assert foreign.json()["code"] == "not_found:chat"


@pytest.mark.django_db
def test_without_a_cursor_history_keeps_the_spec_envelope(client, signed_in):
    anonymous = client.get(HISTORY)
    invalid = signed_in.get(HISTORY, {"limit": 0})

    assert anonymous.status_code == 401 and set(anonymous.json()) == {"error", "message"}
    assert invalid.status_code == 400 and invalid.json()["error"] == "validation_error"
    assert "code" not in invalid.json()


@pytest.mark.django_db
def test_deleting_a_chat_deletes_its_messages_and_votes(signed_in, user):
    chat = Chat.objects.create(user=user, title="mine")
    answer = ChatMessage.objects.create(chat=chat, role="assistant", content="x")
    Vote.objects.create(chat=chat, message=answer, is_upvoted=True)

    r = signed_in.delete(f"{CHAT}?id={chat.pk}")

    assert r.status_code == 200, r.json()
    assert r.json()["id"] == str(chat.pk) and r.json()["title"] == "mine"
    assert not Chat.objects.exists() and not ChatMessage.objects.exists() and not Vote.objects.exists()


@pytest.mark.django_db
def test_deleting_a_chat_needs_an_id_that_exists(signed_in):
    missing = signed_in.delete(CHAT)
    unknown = signed_in.delete(f"{CHAT}?id={uuid.uuid4()}")

    assert missing.status_code == 400 and missing.json()["code"] == "bad_request:api", missing.json()
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found:chat", unknown.json()


@pytest.mark.django_db
def test_delete_history_deletes_only_the_users_chats(signed_in, user, other_user):
    for n in range(3):
        ChatMessage.objects.create(chat=Chat.objects.create(user=user, title=f"mine {n}"), role="user", content="x")
    theirs = Chat.objects.create(user=other_user, title="theirs")

    r = signed_in.delete(HISTORY)

    assert r.status_code == 200, r.json()
    assert r.json() == {"deletedCount": 3}
    assert list(Chat.objects.values_list("pk", flat=True)) == [theirs.pk]
    assert signed_in.get(HISTORY).json()["total"] == 0


@pytest.mark.django_db
def test_deleting_needs_a_signed_in_user(client):
    r = client.delete(HISTORY)

    assert r.status_code == 401, r.json()
    assert r.json()["code"] == "unauthorized:chat"
