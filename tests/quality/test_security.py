"""Security checks beyond authorization: CSRF on cookie-authenticated writes, uploads stored and served safely.

Secure headers (HSTS with TLS, nosniff, frame denial, CORS allow-list) are tests/core/
test_security_headers.py; ``check --deploy`` and bandit run in .ci/run (make check-deploy, make lint).

CSRF: three credentials ride on cookies a browser sends by itself, so their writes need more than
the cookie.
- coder's ``async_coder_session`` cookie: Django's CSRF check (cookie + ``X-CSRFToken``).
- cerebro's NextAuth session cookie: the request's ``Origin`` must be this site or a trusted origin.
  A request without ``Origin`` is let through (browsers send it on every cross-site write; a
  non-browser client cannot be driven by another site).
- Django's session cookie of staff (the admin, analytics' staff endpoint): Django's CSRF check.
Bearer tokens and API keys are not sent by browsers on their own, so they need no CSRF token.

Uploads: files are stored under MEDIA_ROOT, named by their content hash (no extension, nothing a
server could execute or map to a type), and never served from a static path; downloads go through
signed links answered with a type the server chose, ``nosniff``, and (marketplace) as attachments.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts import services as account_services
from core import storage
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEXTAUTH_SECRET = "quality-nextauth-secret-" + "s" * 20
# Types a browser would render as active content if a download were served inline under them.
ACTIVE_TYPES = ("text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml", "text/javascript")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


# --- CSRF ---------------------------------------------------------------------------------------------


@pytest.fixture
def coder_cookie_client():
    from coder import conf

    user = UserFactory()
    issued = account_services.auth_session_start(user=user, product="coder")
    client = APIClient(enforce_csrf_checks=True)
    client.cookies[conf.SESSION_COOKIE_NAME] = issued.session_key
    return client


def test_a_coder_session_cookie_write_without_a_csrf_token_is_refused(coder_cookie_client):
    assert (r := coder_cookie_client.get("/coder/api/users/me")).status_code == 200, r.content

    refused = coder_cookie_client.post("/coder/api/users/me/api-keys", {"name": "ci"}, format="json")

    assert refused.status_code == 403, refused.json()
    assert refused.json()["success"] is False and refused.json()["error"]["code"] == "FORBIDDEN"


def test_a_coder_session_cookie_write_with_the_csrf_token_is_accepted(coder_cookie_client):
    token = "quality" + "x" * 25  # a CSRF secret of the right length and alphabet
    coder_cookie_client.cookies[django_settings.CSRF_COOKIE_NAME] = token

    accepted = coder_cookie_client.post(
        "/coder/api/users/me/api-keys", {"name": "ci"}, format="json", HTTP_X_CSRFTOKEN=token
    )

    assert accepted.status_code in (200, 201), accepted.json()


def test_a_coder_bearer_write_needs_no_csrf_token():
    user = UserFactory()
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {account_services.auth_session_start(user=user, product='coder').tokens.access}"
    )
    r = client.post("/coder/api/users/me/api-keys", {"name": "ci"}, format="json")
    assert r.status_code in (200, 201), r.json()


@pytest.fixture
def nextauth_client(settings):
    from accounts.identity.nextauth import encode_session_token

    settings.NEXTAUTH_SECRET = NEXTAUTH_SECRET
    now = int(time.time())
    claims = {"sub": "csrf-user", "email": "csrf@example.com", "iat": now, "exp": now + 3600, "jti": "csrf"}
    client = APIClient()
    client.cookies["next-auth.session-token"] = encode_session_token(claims, NEXTAUTH_SECRET)
    return client


def _ledger_write(client, **headers):
    return client.post("/cerebro/api/ledger/objects", {"typeName": "csrf", "data": {"a": 1}}, format="json", **headers)


def test_a_nextauth_cookie_write_from_a_foreign_origin_is_refused(nextauth_client):
    refused = _ledger_write(nextauth_client, HTTP_ORIGIN="https://evil.example")
    assert refused.status_code == 403, refused.json()
    assert refused.json()["error"] == "authorization_error"


@pytest.mark.parametrize("origin", ["http://testserver", None])
def test_a_nextauth_cookie_write_from_this_site_or_a_non_browser_is_accepted(nextauth_client, origin):
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    assert (r := _ledger_write(nextauth_client, **headers)).status_code == 200, r.content


def test_a_nextauth_cookie_write_from_a_trusted_origin_is_accepted(nextauth_client, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example"]
    assert (r := _ledger_write(nextauth_client, HTTP_ORIGIN="https://app.example")).status_code == 200, r.content


def test_a_staff_django_session_write_needs_the_csrf_token():
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(staff)
    body = {"payload": "my email is ada@example.com"}

    refused = client.post("/analytics/api/v1/scrub/dry-run", body, format="json")
    assert refused.status_code == 403, refused.json()

    token = "quality" + "y" * 25
    client.cookies[django_settings.CSRF_COOKIE_NAME] = token
    accepted = client.post("/analytics/api/v1/scrub/dry-run", body, format="json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200, accepted.json()


# --- Uploads --------------------------------------------------------------------------------------------


def _stored_path(cid: str) -> Path:
    return Path(django_settings.MEDIA_ROOT) / storage.path_for_cid(cid)


def _assert_stored_inertly(cid: str) -> None:
    path = _stored_path(cid).resolve()
    assert path.is_file(), path
    assert path.is_relative_to(Path(django_settings.MEDIA_ROOT).resolve())
    assert path.name == cid and "." not in path.name  # no extension a server could map or execute
    assert not path.is_relative_to(Path(django_settings.STATIC_ROOT).resolve())
    assert not path.stat().st_mode & 0o111, "stored with an execute bit"


def _assert_safe_download(response, *, attachment: bool) -> None:
    content_type = response["Content-Type"].split(";")[0].strip().lower()
    assert content_type not in ACTIVE_TYPES, content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    if attachment:
        assert response["Content-Disposition"].startswith("attachment"), response["Content-Disposition"]


def test_a_marketplace_upload_is_stored_by_hash_outside_executable_paths(api_client, user):
    from tests.conftest import bearer_for

    api_client.credentials(**bearer_for(user, "marketplace"))
    content = b"<html><script>alert(1)</script></html>\n"
    r = api_client.post(
        "/marketplace/v1/storage/upload",
        {"file": SimpleUploadedFile("evil.html", content, content_type="text/html"), "type": "dataset"},
        format="multipart",
    )
    # HTML is not a dataset format: refused by content, whatever its name and declared type
    assert r.status_code == 415, r.json()

    csv = b"name,score\nada,1.5\n"
    r = api_client.post(
        "/marketplace/v1/storage/upload",
        {"file": SimpleUploadedFile("scores.php", csv, content_type="application/x-php"), "type": "dataset"},
        format="multipart",
    )
    assert r.status_code == 201, r.json()
    _assert_stored_inertly(r.json()["cid"])


def test_marketplace_downloads_are_attachments_of_a_type_the_server_chose(client):
    from tests.marketplace.factories import DatasetFactory

    stored = storage.save_bytes(b"<svg onload=alert(1)>")
    token, _grant = storage.sign_download(
        stored.cid,
        product="marketplace",
        filename="data.csv",
        content_type="text/csv",
        ttl_seconds=60,
        subject=f"dataset:{DatasetFactory().pk}",
    )
    r = client.get(f"/marketplace/v1/files/{token}")
    assert r.status_code == 200, r.content
    _assert_safe_download(r, attachment=True)


def test_a_cerebro_upload_is_typed_by_content_and_stored_by_hash(api_client, user):
    from tests.conftest import bearer_for

    api_client.credentials(**bearer_for(user, "cerebro"))
    html = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
    r = api_client.post(
        "/cerebro/api/files/upload", {"file": SimpleUploadedFile("page.html", html, content_type="text/html")}
    )
    # Refused, or kept as a type no browser runs (it is judged by content, never by name)
    if r.status_code == 200:
        assert r.json()["contentType"] not in ACTIVE_TYPES, r.json()
    else:
        assert r.status_code in (400, 415), r.json()

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    r = api_client.post("/cerebro/api/files/upload", {"file": SimpleUploadedFile("x.png.exe", png)})
    assert r.status_code == 200, r.json()
    from cerebro.models import Upload

    cid = Upload.objects.get(pk=r.json()["id"]).cid
    _assert_stored_inertly(cid)


def _cerebro_download(client, user, content: bytes, name: str):
    from tests.conftest import bearer_for

    uploader = APIClient()
    uploader.credentials(**bearer_for(user, "cerebro"))
    r = uploader.post("/cerebro/api/files/upload", {"file": SimpleUploadedFile(name, content)})
    assert r.status_code == 200, r.json()
    return client.get(r.json()["url"].split("testserver", 1)[-1])


def test_cerebro_downloads_carry_a_sniffed_type_and_nosniff(client, user):
    r = _cerebro_download(client, user, b"plain words\n", "notes.txt")
    assert r.status_code == 200, r.content
    _assert_safe_download(r, attachment=False)


def test_cerebro_downloads_are_attachments(client, user):
    r = _cerebro_download(client, user, b"plain words\n", "notes.txt")
    _assert_safe_download(r, attachment=True)


def test_media_is_not_served_by_the_app_or_the_proxy(client):
    stored = storage.save_bytes(b"secret rows\n")
    assert (r := client.get(f"/{django_settings.MEDIA_URL}{storage.path_for_cid(stored.cid)}")).status_code == 404, (
        r.content
    )
    nginx = (Path(django_settings.BASE_DIR) / "deploy" / "nginx.conf").read_text()
    assert "location /media" not in nginx and "MEDIA_ROOT" not in nginx
