"""The periodic upkeep the beat schedule runs: trending scores, used nonces, overdue checks and tries (pins too).

Generation and training jobs whose send failed or whose worker died are the jobs watchdog's
(core/jobs.py), which runs for every app."""

from __future__ import annotations

from marketplace.services.auth import used_nonces_purge
from marketplace.services.pinning import dataset_file_pins_overdue_sweep
from marketplace.services.purchases import purchases_pending_sweep
from marketplace.services.stats import datasets_trending_refresh
from marketplace.services.webhooks import webhook_deliveries_overdue_sweep


def marketplace_upkeep() -> dict:
    """Run every periodic chore once; each is idempotent. Returns what each did."""
    return {
        "trendingUpdated": datasets_trending_refresh(),
        "noncesPurged": used_nonces_purge(),
        "purchasesRechecked": purchases_pending_sweep(),
        "webhookDeliveriesRetried": webhook_deliveries_overdue_sweep(),
        "filePinsRetried": dataset_file_pins_overdue_sweep(),
    }
