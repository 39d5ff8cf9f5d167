"""``/generation/jobs/:id`` and ``/generation/templates`` (``/generation/preview``: ``generation_preview.py``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from core.openapi import one_object
from marketplace.errors import GENERATION_JOB_NOT_FOUND
from marketplace.selectors import generation as generation_selectors
from marketplace.serializers.outputs import AnyObjectField, GenerationJobSerializer, SchemaFieldSerializer
from marketplace.views.base import OPEN_TO_ANYONE, MarketplaceViewSet

JobResponse = inline_serializer("MarketplaceGenerationJobEnvelope", {"job": GenerationJobSerializer()})
TemplatesResponse = one_object(
    inline_serializer(
        "MarketplaceTemplates",
        {
            "templates": serializers.ListField(
                child=inline_serializer(
                    "MarketplaceTemplate",
                    {
                        "id": serializers.CharField(),
                        "name": serializers.CharField(),
                        "description": serializers.CharField(),
                        "category": serializers.CharField(),
                        "schema": SchemaFieldSerializer(many=True),
                        "previewData": serializers.ListField(child=AnyObjectField()),
                        "useCases": serializers.ListField(child=serializers.CharField()),
                        "estimatedRows": serializers.IntegerField(),
                    },
                )
            )
        },
    )
)


class GenerationJobViewSet(MarketplaceViewSet):
    """Your generation jobs: another user's is a 404, as if it did not exist."""

    lookup_url_kwarg = "job_id"
    not_found = GENERATION_JOB_NOT_FOUND

    def get_queryset(self):
        return generation_selectors.generation_jobs_of(user=self.request.user)

    @extend_schema(summary="A generation job's status (its owner only)", responses={200: JobResponse})
    def retrieve(self, request, job_id):
        return Response({"job": GenerationJobSerializer(self.get_object()).data})


class TemplateViewSet(MarketplaceViewSet):
    """Dataset templates: anyone may list them."""

    action_permission_classes = {"list": OPEN_TO_ANYONE}

    def get_queryset(self):
        return generation_selectors.templates_active()

    @extend_schema(summary="Dataset templates", responses={200: TemplatesResponse})
    def list(self, request):
        return Response(
            {
                "templates": [
                    {
                        "id": template.pk,
                        "name": template.name,
                        "description": template.description,
                        "category": template.category,
                        "schema": template.schema,
                        "previewData": template.preview_data,
                        "useCases": template.use_cases,
                        "estimatedRows": template.estimated_rows,
                    }
                    for template in self.get_queryset()
                ]
            }
        )
