"""Where the full stack keeps its runtime files: everything under VAR_DIR, as config/settings.py says.

The launchers (deploy.stack, deploy.proxy) run before Django is set up, so they read the same
environment variables the settings read, with the same defaults; tests/deploy checks that both
agree.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def var_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """VAR_DIR, absolute (settings: ``VAR_DIR``, default ``var/`` in the checkout)."""
    return Path(environ.get("VAR_DIR") or BASE_DIR / "var").resolve()


def static_root(environ: Mapping[str, str] = os.environ) -> Path:
    """STATIC_ROOT (settings: default ``$VAR_DIR/static``): where collectstatic writes, nginx reads."""
    configured = environ.get("STATIC_ROOT")
    return Path(configured).resolve() if configured else var_dir(environ) / "static"
