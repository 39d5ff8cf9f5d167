"""Fixtures for the minicontratos API: signed-in clients (bearer or a real NextAuth v4 cookie)."""

from __future__ import annotations

import time

import pytest

from accounts.identity.nextauth import encode_session_token
from cerebro import metrics
from cerebro.models import Memory
from cerebro.retrieval import cache as two_level_cache
from cerebro.retrieval import memory_sql
from tests.cerebro.factories import MemoryFactory
from tests.cerebro.live_server import asgi_server  # noqa: F401  (a fixture for the SSE tests)

NEXTAUTH_SECRET = "test-nextauth-secret-0123456789abcdef"


@pytest.fixture(autouse=True)
def _fresh_cerebro_state(settings):
    """The in-process cache level, metrics and lexeme statistics outlive a test otherwise."""
    settings.NEXTAUTH_SECRET = NEXTAUTH_SECRET
    two_level_cache.l1.clear()
    metrics.reset()
    memory_sql.forget_lexeme_shares()
    yield
    two_level_cache.l1.clear()
    metrics.reset()
    memory_sql.forget_lexeme_shares()


def nextauth_cookie(claims: dict, *, secret: str = NEXTAUTH_SECRET) -> str:
    """A session token exactly as NextAuth v4 writes it."""
    now = int(time.time())
    return encode_session_token({"iat": now, "exp": now + 3600, "jti": "test", **claims}, secret)


@pytest.fixture
def api_product() -> str:
    """``client_of``, ``signed_in`` and ``staff_signed_in`` (tests/conftest.py) sign in to cerebro."""
    return "cerebro"


@pytest.fixture
def remember(user):
    """Store a memory of ``user`` as the upsert endpoint would (``MemoryFactory``): the setup of a
    test whose subject is reading memories."""

    def write(key: str, content: dict, **fields) -> Memory:
        return MemoryFactory(user=user, key=key, content=content, **fields)

    return write


@pytest.fixture
def upsert(signed_in):
    """Write a memory through the API and return its JSON."""

    def write(key: str, content: dict, **fields) -> dict:
        r = signed_in.post("/cerebro/api/memory/upsert", {"key": key, "content": content, **fields}, format="json")
        assert r.status_code == 200, r.json()
        return r.json()["memory"]

    return write
