"""``manage.py ledger_verify [--object ID ...]``: check every object's hash chain.

Prints one line per broken object with its first broken link, and a summary; exits with status 1
when any chain is broken, so it can run from cron or CI.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ledger.models import LedgerObject
from ledger.services import ledger_object_verify


class Command(BaseCommand):
    help = "Verify the hash chain of ledger objects and report the first broken link of each."

    def add_arguments(self, parser):
        parser.add_argument("--object", action="append", dest="object_ids", help="Only this object id (repeatable).")

    def handle(self, *args, object_ids=None, **options):
        objects = LedgerObject.objects.order_by("created_at", "id")
        if object_ids:
            objects = objects.filter(pk__in=object_ids)
        checked = broken = 0
        for ledger_object in objects.iterator(chunk_size=500):
            checked += 1
            report = ledger_object_verify(ledger_object=ledger_object)
            if report.broken is not None:
                broken += 1
                link = report.broken
                self.stdout.write(
                    f"BROKEN object={report.object_id} sequence={link.sequence} "
                    f"transaction={link.transaction_id or '-'} reason={link.reason}"
                )
        self.stdout.write(f"checked {checked} object(s): {checked - broken} intact, {broken} broken")
        if broken:
            raise CommandError(f"{broken} ledger chain(s) broken")
