"""Connecting a GitHub account, and syncing the repositories and branches it can reach."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from coder import conf, git
from coder.errors import GITHUB_NOT_CONNECTED
from coder.github import GitHubClient, exchange_oauth_code, web_host
from coder.models import GitHubConnection, Repository
from coder.server_paths import without_server_paths
from core import errors
from core.crypto import DecryptionError, decrypt_text, encrypt_text


def github_connect(*, user: User, code: str, state: str | None = None, redirect_uri: str | None = None) -> dict:
    """Exchange an OAuth code, fetch the GitHub user, and store the token encrypted at rest.

    Connecting again replaces the previous connection. Returns GitHub's user document.
    """
    grant = exchange_oauth_code(code=code, state=state, redirect_uri=redirect_uri)
    with GitHubClient(grant.access_token) as client:
        github_user = client.user()
    GitHubConnection.objects.update_or_create(
        user=user,
        defaults={
            "github_user_id": int(github_user["id"]),
            "login": str(github_user.get("login", ""))[:100],
            "name": str(github_user.get("name") or "")[:255],
            "avatar_url": str(github_user.get("avatar_url") or "")[:500],
            "access_token_encrypted": encrypt_text(grant.access_token),
            "scopes": grant.scopes[:255],
        },
    )
    return github_user


def github_token_for(*, user_id) -> str | None:
    """The user's GitHub token in clear, or None when GitHub is not connected."""
    encrypted = (
        GitHubConnection.objects.filter(user_id=user_id).values_list("access_token_encrypted", flat=True).first()
    )
    if not encrypted:
        return None
    try:
        return decrypt_text(encrypted)
    except DecryptionError:
        # The encryption key changed without rotation: the stored token is lost, so reconnecting is needed.
        return None


def _require_token(user: User) -> str:
    token = github_token_for(user_id=user.pk)
    if token is None:
        raise GITHUB_NOT_CONNECTED()
    return token


@dataclass(frozen=True)
class SyncOutcome:
    synced: int
    added: int
    updated: int
    deactivated: int


_SYNCED_FIELDS = ("name", "full_name", "description", "is_private", "default_branch", "language", "url", "clone_url")


def _fields_from_github(document: dict) -> dict:
    return {
        "name": str(document.get("name", ""))[:255],
        "full_name": str(document.get("full_name", ""))[:255],
        "description": document.get("description") or "",
        "is_private": bool(document.get("private")),
        "default_branch": str(document.get("default_branch") or "main")[:255],
        "language": str(document.get("language") or "")[:100],
        "url": str(document.get("html_url") or "")[:500],
        "clone_url": str(document.get("clone_url") or "")[:500],
    }


def repositories_sync(*, user: User, force: bool = False) -> SyncOutcome:
    """Bring the user's repositories in line with GitHub (every page).

    New repositories are added, changed ones updated, and ones GitHub no longer lists are marked
    inactive (their tasks stay). ``force`` also rewrites rows that did not change. Safe to run
    twice at once for the same user: each repository is added once, and counted by the sync that
    added it.
    """
    token = _require_token(user)
    with GitHubClient(token) as client:
        documents = client.repositories()
    now = timezone.now()
    seen: set[int] = set()
    added = updated = 0
    with transaction.atomic():
        existing = {repo.github_id: repo for repo in Repository.objects.filter(user=user, github_id__isnull=False)}
        to_create = []
        for document in documents:
            github_id = int(document["id"])
            if github_id in seen:
                continue
            seen.add(github_id)
            fields = _fields_from_github(document)
            repository = existing.get(github_id)
            if repository is None:
                to_create.append(Repository(user=user, github_id=github_id, synced_at=now, **fields))
                continue
            changed = (
                force
                or not repository.is_active
                or any(getattr(repository, name) != fields[name] for name in _SYNCED_FIELDS)
            )
            if changed:
                for name, value in fields.items():
                    setattr(repository, name, value)
                repository.is_active = True
                repository.synced_at = now
                repository.save()
                updated += 1
        # A concurrent sync of the same user (a double click) may have committed some of these rows
        # since ``existing`` was read: they are skipped, and only the rows inserted here (their ids
        # are made here) count as added.
        Repository.objects.bulk_create(to_create, ignore_conflicts=True)
        added = Repository.objects.filter(pk__in=[repository.pk for repository in to_create]).count()
        gone = [repo.pk for github_id, repo in existing.items() if github_id not in seen and repo.is_active]
        Repository.objects.filter(pk__in=gone).update(is_active=False, updated_at=now)
        Repository.objects.filter(user=user, github_id__in=seen).update(synced_at=now)
    return SyncOutcome(synced=len(seen), added=added, updated=updated, deactivated=len(gone))


def repository_remote_access(*, repository: Repository) -> git.RemoteAccess:
    """How git reaches the repository: with the owner's GitHub token when it lives on GitHub."""
    url = repository.clone_url
    host = _host_of(url)
    if host and host == web_host():
        token = github_token_for(user_id=repository.user_id)
        if token is not None:
            return git.RemoteAccess.with_github_token(url, token)
    return git.RemoteAccess(url=url)


def repository_missing_branches(*, repository: Repository, names: list[str]) -> list[str]:
    """Those of ``names`` that are not branches of the repository, asked of its remote the way a
    run will clone it (``git ls-remote``, with the owner's token for GitHub). 502 when the remote
    cannot be reached, with git's reason (no server path in it)."""
    wanted = sorted(set(names))
    try:
        heads = git.remote_heads(
            repository_remote_access(repository=repository), names=wanted, timeout=conf.BRANCH_CHECK_TIMEOUT_SECONDS
        )
    except git.RemoteNotAllowedError as exc:
        raise _remote_not_allowed(repository, exc)
    except git.GitError as exc:
        raise errors.BAD_GATEWAY(f"The repository could not be reached: {without_server_paths(str(exc))}")
    found = {name for name, _ in heads}
    return [name for name in wanted if name not in found]


def _remote_not_allowed(repository: Repository, refusal: git.RemoteNotAllowedError) -> errors.DomainError:
    """A 400, not a 502: no remote was asked, this server refuses the repository's own URL."""
    return errors.VALIDATION(
        f"{repository.full_name or 'This repository'} cannot be reached from here: {refusal}",
        details={"repositoryId": [str(refusal)]},
    )


def _host_of(url: str) -> str:
    return urlsplit(url).hostname or ""


def repository_branches(*, repository: Repository) -> list[dict]:
    """The repository's branches as ``{name, commit: {sha, url}, protected}``.

    From GitHub's API for GitHub repositories; from the remote itself (``git ls-remote``) for
    repositories registered with a plain git URL.
    """
    if repository.github_id is not None:
        token = _require_token(repository.user)
        with GitHubClient(token) as client:
            branches = client.branches(repository.full_name)
        return [
            {
                "name": branch.get("name", ""),
                "commit": {
                    "sha": (branch.get("commit") or {}).get("sha", ""),
                    "url": (branch.get("commit") or {}).get("url", ""),
                },
                "protected": bool(branch.get("protected")),
            }
            for branch in branches
        ]
    try:
        heads = git.remote_heads(repository_remote_access(repository=repository))
    except git.RemoteNotAllowedError as exc:
        raise _remote_not_allowed(repository, exc)
    except git.GitError:
        raise errors.BAD_GATEWAY("The repository could not be reached")
    return [{"name": name, "commit": {"sha": sha, "url": ""}, "protected": False} for name, sha in sorted(heads)]
