"""The ledger's paths under /cerebro/api/ledger/: objects and transactions on a router (the
paths byte for byte as before: no trailing slash, UUID ids), the aggregates report an API view."""

from django.urls import path

from core.routers import ApiRouter
from ledger.views import AggregatesView, LedgerObjectViewSet, LedgerTransactionViewSet

router = ApiRouter()
router.register("objects", LedgerObjectViewSet, basename="ledger-object")
router.register("transactions", LedgerTransactionViewSet, basename="ledger-transaction")

urlpatterns = [
    *router.urls,
    path("aggregates", AggregatesView.as_view(), name="ledger-aggregates"),
]
