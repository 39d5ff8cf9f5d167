"""The git commands a task run needs, run as subprocesses with no shell and bounded time.

A repository is hostile input, so git runs with settings a repository cannot change:

- no configuration but ours: the system and the server user's global files are ignored
  (``GIT_CONFIG_NOSYSTEM``, ``GIT_CONFIG_GLOBAL=/dev/null``), so no filter, hook path or helper
  configured on the machine runs for a repository's ``.gitattributes``;
- hooks off (``core.hooksPath=/dev/null``), symbolic links checked out as plain files holding
  their target (``core.symlinks=false``), no fsmonitor, no submodule recursion;
- transports: only http(s), plus ``file`` when ``CODER_ALLOW_FILE_REPOSITORIES`` says so, for the
  remote and for anything it points at (``GIT_ALLOW_PROTOCOL``; ``ext::`` and ssh are refused);
- every command has a time limit, and on expiry its whole process group is killed (a transport
  helper or a hook would otherwise outlive it);
- a clone has a size limit: it never takes more than ``CODER_CLONE_MAX_BYTES`` on disk, objects
  and files together, and holds no file over ``CODER_CLONE_MAX_FILE_BYTES`` (``clone`` says how).

Credentials never appear in a command line or a remote URL: an ``Authorization`` header is passed
through git's ``GIT_CONFIG_*`` environment (``http.extraHeader``), so it is neither written to
``.git/config`` nor visible in the process list.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from coder import conf


class GitError(Exception):
    """A git command failed; ``message`` is safe to show (no credentials)."""


class RemoteNotAllowedError(GitError):
    """The repository's URL is one git is not allowed to reach here (its scheme): nothing was run."""


class RepositoryTooLargeError(GitError):
    """The repository would take more room than a task may clone; what was cloned is removed."""


@dataclass(frozen=True)
class RemoteAccess:
    """Where to reach a repository and the header (if any) that authorises it."""

    url: str
    authorization: str | None = None

    @classmethod
    def with_github_token(cls, url: str, token: str) -> RemoteAccess:
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        return cls(url=url, authorization=f"Authorization: Basic {basic}")


# Settings every git command runs with, whatever the repository or the machine says.
HARDENED_CONFIG = (
    ("core.hooksPath", os.devnull),
    ("core.symlinks", "false"),
    ("core.fsmonitor", "false"),
    ("submodule.recurse", "false"),
)
# Blob modes of regular files in a tree; symbolic links (120000) and submodules (160000) are not files.
REGULAR_FILE_MODES = ("100644", "100755")
# What is kept of git's own words in an error (task errors are capped at 2000 characters).
REASON_MAX_CHARS = 1500
# How often the size of a clone is measured while git writes it: a clone outgrows its cap by at most
# what git writes in this long before it is stopped.
CLONE_SIZE_CHECK_SECONDS = 0.1
# The unit a file system allocates: the least room a non-empty file of the checkout takes.
DISK_BLOCK_BYTES = 4096
# What is shown of a file's name in an error (names can be as long as a repository likes).
PATH_MAX_CHARS = 200


def allowed_schemes() -> tuple[str, ...]:
    return ("https", "http", "file") if conf.ALLOW_FILE_REPOSITORIES else ("https", "http")


def check_remote_url(url: str) -> None:
    scheme = urlsplit(url).scheme
    if scheme not in allowed_schemes():
        raise RemoteNotAllowedError(f"repository URLs with scheme {scheme or '(none)'!r} are not allowed")


def _environment(access: RemoteAccess | None) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 - git needs a HOME; it reads and writes nothing there
        "LC_ALL": "C",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_ATTR_NOSYSTEM": "1",
        "GIT_ALLOW_PROTOCOL": ":".join(allowed_schemes()),
    }
    config = list(HARDENED_CONFIG)
    if access is not None and access.authorization:
        config.append(("http.extraHeader", access.authorization))
    env["GIT_CONFIG_COUNT"] = str(len(config))
    for index, (key, value) in enumerate(config):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def _reason(output: str) -> str:
    """What git said, kept for the user: every ``remote:`` line (a host's refusal, such as
    GitHub's GH013 rule violations, is told there), then git's own errors (its last lines when it
    flagged none), capped."""
    lines = [line.rstrip() for line in output.splitlines()]
    remote = [line for line in lines if line.startswith("remote:") and line.removeprefix("remote:").strip()]
    own = [line for line in lines if line.strip() and not line.startswith(("remote:", "Cloning into"))]
    flagged = [line for line in own if line.startswith(("fatal:", "error:", "warning:", " ! "))]
    reason = "\n".join([*remote, *(flagged or own)[-6:]])
    return reason if len(reason) <= REASON_MAX_CHARS else reason[: REASON_MAX_CHARS - 1] + "…"


