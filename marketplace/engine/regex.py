"""Strings that match a regular expression, a whole column at a time.

The pattern is one ``linear_regex`` accepts (RE2 runs it; constructs that need backtracking are
refused before a job exists). It is parsed with Python's own regular-expression parser
(``re._parser``), and the parse tree becomes a tree of nodes that each produce an Arrow string
array for ``n`` rows at once: a character class draws ``n`` code points with numpy, a repeat draws
``n`` counts, an alternation ``n`` branch choices, and the pieces are concatenated by Arrow.

Choices the generator makes (documented in docs/marketplace-engine.md):

- "any character" (``.``) and negated classes (``[^...]``, ``\\D``, ``\\W``, ``\\S``) draw from
  printable ASCII (space to ``~``); ``\\s`` produces a space, ``\\d`` ASCII digits, ``\\w`` ASCII
  letters, digits and ``_``.
- an unbounded repeat (``*``, ``+``, ``{n,}``) repeats at most ``UNBOUNDED_EXTRA`` more times
  than its minimum.
- constructs that construction alone cannot honour (anchors or word boundaries inside the
  pattern) mark the pattern ``exact = False``: its values are then checked with RE2's
  ``fullmatch`` (linear time) and the failing rows drawn again. Look-arounds, back-references,
  conditionals, atomic groups and possessive repeats never get here (``linear_regex`` refuses
  them); the nodes below still read them, for a schema stored before that rule.

Every value must match the pattern in full (``fullmatch``), which also satisfies anyone who
reads the pattern as a search.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import re2

from marketplace.engine import arrays
from marketplace.engine.linear_regex import (
    UnsupportedPatternError,
    linear_pattern_compile,
    python_parse,
    sre_constants,
)

UNBOUNDED_EXTRA = 8
PRINTABLE_ASCII = np.arange(0x20, 0x7F, dtype=np.int64)
_SURROGATES = (0xD800, 0xDFFF)
_MAX_BLOCK_BYTES = 8 * 1024 * 1024

_CATEGORY_CHARS = {
    sre_constants.CATEGORY_DIGIT: np.arange(0x30, 0x3A),
    sre_constants.CATEGORY_WORD: np.array(
        [*range(0x30, 0x3A), *range(0x41, 0x5B), 0x5F, *range(0x61, 0x7B)], dtype=np.int64
    ),
    sre_constants.CATEGORY_SPACE: np.array([0x20]),
}
_NEGATED_CATEGORIES = {
    sre_constants.CATEGORY_NOT_DIGIT: sre_constants.CATEGORY_DIGIT,
    sre_constants.CATEGORY_NOT_WORD: sre_constants.CATEGORY_WORD,
    sre_constants.CATEGORY_NOT_SPACE: sre_constants.CATEGORY_SPACE,
}
_EDGE_ANCHORS = {
    sre_constants.AT_BEGINNING,
    sre_constants.AT_BEGINNING_STRING,
    sre_constants.AT_END,
    sre_constants.AT_END_STRING,
}


class UngeneratablePatternError(ValueError):
    """The pattern has a part no string can match (an empty character class, say), or RE2 cannot run it."""


@dataclass
class Context:
    rng: np.random.Generator
    groups: dict[int, pa.Array] = field(default_factory=dict)


class Node:
    exact = True

    def generate(self, ctx: Context, count: int) -> pa.Array:
        raise NotImplementedError

    def space(self) -> int:
        """How many strings this node can produce (an upper bound when the pattern is ambiguous)."""
        raise NotImplementedError

    def positions(self) -> list[np.ndarray] | None:
        """For fixed-length nodes, the code points possible at each character position; else None."""
        return None


class Empty(Node):
    def __init__(self, exact: bool = True) -> None:
        self.exact = exact

    def generate(self, ctx: Context, count: int) -> pa.Array:
        return arrays.constant("", count)

    def space(self) -> int:
        return 1

    def positions(self) -> list[np.ndarray]:
        return []


class CharacterSet(Node):
    def __init__(self, codepoints: np.ndarray) -> None:
        codepoints = np.unique(np.asarray(codepoints, dtype=np.int64))
        codepoints = codepoints[(codepoints < _SURROGATES[0]) | (codepoints > _SURROGATES[1])]
        if len(codepoints) == 0:
            raise UngeneratablePatternError("a character class matches no character")
        self.codepoints = codepoints
        self.ascii = bool(codepoints.max() < 128)
        self._strings: pa.Array | None = None

    def draw(self, rng: np.random.Generator, shape) -> np.ndarray:
        return self.codepoints[rng.integers(0, len(self.codepoints), shape)]

    def generate(self, ctx: Context, count: int) -> pa.Array:
        if self.ascii:
            return arrays.strings_from_matrix(self.draw(ctx.rng, (count, 1)).astype(np.uint8))
        if self._strings is None:
            self._strings = pa.array([chr(code) for code in self.codepoints], pa.string())
        return self._strings.take(pa.array(ctx.rng.integers(0, len(self.codepoints), count)))

    def space(self) -> int:
        return len(self.codepoints)

    def positions(self) -> list[np.ndarray]:
        return [self.codepoints]


class Sequence(Node):
    def __init__(self, children: list[Node]) -> None:
        self.children = children
        self.exact = all(child.exact for child in children)

    def generate(self, ctx: Context, count: int) -> pa.Array:
        if not self.children:
            return arrays.constant("", count)
        return arrays.join([child.generate(ctx, count) for child in self.children])

    def space(self) -> int:
        total = 1
        for child in self.children:
            total *= child.space()
        return total

    def positions(self) -> list[np.ndarray] | None:
        result: list[np.ndarray] = []
        for child in self.children:
            child_positions = child.positions()
            if child_positions is None:
                return None
            result.extend(child_positions)
        return result


class Alternation(Node):
    def __init__(self, branches: list[Node]) -> None:
        self.branches = branches
        self.exact = all(branch.exact for branch in branches)

    def generate(self, ctx: Context, count: int) -> pa.Array:
        choice = pa.array(ctx.rng.integers(0, len(self.branches), count).astype(np.int32))
        return pc.choose(choice, *[branch.generate(ctx, count) for branch in self.branches])

    def space(self) -> int:
        return sum(branch.space() for branch in self.branches)

    def positions(self) -> list[np.ndarray] | None:
        return self.branches[0].positions() if len(self.branches) == 1 else None


class Repeat(Node):
    def __init__(self, child: Node, low: int, high: int) -> None:
        self.child, self.low, self.high = child, low, high
        self.exact = child.exact

    def generate(self, ctx: Context, count: int) -> pa.Array:
        counts = ctx.rng.integers(self.low, self.high + 1, count)
        if isinstance(self.child, CharacterSet) and self.child.ascii and self.high > 0:
            return self._ascii_runs(ctx.rng, counts)
        parts = []
        empty = arrays.constant("", count)
        for index in range(self.high):
            piece = self.child.generate(ctx, count)
            parts.append(piece if index < self.low else pc.if_else(pa.array(counts > index), piece, empty))
        return arrays.join(parts) if parts else empty

    def _ascii_runs(self, rng: np.random.Generator, counts: np.ndarray) -> pa.Array:
        block = max(1, _MAX_BLOCK_BYTES // self.high)
        pieces = []
        for start in range(0, len(counts), block):
            block_counts = counts[start : start + block]
            codes = self.child.draw(rng, (len(block_counts), self.high)).astype(np.uint8)
            pieces.append(arrays.strings_from_matrix(codes, block_counts))
        return pa.concat_arrays(pieces) if len(pieces) > 1 else pieces[0]

    def space(self) -> int:
        child_space = self.child.space()
        if child_space == 1:
            return self.high - self.low + 1
        return sum(child_space**repeat for repeat in range(self.low, self.high + 1))

    def positions(self) -> list[np.ndarray] | None:
        if self.low != self.high:
            return None
        child_positions = self.child.positions()
        return None if child_positions is None else child_positions * self.low


class Group(Node):
    def __init__(self, number: int | None, child: Node) -> None:
        self.number, self.child = number, child
        self.exact = child.exact

    def generate(self, ctx: Context, count: int) -> pa.Array:
        values = self.child.generate(ctx, count)
        if self.number is not None:
            ctx.groups[self.number] = values
        return values

    def space(self) -> int:
        return self.child.space()

    def positions(self) -> list[np.ndarray] | None:
        return self.child.positions()


class GroupReference(Node):
    exact = False

    def __init__(self, number: int) -> None:
        self.number = number

    def generate(self, ctx: Context, count: int) -> pa.Array:
        captured = ctx.groups.get(self.number)
        return arrays.constant("", count) if captured is None else captured

    def space(self) -> int:
        return 1


def _class_codepoints(items, ignore_case: bool) -> np.ndarray:
    negate = False
    chosen: list[np.ndarray] = []
    for op, argument in items:
        if op is sre_constants.NEGATE:
            negate = True
        elif op is sre_constants.LITERAL:
            chosen.append(np.array([argument]))
        elif op is sre_constants.RANGE:
            low, high = argument
            chosen.append(np.arange(low, high + 1))
        elif op is sre_constants.CATEGORY:
            if argument in _CATEGORY_CHARS:
                chosen.append(_CATEGORY_CHARS[argument])
            elif argument in _NEGATED_CATEGORIES:
                excluded = _CATEGORY_CHARS[_NEGATED_CATEGORIES[argument]]
                chosen.append(np.setdiff1d(PRINTABLE_ASCII, excluded))
            else:
                raise UngeneratablePatternError(f"unsupported character category {argument}")
        else:
            raise UngeneratablePatternError(f"unsupported item in a character class: {op}")
    codepoints = np.unique(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)
    if negate:
        excluded = codepoints
        if ignore_case:
            excluded = np.unique(np.concatenate([excluded, _other_case(excluded)]))
        codepoints = np.setdiff1d(PRINTABLE_ASCII, excluded)
    return codepoints


def _other_case(codepoints: np.ndarray) -> np.ndarray:
    swapped = [ord(chr(code).swapcase()) for code in codepoints if len(chr(code).swapcase()) == 1]
    return np.asarray(swapped, dtype=np.int64)


class _Builder:
    def __init__(self, flags: int) -> None:
        self.ignore_case = bool(flags & re.IGNORECASE)

    def sequence(self, items, *, top_level: bool = False) -> Node:
        children = []
        last = len(items) - 1
        for position, (op, argument) in enumerate(items):
            if op is sre_constants.AT:
                at_edge = top_level and (
                    (position == 0 and argument in (sre_constants.AT_BEGINNING, sre_constants.AT_BEGINNING_STRING))
                    or (position == last and argument in (sre_constants.AT_END, sre_constants.AT_END_STRING))
                )
                children.append(Empty(exact=at_edge))
                continue
            children.append(self.node(op, argument))
        return children[0] if len(children) == 1 else Sequence(children)

    def node(self, op, argument) -> Node:
        if op is sre_constants.LITERAL:
            return CharacterSet(np.array([argument]))
        if op is sre_constants.NOT_LITERAL:
            excluded = np.array([argument])
            if self.ignore_case:
                excluded = np.concatenate([excluded, _other_case(excluded)])
            return CharacterSet(np.setdiff1d(PRINTABLE_ASCII, excluded))
        if op is sre_constants.ANY:
            return CharacterSet(PRINTABLE_ASCII)
        if op is sre_constants.IN:
            return CharacterSet(_class_codepoints(argument, self.ignore_case))
        if op in (
            sre_constants.MAX_REPEAT,
            sre_constants.MIN_REPEAT,
            getattr(sre_constants, "POSSESSIVE_REPEAT", None),
        ):
            low, high, items = argument
            if high is sre_constants.MAXREPEAT or high >= sre_constants.MAXREPEAT:
                high = low + UNBOUNDED_EXTRA
            node = Repeat(self.sequence(items), int(low), int(high))
            if op is not sre_constants.MAX_REPEAT and op is not sre_constants.MIN_REPEAT:
                node.exact = False
            return node
        if op is sre_constants.SUBPATTERN:
            number, add_flags, _del_flags, items = argument
            previous = self.ignore_case
            self.ignore_case = self.ignore_case or bool(add_flags & re.IGNORECASE)
            child = self.sequence(items)
            self.ignore_case = previous
            return Group(number, child)
        if op is getattr(sre_constants, "ATOMIC_GROUP", None):
            group = Group(None, self.sequence(argument))
            group.exact = False
            return group
        if op is sre_constants.BRANCH:
            _, branches = argument
            return Alternation([self.sequence(branch) for branch in branches])
        if op is sre_constants.GROUPREF:
            return GroupReference(argument)
        if op is sre_constants.GROUPREF_EXISTS:
            _, yes, no = argument
            branches = [self.sequence(yes), self.sequence(no) if no else Empty()]
            alternation = Alternation(branches)
            alternation.exact = False
            return alternation
        if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            return Empty(exact=False)
        raise UngeneratablePatternError(f"unsupported regular-expression construct {op}")


@dataclass(frozen=True)
class PatternGenerator:
    pattern: str
    root: Node
    compiled: re2._Regexp

    @property
    def exact(self) -> bool:
        return self.root.exact

    def generate(self, rng: np.random.Generator, count: int) -> pa.Array:
        return self.root.generate(Context(rng=rng), count)

    def matches(self, values: pa.Array) -> np.ndarray:
        """True where the value matches the whole pattern (nulls are False)."""
        fullmatch = self.compiled.fullmatch
        return np.fromiter(
            (value is not None and fullmatch(value) is not None for value in values.to_pylist()),
            dtype=bool,
            count=len(values),
        )

    def space(self) -> int:
        return self.root.space()

    def positions(self) -> list[np.ndarray] | None:
        """Code points per position when every value has the same length and the tree is exact."""
        return self.root.positions() if self.exact else None


def pattern_generator(pattern: str) -> PatternGenerator:
    """A generator for ``pattern``; ``UngeneratablePatternError`` when no string can be produced for it
    or RE2 cannot run it."""
    try:
        compiled = linear_pattern_compile(pattern)
    except UnsupportedPatternError as exc:
        raise UngeneratablePatternError(str(exc)) from None
    parsed = python_parse(pattern)
    builder = _Builder(parsed.state.flags)
    root = builder.sequence(list(parsed), top_level=True)
    return PatternGenerator(pattern=pattern, root=root, compiled=compiled)
