"""Text analysis of the embedded default: which terms of a conversation are worth matching."""

from cerebro.retrieval.text import Bm25, informative_terms, terms


def test_informative_terms_weigh_repetition_against_how_common_a_term_is():
    memories = Bm25([terms(text) for text in ("weekly meeting", "meeting notes", "meeting about the invoice")])

    # "meeting": said 3 times, held by every memory (weight 3); "invoice": once, by 1 of 3
    # (1 + ln 3, about 2.1); "notes": once, by 1 of 3, but later; "lunch": held by none.
    chosen = informative_terms("meeting meeting meeting invoice notes lunch", 3, memories.share)

    assert chosen == ["meet", "invoic", "note"]  # stemmed, as PostgreSQL stems them
    assert informative_terms("lunch lunch", 3, memories.share) == []


def test_a_rare_term_outweighs_a_common_one_said_as_often():
    memories = Bm25([terms(text) for text in ("meeting", "meeting", "meeting invoice")])

    assert informative_terms("meeting invoice", 1, memories.share) == ["invoic"]
