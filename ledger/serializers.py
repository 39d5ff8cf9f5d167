"""Input validation and output shapes of the ledger endpoints."""

from __future__ import annotations

import re

from rest_framework import serializers

from core.fields import IsoMomentField, JsonObjectField, js_timestamp
from core.pagination import OffsetQuerySerializer
from ledger.chain import canonical_json, stored_numbers
from ledger.models import LedgerObject, LedgerTransaction
from ledger.selectors import FILTER_OPERATORS, DataCondition

NAME_PATTERN = r"^[A-Za-z0-9_.:\-]+$"
# A key of the object's data a filter names: a plain field name (letters, digits and _, at most 64,
# not starting with a digit). Never "__": Django would read what follows as a lookup of its own.
FILTER_KEY = re.compile(r"^(?!.*__)[^\W\d]\w{0,63}\Z")
MAX_FILTER_CONDITIONS = 20
MAX_IN_VALUES = 100
MAX_CONTAINS_CHARACTERS = 200
BEYOND_64_BITS = "an integer from -2**63 to 2**63 - 1 (a larger number may be written as a decimal)"


# --- input --------------------------------------------------------------------------------------


# An object's status is its data's "status" text, kept in a column of its own (listed and filtered).
STATUS_MAX_LENGTH = LedgerObject._meta.get_field("status").max_length


class ChainDataField(JsonObjectField):
    """A JSON object the hash chain can write down: its canonical JSON is hashed as UTF-8, so text
    must have UTF-8 bytes (a lone surrogate, which the escape ``\\ud800`` gives, has none) and
    numbers must be finite. Numbers are kept in the form the database gives back (``stored_numbers``)."""

    default_error_messages = {
        "unhashable": "Text must be valid Unicode and numbers finite.",
        "status_too_long": "status is at most {max_length} characters (it is stored, listed and filtered whole).",
    }

    def to_internal_value(self, data):
        value = stored_numbers(super().to_internal_value(data))
        try:
            canonical_json(value)
        except (UnicodeEncodeError, ValueError):
            self.fail("unhashable")
        status = value.get("status")
        if isinstance(status, str) and len(status) > STATUS_MAX_LENGTH:
            self.fail("status_too_long", max_length=STATUS_MAX_LENGTH)
        return value


class ObjectCreateInput(serializers.Serializer):
    typeName = serializers.RegexField(NAME_PATTERN, max_length=100)
    data = ChainDataField()


def _is_scalar(value) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fits_a_comparison(value) -> bool:
    # SQLite compares data with 64-bit integers only (a larger one was an OverflowError, a 500).
    return not isinstance(value, int) or isinstance(value, bool) or -(2**63) <= value < 2**63


def _operand_problem(operator: str, operand) -> str | None:
    """What is wrong with ``operand`` for ``operator`` (None when it fits)."""
    if operator in ("eq", "ne"):
        return None if _is_scalar(operand) else "compare with a string, number, boolean or null"
    if operator in ("gt", "gte", "lt", "lte"):
        if not (_is_number(operand) or isinstance(operand, str)):
            return "compare with a number or a string"
        return None if _fits_a_comparison(operand) else BEYOND_64_BITS
    if operator == "in":
        fits = isinstance(operand, list) and 0 < len(operand) <= MAX_IN_VALUES and all(map(_is_scalar, operand))
        if not fits:
            return f"a list of 1 to {MAX_IN_VALUES} strings, numbers, booleans or nulls"
        return None if all(map(_fits_a_comparison, operand)) else BEYOND_64_BITS
    if operator == "contains":
        fits = isinstance(operand, str) and 0 < len(operand) <= MAX_CONTAINS_CHARACTERS
        return None if fits else f"a text of 1 to {MAX_CONTAINS_CHARACTERS} characters"
    return None if isinstance(operand, bool) else "true or false"  # exists


class ObjectFilterInput(serializers.Serializer):
    typeName = serializers.CharField(max_length=100, required=False)
    status = serializers.CharField(max_length=STATUS_MAX_LENGTH, required=False)
    data = JsonObjectField(
        required=False,
        help_text=(
            "Conditions on top-level fields of the object's data, all of which must hold: `{field: value}` "
            "(equal) or `{field: {operator: operand, ...}}` with the operators eq, ne, gt, gte, lt, lte, in (a "
            "list), contains (text, any case) and exists (true/false). A field is a plain name: letters, digits "
            "and _, at most 64, not starting with a digit, without `__`."
        ),
    )
    createdFrom = IsoMomentField(required=False)
    createdTo = IsoMomentField(required=False, end_of_day=True)

    def validate_data(self, value: dict) -> list[DataCondition]:
        conditions = []
        for key, item in value.items():
            if not FILTER_KEY.match(key):
                raise serializers.ValidationError(
                    f"{key!r}: a field name is letters, digits and _ (at most 64, not starting with a digit, "
                    "without '__')"
                )
            given = item.items() if isinstance(item, dict) else [("eq", item)]
            if isinstance(item, dict) and not item:
                raise serializers.ValidationError(f"{key!r}: name an operator ({', '.join(FILTER_OPERATORS)})")
            for operator, operand in given:
                if operator not in FILTER_OPERATORS:
                    raise serializers.ValidationError(
                        f"{key!r}: unknown operator {operator!r}; use one of {', '.join(FILTER_OPERATORS)}"
                    )
                problem = _operand_problem(operator, operand)
                if problem is not None:
                    raise serializers.ValidationError(f"{key!r} {operator}: {problem}")
                conditions.append(DataCondition(key=key, operator=operator, operand=operand))
        if len(conditions) > MAX_FILTER_CONDITIONS:
            raise serializers.ValidationError(f"At most {MAX_FILTER_CONDITIONS} conditions")
        return conditions


