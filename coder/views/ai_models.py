from __future__ import annotations

from drf_spectacular.utils import extend_schema

from coder.responses import ok
from coder.schema import envelope, error_responses
from coder.selectors.ai_models import ai_models_available
from coder.serializers.ai_models import AIModelSerializer, AIModelsSerializer
from coder.views.base import PublicCoderView


class AIModelsView(PublicCoderView):
    """The AI models tasks can run on (the catalog staff edit in the admin)."""

    @extend_schema(
        operation_id="coder_ai_models_list",
        responses={200: envelope("CoderAIModelsResponse", AIModelsSerializer()), **error_responses(401, 429)},
    )
    def get(self, request):
        return ok({"models": AIModelSerializer(ai_models_available(), many=True).data})
