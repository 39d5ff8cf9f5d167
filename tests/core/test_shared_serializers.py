"""core.serializers.shared_instance/represented and core.views.validated: one serializer instance per
class answers exactly what a new instance per request does, valid or not, on any thread."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.http import QueryDict
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from core.serializers import represented, shared_instance
from core.views import validated


class Tag(serializers.Serializer):
    name = serializers.RegexField(r"^[a-z]+$", max_length=10)


class Body(serializers.Serializer):
    title = serializers.CharField(max_length=20)
    count = serializers.IntegerField(min_value=0, default=1)
    kind = serializers.ChoiceField(choices=["a", "b"], required=False)
    tags = Tag(many=True, required=False)
    flag = serializers.BooleanField(default=False)

    def validate(self, attrs):
        if attrs.get("kind") == "b" and attrs["count"] > 5:
            raise serializers.ValidationError("kind b holds at most 5")
        return attrs


def is_valid_answer(data):
    """What a new instance per request gives: its validated data, or the detail of its error."""
    serializer = Body(data=data)
    try:
        serializer.is_valid(raise_exception=True)
    except ValidationError as error:
        return "error", error.detail
    return "valid", serializer.validated_data


def validated_answer(data):
    try:
        return "valid", validated(Body, data)
    except ValidationError as error:
        return "error", error.detail


BODIES = [
    {"title": "one"},
    {"title": "two", "count": 3, "kind": "a", "tags": [{"name": "x"}, {"name": "yz"}], "flag": True},
    {"title": "t", "count": "7"},
    {},
    {"title": "x" * 21},
    {"title": "t", "count": -1, "kind": "c"},
    {"title": "t", "kind": "b", "count": 6},
    {"title": "t", "tags": [{"name": "UPPER"}, {}]},
    {"title": "t", "tags": "not a list"},
    [],
    "a string",
    None,
]


@pytest.mark.parametrize("data", BODIES, ids=range(len(BODIES)))
def test_validated_answers_what_a_new_instance_answers(data):
    assert validated_answer(data) == is_valid_answer(data)


def test_an_empty_query_dict_is_validated_as_an_empty_body():
    assert validated_answer(QueryDict()) == is_valid_answer({})


def test_a_query_dict_with_values_is_validated_as_a_form():
    data = QueryDict("title=q&count=4&flag=true")
    assert validated_answer(data) == is_valid_answer(data)


def test_valid_data_is_checked_by_the_one_shared_instance_whose_fields_are_built_once(monkeypatch):
    shared = shared_instance(Body)
    assert shared_instance(Body) is shared
    fields_before = shared.fields
    built = []
    original_init = serializers.CharField.__init__

    def counting_init(self, *args, **kwargs):
        built.append(self)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(serializers.CharField, "__init__", counting_init)
    for n in range(20):
        validated(Body, {"title": f"t{n}"})
    assert built == [], f"{len(built)} fields were built again for valid bodies"
    assert shared.fields is fields_before


def test_threads_sharing_the_instance_each_get_their_own_answer():
    bodies = [{"title": f"t{n}", "count": n, "tags": [{"name": "abc"[: n % 3 + 1]}]} for n in range(200)]
    bodies += [{"title": "t", "count": -n - 1} for n in range(50)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(validated_answer, bodies))
    assert answers == [is_valid_answer(body) for body in bodies]


class Thing:
    def __init__(self, title, count):
        self.title = title
        self.count = count


class ThingOutput(serializers.Serializer):
    title = serializers.CharField()
    count = serializers.IntegerField()
    label = serializers.SerializerMethodField()

    def get_label(self, thing):
        return f"{thing.title}:{thing.count}"


def test_represented_is_the_data_of_a_new_instance():
    for thing in (Thing("a", 1), Thing("b", 0), Thing("", -3)):
        assert represented(ThingOutput, thing) == ThingOutput(thing).data
