"""`make run`'s first screen and first jobs: on a supported configuration nothing warns."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

EMBEDDED_JOB = """
import django
django.setup()
from config.celery import app

@app.task(name="tests.first_screen.in_process_probe")
def in_process_probe(value):
    return value

assert app.conf.task_always_eager
print(in_process_probe.apply_async(args=[41]).get() + 1)
"""


def run_on_the_embedded_default(arguments: list[str], var_dir: Path) -> subprocess.CompletedProcess:
    """``python <arguments>`` in the checkout with nothing configured: the embedded default."""
    environment = {
        "PATH": "/usr/bin:/bin",
        "VAR_DIR": str(var_dir),
        "HOME": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    return subprocess.run(
        [sys.executable, *arguments], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_system_checks_on_the_embedded_default_print_no_warning(tmp_path):
    result = run_on_the_embedded_default(["manage.py", "check", "--database", "default"], tmp_path)

    assert result.returncode == 0, result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr, result.stdout + result.stderr
    assert result.stdout.startswith("System check identified no issues"), result.stdout


def test_a_job_run_in_process_on_the_embedded_default_logs_only_its_own_line(tmp_path):
    # Given the embedded default (no broker: jobs run in the calling process)
    # When a job is enqueued, as every API's service does
    result = run_on_the_embedded_default(["-c", EMBEDDED_JOB], tmp_path)

    # Then it ran, and the one line logged is the job's own (kombu warned "No hostname was supplied"
    # on the memory:// broker before)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "42\n", result.stdout
    entries = [json.loads(line) for line in result.stderr.splitlines()]
    assert [(entry["level"], entry["logger"]) for entry in entries] == [("INFO", "celery.app.trace")], result.stderr
