"""Datasets: listing with filters, detail, create with its job, update, soft delete, star."""

from decimal import Decimal

import pytest
from django.db import connection

from marketplace.models import Dataset, DatasetDailyStats, GenerationJob
from tests.marketplace.conftest import API
from tests.marketplace.factories import DatasetFactory, PurchaseFactory

pytestmark = pytest.mark.django_db

SCHEMA = [
    {"name": "amount", "type": "float", "constraints": {"min": 0, "max": 100}},
    {"name": "merchant", "type": "string", "constraints": {"pattern": "^[A-Z]+$"}},
    {"name": "kind", "type": "enum", "constraints": {"enum": ["a", "b"]}},
]


def create_body(**overrides):
    body = {
        "name": "Card fraud",
        "description": "Transactions",
        "category": "Finance",
        "tags": ["Fraud", "cards"],
        "schema": SCHEMA,
        "visibility": "public",
        "license": "CC-BY-4.0",
        "price": 0.05,
        "pricePerRow": 0,
        "datasetType": "custom",
        "config": {"rows": 1000, "format": "csv", "quality": "high", "verification": True},
    }
    body.update(overrides)
    return body


# --- listing -------------------------------------------------------------------------------------


def test_list_shows_public_ready_datasets_with_pagination_and_filters(api_client, dataset_free, dataset_paid):
    DatasetFactory(visibility="private")
    DatasetFactory(deleted_at="2024-01-01T00:00:00Z")
    r = api_client.get(f"{API}/datasets")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert {d["id"] for d in body["datasets"]} == {str(dataset_free.id), str(dataset_paid.id)}
    assert body["pagination"] == {"page": 1, "limit": 20, "total": 2, "totalPages": 1}
    assert body["filters"]["categories"] == ["finance"]
    assert body["filters"]["tags"] == ["cards", "fraud"]
    assert body["filters"]["priceRange"] == {"min": 0, "max": 0.05}


def test_the_full_cid_is_shown_only_to_who_may_download(api_client, dataset_free, dataset_paid):
    by_id = {d["id"]: d for d in api_client.get(f"{API}/datasets").json()["datasets"]}
    assert by_id[str(dataset_free.id)]["fullFilecoinCID"] == dataset_free.full_cid
    assert by_id[str(dataset_paid.id)]["fullFilecoinCID"] is None
    assert by_id[str(dataset_paid.id)]["isLocked"] is True


def test_private_datasets_are_listed_only_to_their_creator(creator_client, stranger_client, dataset_private):
    own = creator_client.get(f"{API}/datasets", {"visibility": "private"}).json()
    assert [d["id"] for d in own["datasets"]] == [str(dataset_private.id)]
    other = stranger_client.get(f"{API}/datasets", {"visibility": "all"}).json()
    assert str(dataset_private.id) not in {d["id"] for d in other["datasets"]}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"search": "weather"}, ["weather"]),
        ({"category": "health"}, ["patients"]),
        ({"tags": "climate"}, ["weather"]),
        ({"tags": ["climate", "medical"]}, ["patients", "weather"]),
        ({"tags": "climate,medical"}, ["patients", "weather"]),
        ({"minRating": 4}, ["patients"]),
        ({"maxPrice": 0.5}, ["weather"]),
        ({"verified": "true"}, ["patients"]),
        ({"verified": "false"}, ["weather"]),
    ],
)
def test_list_filters(api_client, params, expected):
    DatasetFactory(name="weather", category="climate", tags=["climate"], price=Decimal("0.1"), rating=Decimal(3))
    DatasetFactory(name="patients", category="health", tags=["medical"], price=Decimal(2), rating=4.5, is_verified=True)
    r = api_client.get(f"{API}/datasets", params)
    assert r.status_code == 200, r.json()
    assert sorted(d["name"] for d in r.json()["datasets"]) == expected


@pytest.mark.parametrize(
    ("sort_by", "expected"),
    [
        ("downloads", ["b", "a", "c"]),
        ("rating", ["c", "a", "b"]),
        ("trending", ["a", "c", "b"]),
        ("recent", ["c", "b", "a"]),
    ],
)
def test_list_sorting(api_client, sort_by, expected):
    DatasetFactory(name="a", downloads=5, rating=3, trending_score=9)
    DatasetFactory(name="b", downloads=9, rating=1, trending_score=1)
    DatasetFactory(name="c", downloads=1, rating=5, trending_score=5)
    r = api_client.get(f"{API}/datasets", {"sortBy": sort_by})
    assert [d["name"] for d in r.json()["datasets"]] == expected


