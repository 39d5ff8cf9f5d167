"""One generator per field: random values, and (for unique fields) values decoded from row indices.

``generator_for(spec)`` picks the generator for a field's type and constraints. Every generator
offers ``space()`` (how many distinct values it can produce) and ``sample(rng, count, persona)``;
those with ``decodable = True`` also offer ``decode(indices, rng)``, injective on
``[0, min(space, 2**62))``, which is how unique fields stay unique without remembering anything.
A generator with ``checked = True`` may produce values that break a constraint (a pattern with a
look-around, a vocabulary value too long for ``max``); the engine checks and redraws those.

Defaults where the schema says nothing (docs/marketplace-engine.md lists them): integers in
``[0, 10000]``, floats in ``[0, 1000]`` with 2 decimals (4 when the range is narrower than 100),
dates from 2015-01-01 to 2025-12-31, datetimes in the same span at whole seconds (UTC).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from marketplace.engine import arrays, text, vocabularies
from marketplace.engine.checks import arrow_type, enum_values, invalid_values
from marketplace.engine.errors import UNGENERATABLE_SCHEMA
from marketplace.engine.regex import UngeneratablePatternError, pattern_generator
from marketplace.engine.spec import FieldSpec

JSON_SAFE_INTEGER = 2**53 - 1
DEFAULT_INTEGER_SPAN = 10_000
DEFAULT_FLOAT_SPAN = 1_000.0
DEFAULT_FIRST_DAY = dt.date(2015, 1, 1)
DEFAULT_LAST_DAY = dt.date(2025, 12, 31)
EPOCH = dt.date(1970, 1, 1)
SECONDS_PER_DAY = 86_400


@dataclass
class Persona:
    """Name parts drawn once per row, so a row's e-mail address can follow its name (coherence)."""

    first: np.ndarray
    last: np.ndarray


class Generator:
    arrow_type: pa.DataType = pa.string()
    decodable = False
    checked = False

    def space(self) -> int:
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, count: int, persona: Persona | None = None) -> pa.Array:
        raise NotImplementedError

    def decode(self, indices: np.ndarray, rng: np.random.Generator) -> pa.Array:
        raise NotImplementedError


def _bounds(spec: FieldSpec, default_span: float) -> tuple[float, float]:
    low, high = spec.minimum, spec.maximum
    if low is None and high is None:
        return 0, default_span
    if low is None:
        return (0 if high >= default_span else high - default_span), high
    if high is None:
        return low, low + default_span
    return low, high


class Integer(Generator):
    arrow_type = pa.int64()
    decodable = True

    def __init__(self, spec: FieldSpec) -> None:
        low, high = _bounds(spec, DEFAULT_INTEGER_SPAN)
        self.low = max(math.ceil(low), -JSON_SAFE_INTEGER)
        self.high = min(math.floor(high), JSON_SAFE_INTEGER)
        if self.low > self.high:
            raise UNGENERATABLE_SCHEMA(
                f"field '{spec.name}': no whole number lies between {spec.minimum} and {spec.maximum}",
                details={"field": spec.name},
            )

    def space(self) -> int:
        return self.high - self.low + 1

    def sample(self, rng, count, persona=None):
        return pa.array(rng.integers(self.low, self.high, count, endpoint=True, dtype=np.int64))

    def decode(self, indices, rng):
        return pa.array(indices.astype(np.int64) + self.low)


class Float(Generator):
    """Values on a grid of 10**-decimals inside [low, high], so ``unique`` is decodable too."""

    arrow_type = pa.float64()
    decodable = True

    def __init__(self, spec: FieldSpec) -> None:
        self.low, self.high = (float(bound) for bound in _bounds(spec, DEFAULT_FLOAT_SPAN))
        self.decimals = 2 if self.high - self.low >= 100 else 4
        while True:
            scale = 10.0**self.decimals
            self.first_step = math.ceil(self.low * scale)
            self.last_step = math.floor(self.high * scale)
            if self.first_step <= self.last_step or self.decimals >= 12:
                break
            self.decimals += 2
        self.scale = 10.0**self.decimals
        if self.first_step > self.last_step:  # low == high, or a range narrower than 1e-12
            self.first_step = self.last_step = 0
            self.constant = self.low
        else:
            self.constant = None

    def space(self) -> int:
        return self.last_step - self.first_step + 1

    def _values(self, steps: np.ndarray) -> pa.Array:
        if self.constant is not None:
            return pa.array(np.full(len(steps), self.constant, dtype=np.float64))
        values = (steps.astype(np.int64) + self.first_step) / self.scale
        return pa.array(np.clip(values, self.low, self.high))

    def sample(self, rng, count, persona=None):
        return self._values(rng.integers(0, self.space(), count))

    def decode(self, indices, rng):
        return self._values(indices)


