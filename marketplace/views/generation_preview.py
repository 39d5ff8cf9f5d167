"""``POST /generation/preview``: up to 50 rows of a schema, generated synchronously by the engine.

Mounted by ``marketplace/urls.py`` at ``generation/preview`` (name ``marketplace-generation-preview``). It
runs the engine in the request, so it draws on the dataset operations' budget (100 an hour per user).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from core.fields import AsciiIntegerField
from core.views import validated
from marketplace import engine
from marketplace.serializers.outputs import AnyObjectField
from marketplace.views.base import DatasetOperationView


class PreviewConfigSerializer(serializers.Serializer):
    schema = serializers.ListField(child=serializers.JSONField(), allow_empty=False)
    rows = AsciiIntegerField(min_value=1, max_value=engine.PREVIEW_MAX_ROWS, default=10)
    model = serializers.CharField(required=False, allow_blank=True, max_length=200)
    quality = serializers.ChoiceField(choices=["fast", "balanced", "high"], default="balanced")
    seed = AsciiIntegerField(
        required=False, min_value=0, max_value=2**62, help_text="Same schema and seed, same rows (default: random)"
    )


@extend_schema_serializer(component_name="MarketplaceGenerationPreviewRequest")
class PreviewRequestSerializer(serializers.Serializer):
    config = PreviewConfigSerializer()


PreviewResponse = inline_serializer(
    "MarketplaceGenerationPreview",
    {
        "preview": serializers.ListField(child=AnyObjectField()),
        "generationTime": serializers.FloatField(help_text="Seconds"),
        "estimatedCost": serializers.FloatField(help_text="USD, for the rows asked for"),
    },
)


class GenerationPreviewView(DatasetOperationView):
    @extend_schema(
        summary="Generate a preview of a schema (at most 50 rows, synchronous)",
        request=PreviewRequestSerializer,
        responses={200: PreviewResponse},
    )
    def post(self, request):
        config = validated(PreviewRequestSerializer, request.data)["config"]
        result = engine.preview(config["schema"], config["rows"], seed=config.get("seed"), quality=config["quality"])
        return Response(
            {"preview": result.rows, "generationTime": result.generation_time, "estimatedCost": result.estimated_cost}
        )
