"""`manage.py airtable_mapping`: export a connection's mapping as JSON, or import one.

Export writes the stored mapping with sorted keys and two-space indents, so the file diffs
cleanly and the same mapping always gives the same bytes. Import checks the file against the
base's schema as last read (connect again to read it afresh) and saves nothing when it has
problems, listing each.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from sync import services
from sync.management import error_lines, get_connection, get_organization
from sync.mapping.describe import describe
from sync.mapping.document import Mapping
from sync.schema import schema_from_api


def mapping_json(data: dict) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = (
        "Export a connection's mapping to a JSON file (- for stdout), or import one after "
        "checking it against the base's schema. --base is needed only when the organization "
        "has several connections."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, metavar="SLUG", help="Organization slug.")
        parser.add_argument("--base", metavar="BASE_ID", help="Base id of the connection (app…).")
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument(
            "--export", metavar="FILE", help="Write the mapping to FILE (- for stdout)."
        )
        action.add_argument(
            "--import",
            dest="import_file",
            metavar="FILE",
            help="Check the mapping in FILE (- for stdin) and save it.",
        )

    def handle(self, *args, **options):
        organization = get_organization(options["org"])
        connection = get_connection(organization, options["base"])
        if options["export"] is not None:
            self._export(connection, options["export"])
        else:
            self._import(connection, options["import_file"], options.get("stdin") or sys.stdin)

    def _export(self, connection, target: str) -> None:
        text = mapping_json(connection.mapping or Mapping().to_dict())
        if target == "-":
            self.stdout.write(text, ending="")
            return
        try:
            Path(target).write_text(text, encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Cannot write {target}: {error.strerror or error}.") from None
        tables = len((connection.mapping or {}).get("entities") or {})
        self.stdout.write(
            f"Wrote the mapping of {connection.name} ({connection.base_id}), {tables} "
            f"table{'s' if tables != 1 else ''} mapped, to {target}."
        )

    def _import(self, connection, source: str, stdin) -> None:
        try:
            text = stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or error
            raise CommandError(f"Cannot read {source}: {reason}.") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise CommandError(
                f"{source} is not valid JSON: {error.msg} at line {error.lineno}, "
                f"column {error.colno}."
            ) from None
        try:
            mapping = services.connection_set_mapping(connection=connection, mapping_data=data)
        except ValidationError as error:
            problems = error_lines(error)
            raise CommandError(
                f"The mapping in {source} was not imported ({len(problems)} "
                f"problem{'s' if len(problems) != 1 else ''}); fix and import again:\n"
                + "\n".join(f"  - {problem}" for problem in problems)
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported the mapping from {source} into {connection.name} "
                f"({connection.base_id}). The next sync uses it."
            )
        )
        for line in describe(mapping, schema_from_api(connection.schema)):
            self.stdout.write(f"  {line}")
