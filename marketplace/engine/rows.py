"""From a request to a stream of Arrow record batches: nulls, uniqueness, coherence, augmentation.

Rows are produced ``CHUNK_ROWS`` at a time and each chunk is forgotten once written, so memory
does not grow with the row count. Every random draw comes from a generator seeded with
(request seed, field position, chunk number, purpose), so the same request and seed give the same
rows, whatever the machine.

How each field gets its values:

- ``required``: never null. Otherwise a share ``NULL_SHARE`` (5%) of the rows is null, drawn per
  row. A ``unique`` field is never null (a key is a key).
- ``unique``, when the field's generator can decode an index (numbers, dates, UUIDs, enums,
  fixed-length patterns, names, e-mail addresses, phones, addresses, URLs, strings, text): the k-th
  row gets ``decode(permutation(k))`` (``permutation.py``), distinct by construction, in flat
  memory. When the value space holds fewer values than rows, the job fails before anything is
  written, naming the field and the size of its space.
- ``unique`` otherwise (variable-length patterns, text with length bounds): random values, redrawn
  while they repeat an earlier value. This keeps one 8-byte fingerprint per row of that field; if
  ``MAX_ROUNDS`` redraws cannot find new values, the job fails saying the space is too small.
- values that a generator cannot guarantee (``checked``) are tested with ``checks.invalid_values``
  and redrawn, at most ``MAX_ROUNDS`` times, after which the job fails naming the field.
- ``quality``: ``fast`` draws every vocabulary uniformly and fields independently; ``balanced``
  and ``high`` draw names with their real-world frequencies (Faker's weights) and make a row's
  first non-unique ``email`` field follow its first non-unique ``name`` field (same first and last
  name); other name and e-mail fields are drawn on their own.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from marketplace.engine import arrays, augmentation, fields, vocabularies
from marketplace.engine.checks import invalid_values
from marketplace.engine.errors import UNGENERATABLE_SCHEMA
from marketplace.engine.hashing import fingerprints
from marketplace.engine.permutation import MAX_DOMAIN_BITS, KeyedPermutation
from marketplace.engine.spec import FieldSpec, GenerationRequest

CHUNK_ROWS = 10_000
NULL_SHARE = 0.05
MAX_ROUNDS = 50
DICTIONARY_MAX_VALUES = 65_536

_VALUES, _NULLS, _NOISE, _PERSONA, _UNIQUE = 0, 1, 2, 3, 4


@dataclass
class FieldPlan:
    position: int
    spec: FieldSpec
    generator: fields.Generator
    arrow_type: pa.DataType
    permutation: KeyedPermutation | None = None
    # The row's first name field and first e-mail field share one drawn person (coherence).
    follows_persona: bool = False
    seen: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))

    @property
    def nullable(self) -> bool:
        return not self.spec.required and not self.spec.unique


@dataclass
class Plan:
    request: GenerationRequest
    fields: list[FieldPlan]
    schema: pa.Schema
    group_size: int
    chunk_rows: int
    coherent: bool

    @property
    def dictionary_columns(self) -> list[str]:
        """Fields with few distinct values, worth dictionary-encoding in Parquet."""
        return [p.spec.name for p in self.fields if p.generator.space() <= DICTIONARY_MAX_VALUES]

    @property
    def chunks(self) -> int:
        return math.ceil(self.request.rows / self.chunk_rows) if self.request.rows else 0


def _too_small(spec: FieldSpec, space: int, rows: int) -> Exception:
    return UNGENERATABLE_SCHEMA(
        f"field '{spec.name}' must be unique, but its constraints allow only {space} distinct values for {rows} rows",
        details={"field": spec.name, "distinctValues": space, "rows": rows},
    )


def plan_for(request: GenerationRequest) -> Plan:
    """Check that the request can be met and prepare each field; UNGENERATABLE_SCHEMA otherwise."""
    plans = []
    for position, spec in enumerate(request.fields):
        generator = fields.generator_for(spec, rows=request.rows, quality=request.quality)
        plan = FieldPlan(position, spec, generator, fields.arrow_type_for(spec, generator))
        if spec.unique:
            space = generator.space()
            if space < request.rows:
                raise _too_small(spec, space, request.rows)
            if generator.decodable:
                domain = min(space, 1 << MAX_DOMAIN_BITS)
                plan.permutation = KeyedPermutation(domain, key=hash_key(request.seed, position))
        plans.append(plan)
    group_size = 1 + (request.augmentation.variations if request.augmentation.enabled else 0)
    chunk_rows = max(group_size, (CHUNK_ROWS // group_size) * group_size)
    coherent = False
    if request.quality != "fast":
        roles = {}
        for plan in plans:
            role = getattr(plan.generator, "role", None)
            if role in ("name", "email") and not plan.spec.unique and role not in roles:
                roles[role] = plan
        if len(roles) == 2:
            coherent = True
            for plan in roles.values():
                plan.follows_persona = True
    return Plan(
        request=request,
        fields=plans,
        schema=pa.schema([pa.field(p.spec.name, p.arrow_type, nullable=not p.spec.required) for p in plans]),
        group_size=group_size,
        chunk_rows=chunk_rows,
        coherent=coherent,
    )


def hash_key(seed: int, position: int) -> int:
    return (seed * 1_000_003 + position) & ((1 << 63) - 1)


def _rng(plan: Plan, *parts: int) -> np.random.Generator:
    return np.random.default_rng([plan.request.seed, *parts])


def _redraw_invalid(field_plan: FieldPlan, values: pa.Array, rng, persona) -> pa.Array:
    spec, generator = field_plan.spec, field_plan.generator
    compiled = getattr(generator, "compiled", None)
    for _ in range(MAX_ROUNDS):
        bad = invalid_values(spec, values, compiled)
        if not bad.any():
            return values
        fresh = generator.sample(rng, len(values), persona)
        values = pc.if_else(pa.array(bad), fresh, values)
    if invalid_values(spec, values, compiled).any():
        raise UNGENERATABLE_SCHEMA(
            f"field '{spec.name}': could not generate {spec.type} values meeting its constraints"
            f" (min={spec.minimum}, max={spec.maximum}, pattern={spec.pattern!r})",
            details={"field": spec.name},
        )
    return values


def _unique_by_redrawing(field_plan: FieldPlan, count: int, rng, rows_total: int) -> pa.Array:
    spec, generator = field_plan.spec, field_plan.generator
    compiled = getattr(generator, "compiled", None)
    accepted: list[pa.Array] = []
    needed = count
    for _ in range(MAX_ROUNDS):
        if needed == 0:
            break
        candidates = generator.sample(rng, needed + 16)
        valid = ~invalid_values(spec, candidates, compiled) if generator.checked else np.ones(len(candidates), bool)
        prints = fingerprints(candidates)
        _, first = np.unique(prints, return_index=True)
        fresh = np.zeros(len(candidates), dtype=bool)
        fresh[first] = True
        if len(field_plan.seen):
            position = np.searchsorted(field_plan.seen, prints).clip(0, len(field_plan.seen) - 1)
            fresh &= field_plan.seen[position] != prints
        keep = np.flatnonzero(fresh & valid)[:needed]
        if len(keep):
            accepted.append(candidates.take(pa.array(keep)))
            field_plan.seen = np.union1d(field_plan.seen, prints[keep])
            needed -= len(keep)
    if needed:
        raise _too_small(spec, len(field_plan.seen), rows_total)
    return pa.concat_arrays(accepted) if len(accepted) > 1 else accepted[0]


def _unique_values(plan: Plan, field_plan: FieldPlan, start: int, count: int, chunk: int) -> pa.Array:
    rng = _rng(plan, field_plan.position, chunk, _UNIQUE)
    if field_plan.permutation is not None:
        indices = field_plan.permutation.permute(np.arange(start, start + count, dtype=np.uint64))
        return field_plan.generator.decode(indices, rng)
    return _unique_by_redrawing(field_plan, count, rng, plan.request.rows)


def _persona(plan: Plan, chunk: int, count: int) -> fields.Persona | None:
    if not plan.coherent:
        return None
    rng = _rng(plan, len(plan.fields), chunk, _PERSONA)
    return fields.Persona(
        first=vocabularies.first_names().indices(rng, count, weighted=True),
        last=vocabularies.last_names().indices(rng, count, weighted=True),
    )


def _with_nulls(values: pa.Array, rng: np.random.Generator) -> pa.Array:
    return arrays.with_nulls(values, rng.random(len(values)) < NULL_SHARE)


def _chunk(plan: Plan, chunk: int, start: int, count: int) -> pa.RecordBatch:
    group = plan.group_size
    base_count = math.ceil(count / group)
    expand = np.repeat(np.arange(base_count), group)[:count] if group > 1 else None
    variant = (np.arange(count) % group) != 0 if group > 1 else None
    persona = _persona(plan, chunk, base_count)
    columns = []
    for field_plan in plan.fields:
        if field_plan.spec.unique:
            columns.append(_unique_values(plan, field_plan, start, count, chunk))
            continue
        rng = _rng(plan, field_plan.position, chunk, _VALUES)
        person = persona if field_plan.follows_persona else None
        values = field_plan.generator.sample(rng, base_count, person)
        if field_plan.generator.checked:
            # Redrawn values leave the row's person: a name too long for an e-mail bound stays too long.
            values = _redraw_invalid(field_plan, values, rng, None)
        if field_plan.nullable:
            values = _with_nulls(values, _rng(plan, field_plan.position, chunk, _NULLS))
        if expand is not None:
            values = values.take(pa.array(expand))
            noise = plan.request.augmentation.noise
            noise_rng = _rng(plan, field_plan.position, chunk, _NOISE)
            values = augmentation.add_noise(field_plan.spec, field_plan.generator, values, variant, noise, noise_rng)
        columns.append(values.cast(field_plan.arrow_type) if values.type != field_plan.arrow_type else values)
    return pa.RecordBatch.from_arrays(columns, schema=plan.schema)


def batches(plan: Plan) -> Iterator[pa.RecordBatch]:
    """The request's rows, ``plan.chunk_rows`` at a time."""
    rows = plan.request.rows
    for chunk in range(plan.chunks):
        start = chunk * plan.chunk_rows
        yield _chunk(plan, chunk, start, min(plan.chunk_rows, rows - start))
