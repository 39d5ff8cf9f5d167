"""Feedback triage: new -> triaged -> planned -> done or closed, with filters and search."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from analytics.admin import cells
from analytics.admin.base import StaffAnalyticsAdmin
from analytics.admin.filters import PlatformFilter, RecentVersionFilter
from analytics.models import Feedback, FeedbackStatus
from analytics.services.triage import feedback_can_move, feedback_transition, feedback_update
from core.admin_filters import DateRangeFilter


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
    editable = True
    form = FeedbackForm
    list_display = ("number", "summary", "kind", "stars", "status", "seen_on", "received")
    list_display_links = ("number", "summary")
    list_filter = (
        "status",
        "feedback_type",
        "rating",
        ("timestamp", DateRangeFilter.titled("date")),
        RecentVersionFilter,
        PlatformFilter,
    )
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

    @admin.display(description="#", ordering="id")
    def number(self, item: Feedback) -> int:
        return item.pk

    @admin.display(description="message")
    def summary(self, item: Feedback) -> str:
        return format_html('<span class="excerpt">{}</span>', cells.excerpt(item.message, 400))

    @admin.display(description="type", ordering="feedback_type")
    def kind(self, item: Feedback) -> str:
        return item.get_feedback_type_display()

    @admin.display(description="rating", ordering="rating")
    def stars(self, item: Feedback) -> str:
        return cells.stars(item.rating)

    @admin.display(description="seen on")
    def seen_on(self, item: Feedback) -> str:
        return " ".join(part for part in (item.jeeves_version, item.platform) if part) or "-"

    @admin.display(description="date", ordering="timestamp")
    def received(self, item: Feedback) -> str:
        return cells.when(item.timestamp)

    def save_model(self, request, obj, form, change) -> None:
        feedback_update(
            feedback_id=obj.pk,
            status=form.cleaned_data["status"],
            staff_note=form.cleaned_data["staff_note"],
            actor=request.user,
        )

    def _move(self, request, queryset, status: str) -> None:
        selected = list(queryset.values_list("pk", flat=True))
        moved, skipped = feedback_transition(feedback_ids=selected, to_status=status, actor=request.user)
        unchanged = len(selected) - moved - skipped
        if moved:
            self.message_user(request, f"Moved {moved} item(s) to {status}.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"Skipped {skipped} item(s): the workflow does not allow that move.", messages.WARNING
            )
        if unchanged:
            self.message_user(
                request,
                f"{unchanged} item(s) were already {status}: nothing to do.",
                messages.INFO if moved or skipped else messages.WARNING,
            )

    @admin.action(description="Mark selected as triaged", permissions=["triage"])
    def mark_triaged(self, request, queryset):
        self._move(request, queryset, FeedbackStatus.TRIAGED)

    @admin.action(description="Mark selected as planned", permissions=["triage"])
    def mark_planned(self, request, queryset):
        self._move(request, queryset, FeedbackStatus.PLANNED)

    @admin.action(description="Mark selected as done", permissions=["triage"])
    def mark_done(self, request, queryset):
        self._move(request, queryset, FeedbackStatus.DONE)

    @admin.action(description="Mark selected as closed", permissions=["triage"])
    def mark_closed(self, request, queryset):
        self._move(request, queryset, FeedbackStatus.CLOSED)
