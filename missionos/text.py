"""Folding text for comparisons that ignore case and accents. Pure: no Django, no I/O.

The one home of the rule: search and the sync's matching of names and values fold with it, so
"Équipe", "EQUIPE" and "equipe" are one word everywhere.
"""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """`text` for comparison: accents dropped and case folded ("Équipe" -> "equipe").

    NFKD splits accented letters into a base letter and combining marks (and compatibility
    forms such as "ﬁ" or "²" into plain ones); the marks are dropped; `casefold` is Unicode's
    caseless form, stronger than `lower` ("ß" -> "ss"). Whitespace and punctuation are kept:
    callers decide what a word is. Idempotent: folding twice gives the same text.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