def test_list_pages_and_caps_the_limit(api_client):
    DatasetFactory.create_batch(5)
    r = api_client.get(f"{API}/datasets", {"page": 2, "limit": 2})
    assert r.json()["pagination"] == {"page": 2, "limit": 2, "total": 5, "totalPages": 3}
    assert len(r.json()["datasets"]) == 2
    too_many = api_client.get(f"{API}/datasets", {"limit": 101})
    assert too_many.status_code == 400, too_many.json()


def test_list_query_count_does_not_grow_with_the_page(buyer_client, django_assert_max_num_queries):
    for dataset in DatasetFactory.create_batch(30, price=Decimal(1), tags=["x", "y"]):
        PurchaseFactory(dataset=dataset)
    with django_assert_max_num_queries(10):
        r = buyer_client.get(f"{API}/datasets", {"limit": 30})
    assert len(r.json()["datasets"]) == 30


# --- detail --------------------------------------------------------------------------------------


def test_detail_has_preview_use_cases_related_and_access(stranger_client, dataset_paid, dataset_free):
    dataset_paid.preview_data = [{"amount": 1}]
    dataset_paid.save()
    r = stranger_client.get(f"{API}/datasets/{dataset_paid.id}")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["preview"] == [{"amount": 1}]
    assert body["useCases"] and {"title", "description", "icon"} == set(body["useCases"][0])
    assert [d["id"] for d in body["relatedDatasets"]] == [str(dataset_free.id)]
    assert body["userAccess"] == {"canView": True, "canDownload": False, "hasPurchased": False}
    assert body["dataset"]["creator"]["walletAddress"]


def test_detail_for_a_buyer_says_purchased(buyer, buyer_client, dataset_paid):
    PurchaseFactory(dataset=dataset_paid, buyer=buyer)
    body = buyer_client.get(f"{API}/datasets/{dataset_paid.id}").json()
    assert body["userAccess"] == {"canView": True, "canDownload": True, "hasPurchased": True}
    assert body["dataset"]["fullFilecoinCID"] == dataset_paid.full_cid


def test_a_view_is_counted_per_day(stranger_client, dataset_free):
    stranger_client.get(f"{API}/datasets/{dataset_free.id}")
    stranger_client.get(f"{API}/datasets/{dataset_free.id}")
    dataset_free.refresh_from_db()
    assert dataset_free.views == 2
    assert DatasetDailyStats.objects.get(dataset=dataset_free).views == 2


def test_private_and_deleted_datasets_are_not_found_for_others(stranger_client, creator_client, dataset_private):
    r = stranger_client.get(f"{API}/datasets/{dataset_private.id}")
    assert r.status_code == 404, r.json()
    assert r.json()["error"]["code"] == "NOT_FOUND"
    answer = creator_client.get(f"{API}/datasets/{dataset_private.id}")
    assert answer.status_code == 200, answer.json()
    Dataset.objects.filter(pk=dataset_private.pk).update(deleted_at="2024-01-01T00:00:00Z")
    answer = creator_client.get(f"{API}/datasets/{dataset_private.id}")
    assert answer.status_code == 404, answer.json()


# --- create --------------------------------------------------------------------------------------


