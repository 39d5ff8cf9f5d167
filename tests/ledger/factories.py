"""Ledger state for tests, written through the services so every chain is a valid hash chain."""

from __future__ import annotations

import factory

from ledger.models import LedgerObject, LedgerTransaction
from ledger.services import RequestOrigin, ledger_object_create, ledger_transaction_append
from tests.factories import UserFactory

TEST_ORIGIN = RequestOrigin(ip="192.0.2.1", user_agent="tests")


class LedgerObjectFactory(factory.django.DjangoModelFactory):
    """An object whose chain starts with its ``create`` transaction carrying ``data``."""

    class Meta:
        model = LedgerObject

    owner = factory.SubFactory(UserFactory)
    type_name = "contract"
    data = factory.Dict({"title": "Service Agreement"})

    @classmethod
    def _create(cls, model_class, *, owner, type_name, data, **_ignored):
        return ledger_object_create(user=owner, type_name=type_name, data=data, origin=TEST_ORIGIN)


class LedgerTransactionFactory(factory.django.DjangoModelFactory):
    """A transaction appended to the head of its object's chain (by the object's owner)."""

    class Meta:
        model = LedgerTransaction

    ledger_object = factory.SubFactory(LedgerObjectFactory)
    action = "note"
    data = factory.Dict({})

    @classmethod
    def _create(cls, model_class, *, ledger_object, action, data, **_ignored):
        owner = ledger_object.owner
        return ledger_transaction_append(
            user=owner, object_id=ledger_object.pk, action=action, data=data, origin=TEST_ORIGIN
        )
