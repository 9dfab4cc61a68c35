"""Bulk writes for the sync: insert new rows and update changed ones without a query per row.

On Postgres the rows are streamed with COPY: new rows straight into the table with keys taken
from its sequence beforehand, changed rows into a temporary staging table applied with one
`UPDATE … FROM`. That skips the SQL compiler and the per-value parameter quoting of
`bulk_create`/`bulk_update` (whose `CASE WHEN` updates grow with every row), which were most of
a sync's time. Other databases (the SQLite demo) use Django's bulk methods: same rows in, same
rows out.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models import signals
from django.db.models.base import ModelState

BATCH = 500


def new_row(model: type[models.Model], values: dict) -> models.Model:
    """`model(**values)`, several times faster: a sync makes a row per new record (100,000 in
    a base's first sync), and Django's constructor, which sorts keyword arguments from
    positional ones field by field, took a tenth of the run. The row gets every field's
    default, then `values` by attribute (a relation's through its descriptor, as Django's own
    constructor does). A model with init signal receivers, or a name that is no field, goes
    through Django's constructor (which refuses the latter)."""
    plan = _construction(model)
    if plan is None or not values.keys() <= plan.names:
        return model(**values)
    row = model.__new__(model)
    row._state = ModelState()
    attributes = row.__dict__
    attributes.update(plan.constants)
    for attname, make in plan.made:
        attributes[attname] = make()
    for name, value in values.items():
        setattr(row, name, value)
    return row


@dataclass(frozen=True)
class _Construction:
    constants: dict[str, object]  # attname -> default shared by every row (as Django shares it)
    made: list[tuple[str, Callable[[], object]]]  # attname -> a default made for each row
    names: frozenset[str]  # what `values` may name: fields and their attnames


@functools.cache
def _construction(model: type[models.Model]) -> _Construction | None:
    if signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model):
        return None
    constants: dict[str, object] = {}
    made: list[tuple[str, Callable[[], object]]] = []
    for model_field in model._meta.concrete_fields:
        if model_field.has_default() and callable(model_field.default):
            made.append((model_field.attname, model_field.default))
        else:  # a constant default, or the empty value Django gives a field without one
            constants[model_field.attname] = model_field.get_default()
    names = {f.name for f in model._meta.concrete_fields}
    names |= {f.attname for f in model._meta.concrete_fields}
    return _Construction(constants, made, frozenset(names))


def save_rows(
    model: type[models.Model], rows: Sequence[models.Model], fields: Sequence[str]
) -> None:
    """Insert the rows without a primary key (setting it) and write `fields` of the others.

    New rows get every column; existing rows only `fields`, so columns the caller did not name
    (such as `created_at`) keep what they hold. No signals and no `save()`, as with Django's
    bulk methods.
    """
    # New: made here, not read from the database (its key may be taken already: take_keys).
    new = [row for row in rows if row._state.adding]
    existing = [row for row in rows if not row._state.adding]
    # Part of the caller's transaction when there is one (no savepoint: two round trips a page).
    with transaction.atomic(savepoint=False):
        if connection.vendor != "postgresql":
            model.objects.bulk_create(new, batch_size=BATCH)
            if existing:
                # The sync's own rows, given by primary key: no organization to scope by here.
                model.objects.unscoped(include_archived=True).bulk_update(
                    existing, fields, batch_size=BATCH
                )
            return
        # Airtable keeps the data: a crash that loses the last writes costs a re-pull of them,
        # not the data. So this transaction does not wait for its WAL to reach the disk.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        if new:
            _insert(model, new)
        if existing:
            _update(model, existing, fields)


