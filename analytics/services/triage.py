"""Staff work: resolving and reopening error groups, moving feedback through its workflow."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from analytics import errors
from analytics.models import ErrorGroup, ErrorGroupStatus, ErrorReport, Feedback, FeedbackStatus
from analytics.services.audit import audit_record


def error_groups_resolve(*, group_ids: list[int], actor) -> int:
    """Resolve the groups at their latest seen version; returns how many changed.

    The version is what the regression rule compares later reports against.
    """
    changed = []
    with transaction.atomic():
        groups = ErrorGroup.objects.select_for_update().filter(pk__in=group_ids).order_by("pk")
        for group in groups:
            if group.status == ErrorGroupStatus.RESOLVED:
                continue
            group.status = ErrorGroupStatus.RESOLVED
            group.resolved_at = timezone.now()
            group.resolved_in_version = group.latest_version
            group.resolved_by = actor
            group.is_regression = False
            group.save(update_fields=["status", "resolved_at", "resolved_in_version", "resolved_by", "is_regression"])
            changed.append(group.pk)
        if changed:
            ErrorReport.objects.filter(group_id__in=changed).update(resolved=True)
            audit_record(actor=actor, action="error_group.resolve", target="error_group", details={"ids": changed})
    return len(changed)


def error_groups_reopen(*, group_ids: list[int], actor) -> int:
    """Reopen resolved groups; returns how many changed."""
    changed = []
    with transaction.atomic():
        groups = ErrorGroup.objects.select_for_update().filter(pk__in=group_ids).order_by("pk")
        for group in groups:
            if group.status == ErrorGroupStatus.UNRESOLVED:
                continue
            group.status = ErrorGroupStatus.UNRESOLVED
            group.resolved_at = None
            group.resolved_by = None
            group.save(update_fields=["status", "resolved_at", "resolved_by"])
            changed.append(group.pk)
        if changed:
            ErrorReport.objects.filter(group_id__in=changed).update(resolved=False)
            audit_record(actor=actor, action="error_group.reopen", target="error_group", details={"ids": changed})
    return len(changed)


# new -> triaged -> planned -> done, closed from anywhere; done and closed can be reopened.
FEEDBACK_TRANSITIONS: dict[str, frozenset[str]] = {
    FeedbackStatus.NEW: frozenset({FeedbackStatus.TRIAGED, FeedbackStatus.CLOSED}),
    FeedbackStatus.TRIAGED: frozenset({FeedbackStatus.PLANNED, FeedbackStatus.DONE, FeedbackStatus.CLOSED}),
    FeedbackStatus.PLANNED: frozenset({FeedbackStatus.DONE, FeedbackStatus.CLOSED}),
    FeedbackStatus.DONE: frozenset({FeedbackStatus.CLOSED, FeedbackStatus.TRIAGED}),
    FeedbackStatus.CLOSED: frozenset({FeedbackStatus.TRIAGED}),
}


def feedback_can_move(current: str, to_status: str) -> bool:
    return current == to_status or to_status in FEEDBACK_TRANSITIONS.get(current, frozenset())


def feedback_transition(*, feedback_ids: list[int], to_status: str, actor, strict: bool = False) -> tuple[int, int]:
    """Move feedback to ``to_status`` where the workflow allows it; returns (moved, skipped).

    With ``strict`` an item that may not move raises INVALID_TRANSITION (single edits); bulk
    actions skip it and report the count.
    """
    moved, skipped = [], []
    with transaction.atomic():
        items = Feedback.objects.select_for_update().filter(pk__in=feedback_ids).order_by("pk")
        for item in items:
            if item.status == to_status:
                continue
            if not feedback_can_move(item.status, to_status):
                if strict:
                    raise errors.INVALID_TRANSITION(
                        f"Feedback cannot move from {item.status} to {to_status}",
                        details={"from": item.status, "to": to_status},
                    )
                skipped.append(item.pk)
                continue
            previous = item.status
            item.status = to_status
            item.save(update_fields=["status", "updated_at"])
            moved.append({"id": item.pk, "from": previous})
        if moved:
            audit_record(
                actor=actor,
                action="feedback.transition",
                target="feedback",
                details={"to": to_status, "moved": moved, "skipped": skipped},
            )
    return len(moved), len(skipped)


def feedback_update(*, feedback_id: int, status: str, staff_note: str, actor) -> Feedback:
    """A staff edit of one feedback item: a workflow move (validated) and the staff note."""
    with transaction.atomic():
        item = Feedback.objects.select_for_update().get(pk=feedback_id)
        if status != item.status:
            feedback_transition(feedback_ids=[item.pk], to_status=status, actor=actor, strict=True)
            item.refresh_from_db()
        if staff_note != item.staff_note:
            item.staff_note = staff_note
            item.save(update_fields=["staff_note", "updated_at"])
            audit_record(actor=actor, action="feedback.note", target=f"feedback:{item.pk}")
    return item
