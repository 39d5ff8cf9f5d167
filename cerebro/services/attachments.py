"""Files attached to a chat message (the AI SDK's file parts), made into what the model reads.

A file part links a file its sender uploaded through ``/api/files/upload`` (the signed ``url`` that
upload answered). Nothing else is fetched: a link to anywhere else would make the server fetch
what a client names. Images reach the model inline as ``data:`` URLs in an ``image_url`` content
part (so the model server need not reach this server); text and PDF files as their text.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlsplit

from django.urls import Resolver404, resolve

from accounts import products
from accounts.tokens import download_link_grant
from cerebro import conf
from cerebro.errors import ATTACHMENT_REFUSED
from cerebro.models import Upload
from cerebro.services.knowledge import UnreadableDocumentError, extract_text
from core import storage

DOWNLOAD_VIEW = "cerebro-files-download"


def _upload_of(*, user, url: str) -> Upload:
    try:
        match = resolve(urlsplit(url).path)
    except (Resolver404, ValueError):  # not one of this API's paths, or not a URL at all
        match = None
    if match is None or match.url_name != DOWNLOAD_VIEW:
        raise ATTACHMENT_REFUSED(details={"url": [url[:200]]})
    try:
        grant = download_link_grant(match.kwargs["token"], product=products.CEREBRO)
    except storage.InvalidDownloadTokenError:
        raise ATTACHMENT_REFUSED("The file link is invalid or has expired: upload the file again") from None
    upload = Upload.objects.filter(user=user, cid=grant.cid).order_by("-created_at").first()
    if upload is None:
        raise ATTACHMENT_REFUSED(details={"url": [url[:200]]})
    return upload


def attachment_content_parts(*, user, urls: list[str]) -> list[dict[str, Any]]:
    """OpenAI content parts for the files at ``urls``, in order.

    400 when a link is not one of the user's uploads or has expired, when a file is larger than
    ``CEREBRO_CHAT_ATTACHMENT_MAX_BYTES`` or its text cannot be read. A text longer than
    ``CEREBRO_CHAT_ATTACHMENT_CHARACTERS`` is cut there (and says so).
    """
    parts: list[dict[str, Any]] = []
    for url in urls:
        upload = _upload_of(user=user, url=url)
        if upload.size > conf.CHAT_ATTACHMENT_MAX_BYTES:
            raise ATTACHMENT_REFUSED(
                f"{upload.filename} is larger than {conf.CHAT_ATTACHMENT_MAX_BYTES} bytes, the most a message can carry"
            )
        data = storage.read_bytes(upload.cid)
        if upload.content_type.startswith("image/"):
            inline = base64.b64encode(data).decode("ascii")
            parts.append({"type": "image_url", "image_url": {"url": f"data:{upload.content_type};base64,{inline}"}})
            continue
        try:
            text = extract_text(data, upload.content_type)
        except UnreadableDocumentError as exc:
            raise ATTACHMENT_REFUSED(f"{upload.filename}: {exc}") from None
        if len(text) > conf.CHAT_ATTACHMENT_CHARACTERS:
            text = text[: conf.CHAT_ATTACHMENT_CHARACTERS] + "\n[... the rest of the file is left out]"
        parts.append({"type": "text", "text": f"Attached file {upload.filename}:\n{text}"})
    return parts
