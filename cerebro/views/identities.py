"""``GET /api/account/identities``: how the signed-in user signs in (not in the spec; docs/security.md).

The signed-in account is a singleton resource (``api/account``); its identities are an action of it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.selectors import identities_of
from accounts.serializers import AccountIdentitiesSerializer, account_identities
from cerebro.api import CerebroViewSet


class AccountViewSet(CerebroViewSet):
    @extend_schema(
        operation_id="account_identities",
        summary="The identities on your account (NextAuth, Clerk, wallets) and your e-mail address",
        responses={200: AccountIdentitiesSerializer},
    )
    @action(detail=False, methods=["get"])
    def identities(self, request):
        return Response(account_identities(request.user, identities_of(user=request.user)))
