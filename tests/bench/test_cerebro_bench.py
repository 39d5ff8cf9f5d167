"""bench/cerebro.py's check of a bounded working set against the unbounded ts_rank ranking."""

from types import SimpleNamespace

from bench.cerebro import _ranks_alike


def candidates(*ids: str) -> list:
    return [SimpleNamespace(id=memory_id) for memory_id in ids]


# The unbounded ranking: (id, score), best first, every memory.
RANKING = [("a", 0.9), ("b", 0.7474739541969482), ("c", 0.7474739528352023), ("d", 0.5), ("e", 0.4)]


def test_the_same_candidates_in_the_same_order_rank_alike():
    assert _ranks_alike(candidates("a", "b", "c"), RANKING, limit=3)


def test_scores_closer_than_ts_rank_rounds_may_come_in_either_order():
    # The pair the benchmark met: 1.4e-9 apart, below float4's rounding of the relevance.
    assert _ranks_alike(candidates("a", "c", "b"), RANKING, limit=3)


def test_a_candidate_out_of_its_place_does_not_rank_alike():
    assert not _ranks_alike(candidates("b", "a", "c"), RANKING, limit=3)


def test_a_candidate_from_below_the_cut_does_not_rank_alike():
    assert not _ranks_alike(candidates("a", "b", "d"), RANKING, limit=3)


def test_too_few_candidates_or_an_unknown_one_do_not_rank_alike():
    assert not _ranks_alike(candidates("a", "b"), RANKING, limit=3)
    assert not _ranks_alike(candidates("a", "b", "z"), RANKING, limit=3)
