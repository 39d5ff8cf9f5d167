"""Fixtures of the telemetry tests: keys on each tier, request headers, rebuilds at once."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts.services import secret_hash
from telemetry import conf
from telemetry.models import TelemetryKey, Tier
from telemetry.services.keys import api_key_issue, telemetry_keys_confirm
from tests.telemetry.factories import TeamFactory

USER_ID = "anon-abc123"


@dataclass
class IssuedKey:
    raw_key: str
    key: TelemetryKey

    @property
    def account(self):
        return self.key.account

    def headers(self, user_id: str = USER_ID) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.raw_key}", "HTTP_X_USER_ID": user_id}


@pytest.fixture(autouse=True)
def _rebuild_at_once(monkeypatch):
    """Tests see each upload published at once; the coalescing test sets its own window."""
    monkeypatch.setattr(conf, "REBUILD_DELAY_SECONDS", 0)


def issue_key(email: str, *, tier: str = Tier.FREE, team=None, confirmed: bool | None = None) -> IssuedKey:
    issued = api_key_issue(email=email)
    key = TelemetryKey.objects.select_related("account").get(api_key__key_hash=secret_hash(issued.raw_key))
    account = key.account
    if tier != Tier.FREE:
        account.tier, account.team = tier, team
        account.save()
    if confirmed if confirmed is not None else tier != Tier.FREE:
        telemetry_keys_confirm(keys=[key])
        key.refresh_from_db()
    return IssuedKey(raw_key=issued.raw_key, key=key)


@pytest.fixture
def free_key(db) -> IssuedKey:
    return issue_key("free@example.com")


@pytest.fixture
def pro_key(db) -> IssuedKey:
    return issue_key("pro@example.com", tier=Tier.PRO)


@pytest.fixture
def team(db):
    return TeamFactory(name="builders")


@pytest.fixture
def team_member_key(team) -> IssuedKey:
    return issue_key("member@example.com", tier=Tier.TEAM, team=team)


@pytest.fixture
def teammate_key(team) -> IssuedKey:
    return issue_key("teammate@example.com", tier=Tier.TEAM, team=team)
