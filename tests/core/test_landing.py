"""The landing page at / lists every API with working docs, schema and health links."""

import re

import pytest

from core.openapi import APIS

pytestmark = pytest.mark.django_db


def test_landing_page_lists_every_api_with_links_that_answer(client):
    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200, html[:500]
    assert response["Content-Type"].startswith("text/html")
    for described in APIS.values():
        assert described.title in html
        assert f'href="/{described.prefix}docs/"' in html
    for link in set(re.findall(r'href="(/[^"]*)"', html)) - {"/admin/"}:
        assert client.get(link).status_code in (200, 503), link  # /health may be 503 without services


def test_landing_page_loads_nothing_from_outside():
    from django.template.loader import render_to_string

    html = render_to_string("core/landing.html", {"apis": []})

    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_admin_view_site_link_lands_on_the_landing_page(admin_client):
    response = admin_client.get("/admin/")

    assert 'href="/"' in response.content.decode()
    assert (r := admin_client.get("/")).status_code == 200, r.content
