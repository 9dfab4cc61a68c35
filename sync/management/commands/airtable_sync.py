"""`manage.py airtable_sync`: request a sync of a connection and run it here, in the foreground,
with its progress on stderr and its outcome on stdout. Exits non-zero when the run fails.

The run is an ordinary run (the connection page lists it); it is refused, like any other, while
another sync of the connection is queued or running.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from sync import selectors, services
from sync.crypto import TokenUnreadable
from sync.management import get_connection, get_organization
from sync.models import RunKind, RunStatus, SyncRun

ISSUES_SHOWN = 10
BAR_WIDTH = 24


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


class Progress:
    """Shows a run's progress as pages arrive: one line redrawn in place on a terminal, else a
    line per finished table (logs and CI keep every line)."""

    def __init__(self, stream, *, enabled: bool = True) -> None:
        self.stream = stream
        self.enabled = enabled
        self.tty = enabled and stream.isatty()
        self.width = 0  # of the line drawn last, to blank what a shorter one leaves
        self.tables_done = 0

    def update(self, run: SyncRun) -> None:
        """Called as pages arrive and when each table is done."""
        if not self.enabled:
            return
        if self.tty:
            self._draw(self._line(run.tables_done, run.tables_total, run, run.current_table))
        elif run.tables_done > self.tables_done:
            self.tables_done = run.tables_done
            self.stream.write(
                f"{self._bar(run.tables_done, run.tables_total)} "
                f"{run.tables_done}/{run.tables_total} tables · {run.current_table} done · "
                f"{_count(run.pulled, 'record')} · {_count(run.requests, 'request')}"
            )

    def finish(self, run: SyncRun) -> None:
        """After the run: the final state (a failed run's table is shown as not done)."""
        if self.tty:
            self._draw(self._line(run.tables_done, run.tables_total, run, ""))
            self.stream.write("", ending="\n")
            self.stream.flush()

    def _line(self, done: int, total: int, run: SyncRun, table: str) -> str:
        where = f" · {table}" if table else ""
        return (
            f"{self._bar(done, total)} {done}/{total} tables{where} · "
            f"{_count(run.pulled, 'record')} · {_count(run.requests, 'request')}"
        )

    @staticmethod
    def _bar(done: int, total: int) -> str:
        filled = BAR_WIDTH * done // total if total else 0
        return "[" + "#" * filled + "-" * (BAR_WIDTH - filled) + "]"

    def _draw(self, line: str) -> None:
        padding = " " * max(self.width - len(line), 0)
        self.width = len(line)
        self.stream.write("\r" + line + padding, ending="")
        self.stream.flush()


class Command(BaseCommand):
    help = (
        "Sync a connection now, in the foreground: incremental (records changed since the last "
        "successful run) unless --full. Progress goes to stderr, the outcome to stdout; the "
        "exit status is non-zero when the run fails. --base is needed only when the "
        "organization has several connections."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, metavar="SLUG", help="Organization slug.")
        parser.add_argument("--base", metavar="BASE_ID", help="Base id of the connection (app…).")
        parser.add_argument(
            "--full",
            action="store_true",
            help="Pull every record and archive rows whose records are gone from Airtable.",
        )

    def handle(self, *args, **options):
        organization = get_organization(options["org"])
        connection = get_connection(organization, options["base"])
        kind = RunKind.FULL if options["full"] else RunKind.INCREMENTAL
        try:
            run = services.run_request(connection=connection, kind=kind)
        except services.SyncBusy as busy:
            raise CommandError(str(busy)) from None
        # Progress is plain text on stderr, not in the red Django uses for errors there.
        self.stderr.style_func = None
        if options["verbosity"] > 0:
            self.stderr.write(
                f"Syncing {connection.name} ({connection.base_id}) into {organization.name}: "
                f"{run.get_kind_display().lower()} run {run.pk}."
            )
        try:
            run = self._execute(run, Progress(self.stderr, enabled=options["verbosity"] > 0))
        finally:
            self.stderr.style_func = self.style.ERROR
        self._report(run, requested=kind)
        if run.status == RunStatus.FAILED:
            raise CommandError(run.error or "The sync failed.")

    def _execute(self, run: SyncRun, progress: Progress) -> SyncRun:
        try:
            services.run_execute(run_id=run.pk, on_progress=progress.update)
        except KeyboardInterrupt:
            run.refresh_from_db()
            progress.finish(run)
            raise CommandError(
                f"Interrupted. Run {run.pk} stays marked running until it is found stale "
                "(SYNC_STALE_AFTER_SECONDS); until then new syncs of this connection are "
                "refused. Nothing is archived by an unfinished run."
            ) from None
        except TokenUnreadable as error:
            raise CommandError(str(error)) from None
        run.refresh_from_db()
        progress.finish(run)
        if run.is_active:
            raise CommandError(
                f"Run {run.pk} is being executed by another worker; follow it on the "
                "connection page."
            )
        return run

    def _report(self, run: SyncRun, requested: RunKind) -> None:
        connection = run.connection
        succeeded = run.status == RunStatus.SUCCEEDED
        headline = (
            f"{run.get_kind_display()} sync of {connection.name} ({connection.base_id}) "
            f"{'succeeded' if succeeded else 'failed'}."
        )
        if run.kind != requested:
            headline += " (No earlier successful sync to be incremental from: it ran in full.)"
        self.stdout.write(self.style.SUCCESS(headline) if succeeded else headline)
        duration = (
            f"{(run.finished_at - run.started_at).total_seconds():.1f}s"
            if run.started_at and run.finished_at
            else "-"
        )
        rows = [
            ("pulled", run.pulled),
            ("created", run.created),
            ("updated", run.updated),
            ("unchanged", run.unchanged),
            ("archived", run.archived),
            ("unarchived", run.unarchived),
            ("issues", run.issue_count),
            ("requests", run.requests),
            ("duration", duration),
        ]
        for label, value in rows:
            self.stdout.write(f"  {label:<11}{value}")
        issues = selectors.run_issues(organization=connection.organization, run=run)
        shown = list(issues[:ISSUES_SHOWN])
        if not shown:
            return
        total = issues.count()
        self.stdout.write(self.style.WARNING(f"Issues ({total}):"))
        for issue in shown:
            field = issue.field_name or issue.field_id or "-"
            self.stdout.write(f"  {issue.table_name} {issue.record_id} {field}: {issue.reason}")
        if total > len(shown):
            self.stdout.write(f"  … and {total - len(shown)} more: see the run's page.")
