"""What the activity feed can point at: a registry the apps above fill.

An activity line names its target by kind ("pathway", "sync_run") and id. The kinds belong to
the apps that own those pages, and `orgs` sits below them, so each app registers its kinds in
its `AppConfig.ready()`; the feed's link tag and the model's choices read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TargetKind:
    """A kind of record an activity line leads to."""

    name: str  # stored in Activity.target
    label: str
    url_name: str = ""  # the page it opens, with `org_slug` and `url_kwarg`; "" for nowhere
    url_kwarg: str = ""
    # What a member must be allowed (an action or a role of orgs.roles) to follow the link;
    # others see the line only.
    required: str = "viewer"
    # Who to name when a line has no actor (an unattended sync run: "Airtable").
    unattended_actor: str = "Someone"


_kinds: dict[str, TargetKind] = {}


def register_target(kind: TargetKind) -> None:
    """Called from an app's ready(). Registering the same kind twice with other values is a
    programming error (two apps claiming one name)."""
    existing = _kinds.get(kind.name)
    if existing is not None and existing != kind:
        raise ValueError(f"activity target {kind.name!r} is already registered as {existing}")
    _kinds[kind.name] = kind


def target_kind(name: str) -> TargetKind | None:
    return _kinds.get(name)


def target_choices() -> list[tuple[str, str]]:
    """Activity.target's choices (a callable, so the apps above can add kinds)."""
    return [(kind.name, kind.label) for kind in _kinds.values()]
