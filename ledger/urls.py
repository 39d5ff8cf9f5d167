from django.urls import path

from ledger import views

urlpatterns = [
    path("objects", views.ObjectsView.as_view(), name="ledger-objects"),
    path("objects/<uuid:object_id>", views.ObjectDetailView.as_view(), name="ledger-object"),
    path("objects/<uuid:object_id>/transactions", views.ObjectTransactionsView.as_view(), name="ledger-object-txns"),
    path("objects/<uuid:object_id>/verify", views.ObjectVerifyView.as_view(), name="ledger-object-verify"),
    path("transactions", views.TransactionsView.as_view(), name="ledger-transactions"),
    path("aggregates", views.AggregatesView.as_view(), name="ledger-aggregates"),
]
