"""Uploads: check a file by its content, store it (content-addressed), queue text and PDFs for the
knowledge base."""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Iterable, Iterator

from django.core.files.uploadedfile import UploadedFile as DjangoUploadedFile
from django.db import transaction

from cerebro import conf
from cerebro.errors import UNSUPPORTED_FILE
from cerebro.models import Upload

# Re-exported for cerebro/views/files.py, which names it here; the link is a read (selectors/files.py).
from cerebro.selectors.files import download_path as download_path
from core import errors, storage
from core.jobs import job_enqueue

UPLOAD_INDEX_TASK = "cerebro.upload_index_knowledge_task"
SNIFF_BYTES = 64 * 1024
KNOWLEDGE_TYPES = frozenset({"application/pdf", "text/plain", "text/markdown", "text/csv", "application/json"})
TEXT_TYPES_BY_EXTENSION = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".csv": "text/csv",
    ".json": "application/json",
}
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")
NOT_SUPPORTED = "not a PDF, an image (PNG, JPEG, GIF, WebP) or UTF-8 text"


def sniff_content_type(head: bytes, filename: str) -> str | None:
    """The type of a file judged by its first bytes (never by what the client claims); None when
    it is not a PDF, a PNG/JPEG/GIF/WebP image or UTF-8 text."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head and b"\x00" not in head and _is_utf8(head):
        extension = os.path.splitext(filename)[1].lower()
        return TEXT_TYPES_BY_EXTENSION.get(extension, "text/plain")
    return None


def _is_utf8(head: bytes) -> bool:
    # The sniffed prefix may end inside a multi-byte character; allow up to 3 dangling bytes.
    for cut in range(4):
        try:
            head[: len(head) - cut].decode("utf-8")
            return True
        except UnicodeDecodeError:
            continue
    return False


def checked_text_chunks(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """``chunks`` unchanged, checked on the way through: ``UNSUPPORTED_FILE`` as soon as the whole
    file turns out not to be UTF-8 text without NUL (the sniffed head says nothing of the rest)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in chunks:
            if b"\x00" in chunk:
                raise UnicodeDecodeError("utf-8", chunk, chunk.index(b"\x00"), len(chunk), "NUL byte")
            decoder.decode(chunk)
            yield chunk
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise UNSUPPORTED_FILE(details={"file": [NOT_SUPPORTED]}) from None


def safe_filename(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")).strip() or "file"
    cleaned = _UNSAFE_NAME.sub("_", base)[:200]
    return cleaned.lstrip(".") or "file"


def file_upload(*, user, uploaded_file: DjangoUploadedFile) -> Upload:
    """Store ``uploaded_file`` for ``user`` and return its row.

    400 when it is larger than 50 MB or not a supported type by content (a text file is checked
    whole: UTF-8 without NUL). Text and PDF files are
    queued for the knowledge base (indexed by a Celery task once this transaction commits).
    """
    if uploaded_file.size is not None and uploaded_file.size > conf.MAX_UPLOAD_BYTES:
        raise errors.VALIDATION(
            f"File is larger than {conf.MAX_UPLOAD_BYTES} bytes",
            details={"file": ["size exceeded"], "limit": conf.MAX_UPLOAD_BYTES},
        )
    uploaded_file.seek(0)
    head = uploaded_file.read(SNIFF_BYTES)
    filename = safe_filename(uploaded_file.name or "file")
    content_type = sniff_content_type(head, filename)
    if content_type is None:
        raise UNSUPPORTED_FILE(details={"file": [NOT_SUPPORTED]})
    uploaded_file.seek(0)
    chunks = uploaded_file.chunks()
    if content_type.startswith("text/") or content_type == "application/json":
        chunks = checked_text_chunks(chunks)  # nothing is stored when a later chunk fails
    stored = storage.save_stream(chunks)
    knowledge = content_type in KNOWLEDGE_TYPES
    with transaction.atomic():
        upload = Upload.objects.create(
            user=user,
            cid=stored.cid,
            filename=filename,
            content_type=content_type,
            size=stored.size,
            knowledge_status=Upload.KnowledgeStatus.PENDING if knowledge else Upload.KnowledgeStatus.NONE,
        )
        if knowledge:
            # Sent once committed; an unreachable broker leaves it pending for the jobs watchdog.
            job_enqueue(UPLOAD_INDEX_TASK, args=[str(upload.pk)])
    return upload
