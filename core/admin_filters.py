"""Admin list filters every app's admin can use: a date range, and "revoked: yes / no".

Both render without JavaScript: the date range is a GET form of the browser's own date inputs.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import get_last_value_from_parameters
from django.db import models
from django.utils import timezone

IGNORED_PARAMETERS = ("p", "e")  # the page number and the changelist's error flag


class DateRangeFilter(admin.FieldListFilter):
    """Rows whose date (or timestamp) falls between two days, both included.

    Days are those of the current time zone (UTC here). Presets fill in the first day ("Past 7
    days" starts six days before today); the form sets either end or both. A day that is not
    YYYY-MM-DD is refused the way the admin refuses any bad lookup: back to the list, unfiltered.
    """

    template = "admin/filters/date_range.html"
    presets = (("Today", 0), ("Past 7 days", 6), ("Past 30 days", 29))
    custom_title = ""

    @classmethod
    def titled(cls, title: str) -> type[DateRangeFilter]:
        """The filter under another title than the field's name ("date" for a ``timestamp``)."""
        return type(cls.__name__, (cls,), {"custom_title": title})

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.parameter_from = f"{field_path}__from"
        self.parameter_to = f"{field_path}__to"
        self.value_from = get_last_value_from_parameters(params, self.parameter_from) or ""
        self.value_to = get_last_value_from_parameters(params, self.parameter_to) or ""
        own = {self.parameter_from, self.parameter_to, *IGNORED_PARAMETERS}
        # What the form must carry along: the search, the ordering and every other filter.
        self.preserved = [(key, value) for key in request.GET for value in request.GET.getlist(key) if key not in own]
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = self.custom_title or self.title

    def expected_parameters(self) -> list[str]:
        return [self.parameter_from, self.parameter_to]

    @staticmethod
    def _day(value: str) -> date | None:
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise IncorrectLookupParameters(f"Not a day: {value!r}") from exc

    def _bound(self, day: date) -> date | datetime:
        if isinstance(self.field, models.DateTimeField):
            return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())
        return day

    def queryset(self, request, queryset):
        first, last = self._day(self.value_from), self._day(self.value_to)
        if first is not None:
            queryset = queryset.filter(**{f"{self.field_path}__gte": self._bound(first)})
        if last is not None and last < date.max:
            queryset = queryset.filter(**{f"{self.field_path}__lt": self._bound(last + timedelta(days=1))})
        return queryset

    def choices(self, changelist):
        today = timezone.localdate()
        own = self.expected_parameters()
        yield {
            "selected": not self.value_from and not self.value_to,
            "query_string": changelist.get_query_string(remove=own),
            "display": "Any date",
        }
        for label, days_back in self.presets:
            first = (today - timedelta(days=days_back)).isoformat()
            yield {
                "selected": self.value_from == first and not self.value_to,
                "query_string": changelist.get_query_string({self.parameter_from: first}, remove=own),
                "display": label,
            }


class SetOrNotFilter(admin.EmptyFieldListFilter):
    """A nullable timestamp ("revoked at", "confirmed at") as the question staff ask: yes or no.

    Django's own filter reads "By revoked at: Empty / Not empty"; this one reads "By revoked:
    Yes / No", on the same parameter (``<field>__isempty``).
    """

    custom_title = ""

    @classmethod
    def titled(cls, title: str) -> type[SetOrNotFilter]:
        return type(cls.__name__, (cls,), {"custom_title": title})

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = self.custom_title or self.title

    def choices(self, changelist):
        # The parameter asks "is the timestamp empty?": empty (1) means no.
        for lookup, label in ((None, "All"), ("0", "Yes"), ("1", "No")):
            yield {
                "selected": self.lookup_val == lookup,
                "query_string": changelist.get_query_string({self.lookup_kwarg: lookup})
                if lookup
                else changelist.get_query_string(remove=[self.lookup_kwarg]),
                "display": label,
            }


RevokedFilter = SetOrNotFilter.titled("revoked")
