"""Input validation (pydantic models, strict) and output shapes of the analytics API.

Why pydantic rather than DRF serializers here: ingest is the hot path (up to 500 events per
request) and DRF validated a 500-event batch in ~85 ms where pydantic-core validates the same JSON
in ~4 ms; drf-spectacular documents these models directly (its pydantic extension).

Strictness: unknown top-level fields are rejected, and so are unknown fields in the objects the
spec defines (system_info, system_context, privacy_consent). Free-form objects (event_data,
context, metadata) take any keys within bounds of depth, keys and items (analytics/conf.py).
Timestamps are ISO 8601 strings; one without an offset is taken as UTC.

What the Jeeves4coders client sends is never refused for its length or its platform: free text
(messages, traces, event and error types, platform_version, architecture, strings in free-form
objects) is accepted at any length here and cut, marked, after scrubbing (analytics.truncation);
any platform name is accepted; the fallback user_id "anonymous" is accepted.
"""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import pydantic
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from rest_framework import exceptions as drf_exceptions

from analytics import conf
from analytics.truncation import MIN_STRING_LENGTH, cut, cut_strings, serialized_size
from core.privacy import scrub_text

# --- Field types ---------------------------------------------------------------------------------


def _lower(value: str) -> str:
    return value.lower()


def _platform(value: str) -> str:
    """The one name a platform is stored under: the known aliases (``Darwin``, ``win32``,
    ``CYGWIN_NT-10.0-19045``) by their name, any other (``OpenBSD``, ``SunOS``, ``AIX``,
    ``Android``, empty) as sent, scrubbed (it is free text) and cut to the column."""
    name = value.strip()
    lowered = name.lower()
    known = conf.PLATFORMS.get(lowered)
    if known is not None:
        return known
    for prefix, platform in conf.PLATFORM_PREFIXES:
        if lowered.startswith(prefix):
            return platform
    return cut(scrub_text(name), conf.MAX_PLATFORM_LENGTH)


