"""Django's error handlers and CSRF failure view, answering in the envelope of the request's API."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from core import errors
from core.exceptions import error_response


def bad_request(request: HttpRequest, exception=None) -> JsonResponse:
    return error_response(request, errors.BAD_REQUEST())


def permission_denied(request: HttpRequest, exception=None) -> JsonResponse:
    return error_response(request, errors.FORBIDDEN())


def not_found(request: HttpRequest, exception=None) -> JsonResponse:
    return error_response(request, errors.NOT_FOUND(f"No such endpoint: {request.method} {request.path}"))


def server_error(request: HttpRequest) -> JsonResponse:
    return error_response(request, errors.INTERNAL())


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    return error_response(request, errors.FORBIDDEN("CSRF verification failed; send the X-CSRFToken header"))
