"""How a key result's value reads, wherever it shows (pages, check-ins, the activity feed):
the one formatting home. Pure: no ORM.

- Yes / no: "Done" or "Not yet", never a bare 1 or 0.
- Milestones: "Done" when the target is reached, "Not yet" at the start, else "3 of 5 milestones".
- A count ("clinics", "people", any unit that is not a measure) is a whole number: 4.7 -> 5.
- A measure (%, hours, a currency, a score) keeps its decimals, trailing zeros dropped.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format

YES_NO, MILESTONE, PERCENTAGE, CURRENCY = "yes_no", "milestone", "percentage", "currency"

# Units whose values are measured, not counted: fractions are meaningful. Anything else (a
# plural noun such as "clinics") counts things.
MEASURES = frozenset(
    {
        "%", "percent", "pct", "pts", "points", "score", "rating", "nps", "x",
        "h", "hr", "hrs", "hour", "hours", "min", "mins", "minutes", "day", "days",
        "week", "weeks", "month", "months", "year", "years",
        "km", "m", "kg", "g", "t", "l", "kwh", "mwh", "co2", "tco2e",
        "$", "€", "£", "usd", "eur", "gbp", "chf", "k", "m$", "ratio", "rate", "avg",
    }
)  # fmt: skip


def is_count(unit: str) -> bool:
    unit = unit.strip().lower()
    return bool(unit) and unit not in MEASURES and any(c.isalpha() for c in unit)


def number_text(value: Decimal | float | int) -> str:
    value = Decimal(str(value)) if not isinstance(value, Decimal) else value
    if value == 0:
        value = abs(value)  # SQLite keeps a typed "-0" as -0.0
    return number_format(value.normalize(), force_grouping=True)


def value_text(
    value: Decimal | float | int | None,
    *,
    unit: str = "",
    metric_type: str = "number",
    start: Decimal | float | int | None = None,
    target: Decimal | float | int | None = None,
) -> str:
    if value is None:
        return "–"
    value = Decimal(str(value)) if not isinstance(value, Decimal) else value
    if metric_type == YES_NO:
        return "Done" if value >= 1 else "Not yet"
    if metric_type == MILESTONE:
        if target is not None and value >= Decimal(str(target)):
            return "Done"
        if value == Decimal(str(start or 0)):
            return "Not yet"
        whole = number_text(value.to_integral_value(ROUND_HALF_UP))
        if target is None:
            return f"{whole} milestone{'s' if value != 1 else ''}"
        of = number_text(Decimal(str(target)).to_integral_value(ROUND_HALF_UP))
        return f"{whole} of {of} milestones"
    if metric_type == PERCENTAGE or unit in ("%", "percent"):
        return f"{number_text(value)}%"
    if is_count(unit):
        value = value.to_integral_value(ROUND_HALF_UP)
    return f"{number_text(value)} {unit}".strip()


def key_result_value_text(value, key_result) -> str:
    """`value` (a check-in's, the current, start or target) of `key_result`, as it reads."""
    return value_text(
        value,
        unit=key_result.unit,
        metric_type=key_result.metric_type,
        start=key_result.start_value,
        target=key_result.target_value,
    )
