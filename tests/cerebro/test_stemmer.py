"""Both backends index a word as the same term: cerebro's terms (Snowball's English stemmer, on the
embedded default and in the hashing embedder) against PostgreSQL's english configuration, and
stored vectors recomputed when the terms changed (migration 0010)."""

import importlib
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection

from cerebro.models import Memory
from cerebro.retrieval import text
from cerebro.retrieval.embedders import HashingEmbedder, from_json
from cerebro.selectors.rag import vector_retrieve

DOCS = Path(__file__).resolve().parents[2] / "docs"

# Words each stemming rule of Snowball's English algorithm, or one of its exceptions, applies to.
RULE_WORDS = (
    "preferences running hopping agreed feed generously happiness organization rational conditional "
    "relational valency hesitancy digitizer conformably radically differently vilely analogously "
    "vietnamization predication operator feudalism decisiveness hopefulness callousness formality "
    "sensitivity sensibility triplicate formative formalize electricity electrical hopeful goodness "
    "revival allowance inference airliner gyroscopic adjustable defensible irritant replacement "
    "adjustment dependent adoption homologou communism activate angularity homologous effective "
    "bowdlerize probate rate cease controlling rolling skis skies dying lying tying idly gently ugly "
    "early only singly sky news howe atlas cosmos bias andes inning outing canning herring earring "
    "proceed exceed succeed generate general generic arsenal commune communities cried ties flies "
    "caresses ponies cats consign consigned consigning consignment consist consisted consistency "
    "knack knackeries knightly kneel kneeled kneeling yearly yelled yellow you young yourself "
    "café naïve façade résumé über"
)
# Runs holding a digit: the english configuration leaves them to its simple dictionary, unstemmed.
NUMBER_WORDS = "2026 v2 h2o abc123 running2 100ms ipv6 ec2"


def _corpus() -> list[str]:
    """The distinct alphabetic words of this project's docs (a few thousand) and the rule words."""
    found = {w for doc in sorted(DOCS.glob("*.md")) for w in text.words(doc.read_text()) if w.isalpha()}
    return sorted(found | set(RULE_WORDS.split()))


def _postgres_lexemes(words: list[str]) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT w, coalesce((SELECT array_agg(lexeme ORDER BY lexeme) FROM unnest(to_tsvector('english', w))),"
            " '{}') FROM unnest(%s::text[]) AS w",
            [words],
        )
        return dict(cursor.fetchall())


def test_words_are_stemmed_by_snowballs_english_algorithm():
    assert [text.stem(w) for w in ("running", "organization", "happiness", "generously", "skies", "news")] == [
        "run",
        "organ",
        "happi",
        "generous",
        "sky",
        "news",
    ]
    assert text.terms("The users' preferences: don't stop running") == ["user", "prefer", "stop", "run"]


def test_a_run_holding_a_digit_is_its_own_term():
    assert text.terms("v2 releases 2026 h2o ec2s") == ["v2", "releas", "2026", "h2o", "ec2s"]


def test_the_stop_list_is_snowballs_english_list():
    assert len(text.STOP_WORDS) == 127
    assert {"don", "s", "t", "the", "yourselves"} <= text.STOP_WORDS
    assert "said" not in text.STOP_WORDS


def test_stems_are_cached():
    text.stem.cache_clear()
    text.terms("preferences preferences preferences")

    info = text.stem.cache_info()
    assert (info.misses, info.hits) == (1, 2)


@pytest.mark.postgres
@pytest.mark.django_db
def test_every_word_gets_the_term_postgresqls_english_configuration_gives_it():
    words = _corpus() + NUMBER_WORDS.split()
    assert len(words) > 2000

    postgres = _postgres_lexemes(words)
    python = {w: sorted(set(text.terms(w))) for w in words}

    differences = {w: (python[w], postgres[w]) for w in words if python[w] != postgres[w]}
    assert differences == {}


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_stop_words_are_postgresqls():
    stop_words = sorted(text.STOP_WORDS)
    dropped_by_postgres = {w for w, lexemes in _postgres_lexemes(stop_words).items() if not lexemes}

    assert dropped_by_postgres == set(stop_words)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_sentence_has_the_same_terms_on_both_backends():
    sentence = (DOCS / "cerebro.md").read_text()[:4000]
    sentence = re.sub(r"[^A-Za-z ]+", " ", sentence)  # words only: the two tokenizers differ on the rest

    with connection.cursor() as cursor:
        cursor.execute("SELECT array_agg(lexeme) FROM unnest(to_tsvector('english', %s))", [sentence])
        postgres = set(cursor.fetchone()[0])

    assert set(text.terms(sentence)) == postgres


@pytest.mark.django_db
def test_after_the_migration_rag_finds_a_memory_embedded_with_other_terms(upsert, user, monkeypatch):
    upsert("team:habits", {"note": "organizations preferring weekly meetings"}, layer="permanent")
    memory = Memory.objects.get(key="team:habits")
    current = memory.embedding
    with monkeypatch.context() as patched:
        patched.setattr(text, "stem", lambda word: word)  # another stemmer's terms: the words as they are
        stale = HashingEmbedder().embed(memory.search_text)
    Memory.objects.filter(pk=memory.pk).update(embedding=stale)
    query = "organization preference meeting"

    assert vector_retrieve(user=user, text=query, max_results=5) == []  # no term in common

    migration = importlib.import_module("cerebro.migrations.0010_reembed_with_snowball_terms")
    migration.reembed_with_current_terms(apps, None)

    memory.refresh_from_db()
    assert from_json(memory.embedding) == from_json(current)
    assert [hit.metadata["key"] for hit in vector_retrieve(user=user, text=query, max_results=5)] == ["team:habits"]
