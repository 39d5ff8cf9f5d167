"""The layering of docs/architecture.md ("Layers") is a contract the build checks, over every package."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def first_party_packages() -> set[str]:
    return {path.parent.name for path in ROOT.glob("*/__init__.py") if path.parent.name != "tests"}


def test_every_first_party_package_is_under_the_import_contracts():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts = {contract["id"]: contract for contract in config["contracts"]}

    assert set(config["root_packages"]) == first_party_packages()
    assert {"platform-layers", "products-independent", "no-cycles"} <= set(contracts)
    assert set(contracts["no-cycles"]["ancestors"]) == first_party_packages()


def test_the_import_contracts_hold():
    result = subprocess.run([str(LINT_IMPORTS)], cwd=ROOT, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr
