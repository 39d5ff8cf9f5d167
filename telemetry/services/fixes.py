"""Staff review of fix text: edit, approve, block. Every change reaches clients in the next version."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from telemetry.models import Fix, FixReview
from telemetry.services.pattern_set import pattern_set_rebuild_request


@transaction.atomic
def fix_update(
    *,
    fix: Fix,
    review: str,
    fix_type: str | None,
    description: str | None,
    command: str | None,
    file: str | None = None,
    diff: str | None = None,
) -> None:
    """Set a fix's review state and text, exactly as staff wrote it.

    Staff text is trusted as written: it need not hash to the fix signature (it is how staff
    correct a fix). A fix without a type is served without a fix object. Only these columns are
    written, so counters updated by concurrent uploads are never overwritten with the admin
    form's stale copy.
    """
    text = {"type": fix_type, "description": description, "command": command, "file": file, "diff": diff}
    fields = {
        "fix_data": {member: value for member, value in text.items() if value},
        "review": review,
        "dirty": True,
    }
    if review != fix.review:
        fields["reviewed_at"] = timezone.now() if review != FixReview.PENDING else None
    Fix.objects.filter(pk=fix.pk).update(**fields)
    transaction.on_commit(pattern_set_rebuild_request)


@transaction.atomic
def fixes_review(*, fix_ids: Iterable[str], review: str) -> int:
    """Approve, block or reset many fixes at once; blocked ones leave the pattern set. Returns the count."""
    # Lock in key order first, as uploads do, so a review never deadlocks with an upload.
    locked = list(
        Fix.objects.select_for_update()
        .filter(pk__in=list(fix_ids))
        .exclude(review=review)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    changed = Fix.objects.filter(pk__in=locked).update(
        review=review, reviewed_at=timezone.now() if review != FixReview.PENDING else None, dirty=True
    )
    if changed:
        transaction.on_commit(pattern_set_rebuild_request)
    return changed
