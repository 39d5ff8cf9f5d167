from __future__ import annotations

from django.db.models import QuerySet

from coder.models import AIModel


def ai_models_available() -> QuerySet[AIModel]:
    """The active models, in catalog order."""
    return AIModel.objects.filter(is_active=True).order_by("sort_order", "name")
