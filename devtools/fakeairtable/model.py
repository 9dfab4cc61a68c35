"""In-memory model of Airtable bases, tables, fields and records (no HTTP here).

Everything is keyed by id, as Airtable keys it: field and table ids never change, names do.
Cell values are stored by field id with Airtable's rule applied on write: empty values (``""``,
``[]``, ``False``, ``None``) are simply absent, so an unchecked checkbox or a cleared text field
has no key, and ``0`` stays.

Times are kept as integer milliseconds since the epoch (UTC) and rendered as
``2024-01-02T03:04:05.000Z``. Each record has ``createdTime`` and a last-modified time (what the
formula ``LAST_MODIFIED_TIME()`` answers): it starts at the creation time and moves on every
``update()`` (even one that writes the values already there; the test driver stands for a user's
edit). It also keeps per-field modification times for ``LAST_MODIFIED_TIME({Field})``.

Fixture format (``FakeBase.to_dict()`` / ``FakeAirtableModel.load_base()``), JSON::

    {
      "id": "appXXXXXXXXXXXXXX",
      "name": "Demo base",
      "tables": [
        {
          "id": "tblXXXXXXXXXXXXXX",
          "name": "Objectives",
          "primaryFieldId": "fldXXXXXXXXXXXXXX",      # optional: the first field
          "description": "...",                       # optional
          "fields": [
            {"id": "fldXXXXXXXXXXXXXX", "name": "Name", "type": "singleLineText"},
            {"id": "fldYYYYYYYYYYYYYY", "name": "Status", "type": "singleSelect",
             "options": {"choices": [{"id": "selA", "name": "Done", "color": "greenLight2"}]}}
          ],
          "records": [
            {"id": "recXXXXXXXXXXXXXX",                 # optional: generated from the seed
             "createdTime": "2024-01-02T03:04:05.000Z", # optional: now
             "lastModifiedTime": "2024-01-03T00:00:00.000Z",  # optional: createdTime
             "fields": {"fldXXXXXXXXXXXXXX": "Grow revenue", "fldYYYYYYYYYYYYYY": "Done"}}
          ]
        }
      ]
    }

Record ``fields`` are keyed by field id; a hand-written fixture may use field names instead
(a key that is not a field id of the table is looked up as a name). Tokens are not part of a
fixture: pass them to ``load_base(..., tokens=...)``. A base may carry ``"permissionLevel"``
("create" when absent, or "edit", "comment", "read").

Tokens and permissions: a token has scopes (``ALL_SCOPES`` unless ``add_token(token,
scopes=...)`` or ``set_token_scopes`` says otherwise) and access to the bases whose ``tokens``
hold it; a base has a ``permission_level`` (what the token's user may do there: "create" may
change records and fields, "edit" records only, "comment" and "read" nothing).

Transactions: every change to records, fields or a table's name happens inside a transaction
(``with model.transaction(source="client"):``; each public method opens one of its own when
none is open, so one ``table.update()`` is one transaction). When the outermost one ends, each
base it touched gets the next ``transaction_number``, and ``change_listener.committed()`` (the
webhooks, see webhooks.py) learns what changed: records created, changed (previous and current
values of the cells that really changed), destroyed; fields created, changed, destroyed; the
table's name. Changes are only itemised for bases the listener is ``watching()``, so bulk
loads stay fast.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import random
import string
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

ID_ALPHABET = string.ascii_letters + string.digits
FORMAT_VERSION = 1
ALL_SCOPES = frozenset(
    {
        "data.records:read",
        "data.records:write",
        "schema.bases:read",
        "schema.bases:write",
        "webhook:manage",
    }
)
PERMISSION_LEVELS = ("read", "comment", "edit", "create")


# ---------------------------------------------------------------------------------------------
# Small helpers


def is_empty(value: Any) -> bool:
    """Airtable omits these values from responses: an unchecked box, an empty text or list."""
    return value is None or value is False or value == "" or value == []


def ms_to_iso(ms: int) -> str:
    """1704164645000 -> '2024-01-02T03:04:05.000Z'."""
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def to_ms(value: str | dt.datetime | dt.date | float | int) -> int:
    """An ISO string (``Z`` or offset; naive = UTC), a datetime or epoch seconds -> epoch ms."""
    if isinstance(value, bool):
        raise TypeError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        return round(value * 1000)
    if isinstance(value, str):
        value = parse_iso(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return calendar.timegm(value.utctimetuple()) * 1000 + value.microsecond // 1000
    if isinstance(value, dt.date):
        return calendar.timegm(value.timetuple()) * 1000
    raise TypeError(f"not a time: {value!r}")


def parse_iso(text: str) -> dt.datetime:
    """Parse an ISO 8601 date or date-time into an aware UTC datetime (naive means UTC)."""
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def random_id(rng: random.Random, prefix: str) -> str:
    """Airtable-shaped id: a three-letter prefix and 14 alphanumerics."""
    return prefix + "".join(rng.choices(ID_ALPHABET, k=14))


# ---------------------------------------------------------------------------------------------
# Transactions and what they changed


@dataclass
class TableChanges:
    """What one transaction did to one table (ids only; values are read when it commits)."""

    created_records: dict[str, None] = dataclass_field(default_factory=dict)  # an ordered set
    # record id -> field id -> [previous, current]
    changed_records: dict[str, dict[str, list[Any]]] = dataclass_field(default_factory=dict)
    destroyed_record_ids: list[str] = dataclass_field(default_factory=list)
    created_fields: dict[str, None] = dataclass_field(default_factory=dict)
    # field id -> "name"/"type" -> [previous, current]
    changed_fields: dict[str, dict[str, list[Any]]] = dataclass_field(default_factory=dict)
    destroyed_field_ids: list[str] = dataclass_field(default_factory=list)
    metadata: dict[str, list[Any]] = dataclass_field(
        default_factory=dict
    )  # "name" -> [previous, current]

    def record_created(self, record_id: str) -> None:
        self.created_records[record_id] = None

    def record_changed(self, record_id: str, field_id: str, previous: Any, current: Any) -> None:
        if record_id in self.created_records:
            return  # reported as created, with its values at the end of the transaction
        cells = self.changed_records.setdefault(record_id, {})
        if field_id in cells:
            cells[field_id][1] = current
        else:
            cells[field_id] = [previous, current]

    def record_destroyed(self, record_id: str) -> None:
        if self.created_records.pop(record_id, 0) is None:
            return  # created and destroyed in one transaction: nothing to tell
        self.changed_records.pop(record_id, None)
        self.destroyed_record_ids.append(record_id)

    def field_created(self, field_id: str) -> None:
        self.created_fields[field_id] = None

    def field_changed(self, field_id: str, key: str, previous: Any, current: Any) -> None:
        if field_id in self.created_fields:
            return
        entry = self.changed_fields.setdefault(field_id, {})
        if key in entry:
            entry[key][1] = current
        else:
            entry[key] = [previous, current]

    def field_destroyed(self, field_id: str) -> None:
        if self.created_fields.pop(field_id, 0) is None:
            return
        self.changed_fields.pop(field_id, None)
        self.destroyed_field_ids.append(field_id)
        for cells in self.changed_records.values():
            cells.pop(field_id, None)

    def table_changed(self, key: str, previous: Any, current: Any) -> None:
        if key in self.metadata:
            self.metadata[key][1] = current
        else:
            self.metadata[key] = [previous, current]

    def settle(self) -> None:
        """Drop cells and attributes that ended where they began (an edit undone, a no-op)."""
        for record_id, cells in list(self.changed_records.items()):
            for field_id, (previous, current) in list(cells.items()):
                if previous == current:
                    del cells[field_id]
            if not cells:
                del self.changed_records[record_id]
        for field_id, entry in list(self.changed_fields.items()):
            for key, (previous, current) in list(entry.items()):
                if previous == current:
                    del entry[key]
            if not entry:
                del self.changed_fields[field_id]
        for key, (previous, current) in list(self.metadata.items()):
            if previous == current:
                del self.metadata[key]

    def __bool__(self) -> bool:
        return bool(
            self.created_records
            or self.changed_records
            or self.destroyed_record_ids
            or self.created_fields
            or self.changed_fields
            or self.destroyed_field_ids
            or self.metadata
        )


@dataclass
class Transaction:
    """An open transaction: who makes it and what it has changed so far."""

    source: str  # webhook actionMetadata.source: "client" (a person, the model), "publicApi"
    source_metadata: dict[str, Any]
    touched: dict[str, None] = dataclass_field(default_factory=dict)  # base ids, in order
    changes: dict[str, dict[str, TableChanges]] = dataclass_field(
        default_factory=dict
    )  # base -> table


@dataclass
class Commit:
    """One committed transaction on one base, as the change listener receives it."""

    base: FakeBase
    source: str
    source_metadata: dict[str, Any]
    timestamp_ms: int
    transaction_number: int
    tables: dict[str, TableChanges]  # table id -> changes (none empty)


class ChangeListener(Protocol):
    def watching(self, base_id: str) -> bool: ...

    def committed(self, commit: Commit) -> None: ...


def person_metadata() -> dict[str, Any]:
    """sourceMetadata for changes made "in Airtable's UI" (the model, the control API)."""
    return {
        "user": {
            "id": "usrFakePerson0001",
            "email": "person@example.com",
            "name": "A person",
            "permissionLevel": "create",
        }
    }


# ---------------------------------------------------------------------------------------------
# Records, tables, bases


class FakeRecord:
    """One record. ``fields`` maps field id -> value (never an empty value)."""

    __slots__ = ("created", "field_modified", "fields", "id", "modified", "order")

    def __init__(self, record_id: str, created: int, fields: dict[str, Any], order: int):
        self.id = record_id
        self.created = created  # epoch ms
        self.modified = created  # epoch ms: LAST_MODIFIED_TIME()
        self.fields = fields
        self.order = order  # the arbitrary, stable listing order
        # Per-field modification times, only once the record was updated; before that every
        # field with a value was set at creation.
        self.field_modified: dict[str, int] | None = None

    @property
    def created_time(self) -> str:
        return ms_to_iso(self.created)

    @property
    def last_modified_time(self) -> str:
        return ms_to_iso(self.modified)

    def field_modified_ms(self, field_id: str) -> int | None:
        if self.field_modified is None:
            return self.created if field_id in self.fields else None
        return self.field_modified.get(field_id)

    def to_dict(self) -> dict[str, Any]:
        """The fixture shape (fields by id), also used for debugging."""
        return {
            "id": self.id,
            "createdTime": self.created_time,
            "lastModifiedTime": self.last_modified_time,
            "fields": dict(self.fields),
        }

    def __repr__(self) -> str:
        return f"<FakeRecord {self.id} {self.fields!r}>"


def render_record(
    record: FakeRecord,
    names: Mapping[str, str],
    by_id: bool = False,
    selected: set[str] | None = None,
    comment_count: bool = False,
) -> dict[str, Any]:
    """The REST API's record: ``{id, createdTime, fields}``, fields keyed by name (or id)."""
    fields = {}
    for fid, value in record.fields.items():
        if selected is not None and fid not in selected:
            continue
        name = names.get(fid)
        if name is not None:
            fields[fid if by_id else name] = value
    out: dict[str, Any] = {
        "id": record.id,
        "createdTime": ms_to_iso(record.created),
        "fields": fields,
    }
    if comment_count:
        out["commentCount"] = 0
    return out


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if not is_empty(v)}


