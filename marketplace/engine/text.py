"""Text-like values built from vocabularies: names, e-mail addresses, phones, addresses, URLs, words.

Each kind is a ``Composite``: a fixed sequence of parts (a vocabulary, a number range, a literal).
A value is one choice per part, so a value is a tuple of "digits" and the kind's value space is the
product of the parts' sizes. Random values draw the digits with numpy (vocabularies weighted by
Faker's frequencies at ``balanced``/``high`` quality); unique values decode a permuted row index
into digits (mixed radix), which is injective because every kind is built so that its parts can be
read back from the string (vocabularies of letters only, separators that never occur inside a part,
numbers without leading zeros or with a fixed width).

Free text (``text``, and ``string`` without a pattern) is assembled from word indices at the byte
level; strings with length bounds are cut from a stream of words at exactly the drawn length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from marketplace.engine import arrays, vocabularies
from marketplace.engine.vocabularies import Vocabulary

MAX_DECODED_SPACE = 1 << 62


@dataclass(frozen=True)
class Literal:
    text: str

    size = 1


@dataclass(frozen=True)
class Words:
    vocabulary: Vocabulary

    @property
    def size(self) -> int:
        return len(self.vocabulary)


@dataclass(frozen=True)
class Number:
    """Whole numbers ``low..high``; ``width`` zero-pads; ``blank_first`` writes ``low`` as nothing."""

    low: int
    high: int
    width: int = 0
    blank_first: bool = False
    blank_share: float = 0.0

    @property
    def size(self) -> int:
        return self.high - self.low + 1


def mixed_radix_digits(indices: np.ndarray, radices: list[int], rng: np.random.Generator) -> list[np.ndarray]:
    """Digits of ``indices`` (last radix fastest) while they carry information; random digits after.

    Injective on ``[0, min(prod(radices), 2**62))``: the digits read from the index alone already
    tell two indices apart, whatever the random ones are.
    """
    cap = 1
    for radix in radices:
        cap *= radix
    cap = min(cap, MAX_DECODED_SPACE)
    remaining = np.asarray(indices, dtype=np.uint64).copy()
    digits: list[np.ndarray] = [np.zeros(0)] * len(radices)
    product = 1
    for position in reversed(range(len(radices))):
        radix = radices[position]
        if product >= cap:
            digits[position] = rng.integers(0, radix, len(remaining))
        else:
            digits[position] = (remaining % np.uint64(radix)).astype(np.int64)
            remaining //= np.uint64(radix)
            product *= radix
    return digits


def _rendered(part: Words | Number) -> pa.Array:
    if isinstance(part, Words):
        return part.vocabulary.values
    numbers = pc.cast(pa.array(np.arange(part.low, part.high + 1)), pa.string())
    if part.width:
        numbers = pc.utf8_lpad(numbers, width=part.width, padding="0")
    if part.blank_first:
        numbers = pa.concat_arrays([pa.array([""]), numbers.slice(1)])
    return numbers


class Composite:
    """A value kind made of parts; see the module docstring.

    Each choice is rendered once, up front, as an array of its possible texts with the literals
    around it glued on (``"+1-" + area + "-"``), so a chunk of values costs one ``take`` per choice
    and one join.
    """

    def __init__(self, parts: list[Literal | Words | Number]) -> None:
        self.parts = parts
        self.choices = [part for part in parts if not isinstance(part, Literal)]
        self.renditions: list[pa.Array] = []
        prefix = ""
        for part in parts:
            if isinstance(part, Literal):
                if self.renditions and prefix == "" and part is not parts[0]:
                    self.renditions[-1] = pc.binary_join_element_wise(self.renditions[-1], part.text, "")
                else:
                    prefix += part.text
                continue
            rendered = _rendered(part)
            if prefix:
                rendered = pc.binary_join_element_wise(prefix, rendered, "")
                prefix = ""
            self.renditions.append(rendered)

    def space(self) -> int:
        total = 1
        for part in self.choices:
            total *= part.size
        return total

    def _render(self, digits: list[np.ndarray], count: int) -> pa.Array:
        pieces = [rendition.take(pa.array(chosen)) for rendition, chosen in zip(self.renditions, digits, strict=True)]
        return arrays.join(pieces)

    def sample(self, rng: np.random.Generator, count: int, *, weighted: bool, fixed: dict | None = None) -> pa.Array:
        """Random values; ``fixed`` maps a part's position among the choices to digits already drawn."""
        digits = []
        for position, part in enumerate(self.choices):
            if fixed and position in fixed:
                digits.append(fixed[position])
            elif isinstance(part, Words):
                digits.append(part.vocabulary.indices(rng, count, weighted=weighted))
            else:
                drawn = rng.integers(0, part.size, count)
                if part.blank_first and part.blank_share:
                    drawn = np.where(rng.random(count) < part.blank_share, 0, np.maximum(drawn, 1))
                digits.append(drawn)
        return self._render(digits, count)

    def decode(self, indices: np.ndarray, rng: np.random.Generator) -> pa.Array:
        digits = mixed_radix_digits(indices, [part.size for part in self.choices], rng)
        return self._render(digits, len(indices))


def _middle_initials() -> Vocabulary:
    values = ["", *(f" {chr(code)}." for code in range(ord("A"), ord("Z") + 1))]
    return Vocabulary(values=pa.array(values), weights=np.asarray([26.0, *([1.0] * 26)]))


