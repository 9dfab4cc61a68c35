"""Writes for connecting a base: the connection, its token, its schema as last read.

Views and management commands call these; a new connection gets the proposed mapping and its
default schedules at once.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from orgs.models import Organization
from sync.airtable.client import AirtableClient, SyncError
from sync.airtable.ratelimit import shared_rate_limiter
from sync.crypto import decrypt_token, encrypt_token
from sync.mapping.check import check_mapping
from sync.mapping.propose import propose_mapping
from sync.models import Connection
from sync.schema import schema_from_api
from sync.selectors import connection_mapping
from sync.services.auditing import TOKEN_SHOWN, audit_connection
from sync.services.schedule import schedule_set


def connection_client(connection: Connection, **kwargs) -> AirtableClient:
    """The Airtable client for the connection's base, paced by the rate limiter every worker
    shares: under Airtable's 5/s per base, evenly spaced (sync.airtable.ratelimit)."""
    return AirtableClient(
        api_url=settings.AIRTABLE_API_URL,
        token=decrypt_token(connection.token_encrypted),
        base_id=connection.base_id,
        limiter=kwargs.pop("limiter", None)
        or shared_rate_limiter(settings.AIRTABLE_REQUESTS_PER_SECOND),
        **kwargs,
    )


@sensitive_variables("token")
def connection_create(
    *,
    organization: Organization,
    name: str,
    base_id: str,
    token: str,
    actor: AbstractBaseUser | None = None,
) -> Connection:
    """Save a connection with its token encrypted, read the base's schema and store the
    proposed mapping. Raises ValidationError (bad input) or SyncError (Airtable refused)."""
    token = token.strip()
    if len(token) < 8:
        raise ValidationError({"token": "That does not look like an Airtable token."})
    connection = Connection(
        organization=organization,
        name=" ".join(name.split()) or base_id,
        base_id=base_id.strip(),
        token_encrypted=encrypt_token(token),
        token_last4=token[-4:],
    )
    connection.full_clean()
    schema = _read_schema(connection)
    connection.token_scopes = _read_scopes(connection)
    with transaction.atomic():
        connection.save()
        connection_store_schema(connection=connection, schema_payload=schema)
        connection.mapping = propose_mapping(schema_from_api(schema)).to_dict()
        connection.save(update_fields=["mapping"])
        schedule_set(connection=connection)
        audit_connection(
            connection,
            actor,
            "connected",
            {
                "name": [None, connection.name],
                "base_id": [None, connection.base_id],
                "token": [None, TOKEN_SHOWN],  # never the token, nor a part of it
                "mapped_tables": [None, len(connection.mapping.get("entities", {}))],
            },
        )
        _feed_after_commit(connection)
    return connection


@sensitive_variables("token")
def connection_set_token(
    *, connection: Connection, token: str, actor: AbstractBaseUser | None = None
) -> Connection:
    """Replace the token once Airtable has accepted it: the base's schema is read with the new
    token (and stored) first, so a mistyped token never replaces a working one. Raises
    ValidationError (not a token) or SyncError (Airtable refused it, with what to fix)."""
    token = token.strip()
    if len(token) < 8:
        raise ValidationError({"token": "That does not look like an Airtable token."})
    candidate = Connection(base_id=connection.base_id, token_encrypted=encrypt_token(token))
    schema = _read_schema(candidate)
    scopes_before = list(connection.token_scopes or [])
    connection.token_encrypted = candidate.token_encrypted
    connection.token_last4 = token[-4:]
    connection.token_scopes = _read_scopes(candidate)
    connection.write_blocked = ""  # the new token is tried at the next write
    with transaction.atomic():
        connection.save(
            update_fields=["token_encrypted", "token_last4", "token_scopes", "write_blocked"]
        )
        connection_store_schema(connection=connection, schema_payload=schema)
        changes = {"token": [TOKEN_SHOWN, "replaced (not shown)"]}
        if scopes_before != connection.token_scopes:
            changes["token_scopes"] = [scopes_before, connection.token_scopes]
        audit_connection(connection, actor, "replaced token", changes)
        _feed_after_commit(connection)  # the new token may have (or lack) webhook:manage
    return connection


def _feed_after_commit(connection: Connection) -> None:
    # Imported here: the feed service builds on this module's client.
    from sync.services.feed import feed_ensure_after_commit

    feed_ensure_after_commit(connection=connection)


def _read_scopes(connection: Connection) -> list[str]:
    """The token's scopes, as Airtable's whoami lists them; [] when it does not say (older
    tokens), and then a write learns it from Airtable's answer."""
    try:
        return connection_client(connection).token_scopes() or []
    except SyncError:
        return []


def _read_schema(connection: Connection) -> dict:
    return connection_client(connection).schema()


def connection_store_schema(*, connection: Connection, schema_payload: dict) -> None:
    connection.schema = schema_payload
    connection.schema_read_at = timezone.now()
    connection.save(update_fields=["schema", "schema_read_at"])


def connection_refresh_schema(*, connection: Connection) -> list[str]:
    """Read the schema again; return the mapping's problems against it (empty when fine)."""
    connection_store_schema(connection=connection, schema_payload=_read_schema(connection))
    mapping = connection_mapping(connection=connection)
    return check_mapping(mapping, schema_from_api(connection.schema))
