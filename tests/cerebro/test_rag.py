"""POST /api/memory/rag: retrieval over uploads and permanent memories, cache, breaker, fallback."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cerebro import conf
from cerebro.selectors import rag
from cerebro.services.knowledge import upload_index_knowledge

pytestmark = pytest.mark.django_db

RAG = "/cerebro/api/memory/rag"
HOOKS_GUIDE = (
    "React hooks best practices. Only call hooks at the top level of a component, never inside loops or "
    "conditions. Keep effects small and list every dependency of useEffect. Extract custom hooks to share "
    "stateful logic between components."
)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def guide_uploaded(signed_in, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = signed_in.post(
            "/cerebro/api/files/upload",
            {"file": SimpleUploadedFile("hooks-guide.txt", HOOKS_GUIDE.encode())},
            format="multipart",
        )
    assert r.status_code == 200, r.json()
    return r.json()


@pytest.fixture
def knowledge_in_place(guide_uploaded, upsert, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        upsert("react:level", {"note": "the user writes React hooks at an intermediate level"}, layer="permanent")
        upsert("react:draft", {"note": "React hooks draft idea"}, layer="temporary", confidence=1.0)
        upsert("react:secret", {"note": "React hooks secret token"}, layer="permanent", sensitivity="secret")
    return guide_uploaded


def test_rag_answers_from_uploaded_documents_and_permanent_memories(signed_in, knowledge_in_place):
    r = signed_in.post(
        RAG,
        {"query": "What are the best practices for React hooks?", "hints": {"context": "React development"}},
        format="json",
    )

    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["degraded"] is False and body["cached"] is False
    sources = [result["source"] for result in body["results"]]
    assert sources[0] == "vectorDB"
    document = body["results"][0]
    assert "top level of a component" in document["content"]
    assert document["metadata"]["title"] == "hooks-guide.txt"
    assert document["metadata"]["url"].startswith(
        "http://testserver/cerebro/api/files/download/"
    )  # as upload answers it
    assert 0 < document["confidence"] <= 1
    memory_keys = [r["metadata"]["key"] for r in body["results"] if r["source"] == "memory"]
    assert memory_keys == ["react:level"]
    assert "secret token" not in str(body)
    assert r["X-RateLimit-Limit"] == "20"


def test_a_repeated_query_is_served_from_the_cache(signed_in, knowledge_in_place):
    body = {"query": "React hooks rules", "maxResults": 3}

    first = signed_in.post(RAG, body, format="json").json()
    second = signed_in.post(RAG, body, format="json").json()

    assert first["cached"] is False
    assert second["cached"] is True
    assert second["results"] == first["results"]


def test_the_cache_is_served_from_l2_when_this_process_forgot_it(signed_in, knowledge_in_place):
    from cerebro.retrieval import cache as two_level_cache

    signed_in.post(RAG, {"query": "React hooks rules"}, format="json")
    two_level_cache.l1.clear()

    again = signed_in.post(RAG, {"query": "React hooks rules"}, format="json").json()

    assert again["cached"] is True


def test_a_change_to_the_knowledge_base_makes_cached_answers_stale(
    signed_in, knowledge_in_place, upsert, django_capture_on_commit_callbacks
):
    signed_in.post(RAG, {"query": "cycling routes"}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        upsert("cycling", {"note": "favourite cycling routes along the coast"}, layer="permanent")

    again = signed_in.post(RAG, {"query": "cycling routes"}, format="json").json()

    assert again["cached"] is False
    assert again["results"][0]["metadata"]["key"] == "cycling"


def test_a_failing_vector_backend_degrades_to_lexical_search(signed_in, knowledge_in_place, monkeypatch):
    def broken(**kwargs):
        raise ConnectionError("vector index unreachable")

    monkeypatch.setattr(rag, "vector_retrieve", broken)

    r = signed_in.post(RAG, {"query": "hooks top level component"}, format="json")

    assert r.status_code == 200, r.json()
    assert r.json()["degraded"] is True
    assert r.json()["results"][0]["source"] == "lexical"
    assert "top level" in r.json()["results"][0]["content"]


def test_the_breaker_opens_after_repeated_failures_and_stops_calling_the_backend(
    signed_in, knowledge_in_place, monkeypatch
):
    calls = []

    def broken(**kwargs):
        calls.append(1)
        raise ConnectionError("down")

    monkeypatch.setattr(rag, "vector_retrieve", broken)
    for n in range(conf.BREAKER_FAILURE_THRESHOLD + 3):
        signed_in.post(RAG, {"query": f"hooks question {n}"}, format="json")

    assert len(calls) == conf.BREAKER_FAILURE_THRESHOLD
    assert rag.vector_breaker.state() == "open"


def test_the_breaker_lets_a_trial_through_after_the_reset_time(signed_in, knowledge_in_place, monkeypatch):
    for _ in range(conf.BREAKER_FAILURE_THRESHOLD):
        rag.vector_breaker.record_failure()
    monkeypatch.setattr(rag.vector_breaker, "reset_seconds", 0)
    rag.vector_breaker._open()

    r = signed_in.post(RAG, {"query": "hooks effects"}, format="json")

    assert r.json()["degraded"] is False
    assert rag.vector_breaker.state() == "closed"


def test_without_a_fallback_an_open_breaker_is_503(signed_in, knowledge_in_place, monkeypatch):
    monkeypatch.setattr(conf, "RAG_LEXICAL_FALLBACK", False)
    for _ in range(conf.BREAKER_FAILURE_THRESHOLD):
        rag.vector_breaker.record_failure()

    r = signed_in.post(RAG, {"query": "hooks"}, format="json")

    assert r.status_code == 503, r.json()
    assert r.json()["error"] == "service_unavailable"
    assert r.json()["details"]["circuitBreaker"] == "open"


def test_when_the_fallback_fails_too_it_is_503(signed_in, knowledge_in_place, monkeypatch):
    def broken(**kwargs):
        raise ConnectionError("down")

    monkeypatch.setattr(rag, "vector_retrieve", broken)
    monkeypatch.setattr(rag, "lexical_retrieve", broken)

    r = signed_in.post(RAG, {"query": "hooks"}, format="json")

    assert r.status_code == 503, r.json()


def test_reindexing_an_upload_replaces_its_chunks(knowledge_in_place):
    from cerebro.models import KnowledgeChunk

    before = KnowledgeChunk.objects.count()
    upload_index_knowledge(upload_id=knowledge_in_place["id"])

    assert KnowledgeChunk.objects.count() == before


def test_rag_validates_its_input(signed_in):
    assert (r := signed_in.post(RAG, {"query": ""}, format="json")).status_code == 400, r.content
    assert (r := signed_in.post(RAG, {"query": "x", "maxResults": 50}, format="json")).status_code == 400, r.content


def test_rag_is_rate_limited_at_20_a_minute(signed_in):
    statuses = [signed_in.post(RAG, {"query": f"q{n}"}, format="json").status_code for n in range(21)]

    assert statuses[:20] == [200] * 20
    assert statuses[20] == 429
