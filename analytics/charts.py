"""Charts as inline SVG, drawn on the server: no JavaScript, no CDN, nothing fetched by the browser.

Every label is escaped; sizes are fixed so the page lays out before anything loads.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f")
WIDTH = 720
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def _number(value: float) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def _empty(title: str, height: int = 80) -> SafeString:
    return mark_safe(  # noqa: S308 - the only interpolated text is escaped
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" role="img" '
        f'aria-label="{escape(title)}"><text x="10" y="40" {FONT} fill="#666">No data in this period</text></svg>'
    )


def stacked_columns(
    title: str, days: Sequence[date], series: dict[str, Sequence[int]], height: int = 220
) -> SafeString:
    """One column per day, one coloured segment per series, a legend underneath."""
    totals = [sum(values[position] for values in series.values()) for position in range(len(days))]
    if not days or not any(totals):
        return _empty(title)
    top = max(totals)
    left, right, plot_top, plot_bottom = 50, 10, 10, height - 30
    plot_height = plot_bottom - plot_top
    slot = (WIDTH - left - right) / len(days)
    bar = max(1.0, slot * 0.75)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height + 20 * ((len(series) + 3) // 4)}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<line x1="{left}" y1="{plot_bottom}" x2="{WIDTH - right}" y2="{plot_bottom}" stroke="#999"/>',
        f'<text x="{left - 6}" y="{plot_top + 4}" text-anchor="end" {FONT}>{_number(top)}</text>',
        f'<text x="{left - 6}" y="{plot_bottom}" text-anchor="end" {FONT}>0</text>',
    ]
    names = list(series)
    for position, day in enumerate(days):
        x = left + position * slot + (slot - bar) / 2
        y = plot_bottom
        for number, name in enumerate(names):
            value = series[name][position]
            if not value:
                continue
            segment = plot_height * value / top
            y -= segment
            colour = PALETTE[number % len(PALETTE)]
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{segment:.1f}" fill="{colour}">'
                f"<title>{escape(name)} {day.isoformat()}: {_number(value)}</title></rect>"
            )
        if len(days) <= 31 and (position % max(1, len(days) // 10) == 0 or position == len(days) - 1):
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{plot_bottom + 14}" text-anchor="middle" {FONT}>'
                f"{day.strftime('%m-%d')}</text>"
            )
    if len(days) > 31:
        parts.append(f'<text x="{left}" y="{plot_bottom + 14}" {FONT}>{days[0].isoformat()}</text>')
        parts.append(
            f'<text x="{WIDTH - right}" y="{plot_bottom + 14}" text-anchor="end" {FONT}>{days[-1].isoformat()}</text>'
        )
    if len(names) > 1:
        for number, name in enumerate(names):
            x = left + (number % 4) * 165
            y = height + (number // 4) * 18
            colour = PALETTE[number % len(PALETTE)]
            parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
            parts.append(f'<text x="{x + 14}" y="{y}" {FONT}>{escape(name[:24])}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every label above is escaped


def horizontal_bars(title: str, items: Sequence[tuple[str, float]], unit: str = "") -> SafeString:
    """One labelled bar per item, the value at its end."""
    if not items or not any(value for _, value in items):
        return _empty(title)
    row, label_width, right = 22, 170, 90
    height = row * len(items) + 10
    top = max(value for _, value in items) or 1
    span = WIDTH - label_width - right
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" role="img" '
        f'aria-label="{escape(title)}">'
    ]
    for number, (label, value) in enumerate(items):
        y = 5 + number * row
        length = span * value / top
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 14}" text-anchor="end" {FONT}>{escape(str(label)[:28])}</text>'
        )
        parts.append(
            f'<rect x="{label_width}" y="{y + 3}" width="{max(length, 1):.1f}" height="{row - 8}" '
            f'fill="{PALETTE[0]}"><title>{escape(str(label))}: {_number(value)}{escape(unit)}</title></rect>'
        )
        parts.append(
            f'<text x="{label_width + length + 6:.1f}" y="{y + 14}" {FONT}>{_number(value)}{escape(unit)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every label above is escaped
