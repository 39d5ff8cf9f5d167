"""``GET /api/account/identities``: how the signed-in user signs in (not in the spec; docs/security.md)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from accounts.selectors import identities_of
from accounts.serializers import AccountIdentitiesSerializer, account_identities
from cerebro.api import CerebroApiView
from core.error_schemas import flat_error_responses


class IdentitiesView(CerebroApiView):
    @extend_schema(
        operation_id="account_identities",
        summary="The identities on your account (NextAuth, Clerk, wallets) and your e-mail address",
        responses={200: AccountIdentitiesSerializer, **flat_error_responses()},
    )
    def get(self, request):
        return Response(account_identities(request.user, identities_of(user=request.user)))