def run_git(
    args: list[str],
    *,
    cwd: Path | None = None,
    access: RemoteAccess | None = None,
    timeout: float | None = None,
    watch: Callable[[], None] | None = None,
) -> str:
    """Run ``git <args>``; its stdout, or ``GitError`` with git's own (credential-free) message.

    Takes at most ``timeout`` seconds (``CODER_GIT_TIMEOUT_SECONDS``); then git and everything it
    started (transport helpers, hooks of a local remote) are killed as one process group. ``watch``,
    when given, is called every ``CLONE_SIZE_CHECK_SECONDS`` while git runs; whatever it raises
    stops git the same way and is raised.
    """
    limit = conf.GIT_TIMEOUT_SECONDS if timeout is None else timeout
    process = subprocess.Popen(  # noqa: S603 - fixed executable, no shell, arguments as a list
        ["git", *args],  # noqa: S607
        cwd=cwd,
        env=_environment(access),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",  # a repository's file names need not be UTF-8
        start_new_session=True,
    )
    try:
        stdout, stderr = _communicate(process, limit=limit, watch=watch)
    except subprocess.TimeoutExpired:
        _stop(process)
        raise GitError(f"git {args[0]} took longer than {limit:g}s and was stopped")
    except BaseException:  # the watch's verdict, a soft time limit or a cancelled worker: leave nothing running
        _stop(process)
        raise
    _kill_group(process.pid)  # git has exited; nothing it started (a detached hook) may stay
    if process.returncode != 0:
        raise GitError(f"git {args[0]} failed: {_reason(stderr or stdout)}")
    return stdout


def _communicate(process: subprocess.Popen, *, limit: float, watch: Callable[[], None] | None) -> tuple[str, str]:
    """git's output once it exits, calling ``watch`` between waits; TimeoutExpired after ``limit`` seconds."""
    if watch is None:
        return process.communicate(timeout=limit)
    deadline = time.monotonic() + limit
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise subprocess.TimeoutExpired(process.args, limit)
        try:
            # Waiting again after a timeout loses no output (subprocess keeps what it has read).
            return process.communicate(timeout=min(remaining, CLONE_SIZE_CHECK_SECONDS))
        except subprocess.TimeoutExpired:
            watch()


