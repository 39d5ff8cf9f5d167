"""Recompute the subject of every e-mail identity with today's fold: ASCII letters only.

An e-mail identity (provider ``email``: an address typed to ask for a telemetry key) is found by
its subject, the typed address folded by ``accounts.services.email_casefold``. Before that fold
lower-cased ASCII letters only, the subject was the address through ``str.lower()``, which also
lower-cases every other letter and maps two of them onto ASCII (U+212A KELVIN SIGN to "k", U+0130 to
"i" and a combining dot). A row stored then still squats: "kevin@example.com", typed today, folds to
the subject a look-alike "\u212aevin@example.com" took, and so reaches the look-alike's user and
has its confirmation mail sent there.

Where the subject comes from. An e-mail identity never joins an existing user (its address is not
verified), so its user was created with the typed address, stripped, as ``User.email``. A row is
recomputed from that address when the address still folds, the old way, to the row's subject (it
is the address the row was made from, or one differing only in case, which folds the same today
too). Otherwise (staff changed or removed the user's address) the address the row came from is not
known and the row is left as it is: an ASCII subject is then what it was, and a non-ASCII one keeps
its letters lower-cased, which today's fold of the same address written in lower case still finds.

Collisions under the unique (provider, subject). Two rows recomputed this way cannot collide: two
addresses that fold the same today differ only in ASCII case, so they folded the same before too,
and subjects were unique. But a row made by today's code, after the fold changed and before this
migration, can already hold the subject a stale row now needs (the look-alike, typed again, got a
new user). That newer row keeps it: today's code already resolves the address to it, and moving the
address to another account now would surprise whoever holds it. The stale row is deleted: its user,
that user's API keys (they keep working) and telemetry account stay; only the address no longer
leads there. Its old subject is freed, so the real owner of the ASCII address gets a user of their
own. Should rows edited by hand still claim one subject twice, the oldest row keeps it. Subjects
move through a placeholder first (no "@", so no address's), so no update meets a value another row
is about to leave, on PostgreSQL or SQLite.

Self-contained, as Django recommends: the fold is copied here, not imported. Reversing is a no-op:
the case an address was typed in is not in its old subject, and deleted rows are not recreated.
"""

import logging
import string

from django.db import migrations

logger = logging.getLogger("accounts.migrations")

EMAIL_PROVIDER = "email"
# accounts.services.email_casefold as of this migration.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
CHUNK = 500


def _fold(address: str) -> str:
    return address.translate(_ASCII_LOWER)


def _recomputed_subjects(identity_model) -> dict[int, str]:
    """Today's subject of each e-mail identity whose stored subject differs from it, by primary key."""
    changed = {}
    rows = identity_model.objects.filter(provider=EMAIL_PROVIDER).values_list("pk", "subject", "user__email")
    for pk, subject, address in rows.order_by("pk").iterator(chunk_size=2000):
        address = (address or "").strip()
        if not address or address.lower() != subject:  # not the address this row was made from
            continue
        if _fold(address) != subject:
            changed[pk] = _fold(address)
    return changed


def _chunks(values: list) -> list[list]:
    return [values[start : start + CHUNK] for start in range(0, len(values), CHUNK)]


def _superseded(identity_model, changed: dict[int, str]) -> set[int]:
    """The changing rows that give way: their new subject is held by a row that keeps its own, or
    is claimed by an older changing row."""
    held = set()
    for subjects in _chunks(sorted(set(changed.values()))):
        kept_rows = identity_model.objects.filter(provider=EMAIL_PROVIDER, subject__in=subjects)
        held.update(kept_rows.exclude(pk__in=list(changed)).values_list("subject", flat=True))
    superseded = set()
    for pk in sorted(changed):
        if changed[pk] in held:
            superseded.add(pk)
        else:
            held.add(changed[pk])
    return superseded


def fold_email_subjects_ascii_only(apps, schema_editor) -> None:
    identity_model = apps.get_model("accounts", "Identity")
    changed = _recomputed_subjects(identity_model)
    if not changed:
        return
    superseded = _superseded(identity_model, changed)
    for pks in _chunks(sorted(superseded)):
        users = list(identity_model.objects.filter(pk__in=pks).values_list("user_id", flat=True))
        identity_model.objects.filter(pk__in=pks).delete()
        logger.warning("e-mail identities superseded by newer ones and deleted; their users stay: %s", users)
    moving = {pk: subject for pk, subject in changed.items() if pk not in superseded}
    for pk in moving:
        identity_model.objects.filter(pk=pk).update(subject=f"accounts.0003:{pk}")
    for pk, subject in moving.items():
        identity_model.objects.filter(pk=pk).update(subject=subject)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_user_email_verified_at"),
    ]

    operations = [
        migrations.RunPython(fold_email_subjects_ascii_only, migrations.RunPython.noop, elidable=True),
    ]