def test_create_makes_a_generating_dataset_and_a_queued_job(
    creator_client, creator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = creator_client.post(f"{API}/datasets", create_body(), format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["dataset"]["status"] == "generating"
    assert body["dataset"]["tags"] == ["cards", "fraud"]
    assert body["dataset"]["category"] == "finance"
    assert body["dataset"]["price"] == 0.05
    assert [f["name"] for f in body["dataset"]["schema"]] == ["amount", "merchant", "kind"]
    job = body["generationJob"]
    assert job["status"] == "queued" and job["progress"] == 0
    assert job["config"]["rows"] == 1000 and job["config"]["format"] == "csv"
    assert job["datasetId"] == body["dataset"]["id"] and job["userId"] == str(creator.id)
    # The job reaches the engine only once the creation has committed.
    assert GenerationJob.objects.get(pk=job["id"]).status == "queued"
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    ("augmentation", "steps"),
    [
        ({"enabled": True, "variations": 3, "noise": 0.05}, ["variations:3", "noise:0.05"]),
        ({"enabled": True, "variations": 10, "noise": 0.2}, ["variations:10", "noise:0.2"]),
        ({"enabled": True}, ["variations:1", "noise:0.05"]),  # the engine's defaults, spelled out
        ({"enabled": False, "variations": 3}, []),
        (None, []),
    ],
)
def test_the_lineage_lists_the_augmentation_steps_the_engine_applies(creator_client, augmentation, steps):
    # given a generation config with (or without) augmentation
    config = {"rows": 100, "format": "csv", **({"augmentation": augmentation} if augmentation else {})}
    # when the dataset is created
    r = creator_client.post(f"{API}/datasets", create_body(config=config), format="json")
    # then its lineage names each step as the engine's Augmentation understands the config
    assert r.status_code == 201, r.json()
    lineage = r.json()["dataset"]["generationLineage"]
    assert lineage["augmentationSteps"] == steps
    assert Dataset.objects.get(pk=r.json()["dataset"]["id"]).generation_lineage["augmentationSteps"] == steps


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ([], "schema"),
        ([{"name": "a", "type": "colour"}], "schema[0]"),
        ([{"name": "a", "type": "integer", "constraints": {"min": 5, "max": 1}}], "schema[0]"),
        ([{"name": "a", "type": "string", "constraints": {"pattern": "(unclosed"}}], "schema[0]"),
        ([{"name": "a", "type": "enum", "constraints": {"enum": []}}], "schema[0]"),
        ([{"name": "a", "type": "enum"}], "schema[0]"),
        ([{"name": "a", "type": "boolean", "constraints": {"min": 1}}], "schema[0]"),
        ([{"name": "a", "type": "string"}, {"name": "A", "type": "integer"}], "schema[1]"),
        ([{"type": "string"}], "schema[0]"),
    ],
)
def test_create_rejects_bad_schemas(creator_client, schema, problem):
    r = creator_client.post(f"{API}/datasets", create_body(schema=schema), format="json")
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert problem in r.json()["error"]["details"]


@pytest.mark.parametrize(
    "config",
    [
        {"rows": 0, "format": "csv"},
        {"rows": 10, "format": "xml"},
        {"rows": 10, "quality": "perfect"},
        {"rows": 10, "augmentation": {"enabled": True, "noise": 3}},
    ],
)
def test_create_rejects_bad_configs(creator_client, config):
    r = creator_client.post(f"{API}/datasets", create_body(config=config), format="json")
    assert r.status_code == 400, r.json()
    assert "config" in r.json()["error"]["details"]


