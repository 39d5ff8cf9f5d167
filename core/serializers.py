"""What output serializers share.

``PlannedRepresentation`` is DRF's ``Serializer.to_representation`` with the per-instance overhead
taken out: DRF walks its readable fields through a generator and reads every attribute through
``Field.get_attribute`` (a Mapping check, a callable check and an exception guard per field per
row); a page of 50 rows with nested serializers repeats that thousands of times. The mixin reads the
readable fields once per serializer instance (a ``many=True`` list shares its one child, so once per
page). A field whose source is one attribute (or key, of a Mapping) is then read with ``getattr``
(or ``get``); a key a Mapping lacks skips a field that is neither required nor nullable and has no
default, as DRF's ``get_attribute`` would (without its exception); whenever that read is not plain
otherwise (missing, or callable) the field's own ``get_attribute`` reads it instead, so defaults,
``SkipField`` and callables behave as in DRF. ``None`` (or a ``PKOnlyObject`` of ``None``) stays
``None``; anything else goes through the field's ``to_representation``. The answer is the same dict,
key for key and in the same order.

``represented`` and ``shared_instance`` take out the other per-request cost: DRF builds a
serializer's fields for every instance (a deep copy of the declared fields, which constructs each
field again). A serializer that reads no context needs them built once per process: its one shared
instance represents objects and validates bodies (``core.views.validated``); it holds no request's
state (no ``instance``, ``initial_data`` or ``context``), so threads may share it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache, partial
from typing import Any, TypeVar

from rest_framework import serializers
from rest_framework.fields import SkipField, empty
from rest_framework.relations import PKOnlyObject

_NOT_PLAIN = object()

SerializerType = TypeVar("SerializerType", bound=serializers.BaseSerializer)


@cache
def shared_instance(serializer_class: type[SerializerType]) -> SerializerType:
    """The process's one instance of ``serializer_class``, bound to nothing: its fields are built once."""
    return serializer_class()


def represented(serializer_class: type[serializers.BaseSerializer], instance: Any) -> Any:
    """``serializer_class(instance).data`` (the same dict) without building the serializer's fields
    again: for a serializer whose representation reads no context."""
    return shared_instance(serializer_class).to_representation(instance)


class PlannedRepresentation:
    """Mix into a ``serializers.Serializer`` (before it) whose output is read often, many at a time."""

    def _representation_plan(self) -> list[tuple[str, str | None, bool, Any, Any]]:
        plan = self.__dict__.get("_planned_fields")
        if plan is None:
            plan = [
                (
                    field.field_name,
                    # One attribute of the object: readable with getattr (a method field's source is "*").
                    field.source_attrs[0] if len(field.source_attrs) == 1 else None,
                    # What DRF's get_attribute does when a Mapping lacks the key: skip the field.
                    field.default is empty and not field.allow_null and not field.required,
                    field.get_attribute,
                    field.to_representation,
                )
                for field in self._readable_fields
            ]
            self.__dict__["_planned_fields"] = plan
        return plan

    def to_representation(self, instance: Any) -> dict:
        is_mapping = isinstance(instance, Mapping)
        read = instance.get if is_mapping else partial(getattr, instance)
        answer = {}
        for name, attribute_name, skipped_when_missing, get_attribute, represent in self._representation_plan():
            attribute = read(attribute_name, _NOT_PLAIN) if attribute_name else _NOT_PLAIN
            if attribute is _NOT_PLAIN and is_mapping and attribute_name and skipped_when_missing:
                continue
            if attribute is _NOT_PLAIN or callable(attribute):
                try:
                    attribute = get_attribute(instance)
                except SkipField:
                    continue
            present = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            answer[name] = None if present is None else represent(attribute)
        return answer