def _kill_group(group: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone already
        os.killpg(group, signal.SIGKILL)


def _stop(process: subprocess.Popen) -> None:
    """Kill git's process group (git leads its own session), then reap git."""
    _kill_group(process.pid)
    try:
        process.communicate(timeout=5)
    except subprocess.TimeoutExpired:  # a process in uninterruptible sleep still holds a pipe
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
        process.wait()


def clone(access: RemoteAccess, *, branch: str, destination: Path) -> None:
    """A shallow clone of ``branch`` only, taking at most ``CODER_CLONE_MAX_BYTES`` on disk and
    holding no file over ``CODER_CLONE_MAX_FILE_BYTES``; ``RepositoryTooLargeError`` otherwise.

    The objects are fetched first, without a checkout, while the clone's size is watched, so a pack
    too large is stopped as it arrives. The tree's sizes are then read before any file is written,
    so a small pack that would unfold into a huge checkout is refused without writing it; the
    checkout is watched too (a repository's attributes can re-encode its files larger). Whatever
    fails, nothing of the clone is left at ``destination`` (a new folder).
    """
    check_remote_url(access.url)
    # No template: nothing of the server's git installation (sample hooks) is copied into the clone.
    options = ["--quiet", "--depth", "1", "--single-branch", "--no-tags", "--no-recurse-submodules"]
    options += ["--no-checkout", "--template="]

    def within_cap() -> None:
        if _bytes_on_disk(destination) > conf.CLONE_MAX_BYTES:
            raise _too_large()

    created = not destination.exists()
    try:
        run_git(["clone", *options, "--branch", branch, access.url, str(destination)], access=access, watch=within_cap)
        within_cap()
        _check_tree_sizes(destination, room=conf.CLONE_MAX_BYTES - _bytes_on_disk(destination))
        run_git(["checkout", "-q", "-f", "HEAD"], cwd=destination, watch=within_cap)
        within_cap()
    except BaseException:
        if created:  # git removes what it made when it fails, but not when it is killed
            shutil.rmtree(destination, ignore_errors=True)
        raise


def _too_large() -> RepositoryTooLargeError:
    return RepositoryTooLargeError(
        f"the repository takes more than {_amount(conf.CLONE_MAX_BYTES)}, the most a task may clone"
    )


def _check_tree_sizes(repository: Path, *, room: int) -> None:
    """``RepositoryTooLargeError`` when a file of HEAD's tree is over ``CODER_CLONE_MAX_FILE_BYTES``,
    or when its files would take more than ``room`` bytes on disk once checked out."""
    needed = 0
    for entry in run_git(["ls-tree", "-r", "-l", "-z", "HEAD"], cwd=repository).split("\0"):
        meta, _, path = entry.partition("\t")
        fields = meta.split()
        if len(fields) != 4 or fields[1] != "blob":  # a submodule (commit) has no size here
            continue
        size = int(fields[3])
        if size > conf.CLONE_MAX_FILE_BYTES:
            shown = path if len(path) <= PATH_MAX_CHARS else path[: PATH_MAX_CHARS - 1] + "…"
            cap = _amount(conf.CLONE_MAX_FILE_BYTES)
            raise RepositoryTooLargeError(f"{shown} is {_amount(size)}, over the {cap} a task may clone in one file")
        needed += -(-size // DISK_BLOCK_BYTES) * DISK_BLOCK_BYTES  # whole blocks, as the disk counts
    if needed > room:
        raise _too_large()


def _bytes_on_disk(root: Path) -> int:
    """The room ``root`` and everything under it take on disk (allocated blocks, as ``du``
    counts); links are not followed, and what vanishes while it is counted counts for nothing."""
    total = 0
    pending = [str(root)]
    while pending:
        try:
            entries = os.scandir(pending.pop())
        except (FileNotFoundError, NotADirectoryError):
            continue
        with entries:
            for entry in entries:
                try:
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
                except FileNotFoundError:  # git's temporary files come and go
                    continue
    return total


def _amount(size: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{round(size / scale, 1):g} {unit}"
    return f"{size} bytes"


def remote_heads(
    access: RemoteAccess, *, names: list[str] | None = None, timeout: float | None = None
) -> list[tuple[str, str]]:
    """(branch, commit sha) of every branch of the remote, or of the branches ``names`` only."""
    check_remote_url(access.url)
    patterns = [f"refs/heads/{name}" for name in names or []]
    heads = []
    output = run_git(["ls-remote", "--heads", access.url, *patterns], access=access, timeout=timeout)
    for line in output.splitlines():
        sha, _, ref = line.partition("\t")
        if ref.startswith("refs/heads/"):
            heads.append((ref.removeprefix("refs/heads/"), sha))
    return heads


def tracked_files(repository: Path) -> list[str]:
    """The paths of the regular files in the index: no symbolic link, no submodule."""
    files = []
    for entry in run_git(["ls-files", "--stage", "-z"], cwd=repository).split("\0"):
        meta, _, path = entry.partition("\t")
        if path and meta.split(" ", 1)[0] in REGULAR_FILE_MODES:
            files.append(path)
    return files


def apply_check(repository: Path, patch: Path) -> list[str]:
    """The ``git apply`` options that apply ``patch`` cleanly; GitError when none does.

    Models often get hunk line counts wrong, so ``--recount`` is tried after the strict check.
    """
    last_error: GitError | None = None
    for options in ([], ["--recount"]):
        try:
            run_git(["apply", "--check", "--whitespace=nowarn", *options, str(patch)], cwd=repository)
            return options
        except GitError as exc:
            last_error = exc
    assert last_error is not None
    raise last_error


def apply(repository: Path, patch: Path, options: list[str]) -> None:
    run_git(["apply", "--whitespace=nowarn", *options, str(patch)], cwd=repository)


def changed_files(repository: Path) -> list[str]:
    output = run_git(["status", "--porcelain", "-z", "--untracked-files=all"], cwd=repository)
    return [entry[3:] for entry in output.split("\0") if len(entry) > 3]


def commit_all(repository: Path, *, branch: str, message: str) -> str:
    """Commit every change on a new ``branch``; the commit's sha."""
    identity = ["-c", f"user.name={conf.GIT_AUTHOR_NAME}", "-c", f"user.email={conf.GIT_AUTHOR_EMAIL}"]
    run_git(["checkout", "-q", "-b", branch], cwd=repository)
    run_git(["add", "-A"], cwd=repository)
    run_git([*identity, "commit", "-q", "--no-verify", "-m", message], cwd=repository)
    return run_git(["rev-parse", "HEAD"], cwd=repository).strip()


def push(repository: Path, access: RemoteAccess, *, branch: str) -> None:
    """Push ``branch`` to the remote, replacing an earlier run's push of the same task branch."""
    check_remote_url(access.url)
    run_git(["push", "--force", "-q", access.url, f"HEAD:refs/heads/{branch}"], cwd=repository, access=access)