class Boolean(Generator):
    arrow_type = pa.bool_()
    decodable = True

    def space(self):
        return 2

    def sample(self, rng, count, persona=None):
        return pa.array(rng.random(count) < 0.5)

    def decode(self, indices, rng):
        return pa.array(indices == 1)


class Day(Generator):
    arrow_type = pa.date32()
    decodable = True

    def __init__(self) -> None:
        self.first = (DEFAULT_FIRST_DAY - EPOCH).days
        self.last = (DEFAULT_LAST_DAY - EPOCH).days

    def space(self):
        return self.last - self.first + 1

    def sample(self, rng, count, persona=None):
        return pa.array(rng.integers(self.first, self.last, count, endpoint=True).astype(np.int32), pa.date32())

    def decode(self, indices, rng):
        return pa.array((indices.astype(np.int64) + self.first).astype(np.int32), pa.date32())


class Moment(Generator):
    arrow_type = pa.timestamp("ms", tz="UTC")
    decodable = True

    def __init__(self) -> None:
        self.first = (DEFAULT_FIRST_DAY - EPOCH).days * SECONDS_PER_DAY
        self.last = ((DEFAULT_LAST_DAY - EPOCH).days + 1) * SECONDS_PER_DAY - 1

    def space(self):
        return self.last - self.first + 1

    def _values(self, seconds: np.ndarray) -> pa.Array:
        return pa.array(seconds.astype(np.int64) * 1000, self.arrow_type)

    def sample(self, rng, count, persona=None):
        return self._values(rng.integers(self.first, self.last, count, endpoint=True))

    def decode(self, indices, rng):
        return self._values(indices.astype(np.int64) + self.first)


class Uuid(Generator):
    """Version 4 UUIDs; decoded ones carry the index in their 62 low bits (clock_seq and node)."""

    decodable = True

    def space(self):
        return 1 << 122

    @staticmethod
    def _format(raw: np.ndarray) -> pa.Array:
        raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
        raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
        hex_digits = np.frombuffer(raw.tobytes().hex().encode("ascii"), dtype=np.uint8).reshape(-1, 32)
        out = np.full((len(raw), 36), ord("-"), dtype=np.uint8)
        out[:, 0:8] = hex_digits[:, 0:8]
        out[:, 9:13] = hex_digits[:, 8:12]
        out[:, 14:18] = hex_digits[:, 12:16]
        out[:, 19:23] = hex_digits[:, 16:20]
        out[:, 24:36] = hex_digits[:, 20:32]
        return arrays.strings_from_matrix(out)

    def sample(self, rng, count, persona=None):
        return self._format(rng.integers(0, 256, (count, 16), dtype=np.uint8))

    def decode(self, indices, rng):
        raw = np.empty((len(indices), 16), dtype=np.uint8)
        raw[:, :8] = rng.integers(0, 256, (len(indices), 8), dtype=np.uint8)
        low = np.asarray(indices, dtype=np.uint64).astype(">u8")
        raw[:, 8:] = low.view(np.uint8).reshape(-1, 8)
        return self._format(raw)


class Choice(Generator):
    """One of the listed values (``enum`` type, or any field with an ``enum`` constraint)."""

    decodable = True

    def __init__(self, values: pa.Array) -> None:
        self.values = values
        self.arrow_type = values.type

    def space(self):
        return len(self.values)

    def sample(self, rng, count, persona=None):
        return self.values.take(pa.array(rng.integers(0, len(self.values), count)))

    def decode(self, indices, rng):
        return self.values.take(pa.array(indices.astype(np.int64)))


