"""The Aurigraph Analytics API under /analytics/api/v1. Thin: validate, call a service, answer.

Success answers are ``{"status": "ok", ...}``; errors are ``{"status": "error", "error": {code,
message, details}}`` (core.envelopes.ANALYTICS). Bodies are read straight from the request and
validated by the pydantic models in analytics.serializers.

An install's data (``users/<user_id>``: delete or anonymise, ``privacy``, ``data``) is a viewset,
``AnalyticsUserViewSet``; the rest are verbs an install calls (register, heartbeat, track, batch,
report, submit, and staff's scrub dry run): API views.
"""

from __future__ import annotations

import re

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from analytics import conf
from analytics.authentication import STAFF_AUTHENTICATION_CLASSES, CanViewDashboard
from analytics.errors import INSTALL_PROOF_REQUIRED, USER_EXISTS
from analytics.serializers import (
    AnalyticsBatchRequest,
    AnalyticsBatchResponse,
    AnalyticsDeleteResponse,
    AnalyticsErrorReportRequest,
    AnalyticsErrorReportResponse,
    AnalyticsExportResponse,
    AnalyticsFeedbackRequest,
    AnalyticsFeedbackResponse,
    AnalyticsHeartbeatRequest,
    AnalyticsHeartbeatResponse,
    AnalyticsPrivacyRequest,
    AnalyticsPrivacyResponse,
    AnalyticsRegisterRequest,
    AnalyticsRegisterResponse,
    AnalyticsScrubDryRunRequest,
    AnalyticsScrubDryRunResponse,
    AnalyticsTrackRequest,
    AnalyticsTrackResponse,
    dump,
    parse,
)
from analytics.services import events, installs, reports, scrubbing, subjects
from core import errors
from core.openapi import raises
from core.ratelimit import anonymous_identity
from core.views import ApiView
from core.viewsets import ApiViewSet

_USER_ID = re.compile(r"^[0-9a-fA-F]{16}$")


USER_ID_PARAMETER = OpenApiParameter(
    "user_id", str, OpenApiParameter.PATH, description="The install's 16-character hex hash"
)
INSTALL_SECRET_PARAMETER = OpenApiParameter(
    conf.INSTALL_SECRET_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="The install secret POST /users/register returned (the proof of the install)",
)


def _user_id(value: str) -> str:
    if not _USER_ID.match(value):
        raise errors.VALIDATION(
            "Validation failed: user_id: must be a 16-character hex hash",
            details={"user_id": ["Must be a 16-character hex hash."]},
        )
    return value.lower()


