"""The knowledge base RAG reads: uploaded text and PDF files cut into chunks, each embedded."""

from __future__ import annotations

import io
import logging

from django.db import DataError, transaction
from django.utils import timezone

from cerebro import conf
from cerebro.models import KnowledgeChunk, Upload
from cerebro.retrieval.cache import bump_version, knowledge_scope
from cerebro.retrieval.embedders import get_embedder
from core import storage
from core.llm.tokens import estimate_tokens

logger = logging.getLogger(__name__)


class UnreadableDocumentError(Exception):
    """The file's text cannot be extracted (a damaged or encrypted PDF)."""


def extract_text(data: bytes, content_type: str) -> str:
    """Plain text of a stored file: PDF pages through pypdf, text files decoded as UTF-8; never
    holding NUL (PostgreSQL's text refuses it, and a PDF's text may carry it)."""
    return _extracted_text(data, content_type).replace("\x00", "")


def _extracted_text(data: bytes, content_type: str) -> str:
    if content_type == "application/pdf":
        from pypdf import PdfReader

        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                raise UnreadableDocumentError("the PDF is encrypted")
            return "\n\n".join((page.extract_text() or "") for page in reader.pages)
        except UnreadableDocumentError:
            raise
        except Exception as exc:
            # Whatever pypdf raises reading the file is the file's (PdfReadError; on a hostile file
            # also built-in errors, NotImplementedError for a stream filter it lacks): the upload
            # fails with that reason, not as a crash of the indexing.
            raise UnreadableDocumentError(f"cannot read the PDF: {type(exc).__name__}") from exc
    return data.decode("utf-8", errors="replace")


def chunk_text(text: str, *, chunk_tokens: int | None = None, overlap_tokens: int | None = None) -> list[str]:
    """Cut ``text`` into word-aligned chunks of about ``chunk_tokens`` tokens (core.llm.tokens
    estimate), each repeating the last ``overlap_tokens`` of the one before, so a passage split by
    a boundary is still whole in one chunk."""
    chunk_tokens = chunk_tokens or conf.CHUNK_TOKENS
    overlap_tokens = conf.CHUNK_OVERLAP_TOKENS if overlap_tokens is None else overlap_tokens
    words = text.split()
    chunks: list[str] = []
    start = 0
    while start < len(words):
        end, size = start, 0
        while end < len(words) and (size + estimate_tokens(words[end]) <= chunk_tokens or end == start):
            size += estimate_tokens(words[end])
            end += 1
        chunks.append(" ".join(words[start:end]))
        if end >= len(words):
            break
        back, overlap = end, 0
        while back > start + 1 and overlap + estimate_tokens(words[back - 1]) <= overlap_tokens:
            back -= 1
            overlap += estimate_tokens(words[back])
        start = back
    return chunks


def upload_index_knowledge(*, upload_id) -> int:
    """(Re)build the chunks of an upload; returns how many. Safe to run twice: the chunks are
    replaced, never added to. An unreadable file, or text the database refuses, ends ``failed`` with
    the reason, not raised: left pending, the jobs watchdog would send it again for ever."""
    upload = Upload.objects.filter(pk=upload_id).first()
    if upload is None or upload.knowledge_status == Upload.KnowledgeStatus.NONE:
        return 0
    try:
        text = extract_text(storage.read_bytes(upload.cid), upload.content_type)
    except UnreadableDocumentError as exc:
        upload_index_fail(upload_id=upload.pk, reason=str(exc))
        return 0
    embedder = get_embedder()
    chunks = [
        KnowledgeChunk(
            upload=upload,
            user_id=upload.user_id,
            ordinal=ordinal,
            text=piece,
            embedding=embedder.embed(piece),
            token_count=estimate_tokens(piece),
        )
        for ordinal, piece in enumerate(chunk_text(text))
    ]
    try:
        with transaction.atomic():
            Upload.objects.select_for_update().filter(pk=upload.pk).first()
            KnowledgeChunk.objects.filter(upload=upload).delete()
            KnowledgeChunk.objects.bulk_create(chunks, batch_size=500)
            Upload.objects.filter(pk=upload.pk).update(
                knowledge_status=Upload.KnowledgeStatus.INDEXED, knowledge_error="", indexed_at=timezone.now()
            )
            bump_version(knowledge_scope(upload.user_id))
    except DataError as exc:
        logger.warning("upload %s: chunks refused by the database: %s", upload.pk, exc)
        upload_index_fail(upload_id=upload.pk, reason="the database refused the file's text")
        return 0
    return len(chunks)


def upload_index_fail(*, upload_id, reason: str) -> None:
    """End the indexing of an upload as failed, with ``reason`` for its owner."""
    Upload.objects.filter(pk=upload_id).update(
        knowledge_status=Upload.KnowledgeStatus.FAILED, knowledge_error=reason[:255]
    )