class FakeTable:
    def __init__(
        self,
        base: FakeBase,
        table_id: str,
        name: str,
        fields: Iterable[Mapping[str, Any]],
        primary_field_id: str | None = None,
        description: str | None = None,
    ):
        self.base = base
        self.id = table_id
        self._name = name
        self.description = description
        self._rng = random.Random(f"{base.store.seed}/{base.id}/{table_id}")
        self.view_id = random_id(self._rng, "viw")
        self._fields: dict[str, dict[str, Any]] = {}
        self._records: dict[str, FakeRecord] = {}
        self._order_cache: list[FakeRecord] | None = None
        for field in fields:
            self._add_field_dict(field)
        if not self._fields:
            raise ValueError(f"table {name!r} needs at least one field")
        self.primary_field_id = primary_field_id or next(iter(self._fields))
        if self.primary_field_id not in self._fields:
            raise ValueError(f"primary field {self.primary_field_id!r} is not a field of {name!r}")

    @property
    def _lock(self) -> threading.RLock:
        return self.base.store.lock

    def _changes(self) -> TableChanges | None:
        """Where the open transaction notes changes to this table (None: nobody watches)."""
        return self.base.store._table_changes(self.base.id, self.id)

    def __repr__(self) -> str:
        return f"<FakeTable {self.id} {self._name!r} ({len(self._records)} records)>"

    # -- name ---------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, new_name: str) -> None:
        with self.base.store.transaction():
            for other in self.base.tables:
                if other is not self and other.name == new_name:
                    raise ValueError(f"base {self.base.id} already has a table named {new_name!r}")
            if (changes := self._changes()) is not None:
                changes.table_changed("name", self._name, new_name)
            self._name = new_name

    # -- fields -------------------------------------------------------------------------------

    @property
    def fields(self) -> list[dict[str, Any]]:
        """The field definitions, in order (copies)."""
        with self._lock:
            return [dict(f) for f in self._fields.values()]

    def field(self, id_or_name: str) -> dict[str, Any]:
        """The field with that id, else that name. KeyError if neither."""
        with self._lock:
            if id_or_name in self._fields:
                return self._fields[id_or_name]
            for field in self._fields.values():
                if field["name"] == id_or_name:
                    return field
        raise KeyError(id_or_name)

    def field_by_name(self, name: str) -> dict[str, Any] | None:
        for field in self._fields.values():
            if field["name"] == name:
                return field
        return None

    def field_names(self) -> dict[str, str]:
        """field id -> current name."""
        return {fid: f["name"] for fid, f in self._fields.items()}

    def _add_field_dict(self, field: Mapping[str, Any]) -> str:
        field_id = field.get("id") or random_id(self._rng, "fld")
        name = field.get("name")
        if not name:
            raise ValueError(f"field {field_id} needs a name")
        if field_id in self._fields:
            raise ValueError(f"table {self._name!r} already has a field {field_id}")
        if self.field_by_name(name) is not None:
            raise ValueError(f"table {self._name!r} already has a field named {name!r}")
        entry: dict[str, Any] = {
            "id": field_id,
            "name": name,
            "type": field.get("type") or "singleLineText",
        }
        if field.get("description"):
            entry["description"] = field["description"]
        if field.get("options") is not None:
            entry["options"] = json.loads(json.dumps(field["options"]))
        self._fields[field_id] = entry
        return field_id

    def add_field(
        self,
        name: str | Mapping[str, Any],
        type: str = "singleLineText",
        *,
        id: str | None = None,
        options: dict[str, Any] | None = None,
        description: str | None = None,
    ) -> str:
        """Add a field (a dict like those of ``add_table`` or keyword arguments). -> field id."""
        if isinstance(name, Mapping):
            spec = dict(name)
        else:
            spec = {"id": id, "name": name, "type": type, "options": options}
            if description:
                spec["description"] = description
        with self.base.store.transaction():
            field_id = self._add_field_dict(spec)
            if (changes := self._changes()) is not None:
                changes.field_created(field_id)
            return field_id

    def rename_field(self, field_id: str, new_name: str) -> None:
        with self.base.store.transaction():
            field = self._fields[field_id]
            other = self.field_by_name(new_name)
            if other is not None and other is not field:
                raise ValueError(f"table {self._name!r} already has a field named {new_name!r}")
            if (changes := self._changes()) is not None:
                changes.field_changed(field_id, "name", field["name"], new_name)
            field["name"] = new_name

    def set_field_options(self, field_id: str, options: Mapping[str, Any] | None) -> None:
        """Replace a field's options (e.g. its select choices)."""
        with self.base.store.transaction():
            field = self._fields[field_id]
            if options is None:
                field.pop("options", None)
            else:
                field["options"] = json.loads(json.dumps(options))
            self.base.store._table_changes(self.base.id, self.id)  # touched: a new number

    def remove_field(self, field_id: str) -> None:
        """Delete a field and its values (the primary field cannot be deleted)."""
        with self.base.store.transaction():
            if field_id == self.primary_field_id:
                raise ValueError("the primary field cannot be removed")
            del self._fields[field_id]
            if (changes := self._changes()) is not None:
                changes.field_destroyed(field_id)
            for record in self._records.values():
                record.fields.pop(field_id, None)
                if record.field_modified is not None:
                    record.field_modified.pop(field_id, None)

    def set_primary_field(self, field_id: str) -> None:
        with self._lock:
            if field_id not in self._fields:
                raise KeyError(field_id)
            self.primary_field_id = field_id

    # -- records ------------------------------------------------------------------------------

    @property
    def records(self) -> Mapping[str, FakeRecord]:
        """Read-only mapping record id -> FakeRecord, in creation order."""
        return MappingProxyType(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def get(self, record_id: str) -> FakeRecord:
        return self._records[record_id]

    def _check_keys(self, values: Mapping[str, Any]) -> None:
        unknown = [k for k in values if k not in self._fields]
        if unknown:
            raise KeyError(f"unknown field ids for table {self._name!r}: {unknown}")

    def _new_record_id(self) -> str:
        while True:
            record_id = random_id(self._rng, "rec")
            if record_id not in self._records:
                return record_id

    def create(
        self,
        fields_by_id: Mapping[str, Any] | None = None,
        record_id: str | None = None,
        created_time: str | dt.datetime | float | None = None,
    ) -> str:
        """Create one record (values keyed by field id). -> its id."""
        fields_by_id = fields_by_id or {}
        with self.base.store.transaction():
            self._check_keys(fields_by_id)
            if record_id is None:
                record_id = self._new_record_id()
            elif record_id in self._records:
                raise ValueError(f"record {record_id} already exists")
            created = self.base.store.now_ms() if created_time is None else to_ms(created_time)
            record = FakeRecord(record_id, created, _clean(fields_by_id), self._rng.getrandbits(62))
            self._records[record_id] = record
            self._order_cache = None
            if (changes := self._changes()) is not None:
                changes.record_created(record_id)
            return record_id

    def create_many(
        self,
        rows: Iterable[Mapping[str, Any]],
        created_time: str | dt.datetime | float | None = None,
    ) -> list[str]:
        """Bulk create (values keyed by field id), fast enough for 100k rows. -> ids."""
        with self.base.store.transaction():
            changes = self._changes()
            created = self.base.store.now_ms() if created_time is None else to_ms(created_time)
            known = self._fields.keys()
            records = self._records
            rng = self._rng
            choices = rng.choices
            getrandbits = rng.getrandbits
            ids = []
            for row in rows:
                if not known >= row.keys():
                    self._check_keys(row)
                while True:
                    record_id = "rec" + "".join(choices(ID_ALPHABET, k=14))
                    if record_id not in records:
                        break
                values = {k: v for k, v in row.items() if not is_empty(v)}
                records[record_id] = FakeRecord(record_id, created, values, getrandbits(62))
                ids.append(record_id)
            self._order_cache = None
            if changes is not None:
                for record_id in ids:
                    changes.record_created(record_id)
            return ids

    def update(
        self,
        record_id: str,
        fields_by_id: Mapping[str, Any],
        modified_time: str | dt.datetime | float | None = None,
    ) -> None:
        """Merge values into a record (PATCH semantics; an empty value clears the cell) and
        move its last-modified time to now (or ``modified_time``)."""
        with self.base.store.transaction():
            record = self._records[record_id]
            self._check_keys(fields_by_id)
            changes = self._changes()
            when = self.base.store.now_ms() if modified_time is None else to_ms(modified_time)
            if record.field_modified is None:
                record.field_modified = dict.fromkeys(record.fields, record.created)
            for key, value in fields_by_id.items():
                previous = record.fields.get(key)
                if is_empty(value):
                    record.fields.pop(key, None)
                    value = None
                else:
                    record.fields[key] = value
                record.field_modified[key] = when
                if changes is not None:
                    changes.record_changed(record_id, key, previous, value)
            record.modified = when

    def replace(
        self,
        record_id: str,
        fields_by_id: Mapping[str, Any],
        modified_time: str | dt.datetime | float | None = None,
    ) -> None:
        """PUT semantics: the values given, and every other cell cleared."""
        with self.base.store.transaction():
            record = self._records[record_id]
            self._check_keys(fields_by_id)
            cleared = {k: None for k in record.fields if k not in fields_by_id}
            self.update(record_id, {**cleared, **fields_by_id}, modified_time)

    def delete(self, record_id: str) -> None:
        """Delete a record; like Airtable, links to it disappear from linking cells."""
        self.delete_many([record_id])

    def delete_many(self, record_ids: Iterable[str]) -> None:
        with self.base.store.transaction():
            changes = self._changes()
            gone = set()
            for record_id in record_ids:
                del self._records[record_id]
                gone.add(record_id)
                if changes is not None:
                    changes.record_destroyed(record_id)
            self._order_cache = None
            self.base._unlink(self.id, gone)

    def ordered_records(self) -> list[FakeRecord]:
        """All records in the fixed, arbitrary listing order (by a random key, not creation)."""
        with self._lock:
            if self._order_cache is None:
                self._order_cache = sorted(self._records.values(), key=lambda r: r.order)
            return self._order_cache

    # -- shapes -------------------------------------------------------------------------------

    def schema_dict(self, include_visible_field_ids: bool = False) -> dict[str, Any]:
        """The metadata API's table shape."""
        with self._lock:
            view: dict[str, Any] = {"id": self.view_id, "name": "Grid view", "type": "grid"}
            if include_visible_field_ids:
                view["visibleFieldIds"] = list(self._fields)
            table: dict[str, Any] = {
                "id": self.id,
                "name": self._name,
                "primaryFieldId": self.primary_field_id,
            }
            if self.description:
                table["description"] = self.description
            table["fields"] = [json.loads(json.dumps(f)) for f in self._fields.values()]
            table["views"] = [view]
            return table

    def to_dict(self, include_records: bool = True) -> dict[str, Any]:
        """The fixture shape."""
        with self._lock:
            out = self.schema_dict()
            del out["views"]
            if include_records:
                out["records"] = [r.to_dict() for r in self._records.values()]
            return out


class FakeBase:
    def __init__(
        self,
        store: FakeAirtableModel,
        base_id: str,
        name: str,
        tokens: Iterable[str],
        permission_level: str = "create",
    ):
        if permission_level not in PERMISSION_LEVELS:
            raise ValueError(f"permission level must be among {PERMISSION_LEVELS}")
        self.store = store
        self.id = base_id
        self.name = name
        self.tokens: set[str] = set(tokens)
        self.permission_level = permission_level
        self.transaction_number = 0  # webhook payloads' baseTransactionNumber
        self._tables: dict[str, FakeTable] = {}

    def __repr__(self) -> str:
        return f"<FakeBase {self.id} {self.name!r}>"

    @property
    def tables(self) -> list[FakeTable]:
        return list(self._tables.values())

    def add_table(
        self,
        table_id: str,
        name: str,
        fields: Iterable[Mapping[str, Any]],
        primary_field_id: str | None = None,
        description: str | None = None,
    ) -> FakeTable:
        with self.store.lock:
            if table_id in self._tables:
                raise ValueError(f"base {self.id} already has a table {table_id}")
            if any(t.name == name for t in self._tables.values()):
                raise ValueError(f"base {self.id} already has a table named {name!r}")
            table = FakeTable(self, table_id, name, fields, primary_field_id, description)
            self._tables[table_id] = table
            return table

    def remove_table(self, table_id: str) -> None:
        with self.store.lock:
            del self._tables[table_id]

    def table(self, id_or_name: str) -> FakeTable:
        """The table with that id, else that name. KeyError if neither."""
        with self.store.lock:
            if id_or_name in self._tables:
                return self._tables[id_or_name]
            for table in self._tables.values():
                if table.name == id_or_name:
                    return table
        raise KeyError(id_or_name)

    def find_table(self, id_or_name: str) -> FakeTable | None:
        try:
            return self.table(id_or_name)
        except KeyError:
            return None

    def _unlink(self, table_id: str, gone: set[str]) -> None:
        """Remove links to deleted records (the linking record's modified time stays)."""
        for table in self._tables.values():
            link_fields = [
                fid
                for fid, f in table._fields.items()
                if f["type"] == "multipleRecordLinks"
                and (f.get("options") or {}).get("linkedTableId", table_id) == table_id
            ]
            if not link_fields:
                continue
            changes = table._changes()
            for record in table._records.values():
                for fid in link_fields:
                    links = record.fields.get(fid)
                    if links and not gone.isdisjoint(links):
                        kept = [x for x in links if x not in gone]
                        if kept:
                            record.fields[fid] = kept
                        else:
                            del record.fields[fid]
                        if changes is not None:  # the linking cell changed: hooks hear of it
                            changes.record_changed(record.id, fid, links, kept or None)

    def schema_dict(self, include_visible_field_ids: bool = False) -> dict[str, Any]:
        """``GET /v0/meta/bases/{baseId}/tables``."""
        with self.store.lock:
            return {"tables": [t.schema_dict(include_visible_field_ids) for t in self.tables]}

    def to_dict(self, include_records: bool = True) -> dict[str, Any]:
        """The fixture format described in this module's docstring."""
        with self.store.lock:
            out: dict[str, Any] = {"format": FORMAT_VERSION, "id": self.id, "name": self.name}
            if self.permission_level != "create":
                out["permissionLevel"] = self.permission_level
            out["tables"] = [t.to_dict(include_records) for t in self.tables]
            return out

    def dump(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n")


class FakeAirtableModel:
    """The bases of one fake Airtable, with their tokens. The HTTP side is ``FakeAirtable``."""

    def __init__(self, *, seed: int = 0, clock: Callable[[], float] | None = None):
        self.seed = seed
        self.clock = clock or time.time
        self.lock = threading.RLock()
        self.bases: dict[str, FakeBase] = {}
        self.extra_tokens: set[str] = set()
        self.token_scopes: dict[str, frozenset[str]] = {}  # absent: ALL_SCOPES
        self.change_listener: ChangeListener | None = None
        self._transaction: Transaction | None = None

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def add_base(
        self,
        base_id: str,
        name: str,
        tokens: Iterable[str] = (),
        permission_level: str = "create",
    ) -> FakeBase:
        with self.lock:
            if base_id in self.bases:
                raise ValueError(f"base {base_id} already exists")
            base = FakeBase(self, base_id, name, tokens, permission_level)
            self.bases[base_id] = base
            return base

    def remove_base(self, base_id: str) -> None:
        with self.lock:
            del self.bases[base_id]

    def add_token(self, token: str, scopes: Iterable[str] | None = None) -> None:
        """A valid token with access to no base (yet): requests with it get 403, not 401.
        ``scopes`` (default: all of ``ALL_SCOPES``) applies wherever the token is used."""
        with self.lock:
            self.extra_tokens.add(token)
            if scopes is not None:
                self.set_token_scopes(token, scopes)

    def set_token_scopes(self, token: str, scopes: Iterable[str] | None) -> None:
        """What the token may do (None: everything), on every base it has access to."""
        with self.lock:
            if scopes is None:
                self.token_scopes.pop(token, None)
                return
            scopes = frozenset(scopes)
            if not scopes <= ALL_SCOPES:
                raise ValueError(f"unknown scopes {sorted(scopes - ALL_SCOPES)}")
            self.token_scopes[token] = scopes

    def scopes_of(self, token: str) -> frozenset[str]:
        with self.lock:
            return self.token_scopes.get(token, ALL_SCOPES)

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def transaction(
        self, source: str = "client", source_metadata: Mapping[str, Any] | None = None
    ) -> Iterator[Transaction]:
        """Group changes into one transaction (one webhook payload per base). Nested calls
        join the open one (its source wins). Holds the model lock throughout, so no other
        thread's change can slip into it."""
        with self.lock:
            if self._transaction is not None:
                yield self._transaction
                return
            metadata = person_metadata() if source_metadata is None else dict(source_metadata)
            transaction = Transaction(source, metadata)
            self._transaction = transaction
            try:
                yield transaction
            finally:
                self._transaction = None
                self._commit(transaction)

    def _table_changes(self, base_id: str, table_id: str) -> TableChanges | None:
        transaction = self._transaction
        if transaction is None:
            raise RuntimeError("a change outside a transaction")
        transaction.touched[base_id] = None
        listener = self.change_listener
        if listener is None or not listener.watching(base_id):
            return None
        return transaction.changes.setdefault(base_id, {}).setdefault(table_id, TableChanges())

    def _commit(self, transaction: Transaction) -> None:
        now = self.now_ms()
        for base_id in transaction.touched:
            base = self.bases.get(base_id)
            if base is None:
                continue
            base.transaction_number += 1
            tables = {}
            for table_id, changes in transaction.changes.get(base_id, {}).items():
                changes.settle()
                if changes and table_id in base._tables:
                    tables[table_id] = changes
            if tables and self.change_listener is not None:
                self.change_listener.committed(
                    Commit(
                        base,
                        transaction.source,
                        transaction.source_metadata,
                        now,
                        base.transaction_number,
                        tables,
                    )
                )

    def grant(self, token: str, base_id: str) -> None:
        with self.lock:
            self.bases[base_id].tokens.add(token)

    def revoke(self, token: str, base_id: str) -> None:
        with self.lock:
            self.bases[base_id].tokens.discard(token)

    def token_known(self, token: str) -> bool:
        with self.lock:
            return token in self.extra_tokens or any(token in b.tokens for b in self.bases.values())

    def base(self, base_id: str) -> FakeBase:
        return self.bases[base_id]

    def load_base(
        self, source: str | Path | Mapping[str, Any], tokens: Iterable[str] = ()
    ) -> FakeBase:
        """Add a base from a fixture (a path to a JSON file, or the parsed dict)."""
        is_path = isinstance(source, str | Path)
        data = json.loads(Path(source).read_text()) if is_path else source
        version = data.get("format", FORMAT_VERSION)
        if version != FORMAT_VERSION:
            raise ValueError(f"unknown fixture format {version!r}")
        with self.transaction(source="system"):
            base = self.add_base(
                data["id"],
                data.get("name") or data["id"],
                tokens,
                permission_level=data.get("permissionLevel", "create"),
            )
            for spec in data.get("tables", []):
                table = base.add_table(
                    spec["id"],
                    spec["name"],
                    spec["fields"],
                    primary_field_id=spec.get("primaryFieldId"),
                    description=spec.get("description"),
                )
                by_name = {f["name"]: fid for fid, f in table._fields.items()}
                times: dict[str, int] = {}  # fixtures often share timestamps

                def ms(text: str, times: dict[str, int] = times) -> int:
                    if text not in times:
                        times[text] = to_ms(text)
                    return times[text]

                for rec in spec.get("records", []):
                    values = {}
                    for key, value in (rec.get("fields") or {}).items():
                        if key not in table._fields and key in by_name:
                            key = by_name[key]
                        values[key] = value
                    created = rec.get("createdTime")
                    record_id = table.create(
                        values,
                        record_id=rec.get("id"),
                        created_time=None if created is None else ms(created) / 1000,
                    )
                    if rec.get("lastModifiedTime"):
                        table._records[record_id].modified = ms(rec["lastModifiedTime"])
            return base
