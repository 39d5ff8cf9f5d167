"""Reads of the app's documents: a document's versions and the suggestions made on them."""

from __future__ import annotations

from cerebro.errors import DOCUMENT_NOT_FOUND, DOCUMENT_OF_ANOTHER_USER
from cerebro.models import Document, DocumentVersion, Suggestion


def document_of_user(*, user, document_id, lock: bool = False) -> Document | None:
    """The document (None when there is none); 403 when it is another user's."""
    documents = Document.objects.select_for_update() if lock else Document.objects
    document = documents.filter(pk=document_id).first()
    if document is not None and document.user_id != user.pk:
        raise DOCUMENT_OF_ANOTHER_USER(details={"id": str(document_id)})
    return document


def document_versions(*, user, document_id) -> list[DocumentVersion]:
    """Every version of the user's document, oldest first; 404 when it has none."""
    document = document_of_user(user=user, document_id=document_id)
    versions = [] if document is None else list(document.versions.select_related("document").order_by("created_at"))
    if not versions:
        raise DOCUMENT_NOT_FOUND(details={"id": str(document_id)})
    return versions


def document_suggestions(*, user, document_id) -> list[Suggestion]:
    """The suggestions made on any version of the user's document ([] for an unknown document)."""
    document = document_of_user(user=user, document_id=document_id)
    if document is None:
        return []
    return list(
        Suggestion.objects.filter(version__document=document)
        .select_related("version__document")
        .order_by("created_at", "pk")
    )