def _timestamp(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    # Held in UTC: PostgreSQL refuses offsets beyond +-15:59 that ISO 8601 parsers accept.
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("timestamp is out of range") from None
    if value.timestamp() - time.time() > conf.MAX_CLOCK_SKEW_SECONDS:
        raise ValueError("timestamp is in the future")
    return value


_INT64 = (-(2**63), 2**64 - 1)


def _bounded_json(value: dict) -> dict:
    """Depth, keys per object and list length of a free-form object, and that it fits
    MAX_OBJECT_BYTES once its strings are cut (long strings are cut when stored, not refused)."""
    _check_bounds(value, depth=1)
    too_big = serialized_size(value) > conf.MAX_OBJECT_BYTES
    if too_big and serialized_size(cut_strings(value, MIN_STRING_LENGTH)) > conf.MAX_OBJECT_BYTES:
        raise ValueError(f"object is larger than {conf.MAX_OBJECT_BYTES} bytes even with its strings cut")
    return value


def _check_bounds(value: Any, depth: int) -> None:
    if isinstance(value, dict):
        _check_object_bounds(value, depth)
    elif isinstance(value, list):
        _check_list_bounds(value, depth)
    elif isinstance(value, int) and not _INT64[0] <= value <= _INT64[1]:
        raise ValueError("integers must fit in 64 bits")
    elif isinstance(value, float) and not math.isfinite(value):
        # The JSON parser reads NaN, Infinity and 1e400 (as inf); none is JSON, so none can be stored.
        raise ValueError("numbers must be finite (NaN, Infinity and out-of-range numbers are not JSON)")


def _check_object_bounds(value: dict, depth: int) -> None:
    if depth > conf.MAX_OBJECT_DEPTH:
        raise ValueError(f"objects may nest at most {conf.MAX_OBJECT_DEPTH} levels")
    if len(value) > conf.MAX_OBJECT_KEYS:
        raise ValueError(f"an object may hold at most {conf.MAX_OBJECT_KEYS} keys")
    for key, item in value.items():
        if len(key) > 100:
            raise ValueError("keys may be at most 100 characters")
        _check_bounds(item, depth + 1)


def _check_list_bounds(value: list, depth: int) -> None:
    if depth > conf.MAX_OBJECT_DEPTH:
        raise ValueError(f"objects may nest at most {conf.MAX_OBJECT_DEPTH} levels")
    if len(value) > conf.MAX_LIST_ITEMS:
        raise ValueError(f"a list may hold at most {conf.MAX_LIST_ITEMS} items")
    for item in value:
        _check_bounds(item, depth + 1)


# [0-9], not \d: the validator's \d is any Unicode digit (Arabic-Indic, full-width...).
SEMVER = r"^[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"

UserId = Annotated[
    str,
    StringConstraints(pattern=rf"^(?:[0-9a-fA-F]{{16}}|{conf.ANONYMOUS_USER_ID})$"),
    AfterValidator(_lower),
    Field(
        description='16-character hex hash identifying the install, or "anonymous" (the Jeeves4coders '
        "client's fallback when it cannot keep an id: stored unlinked to any install)",
        examples=["3f2b8c1e4d5a4f6b"],
    ),
]
Timestamp = Annotated[datetime, AfterValidator(_timestamp), Field(description="ISO 8601; no offset means UTC")]
Platform = Annotated[
    str,
    AfterValidator(_platform),
    Field(
        description="Python's platform.system() or the spec's names: Windows, Linux, macOS (Darwin), Cygwin, "
        "MSYS and FreeBSD are stored under one name each; any other name is stored as sent (cut to 50)"
    ),
]
JeevesVersion = Annotated[str, StringConstraints(max_length=20, pattern=SEMVER), Field(examples=["1.0.0"])]
PythonVersion = Annotated[
    str, StringConstraints(max_length=20, pattern=r"^[0-9]+\.[0-9]+(?:\.[0-9]+)?(?:(?:a|b|rc|\.dev|\.post)[0-9]+)?\+?$")
]
PolicyVersion = Annotated[str, StringConstraints(max_length=10, pattern=r"^[0-9]+\.[0-9]+(?:\.[0-9]+)?$")]
# Free text, cut (and marked) when stored: never refused for its length.
Text = Annotated[str, Field(description="any length; stored scrubbed, cut and marked when longer than its column")]
Name = Annotated[
    str,
    StringConstraints(min_length=1),
    Field(description="non-empty; stored scrubbed, cut to 100 characters and marked when longer"),
]
Seconds = Annotated[float, Field(ge=0, le=10_000_000)]
FreeObject = Annotated[dict[str, Any], AfterValidator(_bounded_json)]


class AnalyticsModel(BaseModel):
    """Base of every analytics request and response model (see analytics/schema.py for OpenAPI)."""


class AnalyticsStrict(AnalyticsModel):
    model_config = ConfigDict(strict=True, extra="forbid", str_strip_whitespace=False)


# --- Requests ------------------------------------------------------------------------------------


class AnalyticsRegisterSystemInfo(AnalyticsStrict):
    platform: Platform
    platform_version: Annotated[Text, Field(description="platform.version(); stored cut to 100 (marked)")]
    architecture: Annotated[Text, Field(description="platform.machine(), may be empty; stored cut to 20 (marked)")]
    python_version: PythonVersion
    jeeves_version: JeevesVersion


class AnalyticsPrivacyConsent(AnalyticsStrict):
    privacy_policy_version: PolicyVersion
    consent_date: Timestamp
    analytics_enabled: bool
    code_safety_acknowledged: bool


class AnalyticsRegisterRequest(AnalyticsStrict):
    user_id: UserId
    registration_date: Timestamp
    system_info: AnalyticsRegisterSystemInfo
    privacy_consent: AnalyticsPrivacyConsent


class AnalyticsEventData(AnalyticsModel):
    """The spec's optional fields are typed; other keys are allowed within the free-form bounds."""

    model_config = ConfigDict(strict=True, extra="allow")

    module_name: Text | None = None
    execution_time: Seconds | None = None
    success: bool | None = None


class AnalyticsSystemContext(AnalyticsStrict):
    platform: Platform
    jeeves_version: JeevesVersion
    session_duration: Seconds


def _bounded_model(data: BaseModel) -> BaseModel:
    """The free-form part of a partly typed object (its extra keys) within the usual bounds; the
    typed fields are bounded by their own types."""
    extra = data.__pydantic_extra__
    if extra:
        if len(extra) + len(type(data).model_fields) > conf.MAX_OBJECT_KEYS:
            raise ValueError(f"an object may hold at most {conf.MAX_OBJECT_KEYS} keys")
        _bounded_json(extra)
    return data


class AnalyticsTrackRequest(AnalyticsStrict):
    user_id: UserId
    session_id: UUID
    event_type: Name
    timestamp: Timestamp
    event_data: Annotated[AnalyticsEventData, AfterValidator(_bounded_model)] = Field(
        default_factory=AnalyticsEventData
    )
    system_context: AnalyticsSystemContext


class AnalyticsBatchRequest(AnalyticsStrict):
    events: Annotated[list[AnalyticsTrackRequest], Field(min_length=1, max_length=conf.MAX_BATCH_EVENTS)]


class AnalyticsErrorContext(AnalyticsModel):
    model_config = ConfigDict(strict=True, extra="allow")

    module_name: Text | None = None
    execution_time: Seconds | None = None


class AnalyticsErrorSystemInfo(AnalyticsStrict):
    platform: Platform
    python_version: PythonVersion
    jeeves_version: JeevesVersion


class AnalyticsErrorReportRequest(AnalyticsStrict):
    user_id: UserId
    session_id: UUID
    error_type: Name
    error_message: Text
    stack_trace: Annotated[Text | None, Field(description="null stays null")] = None
    timestamp: Timestamp
    context: Annotated[AnalyticsErrorContext, AfterValidator(_bounded_model)] = Field(
        default_factory=AnalyticsErrorContext
    )
    system_info: AnalyticsErrorSystemInfo


class AnalyticsFeedbackSystemInfo(AnalyticsStrict):
    platform: Platform
    jeeves_version: JeevesVersion


class AnalyticsFeedbackRequest(AnalyticsStrict):
    user_id: UserId
    feedback_type: Literal["bug", "feature_request", "general"]
    message: Annotated[str, StringConstraints(min_length=1), Field(description="stored cut to 10,000 (marked)")]
    rating: Annotated[int, Field(ge=1, le=5)] | None = None
    timestamp: Timestamp
    metadata: FreeObject = Field(default_factory=dict)
    system_info: AnalyticsFeedbackSystemInfo


class AnalyticsHeartbeatRequest(AnalyticsStrict):
    user_id: UserId
    session_id: UUID
    timestamp: Timestamp
    session_duration: Seconds
    jeeves_version: JeevesVersion


class AnalyticsPrivacyRequest(AnalyticsStrict):
    analytics_enabled: bool
    privacy_policy_version: PolicyVersion | None = None
    consent_date: Timestamp | None = None


class AnalyticsScrubDryRunRequest(AnalyticsStrict):
    payload: Annotated[Any, Field(description="any JSON value: a string, or an object as a client would send it")]


# --- Responses -----------------------------------------------------------------------------------


class AnalyticsOk(AnalyticsModel):
    # A plain string (not an enum) so OpenAPI does not hoist a one-value enum per API.
    status: Annotated[str, Field(description='always "ok"', examples=["ok"])] = "ok"


class AnalyticsRegisterResponse(AnalyticsOk):
    user_id: str
    registered: bool = True
    install_secret: Annotated[
        str | None,
        Field(
            description="Shown once: the proof of this install for its data-subject requests (export, "
            "delete, anonymize, privacy), sent back in the X-Install-Secret header. Only its hash is "
            'stored. null when nothing was registered (user_id "anonymous").'
        ),
    ] = None


class AnalyticsTrackResponse(AnalyticsOk):
    stored: bool
    event_id: int | None = None


class AnalyticsBatchResponse(AnalyticsOk):
    accepted: int
    stored: int
    dropped: int


class AnalyticsErrorReportResponse(AnalyticsOk):
    stored: bool
    error_id: int | None = None
    group_id: int | None = None


class AnalyticsFeedbackResponse(AnalyticsOk):
    stored: bool
    feedback_id: int | None = None


class AnalyticsHeartbeatResponse(AnalyticsOk):
    stored: bool
    last_seen: datetime | None = None


class AnalyticsPrivacyResponse(AnalyticsOk):
    user_id: str
    analytics_enabled: bool
    privacy_consent_version: str


class AnalyticsExportResponse(AnalyticsOk):
    user_id: str
    exported_at: datetime
    counts: dict[str, int]
    user: dict[str, Any]
    usage_events: list[dict[str, Any]]
    error_reports: list[dict[str, Any]]
    feedback: list[dict[str, Any]]
    active_days: list[str]


class AnalyticsDeleteResponse(AnalyticsOk):
    user_id: str
    mode: Literal["delete", "anonymize"]
    counts: dict[str, int]


class AnalyticsScrubHit(AnalyticsModel):
    path: str
    rule: str
    start: int
    end: int
    match: str
    replacement: str


class AnalyticsScrubDryRunResponse(AnalyticsOk):
    scrubbed: Any
    hits: list[AnalyticsScrubHit]
    rules: dict[str, int]


# --- Parsing -------------------------------------------------------------------------------------

_LOCATION_PART = re.compile(r"^\d+$")


NUL_MESSAGE = "Text must not contain NUL characters."


def parse(model: type[BaseModel], body: bytes) -> BaseModel:
    """Validate a JSON body against ``model``; a 400 (DRF ValidationError) with field details otherwise.

    Text holding a NUL character (``\\u0000``) is refused too: PostgreSQL stores none, in text or
    jsonb, so it was a 500 there. Only a body that spells the escape is walked for it.
    """
    try:
        parsed = model.model_validate_json(body or b"")
    except pydantic.ValidationError as exc:
        raise drf_exceptions.ValidationError(validation_details(exc)) from None
    if b"\\u0000" in (body or b""):
        where = _nul_location(parsed.model_dump())
        if where is not None:
            details: dict = {}
            node = details
            for part in where[:-1]:
                node = node.setdefault(part, {})
            node[where[-1]] = [NUL_MESSAGE]
            raise drf_exceptions.ValidationError(details)
    return parsed


def _nul_location(value, location: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Where the first text holding a NUL character is in ``value`` (a key counts as its member)."""
    if isinstance(value, str):
        return (location or ("non_field_errors",)) if "\x00" in value else None
    members = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, member in members:
        if isinstance(key, str) and "\x00" in key:
            return (*location, "non_field_errors")
        found = _nul_location(member, (*location, str(key)))
        if found is not None:
            return found
    return None


def validation_details(exc: pydantic.ValidationError) -> dict:
    """pydantic's errors as DRF-style nested details: {"events": {"3": {"timestamp": ["..."]}}}."""
    details: dict = {}
    for error in exc.errors(include_url=False, include_context=False, include_input=False):
        location = [str(part) for part in error["loc"] if not str(part).startswith("function-")]
        message = _message(error)
        if not location:
            details.setdefault("non_field_errors", []).append(message)
            continue
        node = details
        for part in location[:-1]:
            existing = node.get(part)
            if not isinstance(existing, dict):
                existing = {} if existing is None else {"non_field_errors": existing}
                node[part] = existing
            node = existing
        leaf = node.setdefault(location[-1], [])
        if isinstance(leaf, dict):
            leaf.setdefault("non_field_errors", []).append(message)
        else:
            leaf.append(message)
    return details


def _message(error: dict) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "Unknown field."
    if kind == "missing":
        return "This field is required."
    if kind == "json_invalid":
        return "The body is not valid JSON."
    if kind == "model_type":
        return "Expected a JSON object."
    message = error["msg"]
    return message.removeprefix("Value error, ")


def dump(response: BaseModel) -> dict:
    return response.model_dump(mode="json")
