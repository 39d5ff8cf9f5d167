"""The landing page at ``/``: every API with its docs, schema and health links (no outside assets)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_safe

from core.openapi import APIS


def _health_url(api: str) -> str | None:
    try:
        return reverse(f"{api}-health")
    except NoReverseMatch:
        return None


@require_safe
def landing(request: HttpRequest) -> HttpResponse:
    apis = [
        {
            "title": described.title,
            "description": described.description,
            "base": f"/{described.prefix}",
            "docs": reverse(f"{api}-docs"),
            "schema": reverse(f"{api}-schema"),
            "health": _health_url(api),
        }
        for api, described in APIS.items()
    ]
    return render(request, "core/landing.html", {"apis": apis})
