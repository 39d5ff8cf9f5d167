"""The app's documents: each save adds a version; restoring one deletes the versions after it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from cerebro.errors import DOCUMENT_NOT_FOUND
from cerebro.models import Document, DocumentVersion
from cerebro.selectors.documents import document_of_user

ONE_MILLISECOND = timedelta(milliseconds=1)


def whole_milliseconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _locked_document(*, user, document_id) -> Document:
    """The user's document, locked, created (owned by ``user``) when it does not exist yet."""
    document = document_of_user(user=user, document_id=document_id, lock=True)
    if document is None:
        try:
            with transaction.atomic():
                Document.objects.create(id=document_id, user=user)
        except IntegrityError:
            pass  # a concurrent first save created it; its owner is checked below
        document = document_of_user(user=user, document_id=document_id, lock=True)
    return document


@transaction.atomic
def document_version_save(*, user, document_id, title: str, content: str, kind: str) -> DocumentVersion:
    """Save a new version of the document ``document_id``; the first save makes ``user`` its owner.

    A version's moment is in whole milliseconds and later than every earlier version's, so the
    timestamp a client reads back names exactly one version. 403 when the document is another
    user's.
    """
    document = _locked_document(user=user, document_id=document_id)
    moment = whole_milliseconds(timezone.now())
    latest = document.versions.order_by("-created_at").values_list("created_at", flat=True).first()
    if latest is not None and moment <= latest:
        moment = latest + ONE_MILLISECOND
    return DocumentVersion.objects.create(document=document, created_at=moment, title=title, content=content, kind=kind)


@transaction.atomic
def document_versions_delete_after(*, user, document_id, moment: datetime) -> list[DocumentVersion]:
    """Delete the versions saved after ``moment`` (and the suggestions made on them): restoring the
    version saved at ``moment``. Moments compare in whole milliseconds, the precision a client's
    timestamp has (a moment at the end of time deletes nothing). Returns the deleted versions, oldest
    first. 404 for an unknown document, 403 for another user's."""
    document = document_of_user(user=user, document_id=document_id, lock=True)
    if document is None:
        raise DOCUMENT_NOT_FOUND(details={"id": str(document_id)})
    # The millisecond's last microsecond, not the next millisecond: that overflows at 9999-12-31T23:59:59.999Z.
    last_of_moment = whole_milliseconds(moment) + (ONE_MILLISECOND - timedelta(microseconds=1))
    doomed = list(
        document.versions.filter(created_at__gt=last_of_moment).select_related("document").order_by("created_at")
    )
    DocumentVersion.objects.filter(pk__in=[version.pk for version in doomed]).delete()
    return doomed
