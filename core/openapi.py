"""OpenAPI generation shared by every API (the schema class); see core/api_docs.py for the URLs."""

from __future__ import annotations

from dataclasses import dataclass

from drf_spectacular.openapi import AutoSchema

from core.envelopes import envelope_for_path


@dataclass(frozen=True)
class ApiDescription:
    """One product API: what its docs page and the landing page call it, and where it lives."""

    title: str
    description: str
    prefix: str
    urlconf: str


APIS = {
    "telemetry": ApiDescription(
        "NextGen Cloud API",
        "Shared error fixes for the NextGen CLI: API keys, learnings uploaded by the CLI, and the "
        "pattern set every client downloads. Sign in with an `X-API-Key` (POST /telemetry/api/keys).",
        "telemetry/",
        "telemetry.urls",
    ),
    "coder": ApiDescription(
        "Async Coder API",
        "AI coding tasks on GitHub repositories: tasks that clone, change, commit, push and open a "
        "pull request, repositories, credits and API keys. Real-time task events on `/coder/ws`.",
        "coder/",
        "coder.urls",
    ),
    "marketplace": ApiDescription(
        "Synthik API",
        "The synthetic-dataset marketplace: datasets, generation and training jobs, purchases, "
        "webhooks and storage. Sign in with Ethereum (SIWE); job progress on `/marketplace/ws`.",
        "marketplace/v1/",
        "marketplace.urls",
    ),
    "analytics": ApiDescription(
        "Aurigraph Analytics API",
        "Anonymous usage, error and feedback analytics for the Jeeves4coders CLI: installs, events "
        "and the rights of an install over its data; staff dashboards.",
        "analytics/api/v1/",
        "analytics.urls",
    ),
    "cerebro": ApiDescription(
        "minicontratos API",
        "CEREBRO memory, chat with a language model, files, chat history and the append-only "
        "ledger of the minicontratos web app. Signs in with the app's NextAuth / Auth.js session.",
        "cerebro/",
        "cerebro.urls",
    ),
}


class PlatformAutoSchema(AutoSchema):
    """Tags every operation with the name of its API, so the combined document groups by API."""

    def get_tags(self) -> list[str]:
        return [envelope_for_path(self.path).name]
