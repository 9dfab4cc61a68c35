"""`manage.py seed_demo`: load the demo organizations (idempotent) and print how to sign in.

The main organization (Northwind Health) is loaded by a real sync of the bundled demo base
against a fake Airtable started inside this command (see demo.airtable_base). That fake lives
in devtools/, which the production image leaves out: there the command stops and says so.
"""

from __future__ import annotations

import os
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from demo import airtable_base
from demo.seed import seed_demo


class Command(BaseCommand):
    help = (
        "Create the demo organizations (Northwind Health, loaded by syncing the bundled demo "
        "Airtable base through a fake Airtable in this process; Northwind Labs) and demo users. "
        "Safe to run again: existing demo organizations are left as they are (--resync syncs "
        "Northwind Health again from today's base). Needs devtools/ (a source checkout)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--resync",
            action="store_true",
            help="Sync Northwind Health again from today's demo base (a full run) if it exists.",
        )
        parser.add_argument(
            "--write-snapshot",
            nargs="?",
            const="",
            default=None,
            metavar="PATH",
            help="Only write today's demo base as a fake-Airtable fixture (default: "
            "devtools/fixtures/northwind-base.json), for `python -m devtools.fakeairtable "
            "--base`; seed nothing.",
        )

    def handle(self, *args, **options):
        if options["write_snapshot"] is not None:
            self.write_snapshot(options["write_snapshot"] or airtable_base.SNAPSHOT_PATH)
            return
        started = time.perf_counter()
        try:
            # The demo base outlives the transaction: what connecting it does on commit (its
            # change feed's webhook) reaches the fake, not api.airtable.com.
            with airtable_base.seeding_base() as served:
                with transaction.atomic():
                    report = seed_demo(resync=options["resync"], served=served)
                if any(org.sync is not None for org in report.organizations):
                    # What the database now holds came from this base: run_demo serves it.
                    airtable_base.keep_base(served)
        except airtable_base.DemoSyncError as error:
            raise CommandError(f"{error} Nothing was saved.") from error
        elapsed = time.perf_counter() - started
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready in {elapsed:.1f}s."))

    def write_snapshot(self, path) -> None:
        try:
            path = airtable_base.write_snapshot(path)
        except airtable_base.FakeAirtableMissing as error:
            raise CommandError(str(error)) from error
        shown = os.path.relpath(path)
        path = path if shown.startswith("..") else shown
        self.stdout.write(f"Wrote the demo base {airtable_base.BASE_ID} to {path}. Serve it with")
        self.stdout.write(
            f"    uv run python -m devtools.fakeairtable --base {path} "
            f"--token {airtable_base.TOKEN} --no-rate-limit"
        )
