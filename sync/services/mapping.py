"""Writes for a connection's mapping: replacing it after checking it against the base."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from sync.mapping.check import check_mapping
from sync.mapping.document import Mapping, MappingError
from sync.models import Connection
from sync.schema import schema_from_api
from sync.services.feed import feed_ensure_after_commit


def connection_set_mapping(*, connection: Connection, mapping_data: dict) -> Mapping:
    """Replace the mapping (from the mapping page or an imported JSON file) after checking it
    against the stored schema. Raises ValidationError listing every problem."""
    try:
        mapping = Mapping.from_dict(mapping_data)
    except MappingError as error:
        raise ValidationError(error.errors or [str(error)]) from error
    problems = check_mapping(mapping, schema_from_api(connection.schema))
    if problems:
        raise ValidationError(problems)
    connection.mapping = mapping.to_dict()
    connection.save(update_fields=["mapping"])
    # The webhook follows the mapping (none while nothing is mapped), and a feed stopped by
    # mapping drift resumes from its cursor.
    feed_ensure_after_commit(connection=connection)
    return mapping
