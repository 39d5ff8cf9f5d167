"""core.serializers.PlannedRepresentation answers exactly what DRF's own to_representation does."""

from rest_framework import serializers

from core.serializers import PlannedRepresentation


class Owner:
    def __init__(self, name):
        self.name = name


class Row:
    def __init__(self, **attributes):
        self.__dict__.update(attributes)

    def shouting(self):
        return self.title.upper()


class OwnerOutput(serializers.Serializer):
    name = serializers.CharField()


class ConstraintsOutput(serializers.Serializer):
    min = serializers.FloatField(required=False)
    pattern = serializers.CharField(required=False)


def output_class(*bases):
    class RowOutput(*bases):
        title = serializers.CharField()
        loud = serializers.CharField(source="shouting")  # a method: DRF calls it
        owner = OwnerOutput(allow_null=True)
        owner_name = serializers.CharField(source="owner.name", default="nobody")
        missing = serializers.CharField(required=False)  # absent: the key is left out
        fallback = serializers.CharField(default="the default")  # absent: its default
        constraints = ConstraintsOutput(many=True)  # a list of Mappings with optional keys
        created = serializers.DateTimeField()
        computed = serializers.SerializerMethodField()

        def get_computed(self, row) -> int:
            return len(row.title)

    return RowOutput


def test_the_planned_answer_equals_drfs_key_for_key_and_in_order():
    from datetime import UTC, datetime

    rows = [
        Row(
            title="a row",
            owner=Owner("ann"),
            constraints=[{"min": 1}, {"pattern": "^x$"}, {}],
            created=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        ),
        Row(title="orphan", owner=None, constraints=[], created=datetime(2026, 1, 2, tzinfo=UTC)),
    ]
    drf = output_class(serializers.Serializer)(rows, many=True).data
    planned = output_class(PlannedRepresentation, serializers.Serializer)(rows, many=True).data

    assert [list(row.items()) for row in planned] == [list(row.items()) for row in drf]
    assert "missing" not in planned[0] and planned[0]["fallback"] == "the default"
    assert planned[1]["owner"] is None and planned[1]["owner_name"] == "nobody"
    assert planned[0]["loud"] == "A ROW"


class MappingOutput(serializers.Serializer):
    name = serializers.CharField()
    optional = serializers.CharField(required=False)  # absent: left out
    nullable = serializers.CharField(required=False, allow_null=True)  # absent: None
    defaulted = serializers.CharField(default="the default")  # absent: its default


def test_a_mappings_missing_keys_answer_as_drf_and_an_optional_one_is_skipped_without_get_attribute():
    from unittest import mock

    rows = [{"name": "full", "optional": "o", "nullable": "n", "defaulted": "d"}, {"name": "bare"}]
    drf = MappingOutput(rows, many=True).data

    class PlannedMappingOutput(PlannedRepresentation, MappingOutput):
        pass

    optional_field = PlannedMappingOutput().fields["optional"]
    with mock.patch.object(
        type(optional_field), "get_attribute", autospec=True, side_effect=serializers.CharField.get_attribute
    ) as reads:
        planned = PlannedMappingOutput(rows, many=True).data

    assert [list(row.items()) for row in planned] == [list(row.items()) for row in drf]
    assert planned[1] == {"name": "bare", "nullable": None, "defaulted": "the default"}
    # Only the nullable and the defaulted fields of the bare row needed DRF's own read
    assert [call.args[0].field_name for call in reads.call_args_list] == ["nullable", "defaulted"]
