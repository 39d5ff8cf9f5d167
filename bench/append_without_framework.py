"""The ledger append's own work without Django's request handling or DRF: a WSGI application for
bench/ledger.py only, never deployed.

POST /cerebro/api/ledger/transactions here runs the functions the endpoint runs, in its order:
the connection's health check (armed as Django's ``request_started`` arms it), the bearer token's
check with its live-session query (``accounts.tokens.access_token_user``), the general rate
limit's count (``core.ratelimit.hit``), validation by the endpoint's serializer, the append
(``ledger.services.ledger_transaction_append``) and the answer's serializer, written with orjson.
What it leaves out is the framework around them: Django's request and response objects, the
middleware, URL resolving, and DRF's dispatch, parsing, negotiation and rendering. Its rate beside
the endpoint's, through the same gunicorn and client, is that framework's share of an append.

Every other path goes to the project's own application (the bench's start-up check reads one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import orjson

from config.wsgi import application as project_application  # sets Django up, before the imports below

# isort: split
from django.db import close_old_connections
from rest_framework.exceptions import AuthenticationFailed

from accounts.tokens import access_token_user
from core import ratelimit
from core.serializers import represented
from core.views import validated
from ledger import serializers, services

TRANSACTIONS_PATH = "/cerebro/api/ledger/transactions"
BEARER = "Bearer "


def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
    if environ["PATH_INFO"] != TRANSACTIONS_PATH or environ["REQUEST_METHOD"] != "POST":
        return project_application(environ, start_response)
    close_old_connections()  # as request_started: the first query checks the connection's health
    try:
        return [_append(environ, start_response)]
    finally:
        close_old_connections()  # as request_finished


def _append(environ: dict, start_response: Callable) -> bytes:
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    if not authorization.startswith(BEARER):
        return _answer(start_response, "401 Unauthorized", {"error": "unauthorized"})
    try:
        user, _ = access_token_user(authorization.removeprefix(BEARER), product="cerebro")
    except AuthenticationFailed:
        return _answer(start_response, "401 Unauthorized", {"error": "unauthorized"})
    if not ratelimit.hit("cerebro.general", f"user:{user.pk}").allowed:
        return _answer(start_response, "429 Too Many Requests", {"error": "rate_limited"})
    body = orjson.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
    given = validated(serializers.TransactionInput, body)
    txn = services.ledger_transaction_append(
        user=user,
        object_id=given["objectId"],
        action=given["action"],
        data=given["data"],
        origin=services.RequestOrigin(ip=environ["REMOTE_ADDR"], user_agent=environ.get("HTTP_USER_AGENT", "")),
    )
    return _answer(start_response, "200 OK", {"transaction": represented(serializers.LedgerTransactionOutput, txn)})


def _answer(start_response: Callable, status: str, body: dict) -> bytes:
    content = orjson.dumps(body)
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(content)))])
    return content