def upsert_rows(
    model: type[models.Model],
    rows: Sequence[models.Model],
    *,
    unique_fields: Sequence[str],
    update_fields: Sequence[str],
) -> None:
    """Insert new rows (no primary key) or, where one with the same `unique_fields` exists,
    write its `update_fields`: Django's `bulk_create(update_conflicts=True)`, which other
    databases use. On Postgres the rows are streamed with COPY into a staging table and moved
    with one `INSERT … SELECT … ON CONFLICT DO UPDATE`. The rows' keys are not read back.
    No two rows may share their unique fields (as with Postgres's ON CONFLICT)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            rows,
            batch_size=BATCH,
            update_conflicts=True,
            unique_fields=unique_fields,
            update_fields=update_fields,
        )
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    for row in rows:
        for field in fields:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                field.pre_save(row, add=True)
    table = model._meta.db_table
    columns = ", ".join(f'"{field.column}"' for field in fields)
    conflict = ", ".join(f'"{model._meta.get_field(name).column}"' for name in unique_fields)
    updates = ", ".join(
        f'"{column}" = EXCLUDED."{column}"'
        for column in (model._meta.get_field(name).column for name in update_fields)
    )
    # One transaction (the caller's, if any): the staging table empties at every commit.
    with transaction.atomic(savepoint=False):
        stage = _stage(table)
        _copy(stage, fields, rows)
        with connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM "{stage}" '
                f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
            )


def _stage(table: str) -> str:
    """An empty temporary table shaped like `table`, for COPY to fill (Postgres)."""
    stage = f"sync_stage_{table}"
    with connection.cursor() as cursor:
        # Lives as long as the database session; emptied at every commit.
        cursor.execute(
            f'CREATE TEMPORARY TABLE IF NOT EXISTS "{stage}" ON COMMIT DELETE ROWS '
            f'AS SELECT * FROM "{table}" WITH NO DATA'
        )
        cursor.execute(f'DELETE FROM "{stage}"')
    return stage


def _copy(table: str, fields: list[models.Field], rows: Sequence[models.Model]) -> None:
    json_columns = [i for i, field in enumerate(fields) if isinstance(field, models.JSONField)]
    names = ", ".join(f'"{field.column}"' for field in fields)
    attnames = [field.attname for field in fields]
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy,
    ):
        for row in rows:
            values = [getattr(row, name) for name in attnames]
            for i in json_columns:
                values[i] = json.dumps(values[i], cls=DjangoJSONEncoder)
            copy.write_row(values)


def take_keys(
    model: type[models.Model], rows: Sequence[models.Model], reserve: KeyReserve | None = None
) -> None:
    """Give new rows their primary keys before they are written (Postgres: from the table's
    own sequence, which no transaction holds), so a caller can link to them while their write
    is still to come. Elsewhere the write sets them. With a `reserve`, keys are taken from the
    sequence a block at a time (one query for many pages); keys a run leaves unused are gaps,
    as a rolled-back insert leaves."""
    unkeyed = [row for row in rows if row._state.adding and row.pk is None]
    if not unkeyed or connection.vendor != "postgresql":
        return
    if reserve is not None:
        keys = reserve.take(model, len(unkeyed))
    else:
        keys = _next_keys(model, len(unkeyed))
    key = model._meta.pk
    for row, value in zip(unkeyed, keys, strict=True):
        setattr(row, key.attname, value)


class KeyReserve:
    """Primary keys taken from each table's sequence ahead of need (Postgres): a block at a
    time once rows come a full page at a time (a big table's sync), exactly what is asked
    otherwise, so a run that adds a few rows leaves no gap in the keys."""

    BLOCK = 1000
    FULL_PAGE = 100  # Airtable's page

    def __init__(self) -> None:
        self._keys: dict[type[models.Model], list[int]] = {}

    def take(self, model: type[models.Model], count: int) -> list[int]:
        keys = self._keys.setdefault(model, [])
        if len(keys) < count:
            missing = count - len(keys)
            keys += _next_keys(
                model, max(missing, self.BLOCK) if count >= self.FULL_PAGE else missing
            )
        taken, self._keys[model] = keys[:count], keys[count:]
        return taken


def _next_keys(model: type[models.Model], count: int) -> list[int]:
    key = model._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, key.column, count],
        )
        return [value for (value,) in cursor.fetchall()]


def _insert(model: type[models.Model], rows: list[models.Model]) -> None:
    # What `save()` does: auto_now and auto_now_add fields get the current time.
    stamped = [
        field
        for field in model._meta.concrete_fields
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    ]
    for row in rows:
        for field in stamped:
            field.pre_save(row, add=True)
    take_keys(model, rows)  # every row knows its key exactly
    for row in rows:
        row._state.adding = False
        row._state.db = connection.alias
    _copy(model._meta.db_table, list(model._meta.concrete_fields), rows)


def _update(model: type[models.Model], rows: list[models.Model], names: Sequence[str]) -> None:
    wanted = set(names)
    fields = [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and (field.name in wanted or field.attname in wanted)
    ]
    table = model._meta.db_table
    key = model._meta.pk
    stage = _stage(table)
    _copy(stage, [key, *fields], rows)
    assignments = ", ".join(f'"{field.column}" = s."{field.column}"' for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" AS t SET {assignments} '
            f'FROM "{stage}" AS s WHERE t."{key.column}" = s."{key.column}"'
        )
