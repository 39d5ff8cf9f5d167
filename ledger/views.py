"""The ledger endpoints under /cerebro/api/ledger/: thin, over ledger.services and ledger.selectors.

Objects and transactions are resources (viewsets on ledger.urls' router); ``aggregates`` is a
report over all of the user's objects, not a resource with ids: an API view. The ledger signs
people in as the minicontratos app does (accounts.nextauth_authentication) and answers in the
flat envelope of its base path; it imports nothing of cerebro's (the ``ledger-cerebro-independent``
import-linter contract).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.nextauth_authentication import MINICONTRATOS_AUTHENTICATION
from core import errors
from core.openapi import one_object, raises
from core.pagination import paginate_offset
from core.parsers import JsonParser
from core.ratelimit import client_address
from core.serializers import represented
from core.views import ApiView, validated
from core.viewsets import ApiViewSet
from ledger import selectors, serializers, services
from ledger.errors import IDEMPOTENCY_KEY_REUSED, OBJECT_NOT_FOUND

MAX_IDEMPOTENCY_KEY_LENGTH = 255  # the stored key's column
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Same key and body: the first answer again, nothing written twice. Same key, other body: 409. "
    f"At most {MAX_IDEMPOTENCY_KEY_LENGTH} characters.",
)
REPLAYED_HEADER = "Idempotent-Replayed"
# The minicontratos API's general budget, which the ledger shares with the rest of its base path.
GENERAL_BUDGET = ("cerebro.general",)


def _origin(request) -> services.RequestOrigin:
    return services.RequestOrigin(ip=client_address(request), user_agent=request.headers.get("User-Agent", ""))


def _idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        # Never cut short: two keys sharing their first characters would be one key.
        raise errors.VALIDATION(
            f"Validation failed: Idempotency-Key: at most {MAX_IDEMPOTENCY_KEY_LENGTH} characters",
            details={
                "Idempotency-Key": [f"Ensure this header has no more than {MAX_IDEMPOTENCY_KEY_LENGTH} characters."]
            },
        )
    return key or None


def _idempotent_response(request, *, endpoint: str, payload, produce) -> Response:
    result = services.idempotent_call(
        user=request.user,
        key=_idempotency_key(request),
        endpoint=endpoint,
        payload=payload,
        produce=produce,
    )
    response = Response(result.body, status=200)
    if result.replayed:
        response[REPLAYED_HEADER] = "true"
    return response


def _objects_page(queryset, *, limit: int, offset: int) -> Response:
    page = paginate_offset(queryset, limit=limit, offset=offset)
    return Response(
        {
            "objects": serializers.LedgerObjectOutput(page.items, many=True).data,
            "total": page.total,
            "hasMore": page.has_more,
        }
    )


class LedgerApiView(ApiView):
    """Signed in (the app's session cookie or a bearer token), counted against the general rate limit."""

    authentication_classes = MINICONTRATOS_AUTHENTICATION
    permission_classes = (IsAuthenticated,)
    rate_limit_scopes = GENERAL_BUDGET


class LedgerViewSet(ApiViewSet):
    """A ledger resource: signed in as ``LedgerApiView`` is, JSON bodies, the same budget."""

    authentication_classes = MINICONTRATOS_AUTHENTICATION
    permission_classes = (IsAuthenticated,)
    rate_limit_scopes = GENERAL_BUDGET
    parser_classes = [JsonParser]


class LedgerObjectViewSet(LedgerViewSet):
    """The signed-in user's ledger objects, each with its hash chain of transactions."""

    # POST objects is the spec's "create or query": its body is one of two shapes (a new object, or
    # a filter), told apart by the "filter" key, so create picks the serializer.

    lookup_url_kwarg = "object_id"
    not_found = OBJECT_NOT_FOUND
    query_serializers = {"list": serializers.ObjectsListQuery, "transactions": serializers.TransactionsPage}

    def get_queryset(self):
        return selectors.ledger_objects_query(user=self.request.user, object_filter=selectors.ObjectFilter())

    def object_not_found(self, key) -> Exception:
        return OBJECT_NOT_FOUND(details={"objectId": str(key)})

    @extend_schema(
        operation_id="ledger_objects_list",
        summary="The user's objects, newest first, optionally of one type (the app's ledger tool)",
        responses={200: one_object(serializers.ObjectListOutput())},
    )
    def list(self, request):
        query = self.validated_query()
        queryset = selectors.ledger_objects_query(
            user=request.user, object_filter=selectors.ObjectFilter(type_name=query.get("type"))
        )
        return _objects_page(queryset, limit=query["limit"], offset=query["offset"])

    @extend_schema(
        operation_id="ledger_objects_create_or_query",
        summary="Create a ledger object, or query objects with a filter body",
        description=(
            "With `typeName` and `data`: create an object (its chain starts with a `create` transaction). "
            "With `filter`: the user's objects matching it (typeName, status, top-level data values, "
            "createdFrom/createdTo), newest first, with limit/offset."
        ),
        parameters=[IDEMPOTENCY_HEADER],
        request=PolymorphicProxySerializer(
            component_name="LedgerObjectsRequest",
            serializers=[serializers.ObjectCreateInput, serializers.ObjectQueryInput],
            resource_type_field_name=None,
        ),
        responses={
            200: PolymorphicProxySerializer(
                component_name="LedgerObjectsResponse",
                serializers=[serializers.ObjectEnvelope, serializers.ObjectListOutput],
                resource_type_field_name=None,
            ),
        },
    )
    @raises(IDEMPOTENCY_KEY_REUSED)
    def create(self, request):
        if isinstance(request.data, dict) and "filter" in request.data:
            return self._query(request)
        given = validated(serializers.ObjectCreateInput, request.data)

        def create() -> dict:
            ledger_object = services.ledger_object_create(
                user=request.user, type_name=given["typeName"], data=given["data"], origin=_origin(request)
            )
            return {"object": represented(serializers.LedgerObjectOutput, ledger_object)}

        return _idempotent_response(request, endpoint="ledger.objects.create", payload=request.data, produce=create)

    def _query(self, request) -> Response:
        body = validated(serializers.ObjectQueryInput, request.data)
        given = body["filter"]
        queryset = selectors.ledger_objects_query(
            user=request.user,
            object_filter=selectors.ObjectFilter(
                type_name=given.get("typeName"),
                status=given.get("status"),
                data=given.get("data", []),
                created_from=given.get("createdFrom"),
                created_to=given.get("createdTo"),
            ),
        )
        return _objects_page(queryset, limit=body["limit"], offset=body["offset"])

    @extend_schema(
        operation_id="ledger_object_retrieve",
        summary="One ledger object and its current state",
        responses={200: serializers.ObjectEnvelope},
    )
    def retrieve(self, request, object_id):
        return Response({"object": represented(serializers.LedgerObjectOutput, self.get_object())})

    @extend_schema(
        operation_id="ledger_object_transactions",
        summary="The transactions of one object, in chain order",
        responses={200: serializers.TransactionListOutput},
    )
    @action(detail=True, methods=["get"])
    def transactions(self, request, object_id):
        page = self.validated_query()
        rows = paginate_offset(selectors.ledger_transactions_of(ledger_object=self.get_object()), **page)
        return Response(
            {
                "transactions": serializers.LedgerTransactionOutput(rows.items, many=True).data,
                "total": rows.total,
                "hasMore": rows.has_more,
            }
        )

    @extend_schema(
        operation_id="ledger_object_verify",
        summary="Check the object's hash chain and report the first broken link",
        responses={200: serializers.VerifyOutput},
    )
    @action(detail=True, methods=["get"])
    def verify(self, request, object_id):
        report = services.ledger_object_verify(ledger_object=self.get_object())
        return Response(represented(serializers.VerifyOutput, report))


class LedgerTransactionViewSet(LedgerViewSet):
    """Appends to the chains of the signed-in user's objects."""

    # No list: the spec has none (an object's are its objects/<id>/transactions), and no queryset:
    # the service finds the body's objectId among the user's objects.

    @extend_schema(
        operation_id="ledger_transactions_create",
        summary="Append a transaction to an object's chain",
        description=(
            "`data` updates the object's state (its keys replace the state's). The transaction's ip and "
            "user agent are taken from the request; `metadata` in the body is ignored. The minicontratos app's "
            "shape is accepted too: `operationType` (CREATE, UPDATE, DELETE) is the action, lowercased, and "
            "`changes` its data, on the same chain; its `createdBy` is ignored (the author is the signed-in user)."
        ),
        parameters=[IDEMPOTENCY_HEADER],
        request=PolymorphicProxySerializer(
            component_name="LedgerTransactionRequest",
            serializers=[serializers.TransactionInput, serializers.OperationInput],
            resource_type_field_name=None,
        ),
        responses={200: serializers.TransactionEnvelope},
    )
    @raises(OBJECT_NOT_FOUND, IDEMPOTENCY_KEY_REUSED)
    def create(self, request):
        is_operation = isinstance(request.data, dict) and "operationType" in request.data
        given = validated(serializers.OperationInput if is_operation else serializers.TransactionInput, request.data)
        chain_action = given["operationType"].lower() if is_operation else given["action"]
        data = given["changes"] if is_operation else given["data"]

        def append() -> dict:
            txn = services.ledger_transaction_append(
                user=request.user,
                object_id=given["objectId"],
                action=chain_action,
                data=data,
                origin=_origin(request),
            )
            return {"transaction": represented(serializers.LedgerTransactionOutput, txn)}

        return _idempotent_response(
            request, endpoint="ledger.transactions.create", payload=request.data, produce=append
        )


class AggregatesView(LedgerApiView):
    @extend_schema(
        operation_id="ledger_aggregates",
        summary="Counts of the user's objects by type and status, and of transactions, over a date range",
        parameters=[
            OpenApiParameter("typeName", OpenApiTypes.STR, required=False),
            OpenApiParameter("from", OpenApiTypes.DATETIME, required=False, description="ISO 8601 date or date-time"),
            OpenApiParameter("to", OpenApiTypes.DATETIME, required=False, description="ISO 8601; a date means its end"),
        ],
        responses={200: serializers.AggregatesOutput},
    )
    def get(self, request):
        query = validated(serializers.AggregatesQuery, request.query_params)
        aggregates = selectors.ledger_aggregates(
            user=request.user,
            type_name=query.get("typeName"),
            created_from=query.get("from"),
            created_to=query.get("to"),
        )
        return Response({"aggregates": aggregates})
