"""search and context: relevance, filters, the working set under a token budget, explain."""

import random
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from cerebro import conf
from cerebro.models import Chat, ChatMessage, Memory
from cerebro.retrieval import memory_sql
from core.llm.tokens import estimate_tokens

pytestmark = pytest.mark.django_db

SEARCH = "/cerebro/api/memory/search"
CONTEXT = "/cerebro/api/memory/context"


@pytest.fixture
def memories_written(remember):
    remember(
        "user:123:preference:theme", {"theme": "dark"}, layer="temporary", confidence=0.9, tags=["preference", "ui"]
    )
    remember(
        "user:123:preference:language",
        {"language": "Portuguese"},
        layer="permanent",
        confidence=0.95,
        tags=["preference"],
    )
    remember(
        "project:deadline", {"note": "contract deadline is Friday"}, layer="context", confidence=0.6, tags=["work"]
    )
    remember("hobby", {"likes": "cycling and hiking in the mountains"}, layer="temporary", confidence=0.4)


def test_search_ranks_by_relevance_in_zero_to_one(signed_in, memories_written):
    r = signed_in.post(SEARCH, {"query": "user preferences theme"}, format="json")

    assert r.status_code == 200, r.json()
    body = r.json()
    keys = [m["key"] for m in body["memories"]]
    assert keys[0] == "user:123:preference:theme"
    assert "user:123:preference:language" in keys
    assert body["total"] == len(keys) == 2
    scores = [m["relevanceScore"] for m in body["memories"]]
    assert all(0 < s <= 1 for s in scores) and scores == sorted(scores, reverse=True)
    assert scores[0] == 1.0
    assert {"id", "key", "content", "confidence", "relevanceScore"} <= set(body["memories"][0])


def test_search_filters_by_layer_tags_and_min_confidence(signed_in, memories_written):
    by_layer = signed_in.post(SEARCH, {"query": "preference", "layer": "permanent"}, format="json").json()
    by_tags = signed_in.post(SEARCH, {"query": "preference", "tags": ["preference", "ui"]}, format="json").json()
    by_confidence = signed_in.post(SEARCH, {"query": "", "minConfidence": 0.9}, format="json").json()

    assert [m["key"] for m in by_layer["memories"]] == ["user:123:preference:language"]
    assert [m["key"] for m in by_tags["memories"]] == ["user:123:preference:theme"]
    assert {m["key"] for m in by_confidence["memories"]} == {
        "user:123:preference:theme",
        "user:123:preference:language",
    }
    assert all(m["relevanceScore"] == 1.0 for m in by_confidence["memories"])


def test_search_matches_content_words_and_respects_limit(signed_in, memories_written):
    r = signed_in.post(SEARCH, {"query": "mountains hiking", "limit": 1}, format="json")

    assert r.json()["total"] == 1
    assert r.json()["memories"][0]["key"] == "hobby"


def test_search_only_sees_the_users_own_memories(client_of, other_user, memories_written):
    r = client_of(other_user).post(SEARCH, {"query": "theme"}, format="json")

    assert r.json() == {"memories": [], "total": 0}


def test_search_rejects_a_bad_limit(signed_in):
    r = signed_in.post(SEARCH, {"query": "x", "limit": 0}, format="json")

    assert r.status_code == 400, r.json()


@pytest.fixture
def chat_about_contracts(user):
    chat = Chat.objects.create(user=user, title="contracts")
    ChatMessage.objects.create(chat=chat, role="user", content="When is the contract deadline? I need to sign it.")
    return chat


def test_context_returns_the_working_set_in_the_spec_shape(signed_in, memories_written, chat_about_contracts):
    r = signed_in.post(CONTEXT, {"chatId": str(chat_about_contracts.pk), "maxTokens": 2000}, format="json")

    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["count"] == len(body["memories"]) == 4
    assert body["memories"][0]["key"] == "project:deadline"
    assert set(body["memories"][0]) == {"id", "key", "content", "layer", "confidence", "createdAt"}
    expected_tokens = sum(m.token_count for m in Memory.objects.all())
    assert body["totalTokens"] == expected_tokens


