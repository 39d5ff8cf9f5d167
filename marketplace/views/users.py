"""``/users/profile``, ``/users/datasets``, ``/users/models``, ``/users/purchases`` (the signed-in user's own),
``/users/identities`` (how they sign in) and ``/users/profile/email/confirm`` (the mailed link)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.errors import EMAIL_CONFIRMATION_INVALID
from accounts.selectors import identities_of
from accounts.serializers import AccountIdentitiesSerializer, account_identities
from core import errors
from core.openapi import raises
from core.pagination import paginate
from marketplace.selectors import datasets as dataset_selectors
from marketplace.selectors.users import purchases_of_buyer, user_stats
from marketplace.serializers.inputs import PageQuerySerializer, ProfileUpdateSerializer, UserDatasetsQuerySerializer
from marketplace.serializers.outputs import (
    DatasetSerializer,
    UserPurchaseSerializer,
    UserSerializer,
)
from marketplace.services.profiles import profile_email_confirm, profile_update
from marketplace.views.base import PAGE_FIELDS, MarketplaceView, MarketplaceViewSet, page_answer
from marketplace.views.trained_models import ModelListResponse, model_list_response

ProfileResponse = inline_serializer(
    "MarketplaceProfile",
    {
        "user": UserSerializer(),
        "stats": inline_serializer(
            "MarketplaceUserStats",
            {
                "totalDatasets": serializers.IntegerField(),
                "totalModels": serializers.IntegerField(),
                "totalDownloads": serializers.IntegerField(),
                "reputation": serializers.IntegerField(),
            },
        ),
    },
)
UserResponse = inline_serializer("MarketplaceUserEnvelope", {"user": UserSerializer()})
UserDatasetsResponse = inline_serializer(
    "MarketplaceUserDatasets", {"datasets": DatasetSerializer(many=True), **PAGE_FIELDS}
)
UserPurchasesResponse = inline_serializer(
    "MarketplaceUserPurchases", {"purchases": UserPurchaseSerializer(many=True), **PAGE_FIELDS}
)


def _profile_body(user) -> dict:
    stats = user_stats(user=user)
    return {
        "user": UserSerializer(user, context={"stats": stats}).data,
        "stats": {
            "totalDatasets": stats.total_datasets,
            "totalModels": stats.total_models,
            "totalDownloads": stats.total_downloads,
            "reputation": stats.reputation,
        },
    }


class UserViewSet(MarketplaceViewSet):
    """You, the signed-in user: your profile, sign-ins, datasets, models and purchases."""

    body_serializers = {"profile_update": ProfileUpdateSerializer}
    query_serializers = {
        "datasets": UserDatasetsQuerySerializer,
        "models": PageQuerySerializer,
        "purchases": PageQuerySerializer,
    }

    @extend_schema(summary="Your profile and figures", responses={200: ProfileResponse})
    @action(detail=False, methods=["get"])
    def profile(self, request):
        return Response(_profile_body(request.user))

    @extend_schema(
        summary="Update your profile",
        description="A new e-mail address is unverified (`emailVerified: false`) until its owner follows "
        "the confirmation link mailed to it; until then it links no other sign-in to this account.",
        responses={200: UserResponse},
    )
    @profile.mapping.put
    @raises(errors.CONFLICT)
    def profile_update(self, request):
        data = self.validated_body()
        confirm_path = reverse("marketplace-profile-email-confirm")
        user = profile_update(
            user=request.user,
            confirmation_url=lambda token: request.build_absolute_uri(f"{confirm_path}?token={token}"),
            **data,
        )
        return Response({"user": _profile_body(user)["user"]})

    @extend_schema(
        summary="The ways you sign in (wallets, Clerk, NextAuth) and your e-mail address",
        responses={200: AccountIdentitiesSerializer},
    )
    @action(detail=False, methods=["get"])
    def identities(self, request):
        return Response(account_identities(request.user, identities_of(user=request.user)))

    @extend_schema(summary="Your datasets", responses={200: UserDatasetsResponse})
    @action(detail=False, methods=["get"])
    def datasets(self, request):
        q = self.validated_query()
        datasets = dataset_selectors.datasets_of_creator(user=request.user, status=q.get("status"))
        page = paginate(datasets, page=q["page"], limit=q["limit"])
        access = dataset_selectors.dataset_access_for(request.user, page.items)
        return Response(
            page_answer(page, datasets=DatasetSerializer(page.items, many=True, context={"access": access}).data)
        )

    @extend_schema(summary="Models you trained", responses={200: ModelListResponse})
    @action(detail=False, methods=["get"])
    def models(self, request):
        query = {**self.validated_query(), "sortBy": "recent"}
        return model_list_response(request, query, trained_by=request.user)

    @extend_schema(summary="Your dataset purchases", responses={200: UserPurchasesResponse})
    @action(detail=False, methods=["get"])
    def purchases(self, request):
        q = self.validated_query()
        page = paginate(purchases_of_buyer(user=request.user), page=q["page"], limit=q["limit"])
        access = dataset_selectors.dataset_access_for(request.user, [purchase.dataset for purchase in page.items])
        return Response(
            page_answer(page, purchases=UserPurchaseSerializer(page.items, many=True, context={"access": access}).data)
        )


class ProfileEmailConfirmView(MarketplaceView):
    """The link mailed to a new profile address: whoever can read that mailbox confirms it."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        summary="Confirm a profile e-mail address (the link mailed by PUT /users/profile)",
        parameters=[OpenApiParameter("token", str, required=True, description="From the mailed link")],
        responses={
            200: inline_serializer(
                "MarketplaceEmailConfirmed",
                {"email": serializers.EmailField(), "emailVerified": serializers.BooleanField()},
            ),
        },
    )
    @raises(EMAIL_CONFIRMATION_INVALID, errors.CONFLICT)
    def get(self, request):
        user = profile_email_confirm(token=request.query_params.get("token", ""))
        return Response({"email": user.email, "emailVerified": user.email_verified})