class ObjectQueryInput(OffsetQuerySerializer):
    filter = ObjectFilterInput()


class TransactionInput(serializers.Serializer):
    objectId = serializers.UUIDField()
    action = serializers.RegexField(NAME_PATTERN, max_length=64)
    data = ChainDataField(required=False, default=dict)
    metadata = serializers.DictField(
        required=False,
        help_text="Accepted for compatibility and ignored: ip and userAgent are taken from the request.",
    )


class OperationInput(serializers.Serializer):
    """The minicontratos app's tool call: ``operationType`` is the action (lowercased), ``changes``
    its data."""

    objectId = serializers.UUIDField()
    operationType = serializers.ChoiceField(choices=["CREATE", "UPDATE", "DELETE"])
    changes = ChainDataField()
    createdBy = serializers.JSONField(
        required=False, allow_null=True, help_text="Any value, ignored: the author is the signed-in user"
    )


class AggregatesQuery(serializers.Serializer):
    typeName = serializers.CharField(max_length=100, required=False)
    to = IsoMomentField(required=False, end_of_day=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = IsoMomentField(required=False)  # "from" is a Python keyword
        return fields


class TransactionsPage(OffsetQuerySerializer):
    """``limit`` (default 50) and ``offset``, by the platform's one rule (core.pagination)."""


class ObjectsListQuery(TransactionsPage):
    type = serializers.CharField(max_length=100, required=False, help_text="Only objects of this typeName")


# --- output -------------------------------------------------------------------------------------


class LedgerObjectOutput(serializers.Serializer):
    id = serializers.UUIDField()
    typeName = serializers.CharField(source="type_name")
    data = serializers.JSONField()
    status = serializers.CharField()
    createdAt = serializers.SerializerMethodField()
    updatedAt = serializers.SerializerMethodField()
    createdBy = serializers.CharField(source="owner_id")
    headHash = serializers.CharField(source="head_hash")
    transactionCount = serializers.IntegerField(source="head_sequence")

    def get_createdAt(self, obj: LedgerObject) -> str:
        return js_timestamp(obj.created_at)

    def get_updatedAt(self, obj: LedgerObject) -> str:
        return js_timestamp(obj.updated_at)


class LedgerTransactionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    objectId = serializers.UUIDField(source="ledger_object_id")
    sequence = serializers.IntegerField()
    action = serializers.CharField()
    data = serializers.JSONField()
    createdAt = serializers.SerializerMethodField()
    createdBy = serializers.CharField(source="created_by_id")
    previousHash = serializers.CharField(source="previous_hash")
    hash = serializers.CharField()

    def get_createdAt(self, obj: LedgerTransaction) -> str:
        return js_timestamp(obj.created_at)


class ObjectEnvelope(serializers.Serializer):
    object = LedgerObjectOutput()


class ObjectListOutput(serializers.Serializer):
    objects = LedgerObjectOutput(many=True)
    total = serializers.IntegerField()
    hasMore = serializers.BooleanField()


class TransactionEnvelope(serializers.Serializer):
    transaction = LedgerTransactionOutput()


class TransactionListOutput(serializers.Serializer):
    transactions = LedgerTransactionOutput(many=True)
    total = serializers.IntegerField()
    hasMore = serializers.BooleanField()


class AggregatesBody(serializers.Serializer):
    totalObjects = serializers.IntegerField()
    totalTransactions = serializers.IntegerField()
    byType = serializers.DictField(child=serializers.IntegerField())
    byStatus = serializers.DictField(child=serializers.IntegerField())


class AggregatesOutput(serializers.Serializer):
    aggregates = AggregatesBody()


class BrokenLinkOutput(serializers.Serializer):
    sequence = serializers.IntegerField()
    transactionId = serializers.UUIDField(allow_null=True, source="transaction_id")
    reason = serializers.ChoiceField(
        choices=["sequence_gap", "previous_hash_mismatch", "hash_mismatch", "head_mismatch", "state_mismatch"]
    )


class VerifyOutput(serializers.Serializer):
    objectId = serializers.UUIDField(source="object_id")
    valid = serializers.BooleanField()
    transactionCount = serializers.IntegerField(source="transaction_count")
    headHash = serializers.CharField(source="head_hash")
    firstBrokenLink = BrokenLinkOutput(source="broken", allow_null=True)
