"""`make serve-full` (deploy.stack): what it refuses, and what it hands supervisord.

The programs themselves are started and killed in test_supervised_stack.py; these tests stop
before anything is started.
"""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from deploy.stack import (
    SUPERVISORD_CONF,
    StackConfigurationError,
    check_environment,
    collect_static_files,
    is_production,
    stack_environment,
)

BASE_DIR = Path(__file__).resolve().parents[2]
# A `make test` run passes its own make's state down; the inner make must start afresh.
MAKE_VARIABLES = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")
STATIC_FILES_STORAGE = "django.contrib.staticfiles.storage.StaticFilesStorage"
UNREACHABLE_POSTGRES = "postgres://postgres@127.0.0.1:9/nothing-listens-here"


@pytest.fixture
def var_dir():
    """A VAR_DIR nginx's workers could enter (pytest's tmp_path is private to root)."""
    (BASE_DIR / "var").mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="test-launcher-", dir=BASE_DIR / "var"))
    folder.chmod(0o755)
    yield folder / "var"
    shutil.rmtree(folder, ignore_errors=True)


def _make_serve_full(var_dir: Path, **variables: str) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if name not in MAKE_VARIABLES}
    for name in ("DJANGO_DEBUG", "SECRET_KEY", "FIELD_ENCRYPTION_KEY", "SECURE_SSL_REDIRECT"):
        env.pop(name, None)
    env.update(VAR_DIR=str(var_dir), PORT="9", **variables)
    # -o: take the installed virtualenv as it is (never re-install from a test)
    return subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.runtime-installed", "serve-full"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_serve_full_in_production_mode_refuses_to_start_when_check_deploy_fails(var_dir):
    # Given production mode without FIELD_ENCRYPTION_KEY (and a database nothing could reach)
    # When `make serve-full` starts
    completed = _make_serve_full(
        var_dir,
        DJANGO_DEBUG="0",
        SECRET_KEY="a-production-secret-key-that-is-long-and-random-enough-0123456789",
        DATABASE_URL=UNREACHABLE_POSTGRES,
        REDIS_URL="redis://127.0.0.1:9/0",
    )

    # Then it names the failed check and starts nothing
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0, output
    assert "core.E001" in output and "FIELD_ENCRYPTION_KEY" in output, output
    assert "check --deploy" in output, output
    assert not (var_dir / "supervisor").exists()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_serve_full_refuses_without_database_and_redis(var_dir):
    completed = _make_serve_full(var_dir, DATABASE_URL="", REDIS_URL="")

    output = completed.stdout + completed.stderr
    assert completed.returncode != 0, output
    assert "set DATABASE_URL and REDIS_URL" in output, output


def test_every_value_supervisord_conf_reads_from_the_environment_has_a_default():
    used = set(re.findall(r"%\(ENV_([A-Z_]+)\)s", SUPERVISORD_CONF.read_text()))

    env = stack_environment({})

    assert used, "deploy/supervisord.conf reads nothing from the environment?"
    assert used <= set(env), used - set(env)
    assert env["VAR_DIR"] == str(BASE_DIR / "var")
    assert env["TRUST_X_FORWARDED_FOR"] == "1"


def test_the_callers_values_win_and_var_dir_is_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    env = stack_environment({"VAR_DIR": "runtime", "ASGI_WORKERS": "3", "CELERY_CONCURRENCY": ""})

    assert env["VAR_DIR"] == str(tmp_path / "runtime")
    assert env["ASGI_WORKERS"] == "3"
    assert env["CELERY_CONCURRENCY"] == "2"  # empty means unset


@pytest.mark.parametrize(
    ("value", "production"), [(None, False), ("1", False), ("true", False), ("0", True), ("false", True)]
)
def test_production_mode_is_read_as_the_settings_read_it(value, production):
    assert is_production({} if value is None else {"DJANGO_DEBUG": value}) is production


@pytest.mark.skipif(os.geteuid() != 0, reason="nginx switches its workers to nobody only when started as root")
def test_a_var_dir_nginx_workers_cannot_enter_is_refused_before_anything_starts(var_dir):
    closed = var_dir / "private"
    (closed / "var").mkdir(parents=True)
    closed.chmod(0o700)

    problems = check_environment({"DATABASE_URL": "x", "REDIS_URL": "y", "VAR_DIR": str(closed / "var")})

    assert any(f"cannot enter {closed}" in problem for problem in problems), problems


def test_static_files_are_collected_again_only_when_a_source_changed(settings, tmp_path):
    sources = tmp_path / "sources"
    sources.mkdir()
    settings.STATICFILES_DIRS = [str(sources)]
    settings.STATIC_ROOT = str(tmp_path / "static")
    # the plain storage: the compressing one spends 30 s of CPU on the same files
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": STATIC_FILES_STORAGE}}

    first, second = collect_static_files(), collect_static_files()
    (sources / "added.css").write_text("body {}")
    third = collect_static_files()

    assert (first, second, third) == (True, False, True)
    assert (tmp_path / "static" / "admin" / "css" / "base.css").is_file()
    assert (tmp_path / "static" / "added.css").is_file()


def test_stack_programs_chooses_what_a_machine_starts():
    worker_machine = stack_environment({"STACK_PROGRAMS": "worker"})
    web_machine = stack_environment({"STACK_PROGRAMS": "web, asgi,proxy"})

    assert [worker_machine[f"AUTOSTART_{name}"] for name in ("WEB", "ASGI", "WORKER", "BEAT", "PROXY")] == [
        "false",
        "false",
        "true",
        "false",
        "false",
    ]
    assert [web_machine[f"AUTOSTART_{name}"] for name in ("WEB", "ASGI", "WORKER", "BEAT", "PROXY")] == [
        "true",
        "true",
        "false",
        "false",
        "true",
    ]
    with pytest.raises(StackConfigurationError, match="celery-beat"):
        stack_environment({"STACK_PROGRAMS": "web,celery-beat"})
