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
  helper or a hook would otherwise outlive it).

Credentials never appear in a command line or a remote URL: an ``Authorization`` header is passed
through git's ``GIT_CONFIG_*`` environment (``http.extraHeader``), so it is neither written to
``.git/config`` nor visible in the process list.
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from coder import conf


class GitError(Exception):
    """A git command failed; ``message`` is safe to show (no credentials)."""


class RemoteNotAllowedError(GitError):
    """The repository's URL is one git is not allowed to reach here (its scheme): nothing was run."""


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
    args: list[str], *, cwd: Path | None = None, access: RemoteAccess | None = None, timeout: float | None = None
) -> str:
    """Run ``git <args>``; its stdout, or ``GitError`` with git's own (credential-free) message.

    Takes at most ``timeout`` seconds (``CODER_GIT_TIMEOUT_SECONDS``); then git and everything it
    started (transport helpers, hooks of a local remote) are killed as one process group.
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
        stdout, stderr = process.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        _stop(process)
        raise GitError(f"git {args[0]} took longer than {limit:g}s and was stopped")
    except BaseException:  # a soft time limit or a cancelled worker: leave nothing running
        _stop(process)
        raise
    _kill_group(process.pid)  # git has exited; nothing it started (a detached hook) may stay
    if process.returncode != 0:
        raise GitError(f"git {args[0]} failed: {_reason(stderr or stdout)}")
    return stdout


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
    """A shallow clone of ``branch`` only."""
    check_remote_url(access.url)
    options = ["--quiet", "--depth", "1", "--single-branch", "--no-tags", "--no-recurse-submodules"]
    run_git(["clone", *options, "--branch", branch, access.url, str(destination)], access=access)


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
