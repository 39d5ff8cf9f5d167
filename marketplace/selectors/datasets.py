"""Reads about datasets: who may see and download what, the listing with its filters, detail extras."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, F, Max, Min, OuterRef, Prefetch, Q, QuerySet

from core.pagination import Page, paginate_loaded
from marketplace.errors import DATASET_NOT_FOUND
from marketplace.models import Dataset, DatasetTag, Purchase
from marketplace.models.datasets import PREFETCHED_TAGS

# What a dataset of each category is typically used for; shown as the detail's ``useCases`` when
# the dataset has no template of its own to describe them.
CATEGORY_USE_CASES = {
    "finance": [
        ("Fraud detection", "Train classifiers to flag suspicious transactions", "shield"),
        ("Risk modelling", "Stress-test credit and market risk models", "trending-up"),
    ],
    "healthcare": [
        ("Clinical NLP", "Train models on realistic, privacy-safe patient records", "heart"),
        ("Outcome prediction", "Prototype readmission and triage models", "activity"),
    ],
    "ecommerce": [
        ("Recommendations", "Train and evaluate recommender systems", "shopping-cart"),
        ("Demand forecasting", "Forecast sales across products and seasons", "bar-chart"),
    ],
    "nlp": [
        ("Fine-tuning", "Fine-tune language models on labelled examples", "message-square"),
        ("Evaluation", "Benchmark models against known answers", "check-circle"),
    ],
}
DEFAULT_USE_CASES = [
    ("Model training", "Train machine-learning models without exposing real records", "cpu"),
    ("Testing", "Fill development and QA environments with realistic data", "database"),
    ("Prototyping", "Build and demo data products before real data is available", "zap"),
]

SORT_ORDERS = {
    "trending": ("-trending_score", "-created_at", "-id"),
    "recent": ("-created_at", "-id"),
    "downloads": ("-downloads", "-created_at", "-id"),
    "rating": ("-rating", "-stars", "-id"),
}


@dataclass
class DatasetAccess:
    """What one user may do with a set of datasets, loaded once for a page of them."""

    user_id: object | None
    purchased_ids: set = field(default_factory=set)

    def is_creator(self, dataset: Dataset) -> bool:
        return self.user_id is not None and dataset.creator_id == self.user_id

    def has_purchased(self, dataset: Dataset) -> bool:
        return dataset.id in self.purchased_ids

    def can_view(self, dataset: Dataset) -> bool:
        """Anyone, but a private dataset only its creator and its buyers: a purchase is a right that
        outlives the listing's visibility. A deleted dataset no one."""
        if dataset.deleted_at is not None:
            return False
        return (
            dataset.visibility != Dataset.Visibility.PRIVATE or self.is_creator(dataset) or self.has_purchased(dataset)
        )

    def can_download(self, dataset: Dataset) -> bool:
        """Creator, anyone for a free dataset they can view, and buyers."""
        if not self.can_view(dataset):
            return False
        return self.is_creator(dataset) or dataset.price == 0 or self.has_purchased(dataset)


def dataset_access_for(user, datasets: Iterable[Dataset]) -> DatasetAccess:
    """Access for ``user`` (anonymous allowed) over ``datasets``: one query for the purchases."""
    if user is None or not user.is_authenticated:
        return DatasetAccess(user_id=None)
    # Paid datasets, and private ones (bought while they were listed, perhaps at a price since set to 0).
    ids = [
        dataset.id
        for dataset in datasets
        if dataset.creator_id != user.pk and (dataset.price > 0 or dataset.visibility == Dataset.Visibility.PRIVATE)
    ]
    purchased: set = set()
    if ids:
        purchased = set(
            Purchase.objects.filter(buyer=user, dataset_id__in=ids, status=Purchase.Status.COMPLETED).values_list(
                "dataset_id", flat=True
            )
        )
    return DatasetAccess(user_id=user.pk, purchased_ids=purchased)


def datasets_for_output() -> QuerySet[Dataset]:
    """Live datasets with everything the output serializer reads."""
    return (
        Dataset.objects.filter(deleted_at__isnull=True)
        .select_related("creator__wallet_profile")
        .prefetch_related(
            Prefetch("tag_rows", queryset=DatasetTag.objects.only("dataset_id", "name"), to_attr=PREFETCHED_TAGS)
        )
    )


