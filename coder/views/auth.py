"""Signing in and out (RPC-shaped: the spec's paths are verbs, so these stay API views)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from coder import conf
from coder.authentication import SESSION_AUTHENTICATION_CLASSES
from coder.errors import GITHUB_UNAVAILABLE
from coder.responses import ok
from coder.schema import envelope
from coder.selectors.users import coder_profile
from coder.serializers.auth import (
    GitHubConnectResultSerializer,
    GitHubConnectSerializer,
    LoginResultSerializer,
    LoginSerializer,
    LogoutSerializer,
    MessageSerializer,
    RefreshResultSerializer,
    RefreshSerializer,
)
from coder.services import auth as auth_services
from coder.services.github import github_connect
from coder.views.base import CoderView
from core import errors
from core.openapi import raises
from core.views import validated


def _set_session_cookie(request, response: Response, session_key: str) -> None:
    # Secure wherever it can be: production (HTTPS only) or a request that came over HTTPS.
    response.set_cookie(
        conf.SESSION_COOKIE_NAME,
        session_key,
        max_age=int(settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].total_seconds()),
        path="/coder",
        httponly=True,
        secure=settings.PRODUCTION or request.is_secure(),
        samesite="Lax",
    )


class LoginView(CoderView):
    """Sign in with a Clerk session token."""

    authentication_classes = []
    permission_classes = []
    rate_limit_scopes = ("coder.auth", "coder.general")

    @extend_schema(
        operation_id="coder_auth_login",
        summary="Sign in with a Clerk token",
        description="Answers an access token, a refresh token and the session id, and sets the "
        "`async_coder_session` cookie. Locally: `manage.py coder_dev_clerk_token` mints a Clerk token.",
        request=LoginSerializer,
        responses={200: envelope("CoderLoginResponse", LoginResultSerializer())},
    )
    @raises(errors.UNAUTHORIZED, errors.SERVICE_UNAVAILABLE)
    def post(self, request):
        data = validated(LoginSerializer, request.data)
        signed_in = auth_services.coder_login(
            clerk_token=data["clerkToken"], user_agent=request.headers.get("User-Agent", "")
        )
        body = LoginResultSerializer(
            {
                "user": coder_profile(user=signed_in.user, account=signed_in.account),
                "token": signed_in.issued.tokens.access,
                "refreshToken": signed_in.issued.tokens.refresh,
                "sessionId": signed_in.issued.session_key,
            }
        ).data
        response = ok(body)
        _set_session_cookie(request, response, signed_in.issued.session_key)
        return response


class RefreshView(CoderView):
    """Exchange the latest refresh token for a new access and refresh token (rotation)."""

    authentication_classes = []
    permission_classes = []
    rate_limit_scopes = ("coder.auth", "coder.general")

    @extend_schema(
        operation_id="coder_auth_refresh",
        summary="Refresh the access token",
        description="Exchanges the latest refresh token for a new pair; an already used one ends the session.",
        request=RefreshSerializer,
        responses={200: envelope("CoderRefreshResponse", RefreshResultSerializer())},
    )
    @raises(errors.UNAUTHORIZED)
    def post(self, request):
        data = validated(RefreshSerializer, request.data)
        tokens = auth_services.coder_refresh(refresh_token=data["refreshToken"])
        return ok({"token": tokens.access, "refreshToken": tokens.refresh})


class LogoutView(CoderView):
    """End the current session: its access and refresh tokens and its cookie stop working."""

    @extend_schema(
        operation_id="coder_auth_logout",
        summary="Sign out",
        description="Ends the current session: its access and refresh tokens and its cookie stop working.",
        request=LogoutSerializer,
        responses={200: envelope("CoderLogoutResponse", MessageSerializer())},
    )
    def post(self, request):
        data = validated(LogoutSerializer, request.data)
        auth_services.coder_logout(user=request.user, credential=request.auth, refresh_token=data.get("refreshToken"))
        response = ok({"message": "Logged out successfully"})
        response.delete_cookie(conf.SESSION_COOKIE_NAME, path="/coder", samesite="Lax")
        return response


class GitHubConnectView(CoderView):
    """Connect a GitHub account with an OAuth authorization code (a session only, never an API key)."""

    authentication_classes = SESSION_AUTHENTICATION_CLASSES
    rate_limit_scopes = ("coder.auth", "coder.general")

    @extend_schema(
        operation_id="coder_auth_github_connect",
        summary="Connect a GitHub account",
        description="Exchanges a GitHub OAuth authorization code; the token is stored encrypted.",
        request=GitHubConnectSerializer,
        responses={200: envelope("CoderGitHubConnectResponse", GitHubConnectResultSerializer())},
    )
    @raises(GITHUB_UNAVAILABLE, errors.SERVICE_UNAVAILABLE)
    def post(self, request):
        data = validated(GitHubConnectSerializer, request.data)
        github_user = github_connect(
            user=request.user, code=data["code"], state=data.get("state"), redirect_uri=data.get("redirectUri")
        )
        return ok(
            {
                "message": "GitHub account connected successfully",
                "githubUser": {
                    "id": github_user.get("id"),
                    "login": github_user.get("login"),
                    "name": github_user.get("name"),
                    "avatar_url": github_user.get("avatar_url"),
                },
            }
        )