class Compound(Generator):
    """Names, e-mail addresses, phones, addresses, URLs and short strings (see ``text.Composite``)."""

    def __init__(self, composite: text.Composite, *, weighted: bool, role: str | None, checked: bool) -> None:
        self.composite, self.weighted, self.role, self.checked = composite, weighted, role, checked
        self.decodable = not checked

    def space(self):
        return self.composite.space()

    def sample(self, rng, count, persona=None):
        fixed = None
        if persona is not None and self.role == "name":
            fixed = {0: persona.first, len(self.composite.choices) - 1: persona.last}
        elif persona is not None and self.role == "email":
            fixed = {0: _first_letters_index()[persona.first], 1: _last_letters_index()[persona.last]}
        return self.composite.sample(rng, count, weighted=self.weighted, fixed=fixed)

    def decode(self, indices, rng):
        return self.composite.decode(indices, rng)


def _letters_index(names: pa.Array, letters: pa.Array) -> np.ndarray:
    position = {value: index for index, value in enumerate(letters.to_pylist())}
    return np.asarray([position["".join(ch for ch in name.lower() if "a" <= ch <= "z")] for name in names.to_pylist()])


_LETTER_INDEX: dict[str, np.ndarray] = {}


def _first_letters_index() -> np.ndarray:
    if "first" not in _LETTER_INDEX:
        _LETTER_INDEX["first"] = _letters_index(
            vocabularies.first_names().values, vocabularies.first_name_letters().values
        )
    return _LETTER_INDEX["first"]


def _last_letters_index() -> np.ndarray:
    if "last" not in _LETTER_INDEX:
        _LETTER_INDEX["last"] = _letters_index(
            vocabularies.last_names().values, vocabularies.last_name_letters().values
        )
    return _LETTER_INDEX["last"]


class FreeText(Generator):
    decodable = True

    def __init__(self) -> None:
        self.paragraph = text.Paragraph()

    def space(self):
        return self.paragraph.space()

    def sample(self, rng, count, persona=None):
        return self.paragraph.sample(rng, count)

    def decode(self, indices, rng):
        return self.paragraph.decode(indices, rng)


class SizedText(Generator):
    """Words cut to a length drawn in [low, high]: ``string``/``text`` with length bounds."""

    def __init__(self, low: int, high: int, *, sentence: bool) -> None:
        self.low, self.high, self.sentence = low, high, sentence

    def space(self):
        # Distinct strings of these lengths over the word alphabet: a generous upper bound.
        return sum(27**length for length in range(self.low, min(self.high, 40) + 1)) or 1

    def sample(self, rng, count, persona=None):
        return text.sized_words(rng, rng.integers(self.low, self.high, count, endpoint=True), sentence=self.sentence)


class Pattern(Generator):
    def __init__(self, spec: FieldSpec) -> None:
        try:
            self.generator = pattern_generator(spec.pattern)
        except UngeneratablePatternError as exc:
            raise UNGENERATABLE_SCHEMA(
                f"field '{spec.name}': no value can be generated for pattern {spec.pattern!r} ({exc})",
                details={"field": spec.name},
            )
        self.positions = self.generator.positions()
        bounded = spec.minimum is not None or spec.maximum is not None
        if self.positions is not None and bounded:
            length = len(self.positions)
            if (spec.minimum is not None and length < spec.minimum) or (
                spec.maximum is not None and length > spec.maximum
            ):
                raise UNGENERATABLE_SCHEMA(
                    f"field '{spec.name}': every value of pattern {spec.pattern!r} has {length} characters,"
                    f" outside the length bounds",
                    details={"field": spec.name},
                )
        self.decodable = self.positions is not None
        self.checked = not self.generator.exact or (bounded and not self.decodable)
        self.compiled = self.generator.compiled

    def space(self):
        if self.positions is not None:
            total = 1
            for choices in self.positions:
                total *= len(choices)
            return total
        return self.generator.space()

    def sample(self, rng, count, persona=None):
        return self.generator.generate(rng, count)

    def decode(self, indices, rng):
        radices = [len(choices) for choices in self.positions]
        digits = text.mixed_radix_digits(indices, radices, rng)
        if not radices:
            return arrays.constant("", len(indices))
        codepoints = np.stack([choices[digit] for choices, digit in zip(self.positions, digits, strict=True)], axis=1)
        return arrays.strings_from_codepoints(codepoints)


