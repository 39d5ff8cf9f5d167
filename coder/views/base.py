"""What every Async Coder endpoint shares: its credentials, its general rate limit, open or signed in."""

from __future__ import annotations

from rest_framework.permissions import AllowAny, IsAuthenticated

from coder.authentication import AUTHENTICATION_CLASSES
from core.views import ApiView
from core.viewsets import ApiViewSet


class CoderView(ApiView):
    """A signed-in Async Coder endpoint (JWT, X-API-Key or session cookie), 100 requests / 15 min."""

    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = [IsAuthenticated]
    rate_limit_scopes = ("coder.general",)


class CoderViewSet(ApiViewSet):
    """A resource of the signed-in user (JWT, X-API-Key or session cookie), 100 requests / 15 min."""

    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = [IsAuthenticated]
    rate_limit_scopes = ("coder.general",)


# AllowAny rather than no permission at all: the OpenAPI document then says a credential is optional,
# and one that is sent is still checked.
OPEN_TO_ANYONE = [AllowAny]
