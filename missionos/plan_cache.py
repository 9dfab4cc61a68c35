"""What is cached from an organization's plan, and when it is retired.

Anything computed from an organization's plan or sync state (the dashboard, its parts, whole
pages) is cached under the organization's plan version: a token that every change replaces
(a plan event, and any save of a row the organization owns: orgs/apps.py), so nothing cached
from an older plan is ever served again.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Hashable
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)
T = TypeVar("T")


def _version_key(organization_id: int) -> str:
    return f"missionos:plan-version:{organization_id}"


def plan_version(organization_id: int) -> str | None:
    """A token that changes whenever the organization's plan or sync state does (a plan event,
    and any save of its row or a row it owns: orgs/apps.py): part of the key of anything cached
    from them. None when the cache cannot be reached (then nothing is cached)."""
    try:
        version = cache.get(_version_key(organization_id))
        if version is None:
            cache.add(_version_key(organization_id), uuid.uuid4().hex, timeout=None)
            version = cache.get(_version_key(organization_id))
        return version
    except Exception:  # a cache outage must not take pages down
        logger.warning("plan version unavailable for organization %s", organization_id)
        return None


def plan_changed(organization_id: int) -> None:
    """Retire the cached plan once the current transaction commits. A fresh random token, not
    a counter: a token lost from the cache can never come back and match old entries."""

    def retire() -> None:
        try:
            cache.set(_version_key(organization_id), uuid.uuid4().hex, timeout=None)
        except Exception:
            logger.warning("could not retire the cached plan of organization %s", organization_id)

    transaction.on_commit(retire)


def plan_cached(
    organization_id: int,
    name: str,
    variant: tuple[Hashable, ...],
    compute: Callable[[], T],
    timeout: int,
) -> T:
    """`compute()`, cached under the organization's plan version: computed once per plan
    change (and at most every `timeout` seconds) for each `variant`, which must name everything
    else the value depends on. Without a cache, or when it fails, it is computed each time: a
    cache outage costs speed, never the page.

    An entry keeps the version it was computed under, and one round trip reads both: a hit
    costs a single MGET."""
    fingerprint = hashlib.sha256(repr(variant).encode()).hexdigest()[:32]  # any length, safe
    key = f"missionos:{name}:{organization_id}:{fingerprint}"
    try:
        found = cache.get_many([_version_key(organization_id), key])
    except Exception:
        found = {}
    version = found.get(_version_key(organization_id)) or plan_version(organization_id)
    if version is None:
        return compute()
    entry = found.get(key)
    if entry is not None and entry[0] == version:
        return entry[1]
    # Stored with the version read before computing: a change meanwhile retires it at once.
    value = compute()
    try:
        cache.set(key, (version, value), timeout)
    except Exception:
        logger.warning("could not cache %s of organization %s", name, organization_id)
    return value
