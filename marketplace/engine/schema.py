"""The schema of a dataset: which field types exist and which constraints make sense for each.

A schema is a list of fields ``{id, name, type, description, constraints}``. The field types are
the ones below (docs/marketplace.md lists them for clients); the generation engine produces values
for each. ``schema_validate`` returns the schema in its stored form or raises one validation error
listing every problem by field position.
"""

from __future__ import annotations

import uuid
from typing import Any

from core import errors
from marketplace.engine.linear_regex import UnsupportedPatternError, linear_pattern_compile

NUMERIC_TYPES = frozenset({"integer", "float", "number"})
TEXT_TYPES = frozenset({"string", "text", "email", "url", "phone", "name", "address"})
FIELD_TYPES = frozenset({*NUMERIC_TYPES, *TEXT_TYPES, "boolean", "date", "datetime", "uuid", "enum", "json"})
# min/max bound the value of numeric fields and the length of text fields.
BOUNDED_TYPES = NUMERIC_TYPES | TEXT_TYPES
PATTERN_TYPES = TEXT_TYPES
CONSTRAINT_KEYS = frozenset({"required", "unique", "min", "max", "pattern", "enum"})
MAX_FIELDS = 200
MAX_NAME_LENGTH = 100
MAX_ENUM_VALUES = 1000
# A text field is generated at most this long (a length of 10**9 made the engine allocate rows x
# length up front: one preview took the server's memory).
MAX_TEXT_LENGTH = 5000
# ... and the text fields of a row at most this long together (rows are generated 10,000 at a time).
MAX_TEXT_PER_ROW = 20_000
# Float bounds a grid of 10**-decimals steps can cover without overflowing (1e308 was an
# OverflowError, a 500).
MAX_FLOAT_BOUND = 1e15


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _bound_problems(constraints: dict, field_type: str | None) -> list[str]:
    problems: list[str] = []
    low, high = constraints.get("min"), constraints.get("max")
    for key, value in (("min", low), ("max", high)):
        if value is None:
            continue
        if not _is_number(value):
            problems.append(f"constraints.{key}: must be a number")
        elif field_type in FIELD_TYPES and field_type not in BOUNDED_TYPES:
            problems.append(f"constraints.{key}: does not apply to {field_type} fields")
        elif field_type in TEXT_TYPES and (value < 0 or int(value) != value or value > MAX_TEXT_LENGTH):
            problems.append(f"constraints.{key}: a length must be a whole number from 0 to {MAX_TEXT_LENGTH}")
        elif field_type in ("float", "number") and abs(value) > MAX_FLOAT_BOUND:
            problems.append(f"constraints.{key}: must be from -{MAX_FLOAT_BOUND:.0e} to {MAX_FLOAT_BOUND:.0e}")
    if _is_number(low) and _is_number(high) and low > high:
        problems.append("constraints: min must be <= max")
    return problems


def _pattern_problems(pattern: Any, field_type: str | None) -> list[str]:
    if pattern is None:
        return []
    if not isinstance(pattern, str) or not pattern:
        return ["constraints.pattern: must be a non-empty string"]
    if field_type in FIELD_TYPES and field_type not in PATTERN_TYPES:
        return [f"constraints.pattern: does not apply to {field_type} fields"]
    try:
        linear_pattern_compile(pattern)
    except UnsupportedPatternError as exc:
        return [f"constraints.pattern: {exc}"]
    return []


def _enum_problems(enum: Any, field_type: str | None) -> list[str]:
    if enum is None:
        return ["constraints.enum: required for enum fields"] if field_type == "enum" else []
    if not isinstance(enum, list) or not enum:
        return ["constraints.enum: must be a non-empty list"]
    if len(enum) > MAX_ENUM_VALUES:
        return [f"constraints.enum: at most {MAX_ENUM_VALUES} values"]
    if not all(isinstance(item, str) and item for item in enum):
        return ["constraints.enum: values must be non-empty strings"]
    if len(set(enum)) != len(enum):
        return ["constraints.enum: values must be distinct"]
    return []