def datasets_visible_to(*, user) -> QuerySet[Dataset]:
    """The live datasets ``user`` (anonymous allowed) may see, ready for output: every one that is
    not private, and a private one to its creator and its buyers (``DatasetAccess.can_view`` as a
    query, for the viewsets' ``get_queryset``)."""
    visible = ~Q(visibility=Dataset.Visibility.PRIVATE)
    if user is not None and user.is_authenticated:
        bought = Purchase.objects.filter(buyer=user, dataset=OuterRef("pk"), status=Purchase.Status.COMPLETED)
        visible |= Q(creator=user) | Exists(bought)
    return datasets_for_output().filter(visible)


def dataset_get_visible(*, user, dataset_id) -> Dataset:
    """The dataset if ``user`` may see it (its creator and buyers may see it private); NOT_FOUND
    otherwise (a private dataset is not admitted to exist)."""
    dataset = datasets_visible_to(user=user).filter(pk=dataset_id).first()
    if dataset is None:
        raise DATASET_NOT_FOUND()
    return dataset


# The columns a listing reads of each dataset (``.values()``): what the output and DatasetAccess use.
LISTING_COLUMNS = (
    "id", "name", "description", "category", "creator_id", "size_bytes", "rows", "tokens", "format", "schema",
    "is_verified", "price", "price_per_row", "currency", "license", "visibility", "downloads", "views", "purchases",
    "stars", "rating", "preview_rows", "preview_cid", "full_cid", "transaction_hash", "block_number",
    "generation_lineage", "created_at", "updated_at", "last_modified", "status", "deleted_at",
)  # fmt: skip


class DatasetRow:
    """One dataset of a listing as its columns: read with ``.values()`` instead of built as a model
    (a page of 50 wide datasets with their creators was ~a third of the listing's CPU). Its
    attributes are the model's (``DatasetAccess`` and the facets read it as they read a Dataset),
    plus ``creator_username``, ``creator_wallet_address`` (None without a wallet) and ``tag_names``.
    ``serializers.outputs.dataset_rows_representation`` turns rows into the spec's Dataset."""

    def __init__(self, columns: dict, tag_names: list[str]) -> None:
        self.__dict__.update(columns)
        self.tag_names = tag_names

    @property
    def pk(self):
        return self.id

    @property
    def is_locked(self) -> bool:
        return self.price > 0


def dataset_rows(keys: list) -> list[DatasetRow]:
    """The datasets of ``keys`` as DatasetRows (any order), with their creators and tags: two queries."""
    if not keys:
        return []
    tags_by_dataset: dict = {}
    for dataset_id, name in DatasetTag.objects.filter(dataset_id__in=keys).values_list("dataset_id", "name"):
        tags_by_dataset.setdefault(dataset_id, []).append(name)
    columns = Dataset.objects.filter(pk__in=keys).values(
        *LISTING_COLUMNS,
        creator_username=F("creator__username"),
        creator_wallet_address=F("creator__wallet_profile__wallet_address"),
    )
    return [DatasetRow(row, sorted(tags_by_dataset.get(row["id"], ()))) for row in columns]


@dataclass(frozen=True)
class DatasetListParams:
    search: str = ""
    category: str = ""
    tags: tuple[str, ...] = ()
    sort_by: str = "trending"
    visibility: str = "public"
    page: int = 1
    limit: int = 20
    min_rating: Decimal | None = None
    max_price: Decimal | None = None
    verified: bool | None = None
    creator: str = ""  # a wallet address (any case) or a user id


@dataclass(frozen=True)
class DatasetPage:
    page: Page  # its items are the page's datasets as DatasetRows (dataset_rows_representation)
    categories: list[str]
    tags: list[str]
    price_min: Decimal | None
    price_max: Decimal | None


def _scope(user, visibility: str) -> Q:
    """Which datasets a listing may show: public ready ones, plus the user's own for private/all."""
    public = Q(visibility=Dataset.Visibility.PUBLIC, status=Dataset.Status.READY)
    signed_in = user is not None and user.is_authenticated
    if visibility == "private":
        return Q(creator=user, visibility=Dataset.Visibility.PRIVATE) if signed_in else Q(pk__in=[])
    if visibility == "all":
        return public | Q(creator=user) if signed_in else public
    return public


