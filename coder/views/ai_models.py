"""The AI models tasks can run on: the catalog staff edit in the admin, open to anyone."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema

from coder.responses import ok
from coder.schema import envelope
from coder.selectors.ai_models import ai_models_available
from coder.serializers.ai_models import AIModelSerializer, AIModelsSerializer
from coder.views.base import OPEN_TO_ANYONE, CoderViewSet


class AIModelViewSet(CoderViewSet):
    """The AI models tasks can run on."""

    permission_classes = OPEN_TO_ANYONE

    def get_queryset(self):
        return ai_models_available()

    @extend_schema(
        operation_id="coder_ai_models_list",
        summary="List AI models",
        description="The active models, in catalog order, with their price and capabilities.",
        responses={200: envelope("CoderAIModelsResponse", AIModelsSerializer())},
    )
    def list(self, request):
        return ok({"models": AIModelSerializer(self.get_queryset(), many=True).data})
