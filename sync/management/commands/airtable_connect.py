"""`manage.py airtable_connect`: connect an Airtable base to an organization and print the
proposed mapping. Run again with the same base to replace the token and read the schema again.

The token is read from an environment variable (so it stays out of the shell history and the
process list) and only its last four characters are ever printed.
"""

from __future__ import annotations

import os
import re

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from sync import selectors, services
from sync.airtable.client import SyncError
from sync.crypto import TokenUnreadable
from sync.management import error_lines, get_organization
from sync.mapping.check import check_mapping
from sync.mapping.describe import describe
from sync.mapping.document import MappingError
from sync.models import Connection
from sync.schema import schema_from_api

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Command(BaseCommand):
    help = (
        "Connect an Airtable base to an organization: read its schema, store the proposed "
        "mapping and print it. The token is read from the environment variable named by "
        "--token-env. If the organization already has this base, its token is replaced and its "
        "schema read again instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, metavar="SLUG", help="Organization slug.")
        parser.add_argument(
            "--base", required=True, metavar="BASE_ID", help="Base id (app… in the base's URL)."
        )
        parser.add_argument(
            "--token-env",
            required=True,
            metavar="VAR",
            help="Name of the environment variable holding the personal access token "
            "(scopes data.records:read and schema.bases:read).",
        )
        parser.add_argument(
            "--name", default="", help="Name of the connection (default: the base id)."
        )

    def handle(self, *args, **options):
        token = self._token(options["token_env"])
        organization = get_organization(options["org"])
        base_id = options["base"].strip()
        existing = Connection.objects.for_org(organization).filter(base_id=base_id).first()
        try:
            if existing is not None:
                self._reconnect(existing, token)
                if options["name"].strip() and options["name"].strip() != existing.name:
                    self.stdout.write(
                        f"--name ignored: the connection keeps its name {existing.name!r}."
                    )
            else:
                self._connect(organization, options["name"], base_id, token)
        except ValidationError as error:
            raise CommandError(
                "Not connected:\n" + "\n".join(f"  - {line}" for line in error_lines(error))
            ) from None
        except (SyncError, TokenUnreadable, MappingError) as error:
            raise CommandError(str(error)) from None

    def _token(self, variable: str) -> str:
        # Never echo what was passed if it is not a variable name: it may be the token itself.
        if not ENV_NAME.match(variable):
            raise CommandError(
                "--token-env takes the NAME of an environment variable holding the token "
                "(e.g. --token-env AIRTABLE_TOKEN after `export AIRTABLE_TOKEN=pat…`), "
                "not the token itself."
            )
        token = os.environ.get(variable)
        if token is None:
            raise CommandError(
                f"The environment variable {variable} is not set: export {variable}=<personal "
                "access token> and run the command again."
            )
        if not token.strip():
            raise CommandError(
                f"The environment variable {variable} is empty: set it to the personal access "
                "token and run the command again."
            )
        return token

    def _connect(self, organization, name: str, base_id: str, token: str) -> None:
        connection = services.connection_create(
            organization=organization, name=name, base_id=base_id, token=token
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Connected {connection.name} ({connection.base_id}) to {organization.name}, "
                f"token …{connection.token_last4}."
            )
        )
        self._print_mapping(connection, "Proposed mapping (review it before the first sync):")
        schedule = services.connection_schedule_state(connection=connection)
        every, hour = schedule["incremental_every_minutes"], schedule["full_at_hour"]
        self.stdout.write(
            "Scheduled: "
            + (f"incremental every {every} minutes" if every else "no incremental syncs")
            + (
                f", full daily at {hour:02d}:{services.full_sync_minute(connection):02d} UTC."
                if hour is not None
                else ", no full syncs."
            )
        )
        self._print_next_steps(connection)

    def _reconnect(self, connection: Connection, token: str) -> None:
        services.connection_set_token(connection=connection, token=token)  # reads the schema
        self.stdout.write(
            self.style.SUCCESS(
                f"{connection.organization.name} already has {connection.name} "
                f"({connection.base_id}): token replaced (…{connection.token_last4}), "
                "schema read again."
            )
        )
        self._print_mapping(connection, "Current mapping:")
        self._print_next_steps(connection)

    def _print_mapping(self, connection: Connection, title: str, problems=None) -> None:
        schema = schema_from_api(connection.schema)
        mapping = selectors.connection_mapping(connection=connection)
        self.stdout.write(title)
        for line in describe(mapping, schema):
            self.stdout.write(f"  {line}")
        if problems is None:
            problems = check_mapping(mapping, schema)
        if problems:
            self.stdout.write(self.style.WARNING("The mapping needs attention before a sync:"))
            for problem in problems:
                self.stdout.write(f"  - {problem}")
        else:
            self.stdout.write("The mapping can run as it is.")

    def _print_next_steps(self, connection: Connection) -> None:
        org = connection.organization.slug
        base = connection.base_id
        self.stdout.write(
            "Next: review or edit it with "
            f"`manage.py airtable_mapping --org {org} --base {base} --export mapping.json` "
            f"(then --import), or on the mapping page; "
            f"sync with `manage.py airtable_sync --org {org} --base {base}`."
        )
