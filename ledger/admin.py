"""What staff see of the ledger: everything, read-only, with a chain check per object."""

from django.contrib import admin, messages

from ledger.models import LedgerObject, LedgerTransaction
from ledger.services import ledger_object_verify


class LedgerTransactionInline(admin.TabularInline):
    model = LedgerTransaction
    extra = 0
    fields = ("sequence", "action", "data", "created_by", "created_at", "hash")
    readonly_fields = fields
    can_delete = False
    ordering = ("sequence",)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LedgerObject)
class LedgerObjectAdmin(admin.ModelAdmin):
    list_display = ("id", "type_name", "status", "owner", "head_sequence", "created_at")
    list_filter = ("type_name", "status")
    search_fields = ("id", "owner__email")
    inlines = [LedgerTransactionInline]
    actions = ["verify_chains"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    @admin.action(description="Verify the hash chain of the selected objects")
    def verify_chains(self, request, queryset):
        for ledger_object in queryset:
            report = ledger_object_verify(ledger_object=ledger_object)
            if report.valid:
                self.message_user(request, f"{ledger_object.pk}: intact ({report.transaction_count})")
            else:
                link = report.broken
                self.message_user(
                    request, f"{ledger_object.pk}: broken at #{link.sequence} ({link.reason})", level=messages.ERROR
                )
