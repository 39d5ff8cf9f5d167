from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from accounts.selectors import identities_of
from accounts.serializers import AccountIdentitiesSerializer, account_identities
from coder import conf
from coder.responses import ok
from coder.schema import envelope, error_responses
from coder.selectors.api_keys import coder_api_keys_of
from coder.selectors.users import coder_profile
from coder.serializers.auth import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
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
from coder.views.base import CoderView, validated


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
        request=LoginSerializer,
        responses={200: envelope("CoderLoginResponse", LoginResultSerializer()), **error_responses(400, 401, 429, 503)},
    )
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
        request=RefreshSerializer,
        responses={200: envelope("CoderRefreshResponse", RefreshResultSerializer()), **error_responses(400, 401, 429)},
    )
    def post(self, request):
        data = validated(RefreshSerializer, request.data)
        tokens = auth_services.coder_refresh(refresh_token=data["refreshToken"])
        return ok({"token": tokens.access, "refreshToken": tokens.refresh})


class LogoutView(CoderView):
    """End the current session: its access and refresh tokens and its cookie stop working."""

    @extend_schema(
        operation_id="coder_auth_logout",
        request=LogoutSerializer,
        responses={200: envelope("CoderLogoutResponse", MessageSerializer()), **error_responses(400, 401, 429)},
    )
    def post(self, request):
        data = validated(LogoutSerializer, request.data or {})
        auth_services.coder_logout(user=request.user, credential=request.auth, refresh_token=data.get("refreshToken"))
        response = ok({"message": "Logged out successfully"})
        response.delete_cookie(conf.SESSION_COOKIE_NAME, path="/coder", samesite="Lax")
        return response


class GitHubConnectView(CoderView):
    """Connect a GitHub account with an OAuth authorization code."""

    rate_limit_scopes = ("coder.auth", "coder.general")

    @extend_schema(
        operation_id="coder_auth_github_connect",
        request=GitHubConnectSerializer,
        responses={
            200: envelope("CoderGitHubConnectResponse", GitHubConnectResultSerializer()),
            **error_responses(400, 401, 429, 502, 503),
        },
    )
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


class ApiKeysView(CoderView):
    """The user's Async Coder API keys (for ``X-API-Key``)."""

    @extend_schema(
        operation_id="coder_api_keys_list",
        responses={200: envelope("CoderApiKeysResponse", ApiKeySerializer(many=True)), **error_responses(401, 429)},
    )
    def get(self, request):
        return ok(ApiKeySerializer(coder_api_keys_of(user=request.user), many=True).data)

    @extend_schema(
        operation_id="coder_api_keys_create",
        request=ApiKeyCreateSerializer,
        responses={
            201: envelope("CoderApiKeyCreatedResponse", ApiKeyCreatedSerializer()),
            **error_responses(400, 401, 429),
        },
    )
    def post(self, request):
        data = validated(ApiKeyCreateSerializer, request.data or {})
        issued = auth_services.coder_api_key_create(user=request.user, name=data.get("name", ""))
        body = ApiKeySerializer(issued.api_key).data
        return ok({**body, "key": issued.raw_key}, status=201)


class ApiKeyView(CoderView):
    @extend_schema(
        operation_id="coder_api_keys_revoke",
        request=None,
        responses={200: envelope("CoderApiKeyRevokedResponse", MessageSerializer()), **error_responses(401, 404, 429)},
    )
    def delete(self, request, api_key_id):
        auth_services.coder_api_key_revoke(user=request.user, api_key_id=api_key_id)
        return ok({"message": "API key revoked"})


class IdentitiesView(CoderView):
    """How the signed-in user signs in (Clerk, and any other provider linked to the account)."""

    @extend_schema(
        operation_id="coder_identities_list",
        responses={
            200: envelope("CoderIdentitiesResponse", AccountIdentitiesSerializer()),
            **error_responses(401, 429),
        },
    )
    def get(self, request):
        return ok(account_identities(request.user, identities_of(user=request.user)))
