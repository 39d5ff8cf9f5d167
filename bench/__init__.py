"""`make bench`: the serving measurement plus every app's figures, written to docs/BENCHMARKS.md.

Run as ``.venv/bin/python -m bench`` (see bench/__main__.py). An app adds figures by writing
``bench/<app>.py`` (``<app>`` one of the project's apps) with ``run() -> list[dict]``; each row is

    {"name": str, "value": float, "unit": str,
     "baseline_name": str | None, "baseline_value": float | None, "goal": str | None}

measured beside its baseline in the same run. ``goal`` is ``"<op> <number>"`` against the value
in its unit (``"<= 50"``) or ``"<op> <number>x"`` against value / baseline (``">= 2x"``), with
``<op>`` one of ``>= <= > < ==``; a row may add ``"met": bool`` when its goal is not a comparison.
"""
