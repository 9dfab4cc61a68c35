"""`manage.py airtable_push --org SLUG [--base ID]`: write the connection's queued MissionOS
changes to Airtable here, in the foreground, with a progress line. Failed and waiting writes are
tried again first (run it after fixing the token, the mapping or a setting). Exits non-zero when
anything is left not saved, listing why."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from sync import selectors, services
from sync.management import get_connection, get_organization
from sync.models import PendingWrite

FAILURES_SHOWN = 10


class Command(BaseCommand):
    help = "Write an organization's queued MissionOS changes to its Airtable base now."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--org", required=True, help="the organization's slug")
        parser.add_argument("--base", help="the base id (needed when there are several)")

    def handle(self, *args, **options) -> None:
        organization = get_organization(options["org"])
        connection = get_connection(organization, options.get("base"))
        queued = selectors.connection_write_queue(connection=connection).depth
        self.stderr.write(f"{queued} change(s) queued for {connection.name} ({connection.base_id})")
        services.push_requeue(connection=connection)
        verbose = options["verbosity"] > 0

        def progress(report) -> None:
            if verbose:
                self.stderr.write(f"  {report.line()}")

        report = services.push_connection(connection=connection, on_progress=progress)
        if report is None:
            raise CommandError("Another worker is pushing this connection right now; try again.")
        self.stdout.write(f"Pushed to {connection.base_id}: {report.line()}")
        left = PendingWrite.objects.for_org(organization).filter(connection=connection)
        if report.conflicts:
            self.stdout.write(
                f"{report.conflicts} conflict(s): resolve them on the records' pages."
            )
        not_saved = list(left.exclude(state=PendingWrite.State.PENDING)[:FAILURES_SHOWN])
        for write in not_saved:
            self.stdout.write(f"  not saved: {write.entity} {write.row_id}: {write.reason}")
        if left.exists():
            raise CommandError(f"{left.count()} change(s) not saved to Airtable (listed above).")
