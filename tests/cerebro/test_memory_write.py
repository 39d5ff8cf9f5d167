"""upsert, promote and delete: layers, TTLs, conflicts, encryption at rest, promotion rules."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cerebro.models import Memory
from cerebro.services.memory import memory_purge_expired
from cerebro.tasks import memory_purge_expired_task

pytestmark = pytest.mark.django_db

UPSERT = "/cerebro/api/memory/upsert"
PROMOTE = "/cerebro/api/memory/promote"
DELETE = "/cerebro/api/memory/delete"
SEARCH = "/cerebro/api/memory/search"


def test_upsert_creates_a_memory_in_the_spec_shape(signed_in):
    r = signed_in.post(
        UPSERT,
        {
            "key": "user:123:preference:theme",
            "content": {"theme": "dark"},
            "layer": "temporary",
            "confidence": 0.9,
            "sensitivity": "public",
            "tags": ["preference", "ui"],
        },
        format="json",
    )

    assert r.status_code == 200, r.json()
    memory = r.json()["memory"]
    assert {"id", "key", "content", "layer", "confidence", "createdAt"} <= set(memory)
    assert memory["content"] == {"theme": "dark"}
    assert memory["layer"] == "temporary" and memory["confidence"] == 0.9
    assert memory["tags"] == ["preference", "ui"]
    assert r["X-RateLimit-Limit"] == "100"


def test_upsert_in_the_same_layer_updates_in_place(upsert):
    first = upsert("k", {"v": 1}, layer="temporary")
    second = upsert("k", {"v": 2}, layer="temporary", confidence=0.7)

    assert second["id"] == first["id"]
    assert second["content"] == {"v": 2} and second["confidence"] == 0.7
    assert Memory.objects.count() == 1


def test_a_key_living_in_another_layer_is_409(upsert, signed_in):
    upsert("k", {"v": 1}, layer="permanent")

    r = signed_in.post(UPSERT, {"key": "k", "content": {"v": 2}, "layer": "temporary"}, format="json")

    assert r.status_code == 409, r.json()
    assert r.json()["error"] == "conflict"
    assert r.json()["details"]["existingLayer"] == "permanent"


def test_keys_are_per_user(upsert, client_of, other_user):
    upsert("shared-name", {"v": 1}, layer="permanent")

    r = client_of(other_user).post(
        UPSERT, {"key": "shared-name", "content": {"v": 2}, "layer": "temporary"}, format="json"
    )

    assert r.status_code == 200, r.json()


@pytest.mark.parametrize(
    ("layer", "ttl", "expected_minutes"),
    [
        ("context", None, 15),
        ("temporary", None, 10080),
        ("permanent", None, None),
        ("permanent", 60, 60),
        ("context", 5, 5),
    ],
)
def test_layers_have_default_ttls_that_ttl_minutes_overrides(upsert, layer, ttl, expected_minutes):
    before = timezone.now()
    fields = {"layer": layer} | ({"ttlMinutes": ttl} if ttl else {})

    memory = Memory.objects.get(pk=upsert("k", {"v": 1}, **fields)["id"])

    if expected_minutes is None:
        assert memory.expires_at is None
    else:
        assert before + timedelta(minutes=expected_minutes) <= memory.expires_at
        assert memory.expires_at <= timezone.now() + timedelta(minutes=expected_minutes)


def test_expired_memories_are_never_returned_and_the_key_is_free_again(upsert, signed_in):
    upsert("old", {"topic": "gardening"}, layer="context")
    Memory.objects.filter(key="old").update(expires_at=timezone.now() - timedelta(seconds=1))

    searched = signed_in.post(SEARCH, {"query": "gardening"}, format="json")
    deleted = signed_in.post(DELETE, {"key": "old"}, format="json")
    reused = signed_in.post(UPSERT, {"key": "old", "content": {"v": 2}, "layer": "permanent"}, format="json")

    assert searched.json()["total"] == 0
    assert deleted.status_code == 404, deleted.json()
    assert reused.status_code == 200, reused.json()


def test_the_purge_job_deletes_expired_memories_only(upsert):
    upsert("expired", {"v": 1}, layer="context")
    upsert("alive", {"v": 1}, layer="temporary")
    Memory.objects.filter(key="expired").update(expires_at=timezone.now() - timedelta(minutes=1))

    purged = memory_purge_expired_task.delay().get()

    assert purged == 1
    assert list(Memory.objects.values_list("key", flat=True)) == ["alive"]
    assert memory_purge_expired() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"key": "k" * 256, "content": {}}, "key"),
        ({"content": {}}, "key"),
        ({"key": "k", "content": ["not", "an", "object"]}, "content"),
        ({"key": "k", "content": {"big": "x" * (1024 * 1024)}}, "content"),
        ({"key": "k", "content": {}, "layer": "forever"}, "layer"),
        ({"key": "k", "content": {}, "confidence": 1.5}, "confidence"),
        ({"key": "k", "content": {}, "sensitivity": "top-secret"}, "sensitivity"),
        ({"key": "k", "content": {}, "ttlMinutes": 0}, "ttlMinutes"),
    ],
)
def test_invalid_upserts_are_400(signed_in, body, field):
    r = signed_in.post(UPSERT, body, format="json")

    assert r.status_code == 400, r.json()
    assert r.json()["error"] == "validation_error"
    assert field in r.json()["details"]


def test_content_of_exactly_the_limit_is_accepted(signed_in):
    filler = "x" * (1024 * 1024 - len('{"big":""}'))

    r = signed_in.post(UPSERT, {"key": "k", "content": {"big": filler}}, format="json")

    assert r.status_code == 200, r.json().get("message")


@pytest.mark.parametrize("sensitivity", ["secret", "pii"])
def test_secret_and_pii_content_is_encrypted_at_rest(upsert, signed_in, sensitivity):
    written = upsert(
        "user:ssn", {"ssn": "123-45-6789", "note": "zebracorn"}, layer="permanent", sensitivity=sensitivity
    )

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT content, content_encrypted, search_text, embedding FROM cerebro_memory WHERE key = %s", ["user:ssn"]
        )
        raw = " ".join(str(column) for column in cursor.fetchone())
    read_back = signed_in.post(SEARCH, {"query": "ssn"}, format="json").json()["memories"][0]

    assert "123-45-6789" not in raw and "zebracorn" not in raw
    assert written["content"] == {"ssn": "123-45-6789", "note": "zebracorn"}
    assert read_back["content"] == written["content"]
    assert signed_in.post(SEARCH, {"query": "zebracorn"}, format="json").json()["total"] == 0


def test_promote_moves_a_confident_temporary_memory_to_permanent(upsert, signed_in):
    upsert("fact", {"v": 1}, layer="temporary", confidence=0.85)

    r = signed_in.post(PROMOTE, {"key": "fact"}, format="json")

    assert r.status_code == 200, r.json()
    assert r.json()["memory"]["layer"] == "permanent"
    assert r.json()["memory"]["promotedAt"].endswith("Z")
    memory = Memory.objects.get(key="fact")
    assert memory.layer == "permanent" and memory.expires_at is None


def test_promote_below_the_confidence_floor_is_400_with_the_rule(upsert, signed_in):
    upsert("guess", {"v": 1}, layer="temporary", confidence=0.5)

    r = signed_in.post(PROMOTE, {"key": "guess"}, format="json")

    assert r.status_code == 400, r.json()
    assert r.json()["error"] == "validation_error"
    assert r.json()["details"]["minConfidence"] == 0.8
    assert "confidence 0.5" in r.json()["details"]["rules"][0]


def test_promote_of_a_context_memory_is_refused_without_force(upsert, signed_in):
    upsert("now", {"v": 1}, layer="context", confidence=1.0)

    r = signed_in.post(PROMOTE, {"key": "now"}, format="json")

    assert r.status_code == 400, r.json()


def test_force_is_for_the_admin_role_only(upsert, signed_in, staff_signed_in):
    upsert("guess", {"v": 1}, layer="temporary", confidence=0.1)
    staff_signed_in.post(UPSERT, {"key": "guess", "content": {"v": 1}, "confidence": 0.1}, format="json")

    refused = signed_in.post(PROMOTE, {"key": "guess", "force": True}, format="json")
    forced = staff_signed_in.post(PROMOTE, {"key": "guess", "force": True}, format="json")

    assert refused.status_code == 403, refused.json()
    assert refused.json()["error"] == "authorization_error"
    assert forced.status_code == 200, forced.json()


def test_promote_unknown_key_is_404(signed_in):
    r = signed_in.post(PROMOTE, {"key": "nothing"}, format="json")

    assert r.status_code == 404, r.json()
    assert r.json()["error"] == "not_found"


def test_merge_deep_merges_into_the_permanent_target_and_removes_the_source(upsert, signed_in):
    upsert("profile", {"name": "Ana", "prefs": {"theme": "light", "lang": "pt"}}, layer="permanent", tags=["a"])
    upsert(
        "profile-update", {"prefs": {"theme": "dark"}, "city": "Lisbon"}, layer="temporary", confidence=0.9, tags=["b"]
    )

    r = signed_in.post(PROMOTE, {"key": "profile-update", "merge": True, "targetKey": "profile"}, format="json")

    assert r.status_code == 200, r.json()
    assert r.json()["memory"]["key"] == "profile" and r.json()["memory"]["mergedFrom"] == "profile-update"
    merged = Memory.objects.get(key="profile")
    assert merged.content == {"name": "Ana", "prefs": {"theme": "dark", "lang": "pt"}, "city": "Lisbon"}
    assert merged.tags == ["a", "b"] and merged.confidence == 0.9
    assert not Memory.objects.filter(key="profile-update").exists()


@pytest.mark.parametrize(
    ("target", "source", "named"),
    [
        (({"a": "x" * 700_000}, ["t"]), ({"b": "y" * 700_000}, ["t"]), "content"),
        (({"a": 1}, [f"a{i}" for i in range(20)]), ({"b": 1}, [f"b{i}" for i in range(20)]), "tags"),
    ],
)
def test_a_merge_past_one_memorys_limits_is_400_and_changes_nothing(upsert, signed_in, target, source, named):
    # each within the limits alone (1 MB, 32 tags), over them together
    upsert("whole", target[0], layer="permanent", tags=target[1])
    upsert("part", source[0], layer="temporary", confidence=0.9, tags=source[1])

    r = signed_in.post(PROMOTE, {"key": "part", "merge": True, "targetKey": "whole"}, format="json")

    assert r.status_code == 400, r.json()
    assert named in str(r.json())
    assert Memory.objects.get(key="whole").tags == target[1]
    assert Memory.objects.filter(key="part").exists()


def test_merge_without_a_target_is_400(upsert, signed_in):
    upsert("x", {"v": 1}, confidence=0.9)

    r = signed_in.post(PROMOTE, {"key": "x", "merge": True}, format="json")

    assert r.status_code == 400, r.json()


def test_delete_by_key_or_id(upsert, signed_in):
    by_key = upsert("a", {"v": 1})
    by_id = upsert("b", {"v": 1})

    r1 = signed_in.post(DELETE, {"key": "a"}, format="json")
    r2 = signed_in.post(DELETE, {"id": by_id["id"]}, format="json")

    assert r1.status_code == 200, r1.json()
    assert r1.json() == {"deleted": True, "key": "a", "id": by_key["id"]}
    assert r2.json()["key"] == "b"
    assert Memory.objects.count() == 0


def test_delete_of_another_users_memory_is_404(upsert, client_of, other_user):
    memory = upsert("mine", {"v": 1})

    r = client_of(other_user).post(DELETE, {"id": memory["id"]}, format="json")

    assert r.status_code == 404, r.json()
    assert Memory.objects.filter(pk=memory["id"]).exists()


def test_delete_needs_exactly_one_of_key_and_id(signed_in):
    r = signed_in.post(DELETE, {}, format="json")

    assert r.status_code == 400, r.json()


def test_an_update_that_leaves_fields_out_keeps_them_so_a_secret_stays_secret(signed_in, upsert):
    # given: a secret memory, as the spec's SDK example then updates it (without sensitivity)
    upsert("user:pw", {"password": "hunter2"}, sensitivity="secret", confidence=0.9, tags=["vault"])
    # when
    updated = upsert("user:pw", {"password": "hunter3"})
    # then: still secret (stored encrypted, kept out of working sets), its confidence and tags kept
    memory = Memory.objects.get(key="user:pw")
    assert (memory.sensitivity, memory.confidence, memory.tags, memory.layer) == ("secret", 0.9, ["vault"], "temporary")
    assert memory.content_encrypted and memory.content is None
    assert updated["confidence"] == 0.9
    context = signed_in.post("/cerebro/api/memory/context", {}, format="json")
    assert context.status_code == 200, context.json()
    assert "hunter3" not in context.content.decode()


def test_an_update_that_names_the_fields_changes_them_and_a_create_takes_the_defaults(upsert):
    upsert("user:note", {"n": 1}, layer="permanent", sensitivity="secret", tags=["a"])
    upsert("user:note", {"n": 2}, sensitivity="public", confidence=0.2, tags=[])
    upsert("user:fresh", {"n": 1})

    note, fresh = Memory.objects.get(key="user:note"), Memory.objects.get(key="user:fresh")
    assert (note.layer, note.sensitivity, note.confidence, note.tags) == ("permanent", "public", 0.2, [])
    assert (fresh.layer, fresh.sensitivity, fresh.confidence, fresh.tags) == ("temporary", "public", 0.5, [])
