"""Management commands for the Airtable sync (`airtable_connect`, `airtable_mapping`,
`airtable_sync`), and the few helpers they share: finding the organization and the connection
named on the command line, and turning service errors into readable `CommandError`s."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from orgs.models import Organization
from sync import selectors
from sync.models import Connection


def get_organization(slug: str) -> Organization:
    organization = Organization.objects.filter(slug=slug.strip()).first()
    if organization is None:
        known = ", ".join(Organization.objects.order_by("slug").values_list("slug", flat=True)[:20])
        raise CommandError(
            f"No organization with the slug {slug!r}." + (f" Known: {known}." if known else "")
        )
    return organization


def get_connection(organization: Organization, base_id: str | None) -> Connection:
    """The organization's connection to `base_id`; its only connection when no base is given."""
    connections = list(selectors.connections(organization=organization))
    if not connections:
        raise CommandError(
            f"{organization.name} has no Airtable connection yet: connect a base with "
            f"`manage.py airtable_connect --org {organization.slug} --base app… "
            "--token-env VAR`."
        )
    listing = ", ".join(f"{c.base_id} ({c.name})" for c in connections)
    if base_id is None:
        if len(connections) > 1:
            raise CommandError(
                f"{organization.name} has {len(connections)} connections; choose one with "
                f"--base: {listing}."
            )
        return connections[0]
    for connection in connections:
        if connection.base_id == base_id.strip():
            return connection
    raise CommandError(
        f"{organization.name} has no connection to base {base_id!r}. Its connections: {listing}."
    )


def error_lines(error: ValidationError) -> list[str]:
    """Every message of a ValidationError, field errors prefixed with their field."""
    if hasattr(error, "error_dict"):
        return [
            message if field == "__all__" else f"{field}: {message}"
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    return list(error.messages)
