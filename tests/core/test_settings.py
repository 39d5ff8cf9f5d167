"""Settings modes: production refuses to start without its keys and passes check --deploy with no
warning; every other server generates its own keys into VAR_DIR and reuses them."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings

ROOT = Path(__file__).resolve().parents[2]


KEY_VARIABLES = {"SECRET_KEY", "JWT_SIGNING_KEY", "DJANGO_DEBUG", "FIELD_ENCRYPTION_KEY", "ENVIRONMENT"}


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean_env = {k: v for k, v in os.environ.items() if k not in KEY_VARIABLES}
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


def test_check_deploy_refuses_a_clerk_key_without_issuer_and_authorized_parties():
    result = run_manage(
        "check",
        "--deploy",
        **PRODUCTION,
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        CLERK_JWKS_URL="https://clerk.example.com/.well-known/jwks.json",
    )

    assert result.returncode != 0
    assert "accounts.E001" in result.stdout + result.stderr
    assert "CLERK_ISSUER and CLERK_AUTHORIZED_PARTIES" in result.stdout + result.stderr


def test_check_deploy_passes_with_clerk_fully_configured():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **PRODUCTION,
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        CLERK_JWKS_URL="https://clerk.example.com/.well-known/jwks.json",
        CLERK_ISSUER="https://clerk.example.com",
        CLERK_AUTHORIZED_PARTIES="https://app.example.com",
    )

    assert result.returncode == 0, result.stdout + result.stderr


# --- Keys outside production ----------------------------------------------------------------------------

SHOW_KEYS = (
    "from django.conf import settings; import json; print(json.dumps({"
    "'secret': settings.SECRET_KEY, 'jwt': settings.SIMPLE_JWT['SIGNING_KEY'], "
    "'fields': settings.FIELD_ENCRYPTION_KEY, 'debug': settings.DEBUG, 'production': settings.PRODUCTION}))"
)


def keys_of(var_dir: Path, **env: str) -> dict:
    result = run_manage("shell", "-c", SHOW_KEYS, VAR_DIR=str(var_dir), **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_fresh_server_generates_private_keys_and_reuses_them(tmp_path):
    # given a fresh runtime directory, when the server starts, then it makes its own keys (mode 0600)
    first = keys_of(tmp_path / "var")
    for name in ("secret_key", "field_encryption_key"):
        path = tmp_path / "var" / "keys" / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    assert first["secret"] != "django-insecure-development-only-key-never-use-in-production"
    assert first["jwt"] == first["secret"] and len(first["secret"]) >= 50
    assert Fernet(first["fields"].encode())  # a real Fernet key
    assert first["debug"] is False and first["production"] is False

    # and the next start uses the same keys
    assert keys_of(tmp_path / "var") == first


def test_two_clones_sign_with_different_keys(tmp_path):
    one, two = keys_of(tmp_path / "one"), keys_of(tmp_path / "two")

    assert one["secret"] != two["secret"] and one["fields"] != two["fields"]


def test_development_mode_is_one_variable_away(tmp_path):
    assert keys_of(tmp_path / "var", DJANGO_DEBUG="1")["debug"] is True


def test_keys_from_the_environment_win_and_nothing_is_generated(tmp_path):
    keys = keys_of(tmp_path / "var", SECRET_KEY="s" * 50, FIELD_ENCRYPTION_KEY="f" * 40)

    assert keys["secret"] == "s" * 50 and keys["fields"] == "f" * 40
    assert not (tmp_path / "var" / "keys" / "secret_key").exists()


def test_production_never_generates_keys_nor_shows_debug_pages(tmp_path):
    refused = run_manage("check", DJANGO_DEBUG="0", VAR_DIR=str(tmp_path / "var"))
    debug_in_production = run_manage("check", ENVIRONMENT="production", DJANGO_DEBUG="1", SECRET_KEY="s" * 50)

    assert refused.returncode != 0 and "SECRET_KEY must be set" in refused.stderr
    assert not (tmp_path / "var" / "keys" / "secret_key").exists()
    assert debug_in_production.returncode != 0 and "production never shows debug pages" in debug_in_production.stderr


POOL_PROBE = """
import threading
from concurrent.futures import ThreadPoolExecutor
from django.conf import settings
from django.db import connection

def one_request(_):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid() FROM pg_sleep(0.05)")
        pid = cursor.fetchone()[0]
    connection.close()  # what Django does at the end of every request
    return pid

# Each call on a thread of its own, as Django's ASGI handler runs sync views.
with ThreadPoolExecutor(max_workers=12) as threads:
    pids = set(threads.map(one_request, range(48)))
print("pool", settings.DATABASES["default"]["OPTIONS"].get("pool", {}).get("max_size"), len(pids))
"""


@pytest.mark.postgres
def test_the_asgi_servers_pool_bounds_connections_and_reuses_them_across_threads():
    url = django_settings.DATABASES["default"]
    database_url = f"postgres://{url['USER']}@{url['HOST']}:{url['PORT']}/{url['NAME']}"

    pooled = run_manage("shell", "-c", POOL_PROBE, DATABASE_URL=database_url, DATABASE_POOL_MAX_SIZE="4")
    unpooled = run_manage("shell", "-c", POOL_PROBE, DATABASE_URL=database_url, DATABASE_POOL_MAX_SIZE="0")

    assert pooled.returncode == 0 and unpooled.returncode == 0, pooled.stderr + unpooled.stderr
    _, max_size, backends = probe_line(pooled.stdout)
    assert max_size == "4" and int(backends) <= 4, pooled.stdout
    assert int(probe_line(unpooled.stdout)[2]) > 4, unpooled.stdout  # a connect per request without it


def probe_line(stdout: str) -> list[str]:
    return next(line.split() for line in stdout.splitlines() if line.startswith("pool "))