def test_create_from_a_template_uses_its_schema(creator_client):
    body = create_body(datasetType="template", templateId="financial-transactions", schema=None)
    r = creator_client.post(f"{API}/datasets", body, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["dataset"]["schema"][0]["name"] == "transaction_id"
    assert r.json()["dataset"]["generationLineage"]["seedData"] == "financial-transactions"
    unknown = creator_client.post(f"{API}/datasets", {**body, "templateId": "nope"}, format="json")
    assert unknown.status_code == 400, unknown.json()


def test_a_sixth_concurrent_generation_is_rate_limited(creator_client):
    for _ in range(5):
        answer = creator_client.post(f"{API}/datasets", create_body(), format="json")
        assert answer.status_code == 201, answer.json()
    r = creator_client.post(f"{API}/datasets", create_body(), format="json")
    assert r.status_code == 429, r.json()
    assert r.json()["error"]["code"] == "RATE_LIMITED"


def test_create_needs_sign_in(api_client):
    r = api_client.post(f"{API}/datasets", create_body(), format="json")
    assert r.status_code == 401, r.json()


# --- update, delete, star --------------------------------------------------------------------------


def test_creator_updates_metadata(creator_client, dataset_free):
    r = creator_client.put(
        f"{API}/datasets/{dataset_free.id}",
        {"name": "Renamed", "tags": ["new"], "price": 1.25, "visibility": "restricted"},
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["dataset"]["name"] == "Renamed"
    assert r.json()["dataset"]["tags"] == ["new"]
    assert r.json()["dataset"]["price"] == 1.25


@pytest.mark.parametrize("price", ["0.123456789012345678", "123456789012345678", "1.000000000000000001"])
def test_a_price_is_stored_exactly_or_refused(creator_client, dataset_free, price):
    r = creator_client.put(f"{API}/datasets/{dataset_free.id}", {"price": price}, format="json")
    if connection.vendor == "sqlite":  # REAL: 15 significant digits
        assert r.status_code == 400, r.json()
        assert "15 significant digits" in r.json()["error"]["details"]["price"][0]
        assert Dataset.objects.get(pk=dataset_free.pk).price == 0
    else:
        assert r.status_code == 200, r.json()
        assert Dataset.objects.get(pk=dataset_free.pk).price == Decimal(price)


def test_a_price_of_fifteen_significant_digits_is_stored_exactly(creator_client, dataset_free):
    r = creator_client.put(f"{API}/datasets/{dataset_free.id}", {"pricePerRow": "0.000123456789012345"}, format="json")
    assert r.status_code == 200, r.json()
    assert Dataset.objects.get(pk=dataset_free.pk).price_per_row == Decimal("0.000123456789012345")


def test_others_may_not_update_or_delete(stranger_client, dataset_free, dataset_private):
    r = stranger_client.put(f"{API}/datasets/{dataset_free.id}", {"name": "mine"}, format="json")
    assert r.status_code == 403, r.json()
    assert r.json()["error"]["code"] == "FORBIDDEN"
    answer = stranger_client.delete(f"{API}/datasets/{dataset_free.id}")
    assert answer.status_code == 403, answer.json()
    answer = stranger_client.put(f"{API}/datasets/{dataset_private.id}", {"name": "x"}, format="json")
    assert answer.status_code == 404, answer.json()
    dataset_free.refresh_from_db()
    assert dataset_free.name != "mine" and dataset_free.deleted_at is None


def test_delete_is_soft_and_hides_the_dataset_from_everyone(creator_client, api_client, dataset_free):
    r = creator_client.delete(f"{API}/datasets/{dataset_free.id}")
    assert r.status_code == 200, r.json()
    assert r.json() == {"message": "Dataset deleted successfully"}
    assert Dataset.objects.filter(pk=dataset_free.pk).exists()
    answer = api_client.get(f"{API}/datasets/{dataset_free.id}")
    assert answer.status_code == 404, answer.json()
    assert api_client.get(f"{API}/datasets").json()["pagination"]["total"] == 0


def test_star_is_idempotent(buyer_client, stranger_client, dataset_free):
    url = f"{API}/datasets/{dataset_free.id}/star"
    assert buyer_client.post(url, {"starred": True}, format="json").json() == {"starred": True, "totalStars": 1}
    assert buyer_client.post(url, {"starred": True}, format="json").json() == {"starred": True, "totalStars": 1}
    assert stranger_client.post(url, {"starred": True}, format="json").json()["totalStars"] == 2
    assert buyer_client.post(url, {"starred": False}, format="json").json() == {"starred": False, "totalStars": 1}
    assert buyer_client.post(url, {"starred": False}, format="json").json() == {"starred": False, "totalStars": 1}


def test_star_of_a_private_dataset_is_not_found(stranger_client, dataset_private):
    r = stranger_client.post(f"{API}/datasets/{dataset_private.id}/star", {"starred": True}, format="json")
    assert r.status_code == 404, r.json()


def test_dataset_operations_are_limited_to_100_an_hour(api_client, settings):
    settings.RATE_LIMIT_MULTIPLIER = 0.02  # 2 an hour
    statuses = [api_client.get(f"{API}/datasets").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


# --- the Synthik web app (synthik-frontend), as it calls and reads the listing -------------------


def test_the_web_apps_listing_pages_show_each_creator_and_load_every_page(api_client, creator, stranger):
    # Given 14 public datasets of two creators
    for index in range(14):
        DatasetFactory(creator=creator if index % 2 else stranger, name=f"d{index}")

    # When the datasets page loads its first page and "load more" while currentPage < totalPages,
    # as pages/datasets.tsx does (fetch(`${baseUrl}/datasets?page=${page}&limit=6`), signed out)
    seen, page = [], 1
    while True:
        r = api_client.get(f"{API}/datasets?page={page}&limit=6")
        assert r.status_code == 200, r.json()
        body = r.json()
        for item in body["datasets"]:
            # transformDataset: creatorId.substring(0, 6) + '...' + creatorId.substring(len - 4)
            assert isinstance(item["creatorId"], str) and len(item["creatorId"]) >= 10, item
            assert item["creatorId"] == item["creator"]["walletAddress"], item
            seen.append(item["id"])
        if not page < body["totalPages"]:
            break
        page += 1

    # Then three pages reach every dataset once, each item naming its creator's wallet
    assert body["totalPages"] == body["pagination"]["totalPages"] == 3
    assert len(seen) == len(set(seen)) == 14


def test_the_web_apps_profile_lists_a_creators_datasets_by_wallet_address(api_client, creator, stranger):
    mine = {str(DatasetFactory(creator=creator).id) for _ in range(2)}
    DatasetFactory(creator=stranger)
    DatasetFactory(creator=creator, visibility="private")
    address = creator.wallet_profile.wallet_address

    # pages/profile.tsx: fetch(`${baseUrl}/datasets?creator=${walletAddress}`), signed out
    for given in (address, address.lower(), str(creator.pk)):
        r = api_client.get(f"{API}/datasets?creator={given}")
        assert r.status_code == 200, r.json()
        assert {item["id"] for item in r.json()["datasets"]} == mine, given
        assert r.json()["totalPages"] == 1

    assert api_client.get(f"{API}/datasets?creator=0x{'0' * 40}").json()["datasets"] == []


def test_a_creator_without_a_wallet_is_named_by_user_id(api_client):
    dataset = DatasetFactory()  # a user of another product, no wallet profile

    item = api_client.get(f"{API}/datasets").json()["datasets"][0]

    assert item["creatorId"] == str(dataset.creator_id)


def test_every_list_answer_carries_total_pages_at_the_top(creator, creator_client):
    for _ in range(3):
        DatasetFactory(creator=creator)

    for path in ("datasets", "users/datasets", "users/models", "users/purchases", "models"):
        r = creator_client.get(f"{API}/{path}", {"limit": 2})
        assert r.status_code == 200, r.json()
        assert r.json()["totalPages"] == r.json()["pagination"]["totalPages"], path


@pytest.mark.parametrize(
    "augmentation",
    [
        {"enabled": False, "variations": 0, "noise": 0},
        {"enabled": False, "variations": 1, "noise": 20},  # CreateDatasetFlow.tsx's defaults (noise in %)
    ],
)
def test_a_disabled_augmentation_accepts_a_forms_numbers(creator_client, augmentation):
    config = {"rows": 100, "format": "json", "augmentation": augmentation}

    r = creator_client.post(f"{API}/datasets", create_body(config=config), format="json")

    assert r.status_code == 201, r.json()
    assert r.json()["dataset"]["generationLineage"]["augmentationSteps"] == []
    job = GenerationJob.objects.get(pk=r.json()["generationJob"]["id"])
    assert job.config["augmentation"] == {"enabled": False}


@pytest.mark.parametrize(
    ("augmentation", "field"),
    [({"enabled": True, "variations": 0}, "variations"), ({"enabled": True, "noise": 20}, "noise")],
)
def test_an_enabled_augmentation_keeps_its_ranges(creator_client, augmentation, field):
    r = creator_client.post(
        f"{API}/datasets", create_body(config={"rows": 100, "augmentation": augmentation}), format="json"
    )

    assert r.status_code == 400, r.json()
    assert field in str(r.json()["error"]["details"]["config"]), r.json()


def test_a_listing_that_fits_its_page_takes_its_filters_from_the_page(api_client, dataset_free, dataset_paid):
    # Given a listing whose matches all fit on one page
    DatasetFactory(category="health", price=Decimal("1.5"), tags=["vitals"])

    # When it is read whole, and again a dataset a page (the filters then come from the database)
    with_page_facets = api_client.get(f"{API}/datasets?limit=20").json()["filters"]
    from_the_database = api_client.get(f"{API}/datasets?limit=1").json()["filters"]

    # Then both describe every match alike
    assert with_page_facets == from_the_database
    assert with_page_facets["categories"] == ["finance", "health"]
    assert with_page_facets["tags"] == ["cards", "fraud", "vitals"]
    assert with_page_facets["priceRange"] == {"min": 0, "max": 1.5}


def test_a_listing_of_fifty_datasets_costs_the_same_few_queries(api_client, django_assert_num_queries):
    # Given fifty public datasets, each with tags
    for number in range(50):
        DatasetFactory(tags=[f"tag-{number}", "shared"])

    # When they are listed on one page: the page's keys, its rows, their tags (the filters come
    # from the page); a listing of more than a page adds the filters' two queries
    with django_assert_num_queries(3):
        whole = api_client.get(f"{API}/datasets?limit=50")
    with django_assert_num_queries(5):
        api_client.get(f"{API}/datasets?limit=10")

    # Then every row came with its tags
    assert whole.status_code == 200, whole.content
    assert all(sorted(d["tags"]) == d["tags"] and "shared" in d["tags"] for d in whole.json()["datasets"])
