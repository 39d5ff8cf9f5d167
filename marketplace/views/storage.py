"""``/storage/upload``: a file for a dataset, a schema or a template, checked by its content."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from marketplace.serializers.inputs import UploadSerializer
from marketplace.serializers.outputs import SchemaFieldSerializer
from marketplace.services.uploads import upload_create
from marketplace.views.base import MarketplaceViewSet

UploadResponse = inline_serializer(
    "MarketplaceUpload",
    {
        "fileId": serializers.UUIDField(),
        "filename": serializers.CharField(),
        "size": serializers.IntegerField(),
        "contentType": serializers.CharField(),
        "uploadedAt": serializers.DateTimeField(),
        "cid": serializers.CharField(),
        "format": serializers.CharField(),
        "rows": serializers.IntegerField(allow_null=True),
        "schema": SchemaFieldSerializer(many=True),
    },
)


class UploadViewSet(MarketplaceViewSet):
    """Uploads: one multipart file a request, 10 an hour per user."""

    parser_classes = [MultiPartParser, FormParser]
    rate_limit_scopes = ("marketplace.uploads",)
    body_serializers = {"create": UploadSerializer}

    @extend_schema(
        summary="Upload a dataset (CSV, JSON, Parquet), a schema or a template file",
        request={"multipart/form-data": UploadSerializer},
        responses={201: UploadResponse},
    )
    def create(self, request):
        data = self.validated_body()
        uploaded = data["file"]
        upload = upload_create(user=request.user, upload_type=data["type"], filename=uploaded.name, content=uploaded)
        return Response(
            {
                "fileId": upload.pk,
                "filename": upload.filename,
                "size": upload.size_bytes,
                "contentType": upload.content_type,
                "uploadedAt": upload.uploaded_at,
                "cid": upload.cid,
                "format": upload.format,
                "rows": upload.rows,
                "schema": upload.inferred_schema,
            },
            status=status.HTTP_201_CREATED,
        )
