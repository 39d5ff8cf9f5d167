"""Figures, sections, goals, and the Markdown of docs/BENCHMARKS.md."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

REQUIRED_KEYS = ("name", "value", "unit", "baseline_name", "baseline_value", "goal")
_GOAL = re.compile(r"^\s*(>=|<=|==|>|<)\s*([0-9]*\.?[0-9]+)(?![0-9.])\s*(.*)$")
_RATIO_SUFFIX = re.compile(r"^[x\u00d7](\s|$)", re.I)  # "2x" or "2\u00d7" (multiplication sign)
_COMPARE = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: a == b,
}


@dataclass(frozen=True)
class Figure:
    """One measured figure beside the baseline it was measured with, in the same run."""

    name: str
    value: float
    unit: str
    baseline_name: str | None
    baseline_value: float | None
    goal: str | None
    met_override: bool | None = None

    @classmethod
    def from_row(cls, row: Mapping) -> Figure:
        """A figure from an app benchmark's row; a malformed row raises ValueError saying why."""
        if not isinstance(row, Mapping):
            raise ValueError(f"a row must be a dict, not {type(row).__name__}")
        missing = [key for key in REQUIRED_KEYS if key not in row]
        if missing:
            raise ValueError(f"row {row.get('name', '?')!r} lacks {', '.join(missing)}")
        value = _number(row["value"], "value", row["name"])
        baseline_value = row["baseline_value"]
        if baseline_value is not None:
            baseline_value = _number(baseline_value, "baseline_value", row["name"])
        met = row.get("met")
        if met is not None and not isinstance(met, bool):
            raise ValueError(f"row {row['name']!r}: met must be true, false or absent")
        return cls(
            name=str(row["name"]),
            value=value,
            unit=str(row["unit"] or ""),
            baseline_name=None if row["baseline_name"] is None else str(row["baseline_name"]),
            baseline_value=baseline_value,
            goal=None if row["goal"] in (None, "") else str(row["goal"]),
            met_override=met,
        )

    @property
    def ratio(self) -> float | None:
        if self.baseline_value is None or self.baseline_value == 0:
            return None
        return self.value / self.baseline_value

    def met(self) -> bool | None:
        """Whether the goal holds; None when there is no goal or it cannot be judged."""
        if self.met_override is not None:
            return self.met_override
        if self.goal is None:
            return None
        match = _GOAL.match(self.goal)
        if match is None:
            return None
        operator, threshold = match.group(1), float(match.group(2))
        against_ratio = bool(_RATIO_SUFFIX.match(match.group(3)))
        observed = self.ratio if against_ratio else self.value
        if observed is None:
            return None
        return _COMPARE[operator](observed, threshold)


def _number(raw, key: str, name) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or math.isnan(raw):
        raise ValueError(f"row {name!r}: {key} must be a number, not {raw!r}")
    return float(raw)


@dataclass
class Section:
    """One table of docs/BENCHMARKS.md: a serving measurement or one app's bench module."""

    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    intro: str = ""
    notes: list[str] = field(default_factory=list)  # Markdown blocks after the table
    error: str | None = None  # why the section could not be measured (the table may be partial)


@dataclass(frozen=True)
class Document:
    date: str
    machine: list[tuple[str, str]]
    sections: list[Section]
    command: str


def format_number(value: float | None) -> str:
    if value is None:
        return "—"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _with_unit(value: float | None, unit: str) -> str:
    text = format_number(value)
    return f"{text} {unit}" if value is not None and unit else text


def _cell(text: str | None) -> str:
    return "—" if text in (None, "") else str(text).replace("|", "\\|").replace("\n", " ")


def render_table(figures: list[Figure]) -> str:
    lines = [
        "| figure | value | baseline | baseline value | ratio | goal | met? |",
        "|---|---:|---|---:|---:|---|:---:|",
    ]
    for figure in figures:
        ratio = figure.ratio
        met = figure.met()
        lines.append(
            "| "
            + " | ".join(
                [
                    _cell(figure.name),
                    _with_unit(figure.value, figure.unit),
                    _cell(figure.baseline_name),
                    _with_unit(figure.baseline_value, figure.unit),
                    "—" if ratio is None else f"{ratio:.2f}x",
                    _cell(figure.goal),
                    {True: "yes", False: "**no**", None: "—"}[met],
                ]
            )
            + " |"
        )
    return "\n".join(lines)


# Figures that `make bench` cannot take by itself (a cold install of the requirements, say) are
# measured by hand and written below this line, with their date and how; every run keeps them.
HAND_MEASURED_MARKER = "<!-- Measured by hand: make bench keeps everything below this line as it is. -->"


def hand_measured_part(previous: str) -> str:
    """The part of an earlier docs/BENCHMARKS.md from HAND_MEASURED_MARKER on ("" without one)."""
    start = previous.find(HAND_MEASURED_MARKER)
    return "" if start < 0 else previous[start:].rstrip() + "\n"


def render_document(document: Document, *, hand_measured: str = "") -> str:
    """The whole file: the run's sections, then ``hand_measured`` (kept from the earlier file)."""
    parts = [
        "# Benchmarks",
        "",
        f"Written by `{document.command}` on {document.date}. Every run rewrites this file, so no figure "
        "here is older than that run; each figure was measured beside its baseline in the same run. The "
        "figures measured by hand, after the run's, say when and how they were measured.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *[f"| {_cell(label)} | {_cell(value)} |" for label, value in document.machine],
        "",
        "## Reading the tables",
        "",
        "*ratio* is value / baseline value. A *goal* `<op> N` compares the value (in its unit), "
        "`<op> Nx` compares the ratio. *met?* is yes, **no**, or — when a figure has no goal. "
        "An app adds a section by writing `bench/<app>.py` with `run() -> list[dict]` "
        "(see bench/__init__.py); each such module runs in a process of its own with production "
        "settings (`DJANGO_DEBUG=0`) on the same PostgreSQL and Redis as the serving figures.",
    ]
    for section in document.sections:
        while parts[-1] == "":
            parts.pop()
        parts += ["", f"## {section.title}", ""]
        if section.intro:
            parts += [section.intro, ""]
        if section.error:
            parts += [f"**Not measured in full:** {section.error}", ""]
        if section.figures:
            parts.append(render_table(section.figures))
        elif not section.error:
            parts.append("This module returned no figures.")
        for note in section.notes:
            parts += ["", note]
    rendered = "\n".join(parts).rstrip() + "\n"
    return rendered + ("\n" + hand_measured if hand_measured else "")