def person_name(*, with_initials: bool = False) -> Composite:
    parts: list = [Words(vocabularies.first_names())]
    if with_initials:
        parts.append(Words(_middle_initials()))
    parts += [Literal(" "), Words(vocabularies.last_names())]
    return Composite(parts)


def email_address() -> Composite:
    return Composite(
        [
            Words(vocabularies.first_name_letters()),
            Literal("."),
            Words(vocabularies.last_name_letters()),
            Number(0, 999, blank_first=True, blank_share=0.5),
            Literal("@"),
            Words(vocabularies.email_domains()),
        ]
    )


def phone_number() -> Composite:
    return Composite(
        [Literal("+1-"), Number(200, 999), Literal("-"), Number(200, 999), Literal("-"), Number(0, 9999, width=4)]
    )


def postal_address() -> Composite:
    return Composite(
        [
            Number(1, 9999),
            Literal(" "),
            Words(vocabularies.street_names()),
            Literal(" "),
            Words(vocabularies.street_suffixes()),
            Literal(", "),
            Words(vocabularies.cities()),
            Literal(", "),
            Words(vocabularies.state_codes()),
            Literal(" "),
            Number(501, 99950, width=5),
        ]
    )


def web_url() -> Composite:
    return Composite(
        [
            Literal("https://www."),
            Words(vocabularies.words()),
            Literal("."),
            Words(vocabularies.top_level_domains()),
            Literal("/"),
            Words(vocabularies.words()),
            Literal("/"),
            Number(1, 99999),
        ]
    )


def short_string() -> Composite:
    """Three words (``lorem ipsum dolor`` style): the default ``string``."""
    word = Words(vocabularies.words())
    return Composite([word, Literal(" "), word, Literal(" "), word])


class Paragraph:
    """The default ``text``: two sentences of ``SENTENCE_WORDS`` words each, capitalised and stopped."""

    SENTENCE_WORDS = (4, 10)
    DECODED_WORDS = 3

    def __init__(self) -> None:
        vocabulary = vocabularies.words().values.to_pylist()
        self.size = len(vocabulary)
        # Four renditions of each word, by its role: inside a sentence, first, last, last of all.
        renditions = (
            [f"{word} " for word in vocabulary]
            + [f"{word.capitalize()} " for word in vocabulary]
            + [f"{word}. " for word in vocabulary]
            + [f"{word}." for word in vocabulary]
        )
        self.renditions = pa.array(renditions, pa.string())

    def space(self) -> int:
        return self.size**self.DECODED_WORDS

    def _build(self, rng: np.random.Generator, count: int, leading: list[np.ndarray] | None) -> pa.Array:
        low, high = self.SENTENCE_WORDS
        first_lengths = rng.integers(low, high + 1, count)
        second_lengths = rng.integers(low, high + 1, count)
        totals = first_lengths + second_lengths
        width = 2 * high
        word_index = rng.integers(0, self.size, (count, width))
        if leading is not None:
            for position, digits in enumerate(leading):
                word_index[:, position] = digits
        slot = np.arange(width)[None, :]
        role = np.zeros((count, width), dtype=np.int64)
        role[(slot == 0) | (slot == first_lengths[:, None])] = 1
        role[slot == first_lengths[:, None] - 1] = 2
        role[slot == totals[:, None] - 1] = 3
        active = slot < totals[:, None]
        chosen = (word_index + role * self.size)[active]
        data = arrays.gather_words(self.renditions, chosen, separator=b"")
        _, _, rendition_lengths = arrays.vocabulary_bytes(self.renditions)
        lengths = np.zeros(count, dtype=np.int64)
        np.add.at(lengths, np.repeat(np.arange(count), totals), rendition_lengths[chosen])
        return arrays.strings_from_bytes(data, lengths)

    def sample(self, rng: np.random.Generator, count: int, **_) -> pa.Array:
        return self._build(rng, count, None)

    def decode(self, indices: np.ndarray, rng: np.random.Generator) -> pa.Array:
        digits = mixed_radix_digits(indices, [self.size] * self.DECODED_WORDS, rng)
        return self._build(rng, len(indices), digits)


def sized_words(rng: np.random.Generator, lengths: np.ndarray, *, sentence: bool) -> pa.Array:
    """Word text cut to exactly ``lengths[i]`` characters, never starting or ending with a space.

    ``sentence`` capitalises the first letter and ends values of two or more characters with a
    full stop.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    vocabulary = vocabularies.words()
    buffers = []
    have = 0
    while have < total:
        drawn = vocabulary.indices(rng, max(16, (total - have) // 4 + 16), weighted=False)
        piece = arrays.gather_words(vocabulary.values, drawn, separator=b" ")
        buffers.append(piece)
        have += len(piece)
    data = np.concatenate(buffers)[:total].copy() if buffers else np.zeros(0, dtype=np.uint8)
    starts = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    non_empty = lengths > 0
    first = starts[non_empty]
    last = (starts + lengths - 1)[non_empty]
    data[first[data[first] == 0x20]] = ord("e")
    data[last[data[last] == 0x20]] = ord("s")
    if sentence:
        lower = (data[first] >= ord("a")) & (data[first] <= ord("z"))
        data[first[lower]] -= 32
        stop = (starts + lengths - 1)[lengths >= 2]
        data[stop] = ord(".")
    return arrays.strings_from_bytes(data, lengths)
