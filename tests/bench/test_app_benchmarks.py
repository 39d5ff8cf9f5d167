"""Discovery of bench/<app>.py modules and running each in a process of its own."""

import os
import textwrap

import pytest

from bench.app_benchmarks import discover, project_apps, run_app_benchmark


@pytest.fixture
def fake_bench_package(tmp_path):
    """A package `fakebench` on PYTHONPATH holding app modules that behave in different ways."""
    package = tmp_path / "fakebench"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "coder.py").write_text(
        textwrap.dedent(
            '''
            """Coder: task creation against the old path.

            Longer text that is not the summary.
            """
            from decimal import Decimal


            def run():
                print("modules may print freely")
                return [{"name": "tasks/s", "value": Decimal("42.5"), "unit": "tasks/s",
                         "baseline_name": "old tasks/s", "baseline_value": 10, "goal": ">= 2x"}]
            '''
        )
    )
    (package / "crashing.py").write_text("def run():\n    raise RuntimeError('database went away')\n")
    (package / "sleepy.py").write_text("import time\n\ndef run():\n    time.sleep(60)\n    return []\n")
    (package / "sloppy.py").write_text("def run():\n    return [{'name': 'half a row', 'value': 1}]\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"}
    return env


def test_project_apps_are_the_folders_with_an_apps_module():
    assert {"core", "accounts", "coder", "marketplace", "telemetry", "analytics", "cerebro", "ledger"} <= project_apps()


def test_discover_finds_app_modules_and_ignores_the_harness(tmp_path):
    # Given a bench folder with two app modules and harness modules
    for name in ("coder", "ledger", "serving", "report", "__main__"):
        (tmp_path / f"{name}.py").write_text("")

    # When discovering
    found = discover(tmp_path, apps={"coder", "ledger", "marketplace"})

    # Then only the app modules come back, in order
    assert found == ["coder", "ledger"]


def test_rows_of_an_app_module_become_its_section(fake_bench_package, tmp_path):
    section = run_app_benchmark(
        "coder", fake_bench_package, timeout=120, log_dir=tmp_path / "logs", module="fakebench.coder"
    )

    assert section.error is None
    assert section.intro == "Coder: task creation against the old path."
    [figure] = section.figures
    assert (figure.name, figure.value, figure.baseline_value, figure.met()) == ("tasks/s", 42.5, 10.0, True)
    assert "modules may print freely" in (tmp_path / "logs" / "coder.log").read_text()


def test_a_crashing_module_is_reported_not_fatal(fake_bench_package, tmp_path):
    section = run_app_benchmark(
        "crashing", fake_bench_package, timeout=120, log_dir=tmp_path, module="fakebench.crashing"
    )

    assert section.figures == []
    assert "failed (exit 1)" in section.error
    assert "database went away" in section.error


def test_a_module_past_its_time_is_stopped(fake_bench_package, tmp_path):
    section = run_app_benchmark("sleepy", fake_bench_package, timeout=8, log_dir=tmp_path, module="fakebench.sleepy")

    assert "ran past 8 s and was stopped" in section.error


def test_malformed_rows_are_named_in_the_section(fake_bench_package, tmp_path):
    section = run_app_benchmark("sloppy", fake_bench_package, timeout=120, log_dir=tmp_path, module="fakebench.sloppy")

    assert "malformed rows" in section.error
    assert "lacks unit" in section.error
