"""Reading the files of a task's checkout, whose contents a hostile repository controls.

Only regular files inside the checkout are ever opened. A path is walked one component at a time
from the checkout's directory (``openat`` with ``O_NOFOLLOW``), so a symbolic link at any depth
is refused by the kernel rather than followed; the last component is checked with ``lstat``
before it is opened (a FIFO, socket or device is never opened, not even to look) and with
``fstat`` after (the same regular file, not one swapped in between). At most ``max_bytes`` are
read, whatever size the file claims.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_CHUNK_BYTES = 64 * 1024


def read_checkout_file(root: Path, relative: str, *, max_bytes: int) -> bytes | None:
    """The bytes of the regular file ``relative`` (``/``-separated) inside ``root``; None when it
    is anything else (link, directory, FIFO, device, missing), would leave ``root``, or holds more
    than ``max_bytes``."""
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None
    try:
        directory = os.open(root, _DIRECTORY_FLAGS)
    except OSError:
        return None
    try:
        for part in parts[:-1]:
            inner = os.open(part, _DIRECTORY_FLAGS, dir_fd=directory)
            os.close(directory)
            directory = inner
        before = os.stat(parts[-1], dir_fd=directory, follow_symlinks=False)
        if not stat.S_ISREG(before.st_mode) or before.st_size > max_bytes:
            return None
        descriptor = os.open(parts[-1], _FILE_FLAGS, dir_fd=directory)
    except OSError:
        return None
    finally:
        os.close(directory)
    try:
        after = os.fstat(descriptor)
        if not stat.S_ISREG(after.st_mode) or (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
            return None
        return _read_at_most(descriptor, max_bytes)
    except OSError:
        return None
    finally:
        os.close(descriptor)


def _read_at_most(descriptor: int, max_bytes: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while size <= max_bytes:
        chunk = os.read(descriptor, min(_CHUNK_BYTES, max_bytes + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    return None  # it grew past the cap after it was measured
