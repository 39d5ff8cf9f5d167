"""Figures, goals and the Markdown of docs/BENCHMARKS.md."""

import pytest

from bench.report import (
    HAND_MEASURED_MARKER,
    Document,
    Figure,
    Section,
    format_number,
    hand_measured_part,
    render_document,
)


def row(**overrides):
    base = {
        "name": "requests/s, new path",
        "value": 300.0,
        "unit": "req/s",
        "baseline_name": "requests/s, old path",
        "baseline_value": 100.0,
        "goal": ">= 2x",
    }
    return {**base, **overrides}


@pytest.mark.parametrize(
    ("goal", "met"),
    [
        (">= 2x", True),
        (">= 3x", True),
        ("> 3x", False),
        ("<= 1x", False),
        (">= 2\u00d7 baseline", True),  # the multiplication sign
        (">= 250", True),
        ("<= 250 req/s", False),
        ("== 300", True),
        ("< 300.5", True),
        (None, None),
        ("faster than before", None),
    ],
)
def test_goal_compares_value_or_ratio(goal, met):
    # Given a figure three times its baseline
    figure = Figure.from_row(row(goal=goal))

    # Then its goal is judged against the ratio when it ends in x, else against the value
    assert figure.ratio == 3.0
    assert figure.met() is met


def test_goal_number_is_not_cut_short_by_a_unit_written_against_it():
    # "<= 50ms" means fifty, not five
    assert Figure.from_row(row(value=40.0, goal="<= 50ms")).met() is True


def test_ratio_goal_without_baseline_cannot_be_judged():
    figure = Figure.from_row(row(baseline_name=None, baseline_value=None, goal=">= 2x"))

    assert figure.ratio is None
    assert figure.met() is None


def test_explicit_met_wins_for_goals_that_are_not_comparisons():
    figure = Figure.from_row(row(goal="exactly the limit gets through", met=True))

    assert figure.met() is True


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ({"name": "x", "value": 1}, "lacks unit, baseline_name, baseline_value, goal"),
        (row(value="fast"), "value must be a number"),
        (row(value=True), "value must be a number"),
        (row(baseline_value=float("nan")), "baseline_value must be a number"),
        (row(met="yes"), "met must be true, false or absent"),
        (["not", "a", "dict"], "must be a dict"),
    ],
)
def test_malformed_rows_are_refused_with_the_reason(bad_row, message):
    with pytest.raises(ValueError, match=message):
        Figure.from_row(bad_row)


@pytest.mark.parametrize(
    ("value", "text"),
    [(2912.4, "2,912"), (590.2, "590"), (12.34, "12.3"), (1.234, "1.23"), (0.01234, "0.0123"), (None, "—")],
)
def test_numbers_are_shown_with_sensible_precision(value, text):
    assert format_number(value) == text


def test_document_has_machine_every_section_and_no_placeholders():
    # Given one measured section, one failed section and one without figures
    measured = Section(key="serving", title="Serving", figures=[Figure.from_row(row())], notes=["Verdict."])
    failed = Section(key="coder", title="coder", error="bench/coder.py failed (exit 1)")
    empty = Section(key="ledger", title="ledger")
    document = Document(
        date="2026-01-01 00:00 UTC",
        machine=[("CPU", "test CPU, 2 cores")],
        sections=[measured, failed, empty],
        command="make bench",
    )

    # When it is rendered
    markdown = render_document(document)

    # Then the table carries value, baseline, ratio, goal and verdict, and failures are visible
    assert "Written by `make bench` on 2026-01-01 00:00 UTC" in markdown
    assert "| CPU | test CPU, 2 cores |" in markdown
    assert "| requests/s, new path | 300 req/s | requests/s, old path | 100 req/s | 3.00x | >= 2x | yes |" in markdown
    assert "Verdict." in markdown
    assert "**Not measured in full:** bench/coder.py failed (exit 1)" in markdown
    assert "## ledger\n\nThis module returned no figures." in markdown
    assert "\n\n\n" not in markdown
    assert markdown.endswith("\n")


def test_unmet_goal_is_marked_in_bold():
    markdown = render_document(
        Document(
            date="d",
            machine=[],
            sections=[Section(key="s", title="s", figures=[Figure.from_row(row(goal=">= 5x"))])],
            command="c",
        )
    )

    assert "| >= 5x | **no** |" in markdown


def test_a_run_keeps_the_figures_measured_by_hand_at_the_end_of_the_earlier_file():
    # Given an earlier file whose last part was measured by hand, below the marker
    hand_measured = f"{HAND_MEASURED_MARKER}\n\n## First hour\n\n| install | 161 s |\n"
    earlier = f"# Benchmarks\n\nWritten by `make bench` on 2025-12-31.\n\n## coder\n\nold figures\n\n{hand_measured}"
    document = Document(
        date="2026-01-01 00:00 UTC",
        machine=[("CPU", "test CPU, 2 cores")],
        sections=[Section(key="serving", title="Serving", figures=[Figure.from_row(row())])],
        command="make bench",
    )

    # When a run writes the file again
    markdown = render_document(document, hand_measured=hand_measured_part(earlier))

    # Then the run's figures replace the earlier ones, and the hand-measured part ends the file unchanged
    assert "old figures" not in markdown and "## Serving" in markdown
    assert markdown.endswith("\n\n" + hand_measured)
    assert "\n\n\n" not in markdown
    assert hand_measured_part("# Benchmarks\n\nno marker\n") == ""
