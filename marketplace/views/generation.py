"""``/generation/jobs/:id`` and ``/generation/templates`` (``/generation/preview``: ``generation_preview.py``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from marketplace.selectors import generation as generation_selectors
from marketplace.serializers.outputs import AnyObjectField, GenerationJobSerializer, SchemaFieldSerializer
from marketplace.views.base import MarketplaceView, errors_for

JobResponse = inline_serializer("MarketplaceGenerationJobEnvelope", {"job": GenerationJobSerializer()})
TemplatesResponse = inline_serializer(
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


class GenerationJobView(MarketplaceView):
    @extend_schema(
        summary="A generation job's status (its owner only)", responses={200: JobResponse, **errors_for(401, 404)}
    )
    def get(self, request, job_id):
        job = generation_selectors.generation_job_get_for_owner(user=request.user, job_id=job_id)
        return Response({"job": GenerationJobSerializer(job).data})


class TemplateListView(MarketplaceView):
    anonymous_methods = ("GET",)

    @extend_schema(summary="Dataset templates", responses={200: TemplatesResponse, **errors_for(401)})
    def get(self, request):
        templates = generation_selectors.templates_active()
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
                    for template in templates
                ]
            }
        )
