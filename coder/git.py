"""The git commands a task run needs, run as subprocesses with no shell and bounded time.

Credentials never appear in a command line or a remote URL: an ``Authorization`` header is passed
through git's ``GIT_CONFIG_*`` environment (``http.extraHeader``), so it is neither written to
``.git/config`` nor visible in the process list. Only http(s) remotes are allowed, plus ``file``
when ``CODER_ALLOW_FILE_REPOSITORIES`` says so; ``ext::`` and other transports are refused by git
itself (``GIT_ALLOW_PROTOCOL``).
"""

from __future__ import annotations

import base64
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from coder import conf


class GitError(Exception):
    """A git command failed; ``message`` is safe to show (no credentials)."""


@dataclass(frozen=True)
class RemoteAccess:
    """Where to reach a repository and the header (if any) that authorises it."""

    url: str
    authorization: str | None = None

    @classmethod
    def with_github_token(cls, url: str, token: str) -> RemoteAccess:
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        return cls(url=url, authorization=f"Authorization: Basic {basic}")


def allowed_schemes() -> tuple[str, ...]:
    return ("https", "http", "file") if conf.ALLOW_FILE_REPOSITORIES else ("https", "http")


def check_remote_url(url: str) -> None:
    scheme = urlsplit(url).scheme
    if scheme not in allowed_schemes():
        raise GitError(f"repository URLs with scheme {scheme or '(none)'!r} are not allowed")


def _environment(access: RemoteAccess | None) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 - git needs a HOME; it writes nothing there
        "LC_ALL": "C",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_ALLOW_PROTOCOL": ":".join(allowed_schemes()),
    }
    if access is not None and access.authorization:
        env.update(GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="http.extraHeader", GIT_CONFIG_VALUE_0=access.authorization)
    return env


def run_git(args: list[str], *, cwd: Path | None = None, access: RemoteAccess | None = None) -> str:
    """Run ``git <args>``; its stdout, or ``GitError`` with git's own (credential-free) message."""
    try:
        completed = subprocess.run(  # noqa: S603 - fixed executable, no shell, arguments as a list
            ["git", *args],  # noqa: S607
            cwd=cwd,
            env=_environment(access),
            capture_output=True,
            text=True,
            timeout=conf.GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} took longer than {conf.GIT_TIMEOUT_SECONDS}s")
    if completed.returncode != 0:
        message = (completed.stderr or completed.stdout).strip().splitlines()
        raise GitError(f"git {args[0]} failed: {' '.join(message[-3:])[:500]}")
    return completed.stdout


def clone(access: RemoteAccess, *, branch: str, destination: Path) -> None:
    """A shallow clone of ``branch`` only."""
    check_remote_url(access.url)
    run_git(
        ["clone", "--depth", "1", "--single-branch", "--branch", branch, "--no-tags", access.url, str(destination)],
        access=access,
    )


def remote_heads(access: RemoteAccess) -> list[tuple[str, str]]:
    """(branch, commit sha) of every branch of the remote."""
    check_remote_url(access.url)
    heads = []
    for line in run_git(["ls-remote", "--heads", access.url], access=access).splitlines():
        sha, _, ref = line.partition("\t")
        if ref.startswith("refs/heads/"):
            heads.append((ref.removeprefix("refs/heads/"), sha))
    return heads


def tracked_files(repository: Path) -> list[str]:
    return [path for path in run_git(["ls-files", "-z"], cwd=repository).split("\0") if path]


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
