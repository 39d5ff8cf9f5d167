"""Feedback triage: new -> triaged -> planned -> done or closed, with filters and search."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from analytics.admin.base import StaffAnalyticsAdmin
from analytics.models import Feedback, FeedbackStatus
from analytics.services.triage import feedback_can_move, feedback_transition, feedback_update


class FeedbackForm(forms.ModelForm):
    class Meta:
        model = Feedback
        fields = ("status", "staff_note")

    def clean_status(self) -> str:
        status = self.cleaned_data["status"]
        if not feedback_can_move(self.instance.status, status):
            raise forms.ValidationError(f"Feedback cannot move from {self.instance.status} to {status}.")
        return status


@admin.register(Feedback)
class FeedbackAdmin(StaffAnalyticsAdmin):
    staff_can_change = True
    form = FeedbackForm
    list_display = (
        "id",
        "feedback_type",
        "rating",
        "status",
        "short_message",
        "jeeves_version",
        "platform",
        "timestamp",
    )
    list_display_links = ("id", "short_message")
    list_filter = ("status", "feedback_type", "rating", "jeeves_version", "platform")
    search_fields = ("message",)
    ordering = ("-timestamp",)
    actions = ("mark_triaged", "mark_planned", "mark_done", "mark_closed")
    fields = (
        "status",
        "staff_note",
        "feedback_type",
        "rating",
        "message",
        "metadata",
        "system_info",
        "jeeves_version",
        "platform",
        "timestamp",
        "updated_at",
    )
    readonly_fields = (
        "feedback_type",
        "rating",
        "message",
        "metadata",
        "system_info",
        "jeeves_version",
        "platform",
        "timestamp",
        "updated_at",
    )

    @admin.display(description="message")
    def short_message(self, item: Feedback) -> str:
        return item.message[:100]

    def save_model(self, request, obj, form, change) -> None:
        feedback_update(
            feedback_id=obj.pk,
            status=form.cleaned_data["status"],
            staff_note=form.cleaned_data["staff_note"],
            actor=request.user,
        )

    def _move(self, request, queryset, status: str) -> None:
        moved, skipped = feedback_transition(
            feedback_ids=list(queryset.values_list("pk", flat=True)), to_status=status, actor=request.user
        )
        self.message_user(request, f"Moved {moved} item(s) to {status}.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"Skipped {skipped} item(s): the workflow does not allow that move.", messages.WARNING
            )

    @admin.action(description="Mark selected as triaged")
    def mark_triaged(self, request, queryset):
        self._move(request, queryset, FeedbackStatus.TRIAGED)

    @admin.action(description="Mark selected as planned")
    def mark_planned(self, request, queryset):
        self._move(request, queryset, FeedbackStatus.PLANNED)

    @admin.action(description="Mark selected as done")
    def mark_done(self, request, queryset):
        self._move(request, queryset, FeedbackStatus.DONE)

    @admin.action(description="Mark selected as closed")
    def mark_closed(self, request, queryset):
        self._move(request, queryset, FeedbackStatus.CLOSED)
