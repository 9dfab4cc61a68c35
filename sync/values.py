"""Cleaning one Airtable cell (cellFormat=json) into the value MissionOS stores.

`convert(attr, raw)` never raises: it returns `Converted(value, problem)`, where `problem` is a
sentence for the data-health report when the cell could not be read as it stands. A value of
None means "unknown/empty"; whether that is acceptable (a required attribute) is the caller's
call. Numbers are Decimals.

The rules, decided once:

- **Empty cells.** Airtable omits "", [] and false, so an absent cell is None, except for a
  checkbox (`bool`: absent means unchecked, so False) and a many-link (`[]`).
- **Formula errors** `{"error": "#ERROR!"}`, `{"specialValue": "NaN"}` and lookups of them
  (`[{"error": ...}]`) give None with the problem "formula error #ERROR!" for every kind.
- **Lookups** (lists) for a single-valued kind: one value (or several equal ones) is used;
  several different values give None and a problem, except text, which joins them with ", ".
- **Text** is stripped and its whitespace collapsed to single spaces; long text keeps its line
  breaks (CRLF -> LF, trailing spaces and runs of blank lines trimmed). A collaborator gives its
  name (else email), an attachment its filename.
- **Emails** are trimmed, "mailto:" and "Name <a@b.c>" unwrapped, lower-cased and checked.
- **Numbers** come as JSON numbers (floats go through their shortest repr, so 0.1 stays 0.1).
  Typed text is read with US-style grouping: "1,250" is 1250 and "1.250" is 1.25. Where both
  "," and "." appear, the last one is the decimal point ("€3.000,50" -> 3000.50,
  "$1,200.50" -> 1200.50); a lone comma followed by anything but groups of three is a decimal
  comma ("12,5" -> 12.5); several dots in groups of three are grouping ("1.000.000").
  Currency symbols/codes, spaces, apostrophes and a leading "+" are dropped; "(1,200)" and a
  unicode minus are negative. Suffixes such as "k" or "5 users" are not guessed: a problem.
  More than 14 digits before the point (MissionOS stores decimal(18, 4)) is "too large".
  Decimals are not rounded here: the database rounds to the column's places on save.
- **Percentages are points (0-100)**, as MissionOS percentage metrics are (42 means 42 %).
  Airtable sends percent fields as fractions, so when the field is known to be a percent
  field (or a formula/rollup/lookup with a percent result) the fraction is multiplied by 100:
  0.42 -> 42. A typed "12.5%" is 12.5. An attribute of kind `percent` read without its field
  takes a bare JSON number as Airtable's fraction. Pass `field=` whenever you have it.
- **Confidence** (`Attr.scale`, 0-10 whole numbers): from a percent field the fraction x 10;
  from a rating field value x 10 / its max (5 stars if unknown); a typed "70%" is 7; a plain
  number 0-10 is taken as is, except a non-whole number strictly between 0 and 1, read as a
  fraction (0.7 -> 7); a plain number above 10 and up to 100 is read as percentage points
  (70 -> 7); anything else is out of range. Words from a select ("High") go through the value
  map or the built-in words (very high 9, high 8, medium 5, low 3, very low 1). The result is
  rounded half up to a whole number.
- **Integers** must be whole: 2.5 is a problem, not rounded.
- **Booleans**: JSON true/false, 1/0, and the words yes/no, y/n, true/false, x, checked, on/off,
  ✓, active/inactive; anything else is a problem.
- **Dates**: ISO "2024-03-01" and date-times "2024-03-01T09:00:00.000Z". A date attribute fed a
  date-time takes the calendar date in the field's time zone when the field names an IANA zone
  (`options.timeZone`), else in UTC. Typed dates: "2024/03/01" is Y/M/D; "01.03.2024" (dots) is
  D.M.Y; "3/1/2024" and "3-1-2024" are US M/D/Y unless the first number is above 12
  ("25/12/2024" is D/M/Y); two-digit years are 20xx below 70. English month names work
  ("1 March 2024", "Mar 1, 2024"). A trailing time ("3/1/2024 9:00am") is kept for date-times
  and ignored for dates. Anything else: None + "not a date: 'next week'". A date (or a
  date-time's day) outside the ones MissionOS keeps (`missionos.dates`: 1900-01-01 to
  2199-12-31) is None + "a date outside the ones MissionOS keeps (...): '0001-01-01'", quoting
  the cell as Airtable has it.
- **Date-times** are aware datetimes in UTC; a plain date is midnight UTC; a date-time without a
  zone is read in the field's IANA zone if any, else UTC.
- **Choices**: the value map first (keys compared after `normalize_value`), then the built-in
  synonyms of the attribute, then the MissionOS value itself ("In progress" -> in_progress).
  An unknown value gives None and a problem naming it and the known values.
- **Links** are lists of record ids (`rec` + 14 alphanumerics); anything else in them is dropped
  with a problem. A single link takes the first id and reports when there were several. A
  collaborator in a person link becomes a `PersonRef` (email, name, user id) for the caller to
  match; text in a link that accepts names (an objective's cycle) becomes a `NameRef`.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from missionos import dates
from missionos.text import without_control_characters
from sync.mapping.catalogue import Attr
from sync.mapping.names import match_choice, normalize_value
from sync.schema import FieldSchema

RECORD_ID = re.compile(r"rec[A-Za-z0-9]{14}")


@dataclass(frozen=True)
class Converted:
    value: object
    problem: str | None = None


# What a problem's reason is about, for data health to group its findings by (the reasons are
# written in this module: one home for both).
_PROBLEM_CODES = (
    ("formula error", "formula_error"),
    ("not a number", "value_not_number"),
    ("not a whole number", "value_not_number"),
    ("a number kept as text", "value_not_number"),
    ("unknown value", "unmapped_value"),
)
_QUOTED = re.compile(r"""(['"])(.*?)(?<!\\)\1""")


def problem_code(reason: str) -> str | None:
    """formula_error | value_not_number | unmapped_value, or None for other problems."""
    for prefix, code in _PROBLEM_CODES:
        if reason.startswith(prefix):
            return code
    return None


def problem_value(reason: str) -> str:
    """The cell's value a reason quotes ("not a number: '~210'" -> "~210")."""
    if reason.startswith("formula error "):
        return reason.removeprefix("formula error ").strip()
    found = _QUOTED.search(reason)
    return found.group(2) if found else ""


@dataclass(frozen=True)
class PersonRef:
    """A collaborator standing in for a person link: match it to a Person by email, then name."""

    email: str | None = None
    name: str | None = None
    user_id: str | None = None


@dataclass(frozen=True)
class NameRef:
    """Text naming a record (such as a cycle given as "Q1 2024"): match it by name."""

    name: str


def convert(
    attr: Attr,
    raw: object,
    *,
    value_map: Mapping[str, str] | None = None,
    field: FieldSchema | None = None,
) -> Converted:
    """Clean one cell for `attr`; `field` (the Airtable field it came from) refines scales."""
    try:
        return _convert(attr, raw, value_map, field)
    except Exception as exc:  # a cell must never stop a run: report it instead
        return Converted(None, f"could not read {_show(raw)}: {exc}")


def _convert(
    attr: Attr, raw: object, value_map: Mapping[str, str] | None, field: FieldSchema | None
) -> Converted:
    if _is_empty(raw):
        return Converted(_empty(attr))
    error = _airtable_error(raw)
    if error is not None:
        return Converted(None, f"formula error {error}")
    kind = attr.kind
    if kind in ("text", "long_text"):
        return _text(raw, long=kind == "long_text")
    if kind == "email":
        return _email(raw)
    if kind in ("number", "percent", "integer"):
        return _number(attr, raw, value_map, field)
    if kind == "bool":
        return _bool(raw)
    if kind == "date":
        return _date_value(raw, field, want_datetime=False)
    if kind == "datetime":
        return _date_value(raw, field, want_datetime=True)
    if kind == "choice":
        return _choice(attr, raw, value_map)
    if kind == "link":
        return _link(attr, raw)
    return Converted(None, f"unknown attribute kind {kind!r}")


# --- Shared helpers -------------------------------------------------------------------------


def cell_error(raw: object) -> str | None:
    """The error a computed cell holds (#ERROR!, NaN, Infinity), or None."""
    return _airtable_error(raw)


def is_empty(raw: object) -> bool:
    """Whether a cell holds nothing (absent, "", whitespace, [], {})."""
    return _is_empty(raw)


def _is_empty(raw: object) -> bool:
    if type(raw) is str:  # most cells: checked before the general case below
        return not raw.strip()
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, list | tuple):
        return all(_is_empty(item) for item in raw)
    return False


def _empty(attr: Attr) -> object:
    if attr.kind == "bool":
        return False
    if attr.kind == "link" and attr.many:
        return []
    return None


def _airtable_error(raw: object) -> str | None:
    if type(raw) in _PLAIN:  # most cells (and every link's record id): no error in them
        return None
    if isinstance(raw, Mapping):
        if "error" in raw:
            return str(raw["error"])
        if "specialValue" in raw:
            return str(raw["specialValue"])
        return None
    if isinstance(raw, list | tuple):
        for item in raw:
            error = _airtable_error(item)
            if error is not None:
                return error
    return None


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _show(raw: object, limit: int = 60) -> str:
    text = repr(raw)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _single(raw: object) -> tuple[object, str | None]:
    """One value out of a lookup's list: the only one, or several equal ones."""
    if not isinstance(raw, list | tuple):
        return raw, None
    items = [item for item in raw if not _is_empty(item)]
    if not items:
        return None, None
    if all(item == items[0] for item in items[1:]):
        return items[0], None
    shown = ", ".join(_show(item, 30) for item in items[:5])
    return None, f"several values where one is expected: {shown}"


def _dict_text(raw: Mapping[str, Any]) -> str | None:
    """The readable part of an object cell: collaborator, attachment, barcode, button."""
    for key in ("name", "email", "filename", "text", "label"):
        value = raw.get(key)
        if isinstance(value, str) and value.strip():
            return value
    value = raw.get("id")
    return value if isinstance(value, str) else None


def _plain_text(raw: object) -> str | None:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "Yes" if raw else "No"
    if isinstance(raw, int | float | Decimal):
        return _number_text(raw)
    if isinstance(raw, Mapping):
        return _dict_text(raw)
    return str(raw)


def _number_text(raw: int | float | Decimal) -> str:
    number = _decimal(raw)
    return format(_tidy(number), "f") if number is not None else str(raw)


# --- Text -----------------------------------------------------------------------------------

_BLANK_LINES = re.compile(r"\n{3,}")


def _clean_long(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return _BLANK_LINES.sub("\n\n", "\n".join(line.rstrip() for line in lines)).strip()


def _text(raw: object, *, long: bool) -> Converted:
    items = raw if isinstance(raw, list | tuple) else [raw]
    parts = []
    for item in items:
        text = _plain_text(item)
        if text is None:
            continue
        text = without_control_characters(text)  # never stored (missionos.text)
        text = _clean_long(text) if long else " ".join(text.split())
        if text and text not in parts:
            parts.append(text)
    joined = ("\n" if long else ", ").join(parts)
    return Converted(joined or None)


# --- Email ----------------------------------------------------------------------------------

_EMAIL = re.compile(r"[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[^@\s<>(),;:\"\[\].]+")
_ANGLED = re.compile(r"<([^<>]+)>")


def _email(raw: object) -> Converted:
    value, problem = _single(raw)
    if problem:
        return Converted(None, problem)
    if isinstance(value, Mapping):
        value = value.get("email") or ""
    text = " ".join(without_control_characters(str(value)).split())
    angled = _ANGLED.search(text)
    if angled:
        text = angled.group(1).strip()
    if text.casefold().startswith("mailto:"):
        text = text[len("mailto:") :].strip()
    text = text.casefold()
    if not text:
        return Converted(None)
    if not _EMAIL.fullmatch(text):
        return Converted(None, f"not an email address: {_show(value)}")
    return Converted(text)


# --- Numbers --------------------------------------------------------------------------------

_CODES = "USD|EUR|GBP|CAD|AUD|NZD|CHF|JPY|INR|SEK|NOK|DKK"
_CURRENCY = re.compile(rf"^(?:[A-Za-z]{{0,2}}[$€£¥₹]|(?:{_CODES})(?![A-Za-z]))\s*", re.IGNORECASE)
_CURRENCY_END = re.compile(rf"\s*(?:[$€£¥₹]|(?<![A-Za-z])(?:{_CODES}))$", re.IGNORECASE)
# MissionOS stores values as decimal(18, 4): at most 14 digits before the point.
MAX_DIGITS_BEFORE_POINT = 14
_PLAIN_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")
_US_GROUPS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d*)?")
_DOT_GROUPS = re.compile(r"\d{1,3}(?:\.\d{3}){2,}")
_SPACES = re.compile(r"[\s\u00a0\u2009\u202f'’_]")


def _decimal(raw: int | float | Decimal) -> Decimal | None:
    if isinstance(raw, Decimal):
        number = raw
    elif isinstance(raw, float):
        number = Decimal(repr(raw))
    else:
        number = Decimal(raw)
    return number if number.is_finite() else None


def _tidy(number: Decimal) -> Decimal:
    """42.00 -> 42, 12.50 -> 12.5 (no exponent notation for whole numbers)."""
    if number.adjusted() >= 28:  # beyond the context's precision: leave it be
        return number
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.normalize()


def parse_number(text: str) -> tuple[Decimal, bool] | None:
    """A typed number and whether it carried a "%" sign; None when it is not a number."""
    s = text.strip().replace("\u2212", "-")
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    if s.startswith(("-", "+")):
        negative, s = negative or s[0] == "-", s[1:].strip()
    percent = s.endswith("%")
    if percent:
        s = s[:-1].strip()
    s = _CURRENCY.sub("", s, count=1)
    s = _CURRENCY_END.sub("", s, count=1)
    if s.startswith(("-", "+")):  # "$-1,200"
        negative, s = negative or s[0] == "-", s[1:]
    if not percent and s.endswith("%"):  # "$12%" is nonsense, but "12 %" after a code is not
        percent, s = True, s[:-1]
    s = _SPACES.sub("", s)
    if "," in s and "." in s:
        decimal_mark = "," if s.rfind(",") > s.rfind(".") else "."
        grouping = "." if decimal_mark == "," else ","
        s = s.replace(grouping, "").replace(decimal_mark, ".")
    elif "," in s:
        if _US_GROUPS.fullmatch(s):
            s = s.replace(",", "")
        elif s.count(",") == 1:
            s = s.replace(",", ".")
        else:
            return None
    elif s.count(".") > 1:
        if not _DOT_GROUPS.fullmatch(s):
            return None
        s = s.replace(".", "")
    if not _PLAIN_NUMBER.fullmatch(s):
        return None
    number = Decimal(s)
    return (-number if negative else number), percent


def _is_percent_field(field: FieldSchema | None) -> bool:
    return field is not None and field.result_type == "percent"


def _number(
    attr: Attr, raw: object, value_map: Mapping[str, str] | None, field: FieldSchema | None
) -> Converted:
    value, problem = _single(raw)
    if problem:
        return Converted(None, problem)
    if value is None:
        return Converted(None)
    origin = "plain"  # plain | fraction | points | rating | word
    kept_as_text = ""
    if isinstance(value, bool):
        number: Decimal | None = Decimal(int(value))
    elif isinstance(value, int | float | Decimal):
        number = _decimal(value)
        if number is None:
            return Converted(None, f"not a number: {_show(value)}")
        if _is_percent_field(field) or (attr.kind == "percent" and field is None):
            origin = "fraction"
        elif field is not None and field.result_type == "rating":
            origin = "rating"
    elif isinstance(value, str):
        parsed = parse_number(value)
        if parsed is not None:
            number, has_percent = parsed
            origin = "points" if has_percent else "plain"
            if _is_text_field(field) and not _NUMBER_AS_TYPED.fullmatch(value.strip()):
                # A text field, read only by guessing at the text ("15,400"): a base to fix.
                kept_as_text = f"a number kept as text: {_show(value)}, read as {number}"
        else:
            word = _lookup(attr, value, value_map)
            if word is None:
                return Converted(None, f"not a number: {_show(value)}")
            number, origin = Decimal(word), "word"
    else:
        return Converted(None, f"not a number: {_show(value)}")

    if attr.scale is not None:
        return _rescale(number, origin, attr.scale, field, value)
    result = _number_value(attr, number, origin, value)
    if kept_as_text and result.problem is None:
        return Converted(result.value, kept_as_text)
    return result


_NUMBER_AS_TYPED = re.compile(r"[-+]?\d+(\.\d+)?%?")  # what a number field would hold


def _is_text_field(field: FieldSchema | None) -> bool:
    return field is not None and field.type in ("singleLineText", "multilineText", "richText")


def _number_value(attr: Attr, number: Decimal, origin: str, value: object) -> Converted:
    if origin == "fraction":
        number = number * 100
    if attr.kind == "integer":
        if number != number.to_integral_value():
            return Converted(None, f"not a whole number: {_show(value)}")
        return Converted(int(number))
    if number != 0 and number.adjusted() >= MAX_DIGITS_BEFORE_POINT:
        return Converted(None, f"too large: {_show(value)}")
    return Converted(_tidy(number))


def _rescale(
    number: Decimal, origin: str, scale: int, field: FieldSchema | None, raw: object
) -> Converted:
    top = Decimal(scale)
    if origin == "fraction":
        number = number * top
    elif origin == "points":
        number = number * top / 100
    elif origin == "rating":
        maximum = field.result_options.get("max") if field is not None else None
        maximum = maximum if isinstance(maximum, int) and maximum > 0 else 5
        number = number * top / maximum
    elif origin == "plain":
        if 0 < number < 1 and number != number.to_integral_value():
            number = number * top  # 0.7: a fraction
        elif top < number <= 100:
            number = number * top / 100  # 70: percentage points
    if not 0 <= number <= top:
        return Converted(None, f"{_show(raw)} is outside the 0-{scale} scale (or 0-1, 0-100)")
    return Converted(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --- Booleans -------------------------------------------------------------------------------

_TRUE = frozenset(
    {"yes", "y", "true", "t", "1", "x", "checked", "on", "✓", "✔", "☑", "✅", "active"}
)
_FALSE = frozenset(
    {"no", "n", "false", "f", "0", "unchecked", "off", "✗", "✘", "❌", "inactive", "none"}
)


def _bool(raw: object) -> Converted:
    value, problem = _single(raw)
    if problem:
        return Converted(None, problem)
    if isinstance(value, bool):
        return Converted(value)
    if isinstance(value, int | float | Decimal) and value in (0, 1):
        return Converted(bool(value))
    if isinstance(value, str):
        key = normalize_value(value)
        if key in _TRUE:
            return Converted(True)
        if key in _FALSE:
            return Converted(False)
    return Converted(None, f"not a yes/no value: {_show(value)}")


# --- Dates ----------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMERIC_DATE = re.compile(r"(\d{1,4})([/.\-])(\d{1,2})\2(\d{1,4})")
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?[\s\-]+([A-Za-z]+)\.?,?[\s\-]+(\d{2,4})")
_MONTH_DAY_YEAR = re.compile(r"([A-Za-z]+)\.?[\s\-]+(\d{1,2})(?:st|nd|rd|th)?,?[\s\-]+(\d{2,4})")
_TRAILING_TIME = re.compile(
    r"(.+?)[\sT,]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap])?\.?(?:m\.?)?", re.IGNORECASE
)
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}


def _field_zone(field: FieldSchema | None) -> tzinfo:
    if field is None:
        return UTC
    name = field.result_options.get("timeZone")
    if not isinstance(name, str) or name.casefold() in ("", "utc", "client"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _year(text: str) -> int:
    year = int(text)
    if len(text) <= 2:
        year += 2000 if year < 70 else 1900
    return year


def _loose_date(text: str) -> date | None:
    match = _NUMERIC_DATE.fullmatch(text)
    if match:
        first, separator, second, third = match.groups()
        if len(first) == 4:
            return date(int(first), int(second), int(third))
        if len(third) not in (2, 4):
            return None
        a, b = int(first), int(second)
        if separator == "." or (a > 12 and b <= 12):
            return date(_year(third), b, a)
        return date(_year(third), a, b)
    match = _DAY_MONTH_YEAR.fullmatch(text)
    if match and match.group(2).casefold() in _MONTHS:
        day, month, year = match.groups()
        return date(_year(year), _MONTHS[month.casefold()], int(day))
    match = _MONTH_DAY_YEAR.fullmatch(text)
    if match and match.group(1).casefold() in _MONTHS:
        month, day, year = match.groups()
        return date(_year(year), _MONTHS[month.casefold()], int(day))
    return None


def _parse_moment(text: str, zone: tzinfo) -> date | datetime | None:
    """A date, or an aware datetime, from ISO or typed text; None when unreadable."""
    s = " ".join(text.split())
    if _ISO_DATE.fullmatch(s):
        try:
            return date.fromisoformat(s)
        except ValueError:  # 2024-13-01
            return None
    if _ISO_DATE.match(s) and len(s) > 10 and s[10] in "T ":
        try:
            moment = datetime.fromisoformat(s)
        except ValueError:
            moment = None
        if moment is not None:
            return moment if moment.tzinfo else moment.replace(tzinfo=zone)
    try:
        day = _loose_date(s)
    except ValueError:  # 31/02/2024
        return None
    if day is not None:
        return day
    match = _TRAILING_TIME.fullmatch(s)
    if match:
        try:
            day = _loose_date(match.group(1).strip())
        except ValueError:
            return None
        if day is None:
            return None
        hour, minute = int(match.group(2)), int(match.group(3))
        second = int(match.group(4) or 0)
        meridiem = (match.group(5) or "").casefold()
        if meridiem == "p" and hour < 12:
            hour += 12
        elif meridiem == "a" and hour == 12:
            hour = 0
        try:
            return datetime.combine(day, time(hour, minute, second), tzinfo=zone)
        except ValueError:
            return None
    return None


def _date_value(raw: object, field: FieldSchema | None, *, want_datetime: bool) -> Converted:
    value, problem = _single(raw)
    if problem:
        return Converted(None, problem)
    zone = _field_zone(field)
    moment: date | datetime | None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=zone)
    elif isinstance(value, date):
        moment = value
    elif isinstance(value, str):
        moment = _parse_moment(value, zone)
    else:
        moment = None
    if moment is None:
        return Converted(None, f"not a date: {_show(value)}")
    # Judged before any conversion (which overflows near year 1 and 9999), and again as kept.
    if dates.out_of_range(moment):
        return _date_out_of_range(value)
    if want_datetime:
        if not isinstance(moment, datetime):
            moment = datetime.combine(moment, time(0), tzinfo=UTC)
        kept: date = moment.astimezone(UTC)
    elif isinstance(moment, datetime):
        kept = moment.astimezone(zone).date()
    else:
        kept = moment
    return _date_out_of_range(value) if dates.out_of_range(kept) else Converted(kept)


def _date_out_of_range(value: object) -> Converted:
    return Converted(
        None, f"a date outside the ones MissionOS keeps ({dates.RANGE_TEXT}): {_show(value)}"
    )


# --- Choices --------------------------------------------------------------------------------


def _lookup(attr: Attr, text: str, value_map: Mapping[str, str] | None) -> str | None:
    return _looked_up(attr, text, tuple(value_map.items()) if value_map else ())


@functools.lru_cache(maxsize=16_384)  # a base's statuses are a few values on many records
def _looked_up(attr: Attr, text: str, value_map: tuple[tuple[str, str], ...]) -> str | None:
    key = normalize_value(text).replace(" ", "")
    for source, target in value_map:
        if normalize_value(source).replace(" ", "") == key:
            return target
    return match_choice(attr, text)


def _choice(attr: Attr, raw: object, value_map: Mapping[str, str] | None) -> Converted:
    items = list(raw) if isinstance(raw, list | tuple) else [raw]
    texts = [text for text in (_plain_text(item) for item in items) if text and text.strip()]
    if not texts:
        return Converted(None)
    results = [(text, _lookup(attr, text, value_map)) for text in texts]
    known = [value for _, value in results if value is not None]
    unknown = [text for text, value in results if value is None]
    problems = []
    if unknown:
        known_values = (
            sorted(value_map) if value_map else [c.replace("_", " ") for c in attr.choices]
        )
        problems.append(
            f"unknown value {unknown[0].strip()!r} (known: {', '.join(known_values) or 'none'})"
        )
    if len(set(known)) > 1:
        problems.append(f"several values ({', '.join(texts)}); used {known[0]!r}")
    value = known[0] if known else None
    if value is not None and attr.choices and value not in attr.choices:
        problems.append(f"the value map gives {value!r}, not one of {', '.join(attr.choices)}")
        value = None
    return Converted(value, "; ".join(problems) or None)


# --- Links ----------------------------------------------------------------------------------


def _is_collaborator(item: Mapping[str, Any]) -> bool:
    identifier = item.get("id")
    if isinstance(identifier, str) and identifier.startswith("usr"):
        return True
    return "email" in item and not (isinstance(identifier, str) and RECORD_ID.fullmatch(identifier))


def _link(attr: Attr, raw: object) -> Converted:
    items = raw if isinstance(raw, list | tuple) else [raw]
    refs: list[object] = []
    bad: list[str] = []
    for item in items:
        if _is_empty(item):
            continue
        if isinstance(item, str):
            text = item.strip()
            if RECORD_ID.fullmatch(text):
                refs.append(text)
            elif attr.by_name:
                refs.append(NameRef(" ".join(text.split())))
            else:
                bad.append(_show(item, 40))
        elif isinstance(item, Mapping) and _is_collaborator(item):
            if attr.target != "person":
                bad.append(f"collaborator {_dict_text(item)!r}")
                continue
            email = item.get("email")
            name = item.get("name")
            user_id = item.get("id")
            refs.append(
                PersonRef(
                    email=email.strip().casefold() if isinstance(email, str) else None,
                    name=" ".join(name.split()) if isinstance(name, str) else None,
                    user_id=user_id if isinstance(user_id, str) else None,
                )
            )
        elif isinstance(item, Mapping) and RECORD_ID.fullmatch(str(item.get("id", ""))):
            refs.append(str(item["id"]))
        elif attr.by_name and isinstance(item, int | float | Mapping) and _plain_text(item):
            refs.append(NameRef(" ".join(str(_plain_text(item)).split())))
        else:
            bad.append(_show(item, 40))
    unique = list(dict.fromkeys(refs))
    problems = []
    if bad:
        problems.append(f"not a linked record: {', '.join(bad[:5])}")
    if attr.many:
        return Converted(unique, "; ".join(problems) or None)
    if len(unique) > 1:
        problems.append(f"{len(unique)} linked records where one is expected; kept the first")
    return Converted(unique[0] if unique else None, "; ".join(problems) or None)


# --- Change detection -----------------------------------------------------------------------


def _number_key(number: Decimal) -> str:
    if not number.is_finite():
        return str(number)
    if number == 0:
        return "0"
    return format(_tidy(number), "f")


def _canonical(value: object) -> object:
    kind = type(value)  # the common exact types first: every synced value passes here
    if kind is str or kind is bool or value is None:
        return value
    if kind is dict:
        return {str(key): _canonical(item) for key, item in value.items()}
    if kind is list:
        return [_canonical(item) for item in value]
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float | Decimal):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        return {"$n": _number_key(number)}
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value
        return {"$dt": moment.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, time):
        return {"$t": value.isoformat()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "$" + type(value).__name__: {
                f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)
            }
        }
    if isinstance(value, Mapping):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, set | frozenset):
        items = [_canonical(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, default=str))
    return {"$repr": str(value)}


def canonical_json(value: object) -> str:
    """JSON text that is the same for equal data whatever the key order."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_raw(record: Mapping) -> bytes:
    """A pulled record's created time and cells as JSON bytes, the same for equal data whatever
    the key order: what its digest is taken over, for every record of every run. orjson writes
    them several times faster than `json`; an integer past 64 bits, which orjson refuses, takes
    `canonical_json`. A NUL character in any text shows in them as NUL_IN_JSON."""
    cells = [record.get("createdTime"), record.get("fields") or {}]
    try:
        return orjson.dumps(cells, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        return canonical_json(cells).encode()


NUL_IN_JSON = b"\\u0000"  # how JSON writes U+0000 (a text's own backslash-u0000 too: rare)


def content_hash(values: Mapping[str, object]) -> str:
    """sha256 of a record's converted values, canonical: stable across key order, 42 == 42.00."""
    return hashlib.sha256(canonical_json(_canonical(values)).encode("utf-8")).hexdigest()
