"""Fixtures of the Async Coder tests: Clerk keys, the user's account, repositories, a local git remote.

The vocabulary is the shared one (tests/conftest.py, docs/testing.md): ``user``, ``signed_in``,
``client_of(user)``, ``api_client`` (anonymous); state-named fixtures add what a test needs."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from coder import conf
from coder.models import AIModel, GitHubConnection
from core.crypto import encrypt_text
from tests.coder.factories import AIModelFactory, CoderAccountFactory, RepositoryFactory
from tests.coder.fake_github import ACCESS_TOKEN, fake_github  # noqa: F401 - fixture
from tests.coder.local_git import make_bare_repository

CLERK_ISSUER = "https://clerk.example.test"
CLERK_PARTY = "https://app.example.test"


@pytest.fixture(scope="session")
def clerk_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def clerk_public_pem(clerk_private_key) -> str:
    return (
        clerk_private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture
def clerk_configured(settings, clerk_public_pem):
    """Clerk verification with a PEM public key, an issuer and an authorized party, as in production."""
    settings.CLERK_JWT_PUBLIC_KEY = clerk_public_pem
    settings.CLERK_JWKS_URL = ""
    settings.CLERK_ISSUER = CLERK_ISSUER
    settings.CLERK_AUTHORIZED_PARTIES = [CLERK_PARTY]
    return settings


@pytest.fixture
def clerk_token(clerk_private_key):
    """Mint a Clerk session token: ``clerk_token(sub=..., email=..., **claims)``, shaped as Clerk's
    own (``azp``, ``v: 2``) with the ``email`` / ``email_verified`` custom claims."""

    def mint(
        sub: str = "user_2abc",
        email: str | None = "ada@example.com",
        key=None,
        headers=None,
        email_verified: bool = True,
        **claims,
    ) -> str:
        now = int(time.time())
        payload = {
            "sub": sub,
            "sid": "sess_1",
            "iss": CLERK_ISSUER,
            "azp": CLERK_PARTY,
            "iat": now,
            "nbf": now - 1,
            "exp": now + 300,
            "v": 2,
        }
        if email:
            payload["email"] = email
            payload["email_verified"] = email_verified
        payload.update(claims)
        return jwt.encode(payload, key or clerk_private_key, algorithm="RS256", headers=headers or {"kid": "ins_1"})

    return mint


@pytest.fixture
def coder_user(db, user):
    """A user with an Async Coder account holding 100 credits."""
    CoderAccountFactory(user=user, credits=100)
    return user


@pytest.fixture
def api_product() -> str:
    return "coder"


@pytest.fixture
def signed_in(client_of, coder_user):
    """The shared ``signed_in`` (tests/conftest.py): a client signed in as ``user``, who here is
    ``coder_user``, with the account every Async Coder request needs."""
    return client_of(coder_user)


@pytest.fixture
def ai_model(db) -> AIModel:
    """A model priced at 1 credit per 1000 tokens, capable of every task type."""
    return AIModelFactory(name="fake-model", display_name="Fake Model")


@pytest.fixture
def repository(coder_user, tmp_path, file_repositories_allowed):
    """The user's GitHub repository; git reaches it at a local bare repository (main and develop)."""
    remote = make_bare_repository(tmp_path / "github-remote", other_branches=("develop",))
    return RepositoryFactory(user=coder_user, clone_url=remote.url)


@pytest.fixture
def github_connected(coder_user):
    return GitHubConnection.objects.create(
        user=coder_user,
        github_user_id=4242,
        login="octo",
        access_token_encrypted=encrypt_text(ACCESS_TOKEN),
        scopes="repo",
    )


@pytest.fixture
def file_repositories_allowed(monkeypatch):
    monkeypatch.setattr(conf, "ALLOW_FILE_REPOSITORIES", True)


@pytest.fixture
def bare_repository(tmp_path, file_repositories_allowed):
    """A bare git repository (``main`` with two commits) reachable at a file:// URL."""
    return make_bare_repository(tmp_path / f"git-{uuid.uuid4().hex[:6]}")


@pytest.fixture
def local_repository(coder_user, bare_repository):
    """The user's repository whose remote is the local bare repository (not on GitHub)."""
    return RepositoryFactory(
        user=coder_user, github_id=None, full_name="local/demo", name="demo", clone_url=bare_repository.url, url=""
    )