def test_the_token_count_is_the_documented_estimate(remember):
    remember("k", {"a": "hello world"})

    assert Memory.objects.get(key="k").token_count == estimate_tokens('k: {"a":"hello world"}')


def test_context_stays_within_max_tokens_and_explains_what_was_cut(signed_in, remember, chat_about_contracts):
    remember("contract:big", {"text": "contract " * 200}, layer="context", confidence=1.0)
    remember("contract:small", {"text": "contract deadline"}, layer="context", confidence=0.9)
    big = Memory.objects.get(key="contract:big")
    budget = big.token_count - 1

    r = signed_in.post(
        CONTEXT + "?explain=true", {"chatId": str(chat_about_contracts.pk), "maxTokens": budget}, format="json"
    )

    body = r.json()
    assert body["totalTokens"] <= budget
    assert [m["key"] for m in body["memories"]] == ["contract:small"]
    explained = {c["key"]: c for c in body["explain"]["candidates"]}
    assert explained["contract:big"]["decision"] == "cut"
    assert explained["contract:big"]["reason"].startswith("over budget")
    assert explained["contract:small"]["decision"] == "kept"
    assert set(explained["contract:small"]["parts"]) == {"relevance", "layer", "confidence", "recency"}
    assert body["explain"]["tokenizer"].startswith("estimate")
    assert "contract" in " ".join(body["explain"]["conversationTerms"])


def test_context_prefers_relevant_then_recent_memories(signed_in, remember, chat_about_contracts):
    remember("stale", {"note": "contract deadline"}, layer="temporary", confidence=0.8)
    remember("fresh", {"note": "contract deadline"}, layer="temporary", confidence=0.8)
    remember("unrelated", {"note": "pizza toppings"}, layer="temporary", confidence=0.8)
    Memory.objects.filter(key="stale").update(updated_at=timezone.now() - timedelta(days=3))

    r = signed_in.post(CONTEXT, {"chatId": str(chat_about_contracts.pk), "explain": True}, format="json")

    keys = [m["key"] for m in r.json()["memories"]]
    assert keys == ["fresh", "stale", "unrelated"]


def test_secret_and_pii_memories_never_enter_a_working_set(signed_in, remember, chat_about_contracts):
    remember("contract:pin", {"pin": "4321 contract deadline"}, layer="context", sensitivity="secret", confidence=1.0)
    remember("contract:passport", {"passport": "X123"}, layer="context", sensitivity="pii", confidence=1.0)
    remember("contract:public", {"note": "contract deadline"}, layer="context")

    r = signed_in.post(CONTEXT, {"chatId": str(chat_about_contracts.pk), "explain": True}, format="json")

    assert [m["key"] for m in r.json()["memories"]] == ["contract:public"]
    assert r.json()["explain"]["excludedSensitive"] == 2
    assert "4321" not in str(r.json())


def test_context_without_a_chat_ranks_by_layer_confidence_and_recency(signed_in, memories_written):
    r = signed_in.post(CONTEXT, {}, format="json")

    assert r.status_code == 200, r.json()
    assert r.json()["count"] == 4


def test_context_validates_max_tokens(signed_in):
    r = signed_in.post(CONTEXT, {"maxTokens": 0}, format="json")

    assert r.status_code == 400, r.json()
    assert "maxTokens" in r.json()["details"]


def test_context_and_search_run_a_fixed_number_of_queries(
    signed_in, remember, chat_about_contracts, django_assert_max_num_queries
):
    for n in range(30):
        remember(f"note:{n}", {"text": f"contract clause {n}"})
    # PostgreSQL: the session with its user, then one statement for search; for context, the
    # conversation's lexemes and the ranking (the lexeme statistics are read once per process every
    # CEREBRO_LEXEME_STATISTICS_SECONDS, here beforehand). SQLite adds the chat's messages and the
    # kept memories.
    if settings.USING_POSTGRES:
        memory_sql.lexeme_shares()
    search_queries, context_queries = (2, 3) if settings.USING_POSTGRES else (4, 4)

    with django_assert_max_num_queries(search_queries):
        searched = signed_in.post(SEARCH, {"query": "contract clause", "limit": 50}, format="json")
    with django_assert_max_num_queries(context_queries):
        context = signed_in.post(CONTEXT, {"chatId": str(chat_about_contracts.pk), "maxTokens": 5000}, format="json")

    assert searched.json()["total"] == 30
    assert context.json()["count"] == 30


