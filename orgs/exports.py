"""The people directory downloads as CSV and XLSX (missionos.exports)."""

from __future__ import annotations

from django.http import HttpRequest

from missionos.exports import Column, Table, register_table
from orgs import selectors


def _people_rows(request: HttpRequest):
    return selectors.organization_people(organization=request.org).order_by("name", "pk")


PEOPLE = register_table(
    Table(
        name="people",
        title="People",
        columns=(
            Column("Name", lambda p: p.name, width=30),
            Column("Email", lambda p: p.email, width=30),
            Column("Left on", lambda p: p.departed_on, width=12),
            Column("Account", lambda p: p.user.get_username() if p.user else "", width=20),
        ),
        rows=_people_rows,
    )
)

TABLES = (PEOPLE,)
