"""@mentions in comments, pure: no ORM here, so it is tested without a database.

A mention is "@" (at the start or after a character that is not a letter or digit) followed by
one person's name, first name or handle, ignoring case, accents and repeated spaces
(missionos.text.fold): "@Jo Former", "@jo", "@jo.former", "@jformer" (the part of their email
before the "@"), "@oscar nunez" for Óscar Núñez. The longest name that matches wins; a match
must end where a word does ("@Joanne" is not "@Jo"). A name that fits more than one
person (two Jos) is ambiguous and stays plain text, as does one that fits nobody here: people
of another organization are never among `people`.

`find_mentions` returns the spans; `render` escapes the whole text and marks the spans.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from missionos.text import fold

# How far after "@" a name may reach (Person.name is at most 120 characters).
MAX_CHARS = 120


@dataclass(frozen=True)
class Directory:
    """Who may be mentioned: a key (as typed, case aside) to the ids of the people it fits."""

    keys: Mapping[str, frozenset[int]]

    @classmethod
    def of(cls, people: Iterable[tuple[int, str, str]]) -> Directory:
        """From (id, name, email) of the organization's people."""
        keys: dict[str, set[int]] = defaultdict(set)
        for pk, name, email in people:
            words = name.split()
            if not words:
                continue
            for key in {
                " ".join(words),
                words[0],
                ".".join(words),
                "_".join(words),
                "".join(words),
                email.partition("@")[0] if email else "",
            }:
                if key:
                    keys[_key(key)].add(pk)
        return cls({key: frozenset(ids) for key, ids in keys.items()})


def _key(text: str) -> str:
    return " ".join(fold(text).split())


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_" or unicodedata.combining(char) > 0


def _word_ends(text: str, start: int) -> list[int]:
    """Where the words within MAX_CHARS after `start` end, the farthest first."""
    ends = []
    limit = min(len(text), start + MAX_CHARS)
    for position in range(start + 1, limit + 1):
        if not _word_char(text[position - 1]):
            continue
        if position == len(text) or not _word_char(text[position]):
            ends.append(position)
    return ends[::-1]


def find_mentions(text: str, directory: Directory) -> list[tuple[int, int, int]]:
    """(start, end, person id) of each unambiguous mention, "@" included, in order."""
    spans = []
    position = 0
    while (at := text.find("@", position)) != -1:
        position = at + 1
        if at > 0 and _word_char(text[at - 1]):
            continue  # an email address, not a mention
        for end in _word_ends(text, at + 1):
            ids = directory.keys.get(_key(text[at + 1 : end]))
            if ids is None:
                continue
            if len(ids) == 1:
                spans.append((at, end, next(iter(ids))))
                position = end
            break  # the longest match decides: ambiguous stays plain
    return spans


def render(text: str, spans: Iterable[Iterable[int]], names: Mapping[int, str]) -> SafeString:
    """The text escaped, each mention of a person still in `names` marked."""
    parts = []
    position = 0
    for start, end, person_id in spans:
        if person_id not in names or start < position or end > len(text):
            continue
        parts.append(escape(text[position:start]))
        parts.append(
            format_html(
                '<span class="mention" title="{}">{}</span>', names[person_id], text[start:end]
            )
        )
        position = end
    parts.append(escape(text[position:]))
    return mark_safe("".join(parts))
