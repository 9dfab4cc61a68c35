"""Cards the apps above put on the dashboard: a registry they fill in their AppConfig.ready().

The dashboard belongs to okrs, but some of what it shows belongs to apps built on okrs (the
last Airtable sync). Such an app registers a card: a template and the data it needs. The
dashboard renders every card in its place, caches it with the rest of the page, and an open
dashboard fetches a card again on its own (`?fragment=<name>`) when its events say so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from orgs.models import Organization


@dataclass(frozen=True)
class DashboardCard:
    name: str  # the fragment's name: `?fragment=<name>` fetches this card alone
    template: str  # rendered with the dashboard's context and `data(organization)`
    data: Callable[[Organization], dict[str, Any]]


_cards: dict[str, DashboardCard] = {}


def register_card(card: DashboardCard) -> None:
    if card.name in _cards and _cards[card.name] != card:
        raise ValueError(f"a dashboard card named {card.name!r} is already registered")
    _cards[card.name] = card


def dashboard_cards() -> list[DashboardCard]:
    """The registered cards, in the order their apps were loaded."""
    return list(_cards.values())


def dashboard_card(name: str) -> DashboardCard | None:
    return _cards.get(name)
