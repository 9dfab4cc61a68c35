"""Text rules shared by every app. Pure: no Django, no I/O.

- Folding for comparisons that ignore case and accents: the one home of the rule; search and
  the sync's matching of names and values fold with it, so "Équipe", "EQUIPE" and "equipe"
  are one word everywhere.
- Control characters (NUL and the rest of C0 and C1 but tab, line feed and carriage return):
  the forms refuse them (missionos.forms) and the sync drops them from what it reads
  (sync.values), so none is ever stored; Postgres text columns cannot hold NUL at all.
"""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_characters(text: str) -> str:
    """The control characters in `text`, each once, in order (empty when there is none)."""
    return "".join(dict.fromkeys(_CONTROL.findall(text)))


def without_control_characters(text: str) -> str:
    """`text` with its control characters dropped (tab, line feed, carriage return kept)."""
    return _CONTROL.sub("", text)


def fold(text: str) -> str:
    """`text` for comparison: accents dropped and case folded ("Équipe" -> "equipe").

    NFKD splits accented letters into a base letter and combining marks (and compatibility
    forms such as "ﬁ" or "²" into plain ones); the marks are dropped; `casefold` is Unicode's
    caseless form, stronger than `lower` ("ß" -> "ss"). Whitespace and punctuation are kept:
    callers decide what a word is. Idempotent: folding twice gives the same text.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
