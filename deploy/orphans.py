"""Stop what a killed server left behind before its replacement starts.

A supervisor starts each program as a process group of its own, so a server's master and its
workers share the master's pid as their group id. When the master dies without stopping its
workers (SIGKILL, the OOM killer), they live on: nginx's workers keep serving the old
configuration, gunicorn's keep the listening socket until their next check of their parent (up to
half the worker timeout), and either way the new master cannot bind its address. The previous
master's pid file names the group to clear.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path


def _group_members(group: int, program: str) -> Iterator[int]:
    """Processes of process group ``group`` whose command line names ``program``."""
    with contextlib.suppress(FileNotFoundError):
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                if os.getpgid(int(entry.name)) == group and program.encode() in (entry / "cmdline").read_bytes():
                    yield int(entry.name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_orphans(pid_file: Path, program: str, *, timeout: float = 5.0) -> list[int]:
    """SIGKILL the processes left in the group of the dead master ``pid_file`` names; their pids.

    Nothing happens when the file is missing, or its master still runs (then the new one reports
    the busy address itself). A pid is not reused while a process group of that id exists, and
    only members whose command line names ``program`` are touched.
    """
    try:
        master = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return []
    if _alive(master):
        return []
    orphans = list(_group_members(master, program))
    for pid in orphans:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while any(_alive(pid) and pid in _group_members(master, program) for pid in orphans):
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return orphans
