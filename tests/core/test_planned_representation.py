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