@pytest.fixture
def small_pool(monkeypatch):
    """Lists of 3 and 4 candidates, so a handful of memories fills them."""
    monkeypatch.setattr(conf, "CONTEXT_POOL", 3)
    monkeypatch.setattr(conf, "CONTEXT_CANDIDATES", 4)


@pytest.fixture
def many_recent_confident_memories(remember):
    """Twelve fresh, confident memories per layer, none about contracts."""
    for layer in ("context", "temporary", "permanent"):
        for n in range(12):
            remember(f"{layer}:pizza:{n}", {"note": f"pizza topping number {n}"}, layer=layer, confidence=0.9)


def test_a_relevant_memory_outside_the_recency_and_confidence_lists_is_still_found(
    signed_in, remember, small_pool, many_recent_confident_memories, chat_about_contracts
):
    remember("old:deadline", {"note": "the contract deadline is the 30th; sign it before"}, confidence=0.3)
    Memory.objects.filter(key="old:deadline").update(updated_at=timezone.now() - timedelta(days=30))

    r = signed_in.post(CONTEXT, {"chatId": str(chat_about_contracts.pk), "explain": True}, format="json")

    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["memories"][0]["key"] == "old:deadline"
    assert body["explain"]["candidates"][0]["parts"]["relevance"] == 1.0
    assert body["explain"]["pool"]["perList"] == 3
    # 37 memories: the one match, and per layer the 3 most recent and the 3 most confident.
    assert body["explain"]["pool"]["size"] < 37


def test_the_pool_says_when_nothing_was_left_out(signed_in, memories_written, chat_about_contracts):
    r = signed_in.post(CONTEXT, {"chatId": str(chat_about_contracts.pk), "explain": True}, format="json")

    # The default budget (2,000 tokens) scores 100 candidates, with lists of 50.
    assert r.json()["explain"]["pool"] == {"size": 4, "perList": 50, "outsideBound": None, "exact": True}


def test_when_the_pool_says_exact_the_candidates_are_those_of_an_unbounded_ranking(
    signed_in, remember, monkeypatch, chat_about_contracts
):
    randomness = random.Random(8)
    for n in range(40):
        word = randomness.choice(["contract", "deadline", "sign", *(f"topic{n}" for n in range(9))])
        remember(
            f"note:{n}",
            {"note": word},
            layer=randomness.choice(["context", "temporary", "permanent"]),
            confidence=round(randomness.uniform(0.1, 1.0), 2),
        )
        age = timedelta(hours=randomness.uniform(0, 200))
        Memory.objects.filter(key=f"note:{n}").update(updated_at=timezone.now() - age)
    body = {"chatId": str(chat_about_contracts.pk), "explain": True}
    monkeypatch.setattr(conf, "CONTEXT_CANDIDATES", 12)
    checked = uncertain = 0
    for per_list in (1, 2, 3, 5, 8):
        monkeypatch.setattr(conf, "CONTEXT_POOL", per_list)
        bounded = signed_in.post(CONTEXT, body, format="json").json()["explain"]
        monkeypatch.setattr(conf, "CONTEXT_POOL", 1000)
        unbounded = signed_in.post(CONTEXT, body, format="json").json()["explain"]

        assert unbounded["pool"]["exact"] and unbounded["pool"]["size"] == 40
        if bounded["pool"]["exact"]:
            checked += 1
            assert [c["key"] for c in bounded["candidates"]] == [c["key"] for c in unbounded["candidates"]]
        else:
            uncertain += 1
            best_left_out = bounded["pool"]["outsideBound"]
            assert best_left_out > bounded["candidates"][-1]["score"]
    assert checked and uncertain  # short lists leave the outcome open, longer ones settle it


