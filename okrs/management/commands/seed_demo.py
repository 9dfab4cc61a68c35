"""`manage.py seed_demo`: load the demo organizations (idempotent) and print how to sign in."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.db import transaction

from okrs import demo


class Command(BaseCommand):
    help = (
        "Create the demo organizations (Northwind Health, Northwind Labs) and demo users. "
        "Safe to run again: existing demo organizations are left as they are."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()
        with transaction.atomic():
            report = demo.seed_demo()
        elapsed = time.perf_counter() - started
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready in {elapsed:.1f}s."))
