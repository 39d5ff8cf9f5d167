"""Word lists the generators draw from, taken once from Faker's en_US providers (Faker is pinned).

Faker is used only as a source of vocabularies: each list becomes an Arrow array (and, where
Faker has them, a probability per entry) and values are then drawn for a whole chunk at once with
numpy. Lists used to build e-mail addresses, URLs and street names are normalised to lower-case
ASCII letters and de-duplicated, so that a value can be split back into its parts (this is what
makes the ``unique`` construction injective, see ``fields.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np
import pyarrow as pa
from faker.providers.address.en_US import Provider as AddressProvider
from faker.providers.internet.en_US import Provider as InternetProvider
from faker.providers.lorem.en_US import Provider as LoremProvider
from faker.providers.person.en_US import Provider as PersonProvider

_NOT_LETTER = re.compile(r"[^a-z]")


def _alias_table(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vose's alias tables: draw i uniformly, keep it with probability[i], else take alias[i]."""
    size = len(weights)
    scaled = weights / weights.sum() * size
    probability = np.ones(size)
    alias = np.arange(size)
    small = [index for index in range(size) if scaled[index] < 1.0]
    large = [index for index in range(size) if scaled[index] >= 1.0]
    while small and large:
        low, high = small.pop(), large.pop()
        probability[low], alias[low] = scaled[low], high
        scaled[high] -= 1.0 - scaled[low]
        (small if scaled[high] < 1.0 else large).append(high)
    return probability, alias


@dataclass(frozen=True)
class Vocabulary:
    """Distinct entries as an Arrow array, with their relative frequencies (uniform when unknown)."""

    values: pa.Array
    weights: np.ndarray

    def __len__(self) -> int:
        return len(self.values)

    @cached_property
    def _alias(self) -> tuple[np.ndarray, np.ndarray]:
        return _alias_table(self.weights)

    def indices(self, rng: np.random.Generator, count: int, *, weighted: bool) -> np.ndarray:
        """``count`` entry positions, by frequency when ``weighted`` (O(1) per draw), else uniformly."""
        uniform = rng.integers(0, len(self), count)
        if not weighted:
            return uniform
        probability, alias = self._alias
        return np.where(rng.random(count) < probability[uniform], uniform, alias[uniform])


def _vocabulary(entries, weights=None) -> Vocabulary:
    seen: dict[str, float] = {}
    for position, entry in enumerate(entries):
        if entry and entry not in seen:
            seen[entry] = float(weights[position]) if weights is not None else 1.0
    values = list(seen)
    return Vocabulary(values=pa.array(values, pa.string()), weights=np.asarray(list(seen.values()), dtype=np.float64))


def _letters(word: str) -> str:
    return _NOT_LETTER.sub("", word.lower())


def _weighted(mapping) -> tuple[list[str], list[float]]:
    if isinstance(mapping, dict):
        return list(mapping), list(mapping.values())
    return list(mapping), [1.0] * len(mapping)


@cache
def first_names() -> Vocabulary:
    names, weights = _weighted(PersonProvider.first_names)
    return _vocabulary(names, weights)


@cache
def last_names() -> Vocabulary:
    names, weights = _weighted(PersonProvider.last_names)
    return _vocabulary(names, weights)


@cache
def first_name_letters() -> Vocabulary:
    """First names as lower-case letters (``first_names`` entries that normalise alike merged)."""
    names, weights = _weighted(PersonProvider.first_names)
    return _vocabulary([_letters(name) for name in names], weights)


@cache
def last_name_letters() -> Vocabulary:
    names, weights = _weighted(PersonProvider.last_names)
    return _vocabulary([_letters(name) for name in names], weights)


@cache
def words() -> Vocabulary:
    """Lower-case single words (Faker's en_US lorem list), no spaces or punctuation."""
    return _vocabulary([_letters(word) for word in LoremProvider.word_list])


@cache
def email_domains() -> Vocabulary:
    domains = [*InternetProvider.free_email_domains, "example.com", "example.org", "example.net"]
    return _vocabulary([domain.lower() for domain in domains if re.fullmatch(r"[a-z0-9.-]+\.[a-z]{2,}", domain)])


@cache
def top_level_domains() -> Vocabulary:
    return _vocabulary([tld for tld in InternetProvider.tlds if re.fullmatch(r"[a-z]{2,}", tld)])


@cache
def street_suffixes() -> Vocabulary:
    return _vocabulary([suffix for suffix in AddressProvider.street_suffixes if re.fullmatch(r"[A-Za-z]+", suffix)])


@cache
def street_names() -> Vocabulary:
    """Capitalised one-word street names (a surname or a first name, as Faker's en_US builds them)."""
    names = [_letters(name).capitalize() for name in [*PersonProvider.last_names, *PersonProvider.first_names]]
    return _vocabulary(names)


@cache
def cities() -> Vocabulary:
    """Place names: surnames with a town suffix (``Smithville``), one word each."""
    suffixes = [suffix for suffix in AddressProvider.city_suffixes if re.fullmatch(r"[a-z]+", suffix)]
    surnames = [_letters(name).capitalize() for name in PersonProvider.last_names]
    return _vocabulary([f"{surname}{suffixes[index % len(suffixes)]}" for index, surname in enumerate(surnames)])


@cache
def state_codes() -> Vocabulary:
    return _vocabulary(list(AddressProvider.states_abbr))
