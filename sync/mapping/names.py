"""Comparing the names and values people type: "Key Results" is "key result", "✅ Done" is "done".

`normalize_name` readies a table or field name for comparison (folded, punctuation dropped,
words singular); `normalize_value` a select option or typed value; `match_choice` finds the
MissionOS value an option stands for from the catalogue's synonyms. Pure: no ORM, no network.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

import inflection

from missionos.text import fold
from sync.mapping.catalogue import Attr

NOISE_WORDS = frozenset(
    {
        "old",
        "new",
        "copy",
        "backup",
        "bak",
        "legacy",
        "deprecated",
        "archive",
        "archived",
        "unused",
        "temp",
        "tmp",
        "test",
        "draft",
        "obsolete",
        "dup",
        "duplicate",
        "v1",
        "v2",
        "v3",
        "ignore",
    }
)
_NON_WORD = re.compile(r"[\W_]+")
_LEADING_ORDINAL = re.compile(r"^\d{1,2} (?=[^\W\d_])")


@cache
def normalize_name(text: str) -> str:
    """A table or field name for comparison: "Key Results" -> "key result", "KRs" -> "kr".

    Every word is made singular (`inflection`: "people" -> "person", "activities" ->
    "activity"); names and the catalogue's synonyms go through the same rule, so a word the
    rule gets wrong still compares equal to itself.
    """
    folded = fold(text).replace("&", " and ").replace("#", " number ").replace("%", " percent ")
    return " ".join(inflection.singularize(word) for word in _NON_WORD.sub(" ", folded).split())


@lru_cache(maxsize=8192)  # a sync asks again for every record's status
def normalize_value(text: str) -> str:
    """A select option or typed value for lookup: casefold, strip, collapse spaces/punctuation.

    "  In-Progress " -> "in progress", "✅ Done" -> "done", "2. Not started" -> "not started".
    A value made only of symbols keeps them: "%" -> "%", "$" -> "$".
    """
    folded = fold(text)
    words = " ".join(_NON_WORD.sub(" ", folded).split())
    if not words:
        return " ".join(folded.split())
    stripped = _LEADING_ORDINAL.sub("", words)
    return stripped or words


def compact(text: str) -> str:
    """Spaces dropped, so "to do" and "todo", "check in" and "checkin" compare equal."""
    return text.replace(" ", "")


def without_noise(normalized: str) -> tuple[str, bool]:
    """A name without noise words ("old", "copy", a trailing "2"); whether any were removed."""
    words = [word for word in normalized.split() if word not in NOISE_WORDS]
    while words and words[-1].isdigit():
        words.pop()
    removed = len(words) != len(normalized.split())
    if "do not use" in normalized or "dont use" in normalized:
        words = [word for word in words if word not in {"do", "not", "dont", "use"}]
        removed = True
    return " ".join(words), removed


def contains_words(haystack: str, needle: str) -> bool:
    """Whether `needle` appears in `haystack` as whole words."""
    return f" {needle} " in f" {haystack} "


def match_choice(attr: Attr, text: str) -> str | None:
    """The MissionOS value an Airtable option or typed value stands for, from the synonyms."""
    key = normalize_value(text)
    if not key or not attr.values:
        return None
    compact_key = compact(key)
    best: tuple[int, str] | None = None
    for value, synonyms in attr.values:
        for synonym in (value.replace("_", " "), *synonyms):
            candidate = normalize_value(synonym)
            if compact(candidate) == compact_key:
                return value
            if key.startswith(candidate + " ") and (best is None or len(candidate) > best[0]):
                best = (len(candidate), value)
    return best[1] if best else None