class AnalyticsView(ApiView):
    """No authentication (the spec's); rate-limited per client by a keyed hash of its address."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    rate_limit_scopes = ("analytics.ingest",)

    def get_rate_limit_identity(self, request: Request) -> str:
        return anonymous_identity(request)


class RegisterView(AnalyticsView):
    @extend_schema(
        operation_id="analytics_users_register",
        summary="Register an install",
        description="Answers the install secret once (install_secret): keep it, it is the proof the "
        "data-subject requests need. A user_id known here already is a 409 that changes nothing.",
        request=AnalyticsRegisterRequest,
        responses={201: AnalyticsRegisterResponse},
    )
    @raises(USER_EXISTS)
    def post(self, request: Request) -> Response:
        registration = installs.user_register(request=parse(AnalyticsRegisterRequest, request.body))
        body = AnalyticsRegisterResponse(
            user_id=registration.user_id, registered=registration.registered, install_secret=registration.secret
        )
        return Response(dump(body), status=201)


class TrackView(AnalyticsView):
    @extend_schema(
        operation_id="analytics_usage_track",
        summary="Track one usage event",
        description="An unknown user_id is registered on the fly; an opted-out install's event is not stored.",
        request=AnalyticsTrackRequest,
        responses={200: AnalyticsTrackResponse},
    )
    def post(self, request: Request) -> Response:
        result = events.usage_event_track(event=parse(AnalyticsTrackRequest, request.body))
        return Response(dump(AnalyticsTrackResponse(stored=result.stored, event_id=result.id)), status=200)


class BatchView(AnalyticsView):
    @extend_schema(
        operation_id="analytics_usage_batch",
        summary="Track up to 500 usage events at once",
        description="All events are validated first, then stored in one transaction: all of them or none. "
        "An error names the failing event by its index: details.events.<index>.<field>.",
        request=AnalyticsBatchRequest,
        responses={200: AnalyticsBatchResponse},
    )
    def post(self, request: Request) -> Response:
        batch = parse(AnalyticsBatchRequest, request.body)
        result = events.usage_events_track_batch(events=batch.events)
        return Response(
            dump(AnalyticsBatchResponse(accepted=result.accepted, stored=result.stored, dropped=result.dropped)),
            status=200,
        )


class ErrorReportView(AnalyticsView):
    @extend_schema(
        operation_id="analytics_errors_report",
        summary="Report an error",
        description="The message, stack trace and context are scrubbed before anything is stored.",
        request=AnalyticsErrorReportRequest,
        responses={201: AnalyticsErrorReportResponse},
    )
    def post(self, request: Request) -> Response:
        result = reports.error_report_create(report=parse(AnalyticsErrorReportRequest, request.body))
        body = AnalyticsErrorReportResponse(
            stored=result.stored,
            error_id=result.report.pk if result.report else None,
            group_id=result.group.pk if result.group else None,
        )
        return Response(dump(body), status=201)


class FeedbackView(AnalyticsView):
    @extend_schema(
        operation_id="analytics_feedback_submit",
        summary="Submit feedback",
        request=AnalyticsFeedbackRequest,
        responses={201: AnalyticsFeedbackResponse},
    )
    def post(self, request: Request) -> Response:
        result = reports.feedback_submit(feedback=parse(AnalyticsFeedbackRequest, request.body))
        return Response(dump(AnalyticsFeedbackResponse(stored=result.stored, feedback_id=result.id)), status=201)


class HeartbeatView(AnalyticsView):
    @extend_schema(
        operation_id="analytics_users_heartbeat",
        summary="Heartbeat of an active install",
        description="Moves last_seen forward and counts the install as active on the heartbeat's day.",
        request=AnalyticsHeartbeatRequest,
        responses={200: AnalyticsHeartbeatResponse},
    )
    def post(self, request: Request) -> Response:
        result = installs.heartbeat_record(heartbeat=parse(AnalyticsHeartbeatRequest, request.body))
        return Response(dump(AnalyticsHeartbeatResponse(stored=result.stored, last_seen=result.last_seen)), status=200)


@raises(INSTALL_PROOF_REQUIRED)
class AnalyticsUserViewSet(ApiViewSet):
    """Data-subject requests on an install's data: they need the install secret (X-Install-Secret),
    and are limited tighter than ingestion."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    rate_limit_scopes = ("analytics.ingest", "analytics.subject")
    lookup_url_kwarg = "user_id"
    # The id is the install's 16-character hex hash, checked in each action (a 400 in the spec's
    # words); the install secret, not a queryset, is what entitles the caller (analytics.services.subjects).
    lookup_value_converter = "str"
    not_found = None

    def get_rate_limit_identity(self, request: Request) -> str:
        return anonymous_identity(request)

    def install_secret(self, request: Request) -> str | None:
        return request.headers.get(conf.INSTALL_SECRET_HEADER)

    @extend_schema(
        operation_id="analytics_users_delete",
        summary="Delete the install's data, or anonymise it with ?mode=anonymize",
        parameters=[
            USER_ID_PARAMETER,
            INSTALL_SECRET_PARAMETER,
            OpenApiParameter(
                "mode",
                str,
                OpenApiParameter.QUERY,
                enum=["delete", "anonymize"],
                description="delete (default) removes every row; anonymize keeps the rows without the id",
            ),
        ],
        request=None,
        responses={200: AnalyticsDeleteResponse},
    )
    def destroy(self, request: Request, user_id: str) -> Response:
        mode = request.query_params.get("mode", "delete")
        if mode not in {"delete", "anonymize"}:
            raise errors.VALIDATION(
                "Validation failed: mode: must be delete or anonymize",
                details={"mode": ["Must be delete or anonymize."]},
            )
        user_id = _user_id(user_id)
        result = subjects.user_data_delete(user_id=user_id, mode=mode, secret=self.install_secret(request))
        return Response(
            dump(AnalyticsDeleteResponse(user_id=user_id, mode=result.mode, counts=result.counts)), status=200
        )

    @extend_schema(
        operation_id="analytics_users_privacy",
        summary="Set the install's analytics preference (opt out or back in)",
        parameters=[USER_ID_PARAMETER, INSTALL_SECRET_PARAMETER],
        request=AnalyticsPrivacyRequest,
        responses={200: AnalyticsPrivacyResponse},
    )
    @action(detail=True, methods=["put"])
    def privacy(self, request: Request, user_id: str) -> Response:
        user = subjects.user_privacy_update(
            user_id=_user_id(user_id),
            request=parse(AnalyticsPrivacyRequest, request.body),
            secret=self.install_secret(request),
        )
        body = AnalyticsPrivacyResponse(
            user_id=user.user_id,
            analytics_enabled=user.analytics_enabled,
            privacy_consent_version=user.privacy_consent_version,
        )
        return Response(dump(body), status=200)

    @extend_schema(
        operation_id="analytics_users_data",
        summary="Export everything stored for the install",
        parameters=[USER_ID_PARAMETER, INSTALL_SECRET_PARAMETER],
        request=None,
        responses={200: AnalyticsExportResponse},
    )
    @action(detail=True, methods=["get"])
    def data(self, request: Request, user_id: str) -> Response:
        data = subjects.user_data_export(user_id=_user_id(user_id), secret=self.install_secret(request))
        return Response({"status": "ok", **data}, status=200)


class ScrubDryRunView(ApiView):
    """Staff with the dashboard's view permission (as the admin's scrub page): what the scrubber would
    remove from a payload. Nothing is stored but an audit entry."""

    authentication_classes = STAFF_AUTHENTICATION_CLASSES
    permission_classes = [CanViewDashboard]
    rate_limit_scopes = ("analytics.ingest",)

    @extend_schema(
        operation_id="analytics_scrub_dry_run",
        summary="Scrub dry run (staff)",
        description="Staff session (admin login) only, with the analytics dashboard's view permission "
        "(as the admin's scrub dry-run page). Answers the scrubbed "
        "payload and every rule hit (JSON path, rule, span, matched text, replacement).",
        request=AnalyticsScrubDryRunRequest,
        responses={200: AnalyticsScrubDryRunResponse},
    )
    def post(self, request: Request) -> Response:
        payload = parse(AnalyticsScrubDryRunRequest, request.body).payload
        result = scrubbing.scrub_dry_run(payload=payload, actor=request.user)
        body = AnalyticsScrubDryRunResponse(scrubbed=result.scrubbed, hits=result.hits, rules=result.per_rule)
        return Response(dump(body), status=200)
