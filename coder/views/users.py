from __future__ import annotations

from drf_spectacular.utils import extend_schema

from coder.responses import ok
from coder.schema import envelope, error_responses
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
from coder.views.base import CoderView, validated, validated_query
from core.pagination import paginate


class MeView(CoderView):
    """The signed-in user's profile and credits."""

    @extend_schema(
        operation_id="coder_users_me",
        responses={200: envelope("CoderUserResponse", UserSerializer()), **error_responses(401, 429)},
    )
    def get(self, request):
        account = account_ensure(user=request.user)
        return ok(UserSerializer(coder_profile(user=request.user, account=account)).data)

    @extend_schema(
        operation_id="coder_users_me_update",
        request=UserUpdateSerializer,
        responses={200: envelope("CoderUserUpdatedResponse", UserSerializer()), **error_responses(400, 401, 429)},
    )
    def put(self, request):
        data = validated(UserUpdateSerializer, request.data)
        user = coder_profile_update(
            user=request.user, display_name=data.get("displayName"), avatar_url=data.get("avatarUrl")
        )
        account = account_ensure(user=user)
        return ok(UserSerializer(coder_profile(user=user, account=account)).data)


class CreditTransactionsView(CoderView):
    """The signed-in user's credit ledger, newest first."""

    @extend_schema(
        operation_id="coder_users_me_credit_transactions",
        parameters=[CreditTransactionsQuerySerializer],
        responses={
            200: envelope("CoderCreditTransactionsResponse", CreditTransactionsSerializer(), paginated=True),
            **error_responses(400, 401, 429),
        },
    )
    def get(self, request):
        query = validated_query(CreditTransactionsQuerySerializer, request)
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
