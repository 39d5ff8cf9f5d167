"""accounts' data migrations, run for real: the database is taken back to the migration before,
given rows as the code of that time stored them, and migrated forward."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts import services
from accounts.models import Identity, User

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_THE_FOLD = ("accounts", "0002_user_email_verified_at")
THE_FOLD = ("accounts", "0003_email_identity_subjects_fold_ascii_only")
KELVIN = "\u212a"  # KELVIN SIGN: str.lower() made it an ASCII "k"


def migrate(target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([target])


@pytest.fixture
def before_the_fold():
    """The historical models of accounts just before the fold migration; the database is back at
    the latest migrations afterwards, whatever the test did."""
    migrate(BEFORE_THE_FOLD)
    yield MigrationExecutor(connection).loader.project_state([BEFORE_THE_FOLD]).apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def typed_the_old_way(apps, address: str, *, subject: str | None = None):
    """An e-mail identity as user_get_or_create_for_email stored it before the fold: a new user
    with the typed address, and the address through str.lower() as the subject."""
    user_model = apps.get_model("accounts", "User")
    identity_model = apps.get_model("accounts", "Identity")
    user = user_model.objects.create(username=f"user-{user_model.objects.count()}", email=address)
    identity_model.objects.create(user=user, provider="email", subject=address.lower() if subject is None else subject)
    return user


def subject_of(user_pk) -> str:
    return Identity.objects.get(user_id=user_pk, provider="email").subject


def test_subjects_stored_the_old_way_are_folded_again_with_ascii_letters_only(before_the_fold):
    # Given e-mail identities stored before the fold: a look-alike of kevin@ (KELVIN SIGN), an
    # address with a non-ASCII capital, a plain ASCII one, one whose user's address staff changed
    # since, and a Clerk identity whose subject is not an address
    squatter = typed_the_old_way(before_the_fold, f"{KELVIN}evin@example.com")
    jose = typed_the_old_way(before_the_fold, "JOS\u00c9@example.com")
    ada = typed_the_old_way(before_the_fold, "Ada@Example.com")
    changed = typed_the_old_way(before_the_fold, "other@example.com", subject="\u00e9lodie@example.com")
    clerk_user = before_the_fold.get_model("accounts", "User").objects.create(username="clerk")
    before_the_fold.get_model("accounts", "Identity").objects.create(
        user=clerk_user, provider="clerk", subject="user_2ABC"
    )

    # When the fold migration runs
    migrate(THE_FOLD)

    # Then each subject is the address folded today, or is left when its address is not known
    assert subject_of(squatter.pk) == f"{KELVIN}evin@example.com"
    assert subject_of(jose.pk) == "jos\u00c9@example.com"
    assert subject_of(ada.pk) == "ada@example.com"
    assert subject_of(changed.pk) == "\u00e9lodie@example.com"
    assert Identity.objects.get(user_id=clerk_user.pk).subject == "user_2ABC"
    # and today's code finds each address's own user: kevin@ is nobody's yet
    assert services.user_get_or_create_for_email(email=f"{KELVIN}EVIN@example.com") == (
        User.objects.get(pk=squatter.pk),
        False,
    )
    assert services.user_get_or_create_for_email(email="JOS\u00c9@EXAMPLE.COM")[0].pk == jose.pk
    kevin, created = services.user_get_or_create_for_email(email="kevin@example.com")
    assert created and kevin.pk != squatter.pk


def test_a_row_made_since_the_fold_keeps_its_address_and_the_stale_row_gives_way(before_the_fold):
    # Given the look-alike stored the old way (subject "kevin@example.com"), and the same look-alike
    # typed again after the fold changed, which made a user of its own under today's subject
    stale = typed_the_old_way(before_the_fold, f"{KELVIN}evin@example.com")
    newer = typed_the_old_way(before_the_fold, f"{KELVIN}evin@example.com", subject=f"{KELVIN}evin@example.com")

    # When the fold migration runs
    migrate(THE_FOLD)

    # Then it does not fail on the unique subject: the newer row keeps the address, the stale row is
    # gone while its user stays, and kevin@ is free for its owner
    assert subject_of(newer.pk) == f"{KELVIN}evin@example.com"
    assert not Identity.objects.filter(user_id=stale.pk).exists()
    assert User.objects.filter(pk=stale.pk).exists()
    kevin, created = services.user_get_or_create_for_email(email="kevin@example.com")
    assert created and kevin.pk not in (stale.pk, newer.pk)