class JsonObject(Generator):
    """Small JSON objects as text: ``{"id": 17, "label": "word", "score": 0.42, "active": true}``."""

    decodable = True

    def space(self):
        return JSON_SAFE_INTEGER

    def _render(self, rng, ids: np.ndarray) -> pa.Array:
        count = len(ids)
        words = vocabularies.words()
        label = words.values.take(pa.array(words.indices(rng, count, weighted=False)))
        score = pc.cast(pa.array(rng.integers(0, 100, count, endpoint=True) / 100.0), pa.string())
        active = pc.if_else(pa.array(rng.random(count) < 0.5), "true", "false")
        return arrays.join(
            [
                arrays.constant('{"id": ', count),
                pc.cast(pa.array(ids), pa.string()),
                arrays.constant(', "label": "', count),
                label,
                arrays.constant('", "score": ', count),
                score,
                arrays.constant(', "active": ', count),
                active,
                arrays.constant("}", count),
            ]
        )

    def sample(self, rng, count, persona=None):
        return self._render(rng, rng.integers(1, 1_000_000, count))

    def decode(self, indices, rng):
        return self._render(rng, indices.astype(np.int64) + 1)


_COMPOSITES = {
    "email": (text.email_address, "email"),
    "phone": (text.phone_number, None),
    "address": (text.postal_address, None),
    "url": (text.web_url, None),
    "string": (text.short_string, None),
}


def _enum_choice(spec: FieldSpec) -> Choice:
    try:
        values = enum_values(spec)
    except (ValueError, TypeError) as exc:
        raise UNGENERATABLE_SCHEMA(
            f"field '{spec.name}': enum values are not valid {spec.type} values ({exc})", details={"field": spec.name}
        )
    allowed = values.filter(pa.array(~invalid_values(spec, values)))
    if len(allowed) == 0:
        raise UNGENERATABLE_SCHEMA(
            f"field '{spec.name}': no enum value satisfies the field's other constraints", details={"field": spec.name}
        )
    return Choice(allowed)


# Types whose generator depends on nothing but the field.
_TYPED_GENERATORS = {
    "integer": Integer,
    "float": Float,
    "boolean": lambda spec: Boolean(),
    "date": lambda spec: Day(),
    "datetime": lambda spec: Moment(),
    "uuid": lambda spec: Uuid(),
    "json": lambda spec: JsonObject(),
}


def _text_generator(spec: FieldSpec, *, rows: int, weighted: bool) -> Generator:
    """Strings, free text, and the composite kinds (names, e-mails, addresses, ...)."""
    bounded = spec.minimum is not None or spec.maximum is not None
    if spec.type in ("string", "text") and bounded:
        low = int(spec.minimum) if spec.minimum is not None else 0
        high = int(spec.maximum) if spec.maximum is not None else max(low, 0) + (200 if spec.type == "text" else 40)
        return SizedText(low, high, sentence=spec.type == "text")
    if spec.type == "text":
        return FreeText()
    if spec.type == "name":
        plain = text.person_name()
        composite = text.person_name(with_initials=True) if spec.unique and rows > plain.space() else plain
        return Compound(composite, weighted=weighted, role="name", checked=bounded)
    build, role = _COMPOSITES[spec.type]
    return Compound(build(), weighted=weighted, role=role, checked=bounded)


def generator_for(spec: FieldSpec, *, rows: int, quality: str) -> Generator:
    """The generator for ``spec`` (``rows`` decides whether names need middle initials to stay unique)."""
    if spec.enum or spec.type == "enum":
        return _enum_choice(spec)
    typed = _TYPED_GENERATORS.get(spec.type)
    if typed is not None:
        return typed(spec)
    if spec.pattern is not None:
        return Pattern(spec)
    return _text_generator(spec, rows=rows, weighted=quality != "fast")


def arrow_type_for(spec: FieldSpec, generator: Generator) -> pa.DataType:
    return generator.arrow_type if isinstance(generator, Choice) else arrow_type(spec.type)
