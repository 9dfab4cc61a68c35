"""The search's ranking contract, pure: the same on every database and testable without one.

How people really type: typos ("onbaording"), word order, case, accents, stray whitespace and
punctuation, whole pasted messages ("hi, any news on the new-starter onbaording thing??").

- A query and a text are read the same way (`words`): folded (missionos.text.fold: case and
  accents), punctuation and control characters are word breaks, English stop words and chat
  filler ("hi", "any", "news", "thing") dropped, at most `MAX_QUERY_WORDS` words of at most
  `MAX_WORD` letters (a 10,000-character paste costs no more than a sentence).
- A query word matches a text word when equal, a prefix, inside it, or within a small edit
  distance for its length (Damerau OSA through rapidfuzz: "onbaording" is one transposition
  from "onboarding"; also against the word cut to the query's length, so "stratg" finds
  "strategy").
- A candidate has a name (a title, a note) and context (owner, pathway, project, status): a
  word matched in the name counts fully, in the context `CONTEXT_WEIGHT`, so a name match ranks
  above a match on its owner or pathway. At least half the query's words must match.
- The score is the mean match of the query's words, then how much of the name they cover; ties
  go to the name's alphabetical order, never the id.

The databases only narrow the candidates (okrs.selectors.search: a vocabulary and word indexes
on Postgres, a bounded set on SQLite); this module ranks them, so both give the same order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from rapidfuzz.distance import OSA

from missionos.text import fold

MAX_QUERY_CHARS = 500  # of a paste, what is read (the rest is the same message, longer)
MAX_QUERY_WORDS = 12
MAX_WORD = 40
CONTEXT_WEIGHT = 0.5
MATCH_THRESHOLD = 0.6  # the weakest word match that counts (a 2-edit typo of a long word)

_WORD = re.compile(r"[^\W_]+")  # letters and digits; everything else separates words

# English stop words and what people put around a question in chat: they do not drag results.
STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "hi",
        "hello",
        "hey",
        "hiya",
        "thanks",
        "thank",
        "thx",
        "pls",
        "please",
        "plz",
        "cheers",
        "ok",
        "okay",
        "yes",
        "yeah",
        "news",
        "thing",
        "things",
        "stuff",
        "anyone",
        "someone",
        "somebody",
        "know",
        "let",
        "lets",
        "get",
        "got",
        "update",
        "updates",
        "status",
        "quick",
        "question",
        "wondering",
        "wonder",
        "whats",
        "s",
        "t",
        "d",
        "ll",
        "re",
        "ve",
        "m",
    ]
)


def normalize(text: str) -> str:
    """Folded, punctuation and control characters as spaces, whitespace collapsed."""
    return " ".join(_WORD.findall(fold(text[: MAX_QUERY_CHARS * 4])))


@lru_cache(maxsize=65_536)  # owners', pathways' and projects' names recur in every candidate
def _folded(text: str) -> str:
    return fold(text)


@lru_cache(maxsize=65_536)
def text_words(text: str) -> tuple[str, ...]:
    """Every word of a text as the ranking reads it (stop words kept: they are in names)."""
    return tuple(_WORD.findall(_folded(text)))


def words(query: str) -> list[str]:
    """The words of a query that count: folded, without stop words or repeats, bounded. Empty
    when nothing is left to search for (blank, punctuation, only stop words, only emoji)."""
    found = [w[:MAX_WORD] for w in _WORD.findall(fold(query[:MAX_QUERY_CHARS]))]
    content = [w for w in found if w not in STOP_WORDS]
    return list(dict.fromkeys(content))[:MAX_QUERY_WORDS]


@lru_cache(maxsize=131_072)  # names reuse a small vocabulary: most pairs repeat
def word_score(query_word: str, text_word: str) -> float:
    """How well one query word matches one text word, 0 (not at all) to 1 (the same word)."""
    if query_word == text_word:
        return 1.0
    if text_word.startswith(query_word):
        return 0.9 if len(query_word) >= 2 else 0.6
    if len(query_word) >= 3 and query_word in text_word:
        return 0.8
    if len(query_word) < 4 or query_word.isdigit():
        return 0.0  # too short (or a number) to guess a typo safely
    allowed = 1 if len(query_word) <= 5 else 2
    best = 0.0
    candidates = {text_word}
    if len(text_word) > len(query_word):
        candidates.add(text_word[: len(query_word)])  # a typo'd prefix: "stratg" -> "strategy"
    for candidate in candidates:
        distance = OSA.distance(query_word, candidate, score_cutoff=allowed)
        if distance <= allowed:
            best = max(best, 0.85 - 0.1 * distance - (0.05 if candidate != text_word else 0))
    return best


def _best(query_word: str, vocabulary: Iterable[str]) -> float:
    return max((word_score(query_word, w) for w in vocabulary), default=0.0)


class Query:
    """A query read once, to score many candidates against."""

    def __init__(self, query: str):
        self.words = words(query)
        self.phrase = " ".join(self.words)
        self.needed = (len(self.words) + 1) // 2  # at least half the words must match

    def __bool__(self) -> bool:
        return bool(self.words)

    def score(self, name: str, context: Sequence[str | None] = ()) -> float:
        """0 when too few query words match, else (0, 1.1]: the mean match of the query words
        (context matches weighed down), plus a little for covering the name."""
        if not self.words:
            return 0.0
        name_words = text_words(name or "")
        context_words = [w for text in context if text for w in text_words(text)]
        total, matched, name_hits = 0.0, 0, set()
        for query_word in self.words:
            in_name = 0.0
            for name_word in name_words:
                value = word_score(query_word, name_word)
                if value >= MATCH_THRESHOLD:
                    name_hits.add(name_word)
                    in_name = max(in_name, value)
            in_context = _best(query_word, context_words) if in_name < 1 else 0.0
            in_context = in_context * CONTEXT_WEIGHT if in_context >= MATCH_THRESHOLD else 0.0
            best = max(in_name, in_context)
            if best:
                matched += 1
                total += best
        if matched < self.needed:
            return 0.0
        coverage = len(name_hits) / len(set(name_words)) if name_words else 0.0
        phrase = 0.05 if self.phrase and self.phrase in " ".join(name_words) else 0.0
        return total / len(self.words) + 0.05 * coverage + phrase


def score(query: str, name: str, context: Sequence[str | None] = ()) -> float:
    """0 when too few query words match, else higher for a better match (see Query.score)."""
    return Query(query).score(name, context)


def rank(query: str | Query, candidates: Iterable[Sequence]) -> list:
    """Keys of the candidates (key, name, *context) that match, best first; ties by name."""
    prepared = query if isinstance(query, Query) else Query(query)
    scored = []
    for key, name, *context in candidates:
        value = prepared.score(name or "", context)
        if value > 0:
            scored.append((-value, _folded(name or ""), key))
    scored.sort(key=lambda s: (s[0], s[1]))
    return [key for _, _, key in scored]
