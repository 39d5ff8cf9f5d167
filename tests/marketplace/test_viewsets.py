"""The marketplace's resources are viewsets on a router (docs/architecture.md, "Viewsets and API views"):
each spec path resolves to the resource's viewset and the action serving it, the RPC-shaped paths stay
API views, and ownership is the viewset's queryset (what a user may address), not a check per action."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import Resolver404, resolve
from django.utils import timezone

from core.views import ApiView
from core.viewsets import ApiViewSet
from marketplace.selectors.datasets import dataset_access_for, datasets_visible_to
from marketplace.urls import urlpatterns
from marketplace.views.analytics import DatasetAnalyticsViewSet
from marketplace.views.datasets import DatasetViewSet
from marketplace.views.generation import GenerationJobViewSet, TemplateViewSet
from marketplace.views.storage import UploadViewSet
from marketplace.views.trained_models import ModelViewSet
from marketplace.views.users import UserViewSet
from marketplace.views.webhooks import WebhookViewSet
from tests.marketplace.conftest import API, client_for
from tests.marketplace.factories import DatasetFactory, PurchaseFactory, WalletProfileFactory

ID = str(uuid.uuid4())

# (method, path under /marketplace/v1/ as the spec writes it, the viewset, the action serving it)
RESOURCE_OPERATIONS = [
    ("GET", "datasets", DatasetViewSet, "list"),
    ("POST", "datasets", DatasetViewSet, "create"),
    ("GET", f"datasets/{ID}", DatasetViewSet, "retrieve"),
    ("PUT", f"datasets/{ID}", DatasetViewSet, "update"),
    ("DELETE", f"datasets/{ID}", DatasetViewSet, "destroy"),
    ("POST", f"datasets/{ID}/star", DatasetViewSet, "star"),
    ("POST", f"datasets/{ID}/purchase", DatasetViewSet, "purchase"),
    ("GET", f"datasets/{ID}/download", DatasetViewSet, "download"),
    ("GET", "models", ModelViewSet, "list"),
    ("POST", "models", ModelViewSet, "create"),
    ("GET", f"models/{ID}", ModelViewSet, "retrieve"),
    ("GET", f"models/{ID}/download", ModelViewSet, "download"),
    ("GET", f"generation/jobs/{ID}", GenerationJobViewSet, "retrieve"),
    ("GET", "generation/templates", TemplateViewSet, "list"),
    ("GET", "users/profile", UserViewSet, "profile"),
    ("PUT", "users/profile", UserViewSet, "profile_update"),
    ("GET", "users/identities", UserViewSet, "identities"),
    ("GET", "users/datasets", UserViewSet, "datasets"),
    ("GET", "users/models", UserViewSet, "models"),
    ("GET", "users/purchases", UserViewSet, "purchases"),
    ("GET", f"analytics/datasets/{ID}", DatasetAnalyticsViewSet, "retrieve"),
    ("POST", "storage/upload", UploadViewSet, "create"),
    ("GET", "webhooks", WebhookViewSet, "list"),
    ("POST", "webhooks", WebhookViewSet, "create"),
    ("DELETE", f"webhooks/{ID}", WebhookViewSet, "destroy"),
    ("GET", f"webhooks/{ID}/deliveries", WebhookViewSet, "deliveries"),
]

# Paths that are verbs, or whose "id" is a credential: API views, on purpose (docs/architecture.md).
RPC_PATHS = [
    "auth/nonce",
    "auth/login",
    "auth/refresh",
    "generation/preview",
    "files/some-signed-token",
    "users/profile/email/confirm",
]


@pytest.mark.parametrize(
    ("method", "path", "viewset", "action"),
    RESOURCE_OPERATIONS,
    ids=[f"{method} {path.replace(ID, ':id')}" for method, path, _, _ in RESOURCE_OPERATIONS],
)
def test_each_resource_path_is_an_action_of_its_viewset_on_the_router(method, path, viewset, action):
    match = resolve(f"{API}/{path}")

    view_class = getattr(match.func, "cls", None)
    assert view_class is viewset
    assert issubclass(view_class, ApiViewSet)
    assert match.func.actions[method.lower()] == action


@pytest.mark.parametrize("path", RPC_PATHS)
def test_rpc_shaped_paths_stay_api_views(path):
    view_class = getattr(resolve(f"{API}/{path}").func, "view_class", None)

    assert view_class is not None and issubclass(view_class, ApiView)


def test_every_marketplace_route_is_a_viewset_route_or_a_listed_rpc_view():
    # A resource path wired by hand beside the router would be neither.
    # (A viewset's view knows the actions its methods map to; an API view's does not.)
    by_view = {
        str(route.pattern): route.callback.cls if hasattr(route.callback, "actions") else None for route in urlpatterns
    }

    hand_wired = {pattern for pattern, viewset in by_view.items() if viewset is None}
    assert hand_wired == {
        "auth/nonce",
        "auth/login",
        "auth/refresh",
        "generation/preview",
        "files/<str:token>",
        "users/profile/email/confirm",
    }
    assert all(issubclass(viewset, ApiViewSet) for viewset in by_view.values() if viewset is not None)
    assert {resolve(f"{API}/{path}").route for _, path, _, _ in RESOURCE_OPERATIONS} == {
        f"marketplace/v1/{pattern}" for pattern, viewset in by_view.items() if viewset is not None
    }


def test_a_malformed_id_matches_no_route():
    # The router's UUID converter: the old paths' <uuid:...>, byte for byte.
    with pytest.raises(Resolver404):
        resolve(f"{API}/datasets/not-a-uuid")


# --- Ownership is the queryset ------------------------------------------------------------------


@pytest.fixture
def datasets_in_every_state(creator, buyer):
    return {
        "public": DatasetFactory(creator=creator),
        "public_paid": DatasetFactory(creator=creator, price=Decimal("1")),
        "private": DatasetFactory(creator=creator, visibility="private"),
        "private_bought": PurchaseFactory(
            dataset=DatasetFactory(creator=creator, visibility="private"), buyer=buyer
        ).dataset,
        "private_pending": PurchaseFactory(
            dataset=DatasetFactory(creator=creator, visibility="private"), buyer=buyer, status="pending"
        ).dataset,
        "private_of_buyer": DatasetFactory(creator=buyer, visibility="private"),
        "deleted": DatasetFactory(creator=creator, deleted_at=timezone.now()),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["creator", "buyer", "stranger", "anonymous"])
def test_the_dataset_queryset_is_exactly_what_the_user_may_view(datasets_in_every_state, creator, buyer, who):
    user = {"creator": creator, "buyer": buyer, "stranger": WalletProfileFactory().user}.get(who, AnonymousUser())
    datasets = list(datasets_in_every_state.values())
    access = dataset_access_for(user, datasets)

    visible = set(datasets_visible_to(user=user).values_list("pk", flat=True))

    assert visible == {dataset.pk for dataset in datasets if access.can_view(dataset)}


@pytest.mark.django_db
def test_a_dataset_outside_the_users_queryset_is_a_404_and_a_visible_one_not_theirs_a_403(
    datasets_in_every_state, buyer, stranger
):
    bought = datasets_in_every_state["private_bought"]
    change = {"name": "Renamed"}

    # The buyer may see the private dataset they bought (it is in their queryset), not change it.
    forbidden = client_for(buyer).put(f"{API}/datasets/{bought.pk}", change, format="json")
    assert forbidden.status_code == 403, forbidden.json()
    assert forbidden.json()["error"]["message"] == "Only the dataset's creator may do this"

    # To a stranger it is not there at all, for every action of the viewset.
    stranger_client = client_for(stranger)
    for method, url in [
        ("get", f"{API}/datasets/{bought.pk}"),
        ("put", f"{API}/datasets/{bought.pk}"),
        ("delete", f"{API}/datasets/{bought.pk}"),
        ("post", f"{API}/datasets/{bought.pk}/star"),
        ("get", f"{API}/datasets/{bought.pk}/download"),
        ("get", f"{API}/analytics/datasets/{bought.pk}"),
    ]:
        response = getattr(stranger_client, method)(url, change, format="json")
        assert response.status_code == 404, (method, url, response.status_code)
        assert response.json()["error"]["message"] == "Dataset not found"


def test_per_action_rules_are_declared_not_branched():
    # Reading datasets and models is open, changing them is not; model downloads alone spend the
    # dataset budget; creator-only dataset actions carry their object permission.
    assert {"list", "retrieve", "download"} <= set(DatasetViewSet.action_permission_classes)
    assert DatasetViewSet.action_permission_classes["update"] == DatasetViewSet.action_permission_classes["destroy"]
    assert ModelViewSet.rate_limit_scopes == ()
    assert ModelViewSet.action_rate_limit_scopes == {"download": DatasetViewSet.rate_limit_scopes}
    assert set(DatasetViewSet.body_serializers) == {"create", "update", "star", "purchase"}
    assert set(DatasetViewSet.query_serializers) == {"list", "download"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["datasets", "datasets/{id}", "datasets/{id}/star", "users/profile", "storage/upload"])
def test_options_answers_as_an_api_view_did(dataset_free, stranger, path):
    # core.viewsets.ResourceMetadata: DRF's own would look for a serializer_class and the URL's object.
    response = client_for(stranger).options(f"{API}/{path.format(id=dataset_free.pk)}")

    assert response.status_code == 200, response.json()
    assert sorted(response.json()) == ["description", "name", "parses", "renders"]