def _constraint_problems(constraints: dict, field_type: str | None) -> list[str]:
    problems: list[str] = []
    unknown = set(constraints) - CONSTRAINT_KEYS
    if unknown:
        problems.append(f"constraints: unknown keys {', '.join(sorted(unknown))}")
    for flag in ("required", "unique"):
        if flag in constraints and not isinstance(constraints[flag], bool):
            problems.append(f"constraints.{flag}: must be true or false")
    return [
        *problems,
        *_bound_problems(constraints, field_type),
        *_pattern_problems(constraints.get("pattern"), field_type),
        *_enum_problems(constraints.get("enum"), field_type),
    ]


def _head_problems(raw: dict) -> tuple[str | None, str | None, Any, list[str]]:
    """The field's name, type and description as given, and what is wrong with them."""
    problems: list[str] = []
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append("name: required")
    elif len(name.strip()) > MAX_NAME_LENGTH:
        problems.append(f"name: at most {MAX_NAME_LENGTH} characters")
    field_type = raw.get("type")
    if not isinstance(field_type, str):
        field_type = None  # a list or object here must read as a bad type, not crash a set lookup
    if field_type not in FIELD_TYPES:
        problems.append(f"type: must be one of {', '.join(sorted(FIELD_TYPES))}")
    description = raw.get("description", "")
    if description is None:
        description = ""
    if not isinstance(description, str):
        problems.append("description: must be a string")
    return name, field_type, description, problems


def _field_problems(raw: Any) -> tuple[dict | None, list[str]]:
    if not isinstance(raw, dict):
        return None, ["must be an object"]
    name, field_type, description, problems = _head_problems(raw)
    constraints = raw.get("constraints") or {}
    if not isinstance(constraints, dict):
        return None, [*problems, "constraints: must be an object"]
    problems += _constraint_problems(constraints, field_type)
    if problems:
        return None, problems
    clean_constraints = {key: constraints[key] for key in CONSTRAINT_KEYS if constraints.get(key) is not None}
    return (
        {
            "id": str(raw.get("id") or uuid.uuid4()),
            "name": name.strip(),
            "type": field_type,
            "description": description,
            "constraints": clean_constraints,
        },
        [],
    )


def schema_validate(schema: Any, *, field: str = "schema") -> list[dict]:
    """The schema in stored form, or a VALIDATION_ERROR whose details name every bad field."""
    if not isinstance(schema, list) or not schema:
        raise errors.VALIDATION(f"{field} must be a non-empty list of fields", details={field: ["must be non-empty"]})
    if len(schema) > MAX_FIELDS:
        raise errors.VALIDATION(f"{field} has more than {MAX_FIELDS} fields", details={field: ["too many fields"]})
    clean: list[dict] = []
    problems: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    for index, raw in enumerate(schema):
        cleaned, field_problems = _field_problems(raw)
        if cleaned is not None:
            key = cleaned["name"].lower()
            if key in seen:
                field_problems = [f"name: duplicates field {seen[key]}"]
            seen.setdefault(key, index)
        if field_problems:
            problems[f"{field}[{index}]"] = field_problems
        elif cleaned is not None:
            clean.append(cleaned)
    if problems:
        first_key = next(iter(problems))
        raise errors.VALIDATION(f"Validation failed: {first_key}.{problems[first_key][0]}", details=problems)
    text_per_row = sum(f["constraints"].get("max", 0) for f in clean if f["type"] in TEXT_TYPES)
    if text_per_row > MAX_TEXT_PER_ROW:
        raise errors.VALIDATION(
            f"{field}: the text fields' max lengths add up to {text_per_row:.0f}, more than {MAX_TEXT_PER_ROW} a row",
            details={field: [f"text fields' max lengths add up to more than {MAX_TEXT_PER_ROW}"]},
        )
    return clean
