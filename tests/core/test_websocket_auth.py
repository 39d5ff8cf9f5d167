"""WebSocket sign-in (accounts/websocket.py) through the real ASGI application of config/asgi.py.

Every way a client may carry its credential connects; every bad credential ends in close code
4401, which browsers can tell apart from a network error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import jwt
import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from accounts import services as account_services
from accounts.websocket import browser_origin_validator
from config.asgi import application
from config.routing import websocket_urlpatterns
from core.consumers import UNAUTHORIZED_CLOSE_CODE

# Channels' database_sync_to_async closes the connection around each call, which a test wrapped in
# a transaction would not survive.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def in_memory_channel_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@dataclass(frozen=True)
class Reply:
    """What the server did with a new socket: refused it, closed it with a code, or said hello."""

    accepted: bool
    close_code: int | None = None
    message: dict | None = None


def first_reply(path: str = "/coder/ws", headers: list[tuple[bytes, bytes]] | None = None, app=application) -> Reply:
    async def open_and_listen() -> Reply:
        communicator = WebsocketCommunicator(app, path, headers=headers)
        try:
            accepted, close_code = await communicator.connect(timeout=5)
            if not accepted:
                return Reply(accepted=False, close_code=close_code)
            output = await communicator.receive_output(timeout=5)
            if output["type"] == "websocket.close":
                return Reply(accepted=True, close_code=output.get("code"))
            return Reply(accepted=True, message=json.loads(output["text"]))
        finally:
            await communicator.disconnect()

    return async_to_sync(open_and_listen)()


def connected_as(user) -> Reply:
    return Reply(accepted=True, message={"event": "connected", "data": {"userId": str(user.pk)}})


SIGNED_OUT = Reply(accepted=True, close_code=UNAUTHORIZED_CLOSE_CODE)


@pytest.fixture
def coder_session(user):
    return account_services.auth_session_start(user=user, product="coder")


@pytest.fixture
def revoked_session(coder_session):
    account_services.auth_session_revoke(session=coder_session.session)
    return coder_session


# --- Every way to carry the credential ---------------------------------------------------------------


def test_token_query_parameter_signs_in(user, coder_session):
    assert first_reply(f"/coder/ws?token={coder_session.tokens.access}") == connected_as(user)


def test_authorization_bearer_header_signs_in(user, coder_session):
    headers = [(b"authorization", f"Bearer {coder_session.tokens.access}".encode())]
    assert first_reply(headers=headers) == connected_as(user)


def test_access_token_cookie_signs_in(user, coder_session):
    headers = [(b"cookie", f"theme=dark; access_token={coder_session.tokens.access}".encode())]
    assert first_reply(headers=headers) == connected_as(user)


def test_coder_session_cookie_signs_in(user, coder_session):
    headers = [(b"cookie", f"async_coder_session={coder_session.session_key}".encode())]
    assert first_reply(headers=headers) == connected_as(user)


def test_marketplace_socket_signs_in_with_a_token(user):
    issued = account_services.auth_session_start(user=user, product="marketplace")
    assert first_reply(f"/marketplace/ws?token={issued.tokens.access}") == connected_as(user)


# --- Every bad credential ends in 4401 ---------------------------------------------------------------


def test_no_credential_is_closed_with_4401():
    assert first_reply("/coder/ws") == SIGNED_OUT


@pytest.mark.parametrize("token", ["not-a-jwt", "", "a.b.c"])
def test_malformed_token_is_closed_with_4401(token):
    assert first_reply(f"/coder/ws?token={token}") == SIGNED_OUT


def test_token_signed_with_another_key_is_closed_with_4401(coder_session):
    claims = AccessToken(coder_session.tokens.access).payload
    forged = jwt.encode(claims, "not-the-signing-key-but-long-enough-for-hs256", algorithm="HS256")
    assert first_reply(f"/coder/ws?token={forged}") == SIGNED_OUT


def test_expired_token_is_closed_with_4401(coder_session):
    token = AccessToken(coder_session.tokens.access)
    token.set_exp(from_time=timezone.now() - timedelta(hours=1), lifetime=timedelta(minutes=15))
    assert first_reply(f"/coder/ws?token={token}") == SIGNED_OUT


def test_token_of_a_revoked_session_is_closed_with_4401(revoked_session):
    assert first_reply(f"/coder/ws?token={revoked_session.tokens.access}") == SIGNED_OUT
    bearer = [(b"authorization", f"Bearer {revoked_session.tokens.access}".encode())]
    assert first_reply(headers=bearer) == SIGNED_OUT


def test_cookie_of_a_revoked_session_is_closed_with_4401(revoked_session):
    headers = [(b"cookie", f"async_coder_session={revoked_session.session_key}".encode())]
    assert first_reply(headers=headers) == SIGNED_OUT


def test_session_cookie_of_another_product_is_closed_with_4401(user):
    marketplace_session = account_services.auth_session_start(user=user, product="marketplace")
    headers = [(b"cookie", f"async_coder_session={marketplace_session.session_key}".encode())]
    assert first_reply(headers=headers) == SIGNED_OUT


# --- Each socket takes its own product's credentials only ----------------------------------------------


@pytest.mark.parametrize("product", ["marketplace", "cerebro"])
def test_another_products_token_on_the_coder_socket_is_closed_with_4401(user, product):
    # given a live session of another product (a marketplace wallet sign-in, say)
    other = account_services.auth_session_start(user=user, product=product)

    # when it opens the coder socket, in each way a client carries a token, then it is refused
    assert first_reply(f"/coder/ws?token={other.tokens.access}") == SIGNED_OUT
    assert first_reply(headers=[(b"authorization", f"Bearer {other.tokens.access}".encode())]) == SIGNED_OUT
    assert first_reply(headers=[(b"cookie", f"access_token={other.tokens.access}".encode())]) == SIGNED_OUT


def test_a_coder_token_and_cookie_on_the_marketplace_socket_are_closed_with_4401(user, coder_session):
    assert first_reply(f"/marketplace/ws?token={coder_session.tokens.access}") == SIGNED_OUT
    cookie = [(b"cookie", f"async_coder_session={coder_session.session_key}".encode())]
    assert first_reply("/marketplace/ws", headers=cookie) == SIGNED_OUT


def test_token_of_a_deactivated_user_is_closed_with_4401(user, coder_session):
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert first_reply(f"/coder/ws?token={coder_session.tokens.access}") == SIGNED_OUT


# --- Origin: browsers only from the API's hosts or an allowed front end -------------------------------


def test_browser_on_an_allowed_host_connects(user, coder_session):
    headers = [(b"origin", b"http://localhost:3000")]
    assert first_reply(f"/coder/ws?token={coder_session.tokens.access}", headers=headers) == connected_as(user)


def test_browser_on_a_foreign_site_is_refused_before_sign_in(coder_session):
    headers = [(b"origin", b"https://attacker.example")]
    reply = first_reply(f"/coder/ws?token={coder_session.tokens.access}", headers=headers)
    assert not reply.accepted, reply


def test_front_end_allowed_by_cors_connects(settings, user, coder_session):
    # Given a front end on its own origin, allowed by CORS
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    app = browser_origin_validator(URLRouter(websocket_urlpatterns))
    path = f"/coder/ws?token={coder_session.tokens.access}"

    # When its page opens a socket, then it signs in; another origin is still refused
    assert first_reply(path, headers=[(b"origin", b"https://app.example.com")], app=app) == connected_as(user)
    assert not first_reply(path, headers=[(b"origin", b"https://other.example.com")], app=app).accepted


# --- A session that ends closes its open sockets --------------------------------------------------


@pytest.mark.parametrize("how", ["log-out", "every session of the user"])
def test_an_open_socket_is_closed_when_its_session_is_revoked(user, coder_session, how):
    other_session = account_services.auth_session_start(user=user, product="coder")

    async def scenario():
        revoked = WebsocketCommunicator(application, f"/coder/ws?token={coder_session.tokens.access}")
        kept = WebsocketCommunicator(application, f"/coder/ws?token={other_session.tokens.access}")
        try:
            for socket in (revoked, kept):
                assert (await socket.connect(timeout=5))[0]
                assert (await socket.receive_json_from(timeout=5))["event"] == "connected"
            # when: the session ends while its socket is open (committed, as a view's request is)
            if how == "log-out":
                await database_sync_to_async(account_services.auth_session_revoke)(session=coder_session.session)
            else:
                await database_sync_to_async(account_services.auth_sessions_revoke_all)(user=user)
            # then: its socket is closed as signed out; it hears nothing more
            closed = await revoked.receive_output(timeout=5)
            assert (closed["type"], closed.get("code")) == ("websocket.close", UNAUTHORIZED_CLOSE_CODE)
            if how == "log-out":  # the user's other session keeps its socket
                await kept.send_json_to({"type": "ping"})
                assert (await kept.receive_json_from(timeout=5))["event"] == "pong"
            else:
                closed = await kept.receive_output(timeout=5)
                assert closed["type"] == "websocket.close"
        finally:
            await revoked.disconnect()
            await kept.disconnect()

    async_to_sync(scenario)()
