"""Middleware every API shares: request ids and access logs, streamed bodies, body-size limits, API errors.

Each class works in both sync (gunicorn) and async (uvicorn) stacks without a thread hop.
"""

from __future__ import annotations

import io
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.core.handlers.wsgi import LimitedStream, WSGIRequest
from django.http import HttpRequest, HttpResponse
from whitenoise.middleware import WhiteNoiseMiddleware

from core import errors
from core.envelopes import PLATFORM, envelope_for_path
from core.errors import DomainError
from core.exceptions import error_response, render_exception
from core.logging import request_id_var

access_logger = logging.getLogger("core.access")

# Paths people browse: their errors stay HTML pages.
HTML_PATH_PREFIXES = ("/admin/", "/static/", "/media/")

_REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class _DualModeMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if self.is_async:
            return self.__acall__(request)
        return self.handle(request)

    async def __acall__(self, request: HttpRequest):
        raise NotImplementedError

    def handle(self, request: HttpRequest):
        raise NotImplementedError


class RequestIdMiddleware(_DualModeMiddleware):
    """Give every request an id (kept from X-Request-Id when well-formed) and log it once.

    One line per request at INFO, except a static file served as asked (WhiteNoise answers those
    before any URL is resolved, and one page of the admin or of Swagger UI fetches a dozen): those
    are DEBUG lines, so the log at INFO reads as the API's traffic. A static file that fails (a 404
    of a missing file) stays at INFO, under its path class ``/static/<path>``.
    """

    def _begin(self, request: HttpRequest):
        incoming = request.headers.get("X-Request-Id", "")
        request_id = incoming if _REQUEST_ID_PATTERN.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        return request_id_var.set(request_id), time.perf_counter()

    def _finish(self, request: HttpRequest, response: HttpResponse, token, started: float) -> HttpResponse:
        response["X-Request-Id"] = request.request_id
        route = logged_route(request)
        quiet = route == STATIC_ROUTE and response.status_code < 400
        access_logger.log(
            logging.DEBUG if quiet else logging.INFO,
            "request",
            extra={
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        request_id_var.reset(token)
        return response

    def handle(self, request):
        token, started = self._begin(request)
        return self._finish(request, self.get_response(request), token, started)

    async def __acall__(self, request):
        token, started = self._begin(request)
        return self._finish(request, await self.get_response(request), token, started)


STATIC_ROUTE = "/static/<path>"


def logged_route(request: HttpRequest) -> str:
    """The URL pattern that answered, never the raw path: paths can carry ids that act as secrets.

    Static files have no pattern (WhiteNoise serves them before URL resolution): they are logged
    under their path class. Anything else that matched no pattern is ``<unresolved>``.
    """
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return f"/{match.route}"
    if _is_static_path(request.path):
        return STATIC_ROUTE
    return "<unresolved>"


def _is_static_path(path: str) -> bool:
    static_url = settings.STATIC_URL
    # An absolute STATIC_URL (a CDN) means no static file is served from here.
    return "://" not in static_url and path.startswith("/" + static_url.lstrip("/"))


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise's static files, with no thread hop under ASGI for every other request.

    WhiteNoise's middleware is synchronous only, so under ASGI Django ran it, and with it every
    request, through a thread and back to the event loop before the rest of the chain; here a
    request for anything but a static file goes straight on, and only serving a file runs in a thread.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable) -> None:
        super().__init__(get_response)
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if self.is_async:
            return self.__acall__(request)
        return super().__call__(request)

    async def __acall__(self, request: HttpRequest):
        if self.autorefresh:
            static_file = await sync_to_async(self.find_file, thread_sensitive=False)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return await sync_to_async(self.serve, thread_sensitive=False)(static_file, request)
        return await self.get_response(request)


class AsyncStreamingMiddleware(_DualModeMiddleware):
    """Under ASGI, a response streamed from a synchronous iterator is sent from an asynchronous one.

    Django's ASGI handler reads a synchronous iterator (a ``FileResponse``: WhiteNoise's static
    files, the APIs' downloads) whole, in one thread, before it sends a byte, and warns that it did:
    a large download sits in memory and a slow stream arrives at once. Here the same iterator is
    read one part at a time in a thread while the event loop sends each part, so the bytes and the
    headers stay exactly those of the synchronous response. Under WSGI (gunicorn, the test client)
    nothing changes. Responses built on an asynchronous iterator (cerebro's chat stream) pass as
    they are. Wherever the middleware runs in the chain (synchronously while a synchronous-only
    middleware such as WhiteNoise sits below it), the request's class tells which server serves it.
    """

    def _adapt(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if isinstance(request, ASGIRequest) and response.streaming and not response.is_async:
            # A file is read off the thread-sensitive executor (it needs no database connection,
            # and a long download must not hold up other requests' sync work); any other iterator
            # may use the ORM, so it runs where Django's own fallback would have run it.
            is_file = getattr(response, "file_to_stream", None) is not None
            parts = iter(response.streaming_content)
            response.streaming_content = _parts_read_in_a_thread(parts, thread_sensitive=not is_file)
        return response

    def handle(self, request):
        return self._adapt(request, self.get_response(request))

    async def __acall__(self, request):
        return self._adapt(request, await self.get_response(request))


async def _parts_read_in_a_thread(parts: Iterator[bytes], *, thread_sensitive: bool) -> AsyncIterator[bytes]:
    next_part = sync_to_async(next, thread_sensitive=thread_sensitive)
    end = object()
    while (part := await next_part(parts, end)) is not end:
        yield part


def body_limit_for(path: str) -> int:
    """The longest configured prefix of ``path`` decides its body limit."""
    best_prefix = ""
    for prefix in settings.REQUEST_BODY_LIMITS:
        if path.startswith(prefix) and len(prefix) >= len(best_prefix):
            best_prefix = prefix
    return settings.REQUEST_BODY_LIMITS[best_prefix]


def _is_chunked(headers) -> bool:
    return "chunked" in headers.get("transfer-encoding", "").lower()


class ChunkedBodyCap:
    """ASGI: a request body sent without Content-Length (``Transfer-Encoding: chunked``) is passed
    on only up to one byte past its path's limit, so the server never buffers more than the limit
    allows; ``BodySizeLimitMiddleware`` then answers 413 in the API's envelope. Bodies with a
    Content-Length pass untouched (their declared length is checked before anything is read)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", [])}
        if "content-length" in headers or not _is_chunked(headers):
            return await self.app(scope, receive, send)
        cap = body_limit_for(scope.get("path", "")) + 1
        received = 0

        async def capped_receive():
            nonlocal received
            message = await receive()
            # Past the cap the answer is a 413: the rest of the body is drained and dropped while
            # Django waits for the client to disconnect.
            while received >= cap and message["type"] == "http.request":
                message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")[: cap - received]
                received += len(body)
                more = message.get("more_body", False) and received < cap
                message = {**message, "body": body, "more_body": more}
            return message

        return await self.app(scope, capped_receive, send)


class BodySizeLimitMiddleware(_DualModeMiddleware):
    """Answer 413 from Content-Length alone, before any of the body is read.

    A body without Content-Length (``Transfer-Encoding: chunked``) is read here in full, up to one
    byte past the limit (413 beyond it), and handed on with its length: Django's WSGI request reads
    such a body as empty (it ignores ``wsgi.input_terminated``), and DRF's parsers skip any body
    whose request declares no length, so without this a chunked write would arrive empty.
    """

    def _read_chunked_body(self, request: HttpRequest) -> HttpResponse | None:
        if request.META.get("CONTENT_LENGTH") or not _is_chunked(request.headers):
            return None
        limit = body_limit_for(request.path)
        # Under WSGI the request hides an unsized body behind a zero-length stream: read the
        # server's own input (gunicorn de-chunks it). Under ASGI the body is already spooled
        # (capped by ChunkedBodyCap).
        source = request.META["wsgi.input"] if isinstance(request, WSGIRequest) else request._stream
        body = source.read(limit + 1)
        if len(body) > limit:
            return error_response(
                request,
                errors.PAYLOAD_TOO_LARGE(
                    f"Request body exceeds the limit of {limit} bytes", details={"limit": limit, "received": len(body)}
                ),
            )
        request.META["CONTENT_LENGTH"] = str(len(body))
        request._stream = LimitedStream(io.BytesIO(body), len(body))
        request._read_started = False
        return None

    def _reject(self, request: HttpRequest) -> HttpResponse | None:
        declared = request.META.get("CONTENT_LENGTH")
        if not declared:
            return self._read_chunked_body(request)
        try:
            length = int(declared)
        except ValueError:
            return error_response(request, errors.BAD_REQUEST("Content-Length is not a number"))
        limit = body_limit_for(request.path)
        if length > limit:
            return error_response(
                request,
                errors.PAYLOAD_TOO_LARGE(
                    f"Request body of {length} bytes exceeds the limit of {limit} bytes",
                    details={"limit": limit, "received": length},
                ),
            )
        return None

    def handle(self, request):
        return self._reject(request) or self.get_response(request)

    async def __acall__(self, request):
        return self._reject(request) or await self.get_response(request)


class ApiErrorMiddleware(_DualModeMiddleware):
    """Errors of plain Django views and of URL resolution come out in the API's envelope.

    Django answers an unknown URL with its own page (an HTML debug page when DEBUG is on) before
    any view runs; outside the pages people browse, that becomes the API's JSON 404.
    """

    def _envelope_resolver_404(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if (
            response.status_code == 404
            and not response.get("Content-Type", "").startswith("application/json")
            and not request.path.startswith(HTML_PATH_PREFIXES)
        ):
            return error_response(request, errors.NOT_FOUND(f"No such endpoint: {request.method} {request.path}"))
        return response

    def handle(self, request):
        return self._envelope_resolver_404(request, self.get_response(request))

    async def __acall__(self, request):
        return self._envelope_resolver_404(request, await self.get_response(request))

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DomainError) or envelope_for_path(request.path) is not PLATFORM:
            return render_exception(request, exception)
        return None
