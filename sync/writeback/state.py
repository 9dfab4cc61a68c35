"""What MissionOS and Airtable last agreed on for a synced row, and what changed since.

The sync stamps each row it writes with a *base*: a short key per mapped attribute of the value
Airtable had (`source_extra["base"]`), and Airtable's link entries (`source_extra["base_links"]`).
From it follow the three answers a two-way sync needs, per attribute:

- changed in MissionOS: the row's value differs from the base;
- changed in Airtable: the value just pulled (or read before a write) differs from the base;
- both, to different values: a conflict, which a person resolves.

Keys, not values: the base must not double the size of every row, and equality is all it is
asked. Pure: reads the row it is given, no queries.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
from decimal import Decimal

from orgs.models import DELETE_IN_AIRTABLE, DELETED_IN_AIRTABLE, OrgOwned
from sync.mapping.catalogue import ENTITIES
from sync.values import content_hash

BASE = "base"
BASE_LINKS = "base_links"
# A row whose Airtable record is to be deleted (a person asked, e.g. when merging duplicates),
# and the mark that it was (orgs.models: the apps below set them): the row stays here,
# archived, for its history.


def to_delete(row: OrgOwned) -> bool:
    extra = row.source_extra or {}
    return bool(
        row.source_record_id
        and extra.get(DELETE_IN_AIRTABLE)
        and not extra.get(DELETED_IN_AIRTABLE)
    )


def value_key(value: object) -> str:
    """A short key equal for equal values (Decimal("5.0000") and 5 are one)."""
    kind = type(value)
    if kind is str:
        # content_hash({"v": value})'s own text, without its walk and sorted dump: every
        # attribute of every written row is keyed (its write-back base).
        text = '{"v":' + json.dumps(value, ensure_ascii=False) + "}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    if value is None:
        return _NONE_KEY
    if kind in _CACHED_KINDS and not (kind is Decimal and value.is_snan()):  # unhashable
        return _scalar_key(kind, value)  # few distinct values (days, counts): keyed once each
    return content_hash({"v": value})[:16]


@functools.lru_cache(maxsize=8192)
def _scalar_key(kind: type, value: object) -> str:
    return content_hash({"v": value})[:16]


_NONE_KEY = content_hash({"v": None})[:16]
# Equal values of one kind have one key (Decimal("5.0") and Decimal("5") too), so a cache by
# equality holds.
_CACHED_KINDS = frozenset({bool, int, datetime.date, Decimal})


def base_of(row: OrgOwned) -> dict[str, str]:
    return (row.source_extra or {}).get(BASE) or {}


def base_links_of(row: OrgOwned) -> dict[str, list]:
    extra = row.source_extra or {}
    links = extra.get(BASE_LINKS)
    return links if isinstance(links, dict) else (extra.get("links") or {})


def stamp_base(row: OrgOwned, keys: dict[str, str], links: dict[str, list]) -> None:
    """Record what Airtable has now for these attributes (merged into the row's base)."""
    extra = dict(row.source_extra or {})
    extra[BASE] = {**(extra.get(BASE) or {}), **keys}
    extra[BASE_LINKS] = {**(extra.get(BASE_LINKS) or extra.get("links") or {}), **links}
    row.source_extra = extra


def value_attributes(entity: str, mapped: dict[str, str], model: type[OrgOwned]) -> list[str]:
    """The mapped attributes held in a plain model field (not links, not read-only ones)."""
    names = {field.name for field in model._meta.concrete_fields}
    return [
        name
        for name in mapped
        if name in names and ENTITIES[entity][name].kind != "link" and name in ENTITIES[entity]
    ]


def changed_here(row: OrgOwned, attribute: str) -> bool:
    """Whether the row's value differs from what Airtable last had. A row without a base
    (made here, or synced before bases were kept) counts every value as changed."""
    base = base_of(row)
    if attribute not in base:
        return True
    return value_key(getattr(row, attribute)) != base[attribute]


def _entry_key(entry: object) -> object:
    if isinstance(entry, dict):
        if entry.get("email"):
            return ("email", entry["email"].lower())
        return ("name", (entry.get("name") or "").casefold())
    return entry


def same_entries(left: list | None, right: list | None) -> bool:
    """Whether two lists of link entries (record ids, or references by email or name) name
    the same records, in any order."""
    return sorted(map(str, map(_entry_key, left or []))) == sorted(
        map(str, map(_entry_key, right or []))
    )
