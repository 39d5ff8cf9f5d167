from django.urls import include, path

urlpatterns: list = [
    path("api/ledger/", include("ledger.urls")),
]
