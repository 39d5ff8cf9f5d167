"""``/files/<token>``: serves a stored file to whoever holds a valid, unexpired signed link."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny

from accounts.tokens import download_link_grant
from core import storage
from core.errors import NOT_FOUND
from core.openapi import raises
from core.views import ApiView
from marketplace.authentication import PRODUCT
from marketplace.errors import DOWNLOAD_LINK_INVALID
from marketplace.services.downloads import download_subject_exists


class FileDownloadView(ApiView):
    """The link is the credential: no sign-in, no rate limit beyond the link's expiry."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Download a file through a signed link from a download endpoint",
        responses={200: OpenApiResponse(OpenApiTypes.BINARY, description="The file")},
    )
    @raises(DOWNLOAD_LINK_INVALID, NOT_FOUND)
    def get(self, request, token):
        try:
            grant = download_link_grant(token, product=PRODUCT)
        except storage.InvalidDownloadTokenError:
            raise DOWNLOAD_LINK_INVALID()
        if not download_subject_exists(grant.subject):
            raise NOT_FOUND("What this link downloads has been deleted")
        try:
            handle = storage.open_cid(grant.cid)
        except (FileNotFoundError, ValueError):
            raise NOT_FOUND("The file is no longer stored")
        response = FileResponse(handle, as_attachment=True, filename=grant.filename, content_type=grant.content_type)
        response["Cache-Control"] = "private, no-store"
        return response
