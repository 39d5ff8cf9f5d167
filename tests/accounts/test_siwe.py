"""Sign-In with Ethereum messages are read per EIP-4361, strictly, through the marketplace's login."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from eth_account import Account
from rest_framework.test import APIClient

from accounts.identity.siwe import siwe_message_parse
from core.errors import DomainError
from tests.marketplace.conftest import sign

pytestmark = pytest.mark.django_db

LOGIN = "/marketplace/v1/auth/login"


def message_lines(address: str, *, domain: str = "localhost", nonce: str = "abcdef0123456789", chain: str = "1"):
    issued_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return [
        f"{domain} wants you to sign in with your Ethereum account:",
        address,
        "",
        "Sign in to Synthik.",
        "",
        f"URI: http://{domain.rpartition('@')[2]}/login",
        "Version: 1",
        f"Chain ID: {chain}",
        f"Nonce: {nonce}",
        f"Issued At: {issued_at}",
    ]


def login(wallet, lines: list[str], client: APIClient | None = None):
    message = "\n".join(lines)
    return (client or APIClient()).post(
        LOGIN, {"walletAddress": wallet.address, "signature": sign(wallet, message), "message": message}, format="json"
    )


@pytest.fixture
def wallet():
    return Account.create()


def test_a_well_formed_message_signs_in(wallet):
    r = login(wallet, message_lines(wallet.address))

    assert r.status_code == 200, r.json()


@pytest.mark.parametrize("domain", ["localhost:1@evil.com", "localhost@evil.com", "user:pw@localhost"])
def test_a_domain_with_user_information_is_refused(wallet, domain):
    # "localhost:1@evil.com" is the host evil.com: what the wallet shows its user is not localhost
    r = login(wallet, message_lines(wallet.address, domain=domain))

    assert r.status_code == 401, r.json()
    assert r.json()["error"]["code"] == "INVALID_SIGNATURE"


@pytest.mark.parametrize("domain", ["localhost:abc", "localhost:", "local host", "[::1"])
def test_a_domain_that_is_not_an_authority_is_refused(wallet, domain):
    assert (r := login(wallet, message_lines(wallet.address, domain=domain))).status_code == 401, r.content


def test_the_chain_must_be_one_the_server_accepts(wallet, settings):
    settings.SIWE_CHAIN_IDS = [8453]

    refused = login(wallet, message_lines(wallet.address, chain="1", nonce="chainone1"))
    accepted = login(wallet, message_lines(wallet.address, chain="8453", nonce="chainbase1"))

    assert refused.status_code == 401, refused.json()
    assert refused.json()["error"]["details"] == {"chainId": 1}
    assert accepted.status_code == 200, accepted.json()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda lines: [*lines[:8], "Nonce: zzzzzzzz9", *lines[8:]], id="repeated-nonce"),
        pytest.param(lambda lines: [*lines[:7], "Chain ID: 5", *lines[7:]], id="repeated-chain"),
        pytest.param(lambda lines: [*lines, "URI: http://evil.example/login"], id="uri-again-at-the-end"),
        pytest.param(lambda lines: [*lines[:5], lines[6], lines[5], *lines[7:]], id="out-of-order"),
        pytest.param(lambda lines: [*lines, "Color: blue"], id="unknown-field"),
        pytest.param(lambda lines: [*lines[:2], *lines[3:]], id="no-empty-line"),
        pytest.param(lambda lines: [*lines[:4], "Second statement line.", *lines[4:]], id="two-line-statement"),
        pytest.param(lambda lines: [line for line in lines if not line.startswith("Nonce")], id="missing-nonce"),
        pytest.param(lambda lines: [*lines, ""], id="trailing-newline"),
        pytest.param(lambda lines: [*lines[:6], "Version: 2", *lines[7:]], id="version-2"),
        pytest.param(lambda lines: [*lines[:5], "URI: http://[::1/login", *lines[6:]], id="broken-uri"),
        pytest.param(lambda lines: [lines[0], lines[1].lower().replace("0x", "0X"), *lines[2:]], id="bad-address"),
    ],
)
def test_a_message_that_bends_the_format_is_refused(wallet, change):
    r = login(wallet, change(message_lines(wallet.address)))

    assert r.status_code == 401, r.json()
    assert r.json()["error"]["code"] == "INVALID_SIGNATURE"


def test_a_mixed_case_address_must_be_its_eip55_checksum():
    address = Account.create().address
    wrong_case = address[:2] + "".join(c.swapcase() if c.isalpha() else c for c in address[2:])

    with pytest.raises(DomainError):
        siwe_message_parse("\n".join(message_lines(wrong_case)))
    assert siwe_message_parse("\n".join(message_lines(address.lower()))).address == address.lower()


def test_optional_fields_and_resources_are_read_in_their_order(wallet):
    lines = [
        *message_lines(wallet.address, nonce="optional1"),
        "Expiration Time: 2999-01-01T00:00:00Z",
        "Request ID: req-1",
        "Resources:",
        "- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq",
        "- https://example.com/terms",
    ]

    parsed = siwe_message_parse("\n".join(lines))
    r = login(wallet, lines)

    assert parsed.request_id == "req-1" and len(parsed.resources) == 2 and parsed.expiration_time.year == 2999
    assert r.status_code == 200, r.json()


def test_a_nonce_is_used_once_per_wallet_and_never_blocks_another_wallet(wallet):
    other = Account.create()
    lines = message_lines(wallet.address, nonce="sharednonce1")

    first = login(wallet, lines)
    replay = login(wallet, lines)
    others = login(other, message_lines(other.address, nonce="sharednonce1"))

    assert first.status_code == 200, first.json()
    assert replay.status_code == 401, replay.json()
    assert others.status_code == 200, others.json()  # refused before: nonces were global
