"""Recount every ticket into the statistics rollup (tickets.rollup), with the trigger reinstalled
for the current TIME_ZONE: after changing TIME_ZONE, or to check the rollup against the tickets."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from tickets.models import TicketDayCount
from tickets.rollup import rollup_compact, rollup_rebuild


class Command(BaseCommand):
    help = "Recount the statistics rollup from the tickets (PostgreSQL), for the current TIME_ZONE."

    def add_arguments(self, parser):
        parser.add_argument(
            "--compact-only",
            action="store_true",
            help="Only fold the pending differences (what the beat task does every few minutes).",
        )

    def handle(self, *args, compact_only=False, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The statistics rollup is kept on PostgreSQL only; SQLite reads the tickets directly.")
        if compact_only:
            folded = rollup_compact()
            if folded is None:
                raise CommandError("Another compaction is running; try again in a moment.")
            self.stdout.write(f"Folded {folded} rows; the rollup has {TicketDayCount.objects.count()} rows.")
            return
        rollup_rebuild()
        self.stdout.write(f"Rebuilt the statistics rollup: {TicketDayCount.objects.count()} rows.")
