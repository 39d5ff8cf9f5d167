"""A keyed, vectorised permutation of ``[0, n)``: how unique fields get distinct values in flat memory.

A unique field maps the k-th row to ``decode(permutation(k))``. Because a permutation never repeats
and each field's ``decode`` is injective, the values are distinct by construction: nothing has to
remember the values already written, so a million unique rows need no more memory than ten.

The permutation is a balanced Feistel network over the smallest even power of two covering ``n``
(four rounds of a splitmix64-style round function keyed by the seed), walked in cycles until each
value falls inside ``[0, n)``. Cycle walking stays a bijection, and since the Feistel domain is at
most 4n, each value needs fewer than four walks on average.
"""

from __future__ import annotations

import numpy as np

ROUNDS = 4
MAX_DOMAIN_BITS = 62
MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix(values: np.ndarray, key: np.uint64) -> np.ndarray:
    """splitmix64 finaliser of ``values ^ key`` (uint64 arithmetic wraps, which is what we want)."""
    with np.errstate(over="ignore"):
        z = values ^ key
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


class KeyedPermutation:
    """``permute(indices)`` maps ``[0, size)`` onto itself, one to one, differently for each key."""

    def __init__(self, size: int, key: int) -> None:
        if size < 1:
            raise ValueError("a permutation needs a non-empty domain")
        if size > 1 << MAX_DOMAIN_BITS:
            raise ValueError(f"domain larger than 2**{MAX_DOMAIN_BITS}")
        self.size = size
        bits = max(2, (size - 1).bit_length())
        bits += bits % 2
        self.half_bits = np.uint64(bits // 2)
        self.half_mask = np.uint64((1 << (bits // 2)) - 1)
        seeds = np.random.SeedSequence(key).generate_state(ROUNDS, dtype=np.uint64)
        self.round_keys = [np.uint64(value) for value in seeds]

    def _feistel(self, values: np.ndarray) -> np.ndarray:
        left = values >> self.half_bits
        right = values & self.half_mask
        for round_key in self.round_keys:
            left, right = right, left ^ (_mix(right, round_key) & self.half_mask)
        return (left << self.half_bits) | right

    def permute(self, indices: np.ndarray) -> np.ndarray:
        values = self._feistel(np.asarray(indices, dtype=np.uint64))
        size = np.uint64(self.size)
        outside = values >= size
        while outside.any():
            values[outside] = self._feistel(values[outside])
            outside = values >= size
        return values
