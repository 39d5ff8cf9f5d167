"""The signed-in user (``/api/users/me``): profile and credits, the credit ledger, sign-in identities."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action

from accounts.selectors import identities_of
from accounts.serializers import AccountIdentitiesSerializer, account_identities
from coder.authentication import SESSION_AUTHENTICATION_CLASSES
from coder.responses import ok
from coder.schema import envelope
from coder.selectors.credits import credit_transactions_for
from coder.selectors.users import coder_profile
from coder.serializers.users import (
    CreditTransactionSerializer,
    CreditTransactionsQuerySerializer,
    CreditTransactionsSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from coder.services.auth import coder_profile_update
from coder.services.credits import account_ensure
from coder.views.base import CoderViewSet
from core.pagination import paginate


class UserViewSet(CoderViewSet):
    """The signed-in user, ``me``: the one user a request may address, so there is no queryset."""

    body_serializers = {"me_update": UserUpdateSerializer}
    action_authentication_classes = {"me_update": SESSION_AUTHENTICATION_CLASSES}
    query_serializers = {"credit_transactions": CreditTransactionsQuerySerializer}

    @extend_schema(
        operation_id="coder_users_me",
        summary="Get my profile",
        description="The profile, credits and GitHub connection; the credit account is opened on first use.",
        responses={200: envelope("CoderUserResponse", UserSerializer())},
    )
    @action(detail=False, methods=["get"])
    def me(self, request):
        account = account_ensure(user=request.user)
        return ok(UserSerializer(coder_profile(user=request.user, account=account)).data)

    @extend_schema(
        operation_id="coder_users_me_update",
        summary="Update my profile",
        description="The display name and/or the avatar URL.",
        responses={200: envelope("CoderUserUpdatedResponse", UserSerializer())},
    )
    @me.mapping.put
    def me_update(self, request):
        data = self.validated_body()
        user = coder_profile_update(
            user=request.user, display_name=data.get("displayName"), avatar_url=data.get("avatarUrl")
        )
        account = account_ensure(user=user)
        return ok(UserSerializer(coder_profile(user=user, account=account)).data)

    @extend_schema(
        operation_id="coder_users_me_credit_transactions",
        summary="List my credit transactions",
        description="The credit ledger, newest first, of one type and within a date range if asked.",
        responses={200: envelope("CoderCreditTransactionsResponse", CreditTransactionsSerializer(), paginated=True)},
    )
    @action(detail=False, methods=["get"], url_path="me/credits/transactions")
    def credit_transactions(self, request):
        query = self.validated_query()
        transactions = credit_transactions_for(
            user=request.user, type=query.get("type"), start=query.get("startDate"), end=query.get("endDate")
        )
        page = paginate(transactions, page=query["page"], limit=query["limit"])
        data = {
            "transactions": CreditTransactionSerializer(page.items, many=True).data,
            "total": page.total,
            "page": page.page,
            "limit": page.limit,
        }
        return ok(data, meta=page.meta)

    @extend_schema(
        operation_id="coder_identities_list",
        summary="List my sign-in identities",
        description="How the user signs in: Clerk, and any other provider linked to the account.",
        responses={200: envelope("CoderIdentitiesResponse", AccountIdentitiesSerializer())},
    )
    @action(detail=False, methods=["get"], url_path="me/identities")
    def identities(self, request):
        return ok(account_identities(request.user, identities_of(user=request.user)))
