"""The AI model catalog tasks start from; staff edit it in the admin afterwards."""

from decimal import Decimal

from django.db import migrations

ALL = ["debug", "ask", "documentation"]

CATALOG = [
    {
        "name": "gpt-4o",
        "display_name": "GPT-4o",
        "provider": "openai",
        "description": "OpenAI's flagship multimodal model: strong at code changes and explanations",
        "cost_per_token": Decimal("0.0000100000"),
        "max_tokens": 128000,
        "capabilities": ALL,
    },
    {
        "name": "gpt-4o-mini",
        "display_name": "GPT-4o mini",
        "provider": "openai",
        "description": "Small, fast and cheap; good for questions and documentation",
        "cost_per_token": Decimal("0.0000006000"),
        "max_tokens": 128000,
        "capabilities": ALL,
    },
    {
        "name": "gpt-4",
        "display_name": "GPT-4",
        "provider": "openai",
        "description": "Most capable GPT model of its generation",
        "cost_per_token": Decimal("0.0000300000"),
        "max_tokens": 8192,
        "capabilities": ALL,
    },
    {
        "name": "claude-3-5-sonnet-latest",
        "display_name": "Claude 3.5 Sonnet",
        "provider": "anthropic",
        "description": "Anthropic's model for coding and analysis (through an OpenAI-compatible gateway)",
        "cost_per_token": Decimal("0.0000150000"),
        "max_tokens": 200000,
        "capabilities": ALL,
    },
    {
        "name": "llama3.1:8b",
        "display_name": "Llama 3.1 8B (self-hosted)",
        "provider": "ollama",
        "description": "An open model served by Ollama or vLLM; answers questions and writes documentation",
        "cost_per_token": Decimal("0.0000001000"),
        "max_tokens": 8192,
        "capabilities": ["ask", "documentation"],
    },
]


def seed(apps, schema_editor):
    AIModel = apps.get_model("coder", "AIModel")
    for order, entry in enumerate(CATALOG):
        AIModel.objects.update_or_create(name=entry["name"], defaults={**entry, "sort_order": order, "is_active": True})


def unseed(apps, schema_editor):
    AIModel = apps.get_model("coder", "AIModel")
    AIModel.objects.filter(name__in=[entry["name"] for entry in CATALOG], tasks__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("coder", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
