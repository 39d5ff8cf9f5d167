"""Production mode: refuses to start without a secret, passes check --deploy with no warning."""

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean_env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DJANGO_DEBUG", "FIELD_ENCRYPTION_KEY"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean_env, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_without_secret_key_refuses_to_start():
    result = run_manage("check", DJANGO_DEBUG="0")

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


PRODUCTION = {"DJANGO_DEBUG": "0", "SECRET_KEY": "p" * 24 + os.urandom(24).hex()}


def test_production_settings_pass_check_deploy_without_warnings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **PRODUCTION,
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_refuses_production_without_a_field_encryption_key():
    result = run_manage("check", "--deploy", **PRODUCTION, FIELD_ENCRYPTION_KEY="")

    assert result.returncode != 0
    assert "core.E001" in result.stdout + result.stderr