def _creator_is(creator: str) -> Q:
    """The creator named the way ``creatorId`` shows it: a wallet address, else a user id."""
    try:
        return Q(creator_id=uuid.UUID(creator))
    except ValueError:
        return Q(creator__wallet_profile__wallet_address_lower=creator.lower())


def dataset_list(*, user, params: DatasetListParams) -> DatasetPage:
    """A page of datasets matching ``params``, and the categories, tags and price range of all matches."""
    matching = Dataset.objects.filter(_scope(user, params.visibility), deleted_at__isnull=True)
    if params.search:
        tag_match = DatasetTag.objects.filter(dataset=OuterRef("pk"), name__iexact=params.search)
        matching = matching.filter(
            Q(name__icontains=params.search) | Q(description__icontains=params.search) | Exists(tag_match)
        )
    if params.category:
        matching = matching.filter(category__iexact=params.category)
    if params.tags:
        matching = matching.filter(
            Exists(DatasetTag.objects.filter(dataset=OuterRef("pk"), name__in=[tag.lower() for tag in params.tags]))
        )
    if params.min_rating is not None:
        matching = matching.filter(rating__gte=params.min_rating)
    if params.max_price is not None:
        matching = matching.filter(price__lte=params.max_price)
    if params.verified is not None:
        matching = matching.filter(is_verified=params.verified)
    if params.creator:
        matching = matching.filter(_creator_is(params.creator))

    page = paginate_loaded(
        matching.order_by(*SORT_ORDERS.get(params.sort_by, SORT_ORDERS["trending"])),
        page=params.page,
        limit=params.limit,
        load=dataset_rows,
    )

    if page.total and len(page.items) == page.total:
        # The page holds every match (the first page of a short list): the facets are the page's own.
        categories = sorted({dataset.category for dataset in page.items})
        tags = sorted({name for dataset in page.items for name in dataset.tag_names})
        prices = {
            "low": min(dataset.price for dataset in page.items),
            "high": max(dataset.price for dataset in page.items),
        }
    elif page.total:
        # The categories and the price range of every match in one query: per category, its prices' range.
        by_category = list(
            matching.order_by()
            .values("category")
            .annotate(low=Min("price"), high=Max("price"))
            .values_list("category", "low", "high")
        )
        categories = sorted({category for category, _, _ in by_category})
        tags = sorted(
            set(
                DatasetTag.objects.filter(dataset__in=matching.order_by().values("pk"))
                .order_by()
                .values_list("name", flat=True)
                .distinct()
            )
        )
        prices = {"low": min(low for _, low, _ in by_category), "high": max(high for _, _, high in by_category)}
    else:
        categories, tags, prices = [], [], {"low": None, "high": None}
    return DatasetPage(
        page=page,
        categories=categories,
        tags=tags,
        price_min=prices["low"],
        price_max=prices["high"],
    )


def dataset_related(*, dataset: Dataset, limit: int = 6) -> list[Dataset]:
    """Public ready datasets of the same category or sharing a tag, most trending first."""
    tag_names = dataset.tag_names
    shares_tag = Exists(DatasetTag.objects.filter(dataset=OuterRef("pk"), name__in=tag_names))
    related = (
        datasets_for_output()
        .filter(visibility=Dataset.Visibility.PUBLIC, status=Dataset.Status.READY)
        .filter(Q(category__iexact=dataset.category) | shares_tag)
        .exclude(pk=dataset.pk)
        .order_by("-trending_score", "-created_at")
    )
    return list(related[:limit])


def dataset_use_cases(*, dataset: Dataset) -> list[dict]:
    """The template's use cases when the dataset has one, else those of its category (or general ones)."""
    if dataset.template_id and dataset.template and dataset.template.use_cases:
        return [
            {"title": use_case, "description": f"{use_case} with {dataset.template.name} data", "icon": "sparkles"}
            for use_case in dataset.template.use_cases
        ]
    cases = CATEGORY_USE_CASES.get(dataset.category.lower(), DEFAULT_USE_CASES)
    return [{"title": title, "description": description, "icon": icon} for title, description, icon in cases]


def datasets_of_creator(*, user, status: str | None = None) -> QuerySet[Dataset]:
    datasets = datasets_for_output().filter(creator=user)
    if status:
        datasets = datasets.filter(status=status)
    return datasets.order_by("-created_at", "-id")
