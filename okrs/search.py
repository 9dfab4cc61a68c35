"""Forgiving text search, pure: copes with typos, stray whitespace, mixed case, accents.

Every word of the query must match some word of the text, exactly as a prefix/substring or
within a small edit distance that grows with the word's length. Plain Python so it is the same
on SQLite and Postgres and testable without a database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from difflib import SequenceMatcher
from functools import lru_cache

from missionos.text import fold

_WORD = re.compile(r"[\w']+")


def normalize(text: str) -> str:
    """Casefolded, accents stripped, whitespace collapsed."""
    return " ".join(fold(text).split())


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


MATCH_THRESHOLD = 0.75


@lru_cache(maxsize=65_536)  # names reuse a small vocabulary: most pairs repeat
def _word_score(query_word: str, text_word: str) -> float:
    if text_word.startswith(query_word):
        return 1.0
    if len(query_word) >= 3 and query_word in text_word:
        return 0.95
    if len(query_word) < 4:
        return 0.0  # too short to guess a typo safely
    # Compare with the text word cut to the query's length too, so "strat" finds "strategy"
    # and "stratgy" finds "strategy".
    best = 0.0
    matcher = SequenceMatcher(None, b=query_word)
    for candidate in {text_word, text_word[: len(query_word) + 1]}:
        matcher.set_seq1(candidate)
        # quick_ratio() bounds ratio() from above: skip what cannot matter (same result).
        if matcher.quick_ratio() >= max(best, MATCH_THRESHOLD):
            best = max(best, matcher.ratio())
    return best


def _score_words(query_words: list[str], text_words: list[str]) -> float:
    if not query_words or not text_words:
        return 0.0
    total = 0.0
    for query_word in query_words:
        best = max(_word_score(query_word, text_word) for text_word in text_words)
        if best < MATCH_THRESHOLD:
            return 0.0
        total += best
    return total / len(query_words)


def score(query: str, text: str) -> float:
    """0 when some query word matches nothing, else the mean match quality (0-1]."""
    return _score_words(words(query), words(text))


def rank(query: str, candidates: Iterable[tuple[int, str]]) -> list[int]:
    """Ids of the candidates (id, searchable text) that match, best first."""
    query_words = words(query)
    scored = [(_score_words(query_words, words(text)), ident) for ident, text in candidates]
    return [ident for value, ident in sorted(scored, key=lambda s: -s[0]) if value > 0]
