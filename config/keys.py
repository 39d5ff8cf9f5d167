"""Keys a development server makes for itself: random, kept in ``VAR_DIR``, readable by its owner only.

Outside production a key that is not in the environment is read from ``VAR_DIR/keys/<name>``, and
generated there on first start (``secrets.token_urlsafe``, or a Fernet key), with file mode 0600.
Every later start reuses it, so tokens and encrypted fields survive restarts, and two clones (two
``VAR_DIR``s) never share a key. Two processes starting at once agree on one key: the file is created
exclusively, and the loser reads the winner's. Production never generates keys: its settings refuse
to start without them (``config/settings.py``, ``manage.py check --deploy``).
"""

from __future__ import annotations

import os
import secrets
import stat
import time
from collections.abc import Callable
from pathlib import Path


def random_secret() -> str:
    return secrets.token_urlsafe(50)


def random_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode("ascii")


def key_from_file(directory: Path, name: str, generate: Callable[[], str] = random_secret) -> str:
    """The key stored in ``directory/name``, generated (mode 0600) when the file does not exist."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(generate())
    return _read_key(path)


def _read_key(path: Path) -> str:
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)  # a copied or hand-made file: keep it from other users
    for _ in range(50):  # another process may still be writing the file it just created
        value = path.read_text(encoding="ascii").strip()
        if value:
            return value
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty; delete it to generate a new key")
