"""``/auth/nonce``, ``/auth/login`` (Sign-In with Ethereum), ``/auth/refresh``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.errors import SIWE_MESSAGE_INVALID
from core import errors
from core.openapi import raises
from core.views import validated
from marketplace.selectors.users import user_stats
from marketplace.serializers.inputs import LoginSerializer, RefreshSerializer
from marketplace.serializers.outputs import UserSerializer
from marketplace.services import auth as auth_services
from marketplace.views.base import MarketplaceView

LoginResponse = inline_serializer(
    "MarketplaceLoginResponse",
    {
        "token": serializers.CharField(),
        "refreshToken": serializers.CharField(),
        "user": UserSerializer(),
        "expiresAt": serializers.DateTimeField(),
    },
)
RefreshResponse = inline_serializer(
    "MarketplaceRefreshResponse",
    {
        "token": serializers.CharField(),
        "refreshToken": serializers.CharField(),
        "expiresAt": serializers.DateTimeField(),
    },
)
NonceResponse = inline_serializer(
    "MarketplaceNonceResponse",
    {
        "nonce": serializers.CharField(),
        "issuedAt": serializers.DateTimeField(),
        "expiresAt": serializers.DateTimeField(),
        "domain": serializers.CharField(),
    },
)


class AuthView(MarketplaceView):
    authentication_classes = []
    permission_classes = [AllowAny]
    rate_limit_scopes = ("marketplace.auth",)


class NonceView(AuthView):
    @extend_schema(
        summary="A fresh nonce for a Sign-In with Ethereum message",
        responses={200: NonceResponse},
    )
    def get(self, request):
        return Response(auth_services.siwe_nonce_issue())


class LoginView(AuthView):
    @extend_schema(
        summary="Sign in with a wallet (EIP-4361 message signed with personal_sign)",
        request=LoginSerializer,
        responses={200: LoginResponse},
    )
    @raises(SIWE_MESSAGE_INVALID, errors.UNAUTHORIZED)
    def post(self, request):
        body = validated(LoginSerializer, request.data)
        signed_in = auth_services.wallet_sign_in(
            wallet_address=body["walletAddress"],
            message=body["message"],
            signature=body["signature"],
            user_agent=request.headers.get("User-Agent", ""),
        )
        user = signed_in.user
        return Response(
            {
                "token": signed_in.token,
                "refreshToken": signed_in.refresh_token,
                "user": UserSerializer(user, context={"stats": user_stats(user=user)}).data,
                "expiresAt": signed_in.expires_at,
            }
        )


class RefreshView(AuthView):
    @extend_schema(
        summary="Exchange a refresh token for a new token pair (the old refresh token stops working)",
        request=RefreshSerializer,
        responses={200: RefreshResponse},
    )
    @raises(errors.UNAUTHORIZED)
    def post(self, request):
        body = validated(RefreshSerializer, request.data)
        tokens = auth_services.wallet_session_refresh(refresh_token=body["refreshToken"])
        return Response({"token": tokens.access, "refreshToken": tokens.refresh, "expiresAt": tokens.access_expires_at})
