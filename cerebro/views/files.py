"""POST /api/files/upload (the user's uploads: a viewset's create), and the signed download links its
answers point at (an API view: the link's token is the credential, not an id of the user's)."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts import products
from accounts.tokens import download_link_grant
from cerebro.api import CerebroApiView, CerebroViewSet
from cerebro.errors import DOWNLOAD_LINK_INVALID, UNSUPPORTED_FILE
from cerebro.serializers.chat import FileUploadInput, FileUploadOutput
from cerebro.services.files import download_path, file_upload
from core import storage
from core.openapi import raises
from core.views import validated


class FileUploadViewSet(CerebroViewSet):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="files_upload",
        summary="Upload a file (PDF, image or text; at most 50 MB)",
        description=(
            "The type is judged by the file's content, not its name or declared type. Text and PDF files also "
            "feed the RAG knowledge base (indexed in the background). `url` is a signed link that expires "
            "after CEREBRO_FILE_URL_SECONDS (7 days)."
        ),
        request={"multipart/form-data": FileUploadInput},
        responses={200: FileUploadOutput},
    )
    @raises(UNSUPPORTED_FILE)
    def create(self, request):
        upload = file_upload(user=request.user, uploaded_file=validated(FileUploadInput, request.data)["file"])
        return Response(
            {
                "url": request.build_absolute_uri(download_path(upload)),
                "pathname": upload.filename,
                "contentType": upload.content_type,
                "size": upload.size,
                "id": str(upload.pk),
                "knowledgeStatus": upload.knowledge_status,
            }
        )


class FileDownloadView(CerebroApiView):
    """Whoever holds an unexpired signed link may fetch that one file; nothing else is granted."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="files_download",
        summary="The bytes of an uploaded file, through the signed link the upload answered",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
        },
    )
    @raises(DOWNLOAD_LINK_INVALID)
    def get(self, request, token: str):
        try:
            grant = download_link_grant(token, product=products.CEREBRO)
            handle = storage.open_cid(grant.cid)
        except (storage.InvalidDownloadTokenError, FileNotFoundError, ValueError):
            raise DOWNLOAD_LINK_INVALID() from None
        # An attachment, never rendered in the API's origin, whatever the browser makes of it.
        response = FileResponse(handle, content_type=grant.content_type, filename=grant.filename, as_attachment=True)
        response["Cache-Control"] = "private, max-age=3600"
        return response
