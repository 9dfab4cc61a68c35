"""`manage.py data_health --org SLUG [--json]`: compute the organization's findings now and print
them: a table of counts by kind (the default), or one JSON object for scripts:

    {"organization", "computed_at", "score",
     "findings": [{"kind", "severity", "records": [{"model", "id",
                   "airtable": {"base", "table", "record"} | null}],
                   "fields": [{"table", "field"}], "score", "detail", "first_seen", "status"}]}
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from health import selectors, services
from health.kinds import KINDS, Kind
from sync.management import get_organization


class Command(BaseCommand):
    help = "Compute an organization's data-health findings and print them."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--org", required=True, help="the organization's slug")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options) -> None:
        organization = get_organization(options["org"])
        report = services.findings_compute(organization=organization)
        snapshot = report.snapshot
        if options["json"]:
            document = {
                "organization": organization.slug,
                "computed_at": snapshot.computed_at.isoformat(),
                "score": snapshot.score,
                "findings": selectors.findings_as_json(organization),
            }
            self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False))
            return
        self.stdout.write(
            f"{organization.name}: data health {snapshot.score:g}/100, "
            f"{snapshot.open_findings} open finding(s) "
            f"({report.new} new, {report.resolved} resolved since the last computation)"
        )
        width = max(len(kind.value) for kind in Kind)
        for kind, info in KINDS.items():
            count = snapshot.counts.get(kind, 0)
            if count:
                line = f"  {kind.value:<{width}}  {count:>6}  {info.severity.label.lower()}"
                self.stdout.write(f"{line}  {kind.label}")
