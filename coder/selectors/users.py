"""The signed-in user's profile as the API shows it: user, credit account and GitHub connection."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import User
from coder.models import CoderAccount, GitHubConnection


@dataclass(frozen=True)
class CoderProfile:
    user: User
    account: CoderAccount
    github: GitHubConnection | None

    @property
    def is_github_connected(self) -> bool:
        return self.github is not None


def coder_profile(*, user: User, account: CoderAccount | None = None) -> CoderProfile:
    account = account or CoderAccount.objects.get(user=user)
    github = GitHubConnection.objects.filter(user=user).only("user_id", "login").first()
    return CoderProfile(user=user, account=account, github=github)
