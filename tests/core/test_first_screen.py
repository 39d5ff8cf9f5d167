"""`make run`'s first screen: the system checks of a supported configuration say nothing."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_system_checks_on_the_embedded_default_print_no_warning(tmp_path):
    environment = {"PATH": "/usr/bin:/bin", "VAR_DIR": str(tmp_path), "HOME": str(tmp_path)}

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--database", "default"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr, result.stdout + result.stderr
    assert result.stdout.startswith("System check identified no issues"), result.stdout