def test_the_fast_list_shapes_match_the_documented_serializers(remember):
    from cerebro.serializers.memory import (
        ContextMemoryOutput,
        MemoryOutput,
        context_memory_json,
        memory_json,
    )

    remember("k", {"a": 1}, tags=["t"], sensitivity="secret")
    memory = Memory.objects.get(key="k")

    assert memory_json(memory) == dict(MemoryOutput(memory).data)
    assert context_memory_json(memory) == dict(ContextMemoryOutput(memory).data)


def test_search_hits_and_working_set_entries_read_as_their_stored_memories(
    signed_in, user, remember, chat_about_contracts
):
    # Given memories of every shape the answers show (tags, no expiry, a secret one, odd JSON)
    remember("contract:a", {"note": "contract signed", "n": [1, 2.5, None, True]}, tags=["work", "ui"])
    remember("contract:b", {"note": "contract draft \u00e9t\u00e9"}, layer="permanent", confidence=0.95)
    remember("contract:c", {"note": "contract secret"}, sensitivity="secret", tags=["work"])
    remember("contract:d", {"note": "contract reminder"}, layer="context", confidence=0.3)

    # When they are searched and put in a working set (on PostgreSQL, read straight from the rows)
    from cerebro.selectors.memory import memory_search, memory_working_set
    from cerebro.serializers.memory import context_memory_json, memory_json
    from cerebro.services.chat import memory_prompt

    page = memory_search(user=user, query="contract signed", limit=10)
    working_set = memory_working_set(user=user, chat_id=chat_about_contracts.pk, max_tokens=2000)

    # Then each reads exactly as the model instance of its memory does
    assert len(page.hits) == 4
    for hit in page.hits:
        assert memory_json(hit.memory) == memory_json(Memory.objects.get(pk=hit.memory.pk))
    assert len(working_set.memories) == 3
    stored = [Memory.objects.get(pk=memory.pk) for memory in working_set.memories]
    assert [context_memory_json(m) for m in working_set.memories] == [context_memory_json(m) for m in stored]
    assert memory_prompt(working_set.memories) == memory_prompt(stored)


def _analyze_memories() -> None:
    """Let PostgreSQL sample how common each lexeme is (the working set weighs terms by it)."""
    if settings.USING_POSTGRES:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE cerebro_memory")
        memory_sql.forget_lexeme_shares()


def test_the_conversation_is_matched_on_its_most_informative_terms(signed_in, user, remember, monkeypatch):
    # Every memory holds "meeting", one holds "invoice": the chat says "meeting" twice, but
    # "invoice" is the word that tells its memories apart.
    for n in range(40):
        remember(f"meeting:{n}", {"note": f"weekly meeting notes {n}"}, layer="temporary", confidence=0.9)
    remember("meeting:invoice", {"note": "meeting about the unpaid invoice"}, layer="temporary", confidence=0.5)
    _analyze_memories()
    chat = Chat.objects.create(user=user, title="billing")
    ChatMessage.objects.create(chat=chat, role="user", content="Meeting, meeting: the invoice?")
    monkeypatch.setattr(conf, "CONTEXT_CONVERSATION_TERMS", 1)

    r = signed_in.post(CONTEXT, {"chatId": str(chat.pk), "explain": True}, format="json")

    body = r.json()
    assert body["explain"]["conversationTerms"] == ["invoic"]  # the same term on both backends
    assert body["memories"][0]["key"] == "meeting:invoice"
    assert body["explain"]["candidates"][0]["parts"]["relevance"] == 1.0


def test_a_lexeme_not_sampled_counts_as_half_as_common_as_the_least_common_sampled_one():
    sampled = memory_sql.LexemeShares(shares={"meet": 0.5, "invoic": 0.1}, least=0.1)

    assert sampled.share("meet") == 0.5
    assert sampled.share("lunch") == 0.05
    # Before the first ANALYZE: every lexeme alike, so the conversation's frequencies decide.
    assert memory_sql.LexemeShares(shares={}, least=None).share("meet") == 1.0


@pytest.mark.postgres
def test_lexeme_statistics_are_read_once_per_process_until_they_are_due(
    remember, django_assert_num_queries, monkeypatch
):
    for n in range(5):
        remember(f"meeting:{n}", {"note": f"weekly meeting {n}"})
    _analyze_memories()

    sampled = memory_sql.lexeme_shares()
    with django_assert_num_queries(0):
        assert memory_sql.lexeme_shares() is sampled
    assert sampled.shares["meet"] == 1.0

    monkeypatch.setattr(conf, "LEXEME_STATISTICS_SECONDS", 0)
    memory_sql.forget_lexeme_shares()
    memory_sql.lexeme_shares()
    with django_assert_num_queries(1):
        memory_sql.lexeme_shares()


def test_a_budget_the_first_candidates_do_not_fill_is_filled_from_a_wider_ranking(
    signed_in, remember, chat_about_contracts, monkeypatch
):
    for n in range(20):
        remember(f"n{n}", {"c": n}, layer="temporary", confidence=0.5)
    budget = sum(m.token_count for m in Memory.objects.all())
    # One candidate per 100 tokens of the budget: 2 or 3 at first, far fewer than fit.
    monkeypatch.setattr(conf, "CONTEXT_TOKENS_PER_CANDIDATE", 100)
    monkeypatch.setattr(conf, "CONTEXT_MIN_CANDIDATES", 1)
    monkeypatch.setattr(conf, "CONTEXT_CANDIDATES", 50)
    monkeypatch.setattr(conf, "CONTEXT_POOL", 50)

    r = signed_in.post(CONTEXT, {"chatId": str(chat_about_contracts.pk), "maxTokens": budget}, format="json")

    assert budget < 300
    assert r.json()["count"] == 20
    assert r.json()["totalTokens"] == budget


def test_the_candidates_scored_grow_with_the_budget(signed_in, remember, chat_about_contracts, monkeypatch):
    for n in range(30):  # about 40 tokens each: a budget takes fewer than it scores
        remember(f"note:{n}", {"note": f"contract clause {n} " + "x" * 140}, layer="temporary", confidence=0.5)
    monkeypatch.setattr(conf, "CONTEXT_MIN_CANDIDATES", 5)

    def scored(max_tokens: int) -> tuple[int, int]:
        body = {"chatId": str(chat_about_contracts.pk), "maxTokens": max_tokens, "explain": True}
        explained = signed_in.post(CONTEXT, body, format="json").json()["explain"]
        return len(explained["candidates"]), explained["pool"]["perList"]

    # One candidate per 20 tokens, at least 5, at most 200; the lists are half the candidates.
    assert scored(60) == (5, 3)
    assert scored(400) == (20, 10)
    assert scored(4000) == (30, 100)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/cerebro/api/memory/search", "limit"),
        ("/cerebro/api/memory/context", "maxTokens"),
        ("/cerebro/api/memory/rag", "maxResults"),
    ],
)
@pytest.mark.parametrize("value", ["\uff11\uff10", "\u0661\u0660", "1_0", "10\u2003"])
def test_a_body_number_written_in_digits_only_pythons_int_reads_is_refused(signed_in, path, field, value):
    r = signed_in.post(path, {"query": "theme", field: value}, format="json")

    assert r.status_code == 400, r.json()
    assert r.json()["error"] == "validation_error", r.json()
    assert field in r.json()["details"], r.json()


def test_a_body_number_sent_as_a_string_of_ascii_digits_is_still_read(signed_in, upsert):
    upsert("user:1:preference:theme", {"theme": "dark"})

    r = signed_in.post("/cerebro/api/memory/search", {"query": "theme", "limit": "10"}, format="json")

    assert r.status_code == 200, r.json()
    assert r.json()["memories"], r.json()
