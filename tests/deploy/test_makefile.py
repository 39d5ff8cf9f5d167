"""The Makefile keeps runtime files under VAR_DIR, never in the checkout when VAR_DIR points elsewhere."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
MAKE_VARIABLES = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _make(checkout: Path, target: str, **variables: str) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if name not in (*MAKE_VARIABLES, "VAR_DIR")}
    env.update(variables)
    return subprocess.run(
        ["make", "--no-print-directory", target], cwd=checkout, env=env, capture_output=True, text=True, check=False
    )


def test_the_runtime_folder_is_made_where_var_dir_points_and_nowhere_else(tmp_path):
    # Given a checkout (its Makefile) and a VAR_DIR outside it
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    shutil.copy(BASE_DIR / "Makefile", checkout / "Makefile")
    elsewhere = tmp_path / "runtime"

    # When the target every serving target depends on runs
    made = _make(checkout, "var", VAR_DIR=str(elsewhere))

    # Then VAR_DIR exists and the checkout has no var/ of its own
    assert made.returncode == 0, made.stderr
    assert elsewhere.is_dir()
    assert not (checkout / "var").exists()


def test_without_var_dir_the_runtime_folder_is_var_in_the_checkout(tmp_path):
    shutil.copy(BASE_DIR / "Makefile", tmp_path / "Makefile")

    made = _make(tmp_path, "var")

    assert made.returncode == 0, made.stderr
    assert (tmp_path / "var").is_dir()
