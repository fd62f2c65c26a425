"""Recompute every buyer's counters and risk, in batches: after the migration that added them,
or after changing the scoring rules."""

from django.core.management.base import BaseCommand
from django.db import transaction

from contacts.models import Buyer
from contacts.services import buyer_stats_refresh, buyers_risk_assess


class Command(BaseCommand):
    help = "Recompute the counters and the abuse risk of every buyer (or of the given ids)."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="Buyer ids; all buyers when omitted.")
        parser.add_argument("--batch", type=int, default=500)

    def handle(self, *args, ids, batch, **options):
        all_ids = ids or list(Buyer.objects.order_by("id").values_list("id", flat=True))
        high = 0
        for start in range(0, len(all_ids), batch):
            chunk = all_ids[start : start + batch]
            with transaction.atomic():
                buyer_stats_refresh(chunk)
                high += sum(1 for a in buyers_risk_assess(chunk).values() if a.level == "high")
        self.stdout.write(f"Refreshed {len(all_ids)} buyers; {high} at high risk.")
