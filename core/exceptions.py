"""Render every error in the envelope of the API the request was for.

DRF's own exceptions, Django's, and ``DomainError`` all become a ``DomainError`` first, so there
is exactly one place that decides status, code and message; the envelope then only shapes it.
Nothing here ever puts a stack trace, SQL or exception text of an unexpected error in a response.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf

from core import errors
from core.envelopes import envelope_for_request
from core.errors import DomainError

logger = logging.getLogger("core.errors")


def _flatten_messages(detail: Any) -> Any:
    """DRF ErrorDetail trees -> plain strings, lists and dicts."""
    if isinstance(detail, dict):
        return {str(key): _flatten_messages(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten_messages(item) for item in detail]
    return str(detail)


def _first_problem(detail: Any, path: str = "") -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            prefix = path if key == "non_field_errors" else (f"{path}.{key}" if path else str(key))
            return _first_problem(value, prefix)
    if isinstance(detail, list) and detail:
        if all(not isinstance(item, (dict, list)) for item in detail):
            return _first_problem(detail[0], path)
        for index, item in enumerate(detail):
            if item:
                return _first_problem(item, f"{path}[{index}]")
    text = str(detail) if detail not in (None, [], {}) else "invalid value"
    return f"{path}: {text}" if path else text


def validation_error(detail: Any) -> DomainError:
    details = _flatten_messages(detail)
    if not isinstance(details, dict):
        details = {"non_field_errors": details if isinstance(details, list) else [details]}
    return errors.VALIDATION(f"Validation failed: {_first_problem(details)}", details=details)


def _is_redis_outage(exc: BaseException) -> bool:
    """A broker publish or a Redis call that could not reach Redis (kombu wraps the former)."""
    from kombu.exceptions import OperationalError as BrokerUnreachable
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return isinstance(exc, (BrokerUnreachable, RedisConnectionError, RedisTimeoutError))


def _django_validation_error(exc: DjangoValidationError) -> DomainError:
    return validation_error(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


def _message_of(detail: Any) -> str:
    """An exception's detail as a sentence: simplejwt raises some with a dict (``detail``, ``code``)."""
    if isinstance(detail, dict) and "detail" in detail:
        return str(detail["detail"])
    return str(detail)


# Known exceptions and their translation, first match wins (a subclass before its base class).
_TRANSLATIONS: tuple[
    tuple[type[BaseException] | tuple[type[BaseException], ...], Callable[[Any], DomainError]], ...
] = (
    (DomainError, lambda exc: exc),
    (drf.ValidationError, lambda exc: validation_error(exc.detail)),
    (DjangoValidationError, _django_validation_error),
    (drf.ParseError, lambda exc: errors.BAD_REQUEST(str(exc.detail))),
    ((drf.NotAuthenticated, drf.AuthenticationFailed), lambda exc: errors.UNAUTHORIZED(_message_of(exc.detail))),
    (drf.PermissionDenied, lambda exc: errors.FORBIDDEN(str(exc.detail))),
    (DjangoPermissionDenied, lambda exc: errors.FORBIDDEN(errors.FORBIDDEN.message)),
    ((drf.NotFound, Http404), lambda exc: errors.NOT_FOUND()),
    (drf.MethodNotAllowed, lambda exc: errors.METHOD_NOT_ALLOWED(str(exc.detail))),
    (drf.NotAcceptable, lambda exc: errors.NOT_ACCEPTABLE(str(exc.detail))),
    (drf.UnsupportedMediaType, lambda exc: errors.UNSUPPORTED_MEDIA_TYPE(str(exc.detail))),
    (drf.Throttled, lambda exc: errors.RATE_LIMITED(headers={"Retry-After": str(int(exc.wait or 1))})),
    ((RequestDataTooBig, TooManyFieldsSent), lambda exc: errors.PAYLOAD_TOO_LARGE()),
    (
        (OperationalError, InterfaceError),
        lambda exc: errors.SERVICE_UNAVAILABLE("The database is unavailable; try again shortly"),
    ),
)


def to_domain_error(exc: BaseException) -> DomainError | None:
    """Translate a known exception into a DomainError; None for anything unexpected."""
    for exception_types, translate in _TRANSLATIONS:
        if isinstance(exc, exception_types):
            return translate(exc)
    if _is_redis_outage(exc):
        return errors.SERVICE_UNAVAILABLE("The job queue or cache (Redis) is unavailable; try again shortly")
    if isinstance(exc, DatabaseError):
        return None
    if isinstance(exc, drf.APIException):
        code = errors.GENERIC_CODE_BY_STATUS.get(exc.status_code, errors.INTERNAL.code)
        return DomainError(code, exc.status_code, str(exc.detail))
    return None


def error_response(request: HttpRequest, error: DomainError) -> JsonResponse:
    envelope = envelope_for_request(request)
    body = envelope.render_error(error.status, error.code, error.message, error.details)
    response = JsonResponse(body, status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


def unexpected_error_response(request: HttpRequest, exc: BaseException) -> JsonResponse:
    logger.exception("unhandled error", extra={"path": request.path, "method": request.method})
    return error_response(request, errors.INTERNAL())


def render_exception(request: HttpRequest, exc: BaseException) -> JsonResponse:
    error = to_domain_error(exc)
    if error is None:
        return unexpected_error_response(request, exc)
    return error_response(request, error)


def api_exception_handler(exc: Exception, context: dict) -> JsonResponse:
    """DRF's EXCEPTION_HANDLER: every API view's errors pass through here."""
    request = context["request"]
    response = render_exception(request, exc)
    # DRF adds WWW-Authenticate for 401s; keep Bearer as the advertised scheme.
    if response.status_code == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
