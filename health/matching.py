"""Duplicate records under different wording, for the data health page. Pure: no Django, no I/O.

The page lists records that look like one thing typed twice: "Improve customer onbaording" and
"Improve customer onboarding", "Smith, John" and "john  smith". A page full of false alarms gets
ignored, so every rule below leans towards *not* flagging: two titles are duplicates only when
every word that carries meaning on one side is accounted for on the other. This docstring is the
reference for why two records were, or were not, flagged.

Titles (objectives, projects): `same_title`
-------------------------------------------
1. Spelling. `normalize` keeps what two spellings of the same words share: case folded, accents
   dropped (NFKD: "Café" is "cafe"), punctuation made a space, whitespace collapsed.
2. Content words. `title_tokens` goes on from there:
   - Stop words are dropped ("the", "of", "in", "and", "for", "our", ...: `STOP_WORDS`). Words
     that change the meaning are not stop words: "not", "no", "without", "out", "off", "up",
     "down", "all", "new", "more", "us" (the country), "it" (the department).
   - A small explicit table expands abbreviations (`ABBREVIATIONS`: mgmt, dept, govt, intl, ops,
     hr -> "human resources", cx, yoy, sr, ...); "&" is "and", "w/" is "with", "w/o" is
     "without", "%" is "percent", "R&D" is "research and development", "U.S." is "us".
   - Number words up to twenty (and the tens) are digits ("three" is 3); "1,000" is 1000; a
     decimal stays one word ("2.5x"); "Q 1" is q1, "FY 26" and "FY26" are fy2026, "version 2"
     is v2; month abbreviations are months ("Jan" is january).
   - Simple plurals are folded: "offices" is office, "apps" is app, "strategies" is strategy
     ("Reduce costs" and "Reduce cost" are one title); names like Atlas stay (`NOT_PLURAL`).
     So are -ing and -ed in words of six letters or more: "waiting" is wait, "launched" is
     launch, "planned" is plan ("Reduce patient waiting time" is "Reduce patient wait times").
3. Alignment. The content words of both sides are paired one to one: equal words first, then
   typo pairs (rule 4). The titles are duplicates only if nothing is left over on either side, so
   word order does not matter ("Onboarding revamp for customers" is "Customer onboarding
   revamp") but an extra word does ("Launch app" is not "Launch mobile app"; "Reduce churn" is
   not "Reduce churn rate").
4. Typo pairs. Two different words count as one typed twice only if all of these hold:
   - neither contains a digit: numbers, Q1/Q2, H1/H2, FY2026, 2026, v2/v3 must be equal;
   - both have at least 4 letters: "CFO" is not "CTO";
   - they are not two words of a pair of opposites (`OPPOSITES`: inbound/outbound,
     internal/external, increase/decrease, enable/disable, minimum/maximum, ...);
   - they start with the same letter: hire/fire, hiring/firing, Catherine/Katherine are
     different words, and typists rarely miss the first letter;
   - they are not a known look-alike pair (`DISTINCT_WORDS`: contract/contact, retain/regain,
     product/produce, ...) nor an antonym prefix on a shared stem (`ANTONYM_PREFIXES`:
     onboarding/offboarding, minimize/maximize, upstream/downstream, pre-/post-);
   - the edit is small for the length of the shorter word (Damerau OSA distance, rapidfuzz):
       4-5 letters  two adjacent letters swapped, nothing else ("saels" is sales; a changed
                    letter makes too many real words: cost/cast, lead/load, data/date);
       6-9 letters  one edit: a letter inserted, dropped, changed or swapped ("Brasil" is
                    Brazil, "optimise" is optimize, "custmer" is customer);
       10+ letters  one edit, or two when the lengths differ by at most one letter and the
                    rapidfuzz ratio is >= 88 ("conversion" is not "conversation": two letters
                    inserted; "onboarding" is not "offboarding": ratio 86 and on/off).
   - At most half the content words (at least one, at most four: `MAX_TYPO_PAIRS`) may be typo
     pairs; the rest must be equal. A one-word title may have one edit, and only with ratio
     >= 90.
5. Joined words. "e-commerce" is "ecommerce" and "set up" is "setup": titles whose content words
   written without spaces are equal match even though their word counts differ. Numbers stay
   apart ("3-5" is not 35).
6. Score (0..1): half the mean word similarity (1 for an equal word, rapidfuzz ratio / 100 for a
   typo pair), half the rapidfuzz ratio of the two content-word strings with their words sorted
   (token_sort_ratio), each typo pair put at the same place: a plain token_sort_ratio lets the
   typo move its word ("Warasw" sorts before "warehouse", "Warsaw" after) and scores one
   swapped letter like a different word. Titles with the same content words score 1.0, whatever
   their case, punctuation, stop words or word order; joined-word matches (rule 5) score the
   rapidfuzz ratio of the two content-word strings.

People: `same_person`
---------------------
- Equal emails (case-insensitive) are one person: score 1.0, whatever the names say.
- Otherwise by full name: the same number of name tokens (at least two; a one-word name never
  matches by name alone), in any order ("Smith, John" is "John Smith"), honorifics (Dr, Mrs, ...)
  dropped, every token equal except at most one typo: two adjacent letters swapped ("Jhon"), or,
  in a token of 5 or more letters, one letter inserted, dropped or changed ("Smtih", "Smyth"),
  never the first letter and never a vowel ending ("Daniel"/"Daniela", "Maria"/"Marie",
  "Louis"/"Louise" are different people). So "Jon" is not "John" and "Ann" is not "Anne": in
  names that short a letter makes another name, not a typo. An initial is not a name: "Maria L."
  is not "Maria Lopez", and "Maria Lopez" is not "Maria Garcia".
- Score: 0.95 x the mean token similarity. If both records have emails and they differ, that
  proves two accounts: they match only if the names are exactly equal after normalization (in
  any order), with score 0.9.

Clusters: `title_clusters`, `people_clusters`
---------------------------------------------
Union-find over the matching pairs (titles: score >= threshold), so A~B and B~C put A, B and C
in one cluster even when A and C do not match directly. Pairs join strongest first; a cluster's
score is the weakest pair that joined it (the bottleneck of its strongest chain). Clusters are
sorted by (-score, ids). Items with empty text never match (a person without a name either,
whatever the email). The default title threshold, 0.85, only bites on the shortest words: one
typo usually scores 0.90-0.98, and a swap in a 4-letter word in a two-word title about 0.88.

Blocking: never all pairs
-------------------------
Records whose prepared forms are identical (same content words in the same order; people: same
name tokens and email) are grouped first and never compared. The distinct ones are compared only
within blocks of records that share a key, each pair once. The keys are chosen so that any pair
the rules above would match shares one (the tests check this against all pairs):
- titles: the sorted first letters of the content words (equal for any match: typo pairs keep
  their first letter) with each of the title's n // 2 + 1 rarest words (by how many titles use
  them). A match of n words has at most n // 2 typo pairs, so the two titles share at least
  n - n // 2 words and therefore one of those rarest ones (prefix filtering). One-word titles use
  the word's one-deletion variants instead (one edit apart share one); and every title has its
  joined-words form (rule 5) as a key;
- people: the email, and the name's first letters with each of its two rarest name tokens (a
  name match leaves at most one token unequal).
A block larger than `BLOCK_CAP` (200) is skipped and counted in `MatchStats.skipped_blocks`; since
only the rarest words are keys, that takes hundreds of titles with the same first letters
sharing their rarest words. `MatchStats` also counts the comparisons, so tests can check that the
work stays far below n^2 / 2 without timing anything.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Generic, TypeVar

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, Levenshtein


@dataclass(frozen=True)
class Item:
    """A record to match: a title (objective, project) or a person."""

    id: int  # the row's id
    text: str  # the title / name as typed
    email: str = ""  # people only


@dataclass(frozen=True)
class Cluster:
    """Records that look like one thing: what the health page shows as one finding."""

    ids: tuple[int, ...]  # sorted ascending, 2 or more
    score: float  # 0..1 similarity of the cluster (the weakest pair that joined it)


@dataclass
class MatchStats:
    """What a clustering run did: filled in when passed (fresh) as `stats=`, so that tests can
    check the blocking keeps the comparisons far below all pairs without timing anything."""

    items: int = 0  # items with text
    distinct: int = 0  # distinct prepared forms (exact repeats are grouped, not compared)
    blocks: int = 0  # blocks of two or more that were compared
    skipped_blocks: int = 0  # blocks over the cap, not compared
    comparisons: int = 0  # pairs scored
    matches: int = 0  # pairs that matched (titles: at or over the threshold)


BLOCK_CAP = 200
MAX_TYPO_PAIRS = 4  # however long the title: more is a different title (and 4! pairings to try)


def _words(text: str) -> frozenset[str]:
    """A word list written as text: the tables below read as prose."""
    return frozenset(text.split())


STOP_WORDS = _words(
    """
    a an the and or nor of for to in on at by with from into onto upon as via per than then so
    our ours we i me my mine your yours their theirs they them its his her hers he she this that
    these those is are be been being was were am will shall should would can could must do does
    did let lets also eg ie etc
    """
)

ABBREVIATIONS: dict[str, str] = {
    "mgmt": "management",
    "mgt": "management",
    "mgr": "manager",
    "mgrs": "managers",
    "dept": "department",
    "depts": "departments",
    "govt": "government",
    "gov": "government",
    "intl": "international",
    "ops": "operations",
    "hr": "human resources",
    "eng": "engineering",
    "mktg": "marketing",
    "acct": "account",
    "accts": "accounts",
    "cust": "customer",
    "svc": "service",
    "svcs": "services",
    "infra": "infrastructure",
    "exec": "executive",
    "execs": "executives",
    "sr": "senior",
    "jr": "junior",
    "hq": "headquarters",
    "org": "organization",
    "orgs": "organizations",
    "biz": "business",
    "qtr": "quarter",
    "yr": "year",
    "yrs": "years",
    "yoy": "year over year",
    "qoq": "quarter over quarter",
    "cx": "customer experience",
    "ux": "user experience",
    "pct": "percent",
    "usa": "us",
    "jan": "january",
    "feb": "february",
    "mar": "march",
    "apr": "april",
    "jun": "june",
    "jul": "july",
    "aug": "august",
    "sep": "september",
    "sept": "september",
    "oct": "october",
    "nov": "november",
    "dec": "december",
}

# "X&Y" pairs that name one thing; any other "&" is "and".
AMPERSAND_PHRASES: dict[str, str] = {
    "r&d": "research and development",
    "p&l": "profit and loss",
    "m&a": "mergers and acquisitions",
    "q&a": "questions and answers",
}

_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
)
_TENS = "thirty forty fifty sixty seventy eighty ninety"
NUMBER_WORDS: dict[str, str] = {word: str(value) for value, word in enumerate(_UNITS.split())} | {
    word: str(30 + 10 * index) for index, word in enumerate(_TENS.split())
}

# Words that come in opposites: two different words of this list are never a typo pair, whatever
# their spelling (a typo of one is still that word: "Incresae" is increase). Months and weekdays
# need no entry: no two of them are within a typo of each other.
OPPOSITES = _words(
    """
    inbound outbound internal external increase decrease import export upload download
    upgrade downgrade upsell downsell upstream downstream enable disable before after
    minimum maximum minimize maximize minimise maximise higher lower above below inside
    outside input output income outcome online offline onsite offsite open close start
    stop begin finish first last early late less more least most with without
    """
)

# Real words one edit apart that OKR titles use in different senses: never a typo pair.
DISTINCT_WORDS = frozenset(
    frozenset(pair)
    for pair in [
        ("contract", "contact"),
        ("retain", "regain"),
        ("retain", "remain"),
        ("product", "produce"),
        ("planning", "planting"),
        ("routing", "routine"),
        ("casual", "causal"),
        ("expand", "expend"),
        ("device", "devise"),
        ("testing", "texting"),
        ("united", "untied"),
        ("sever", "server"),
        ("desert", "dessert"),
        ("launch", "lunch"),
    ]
)

# Prefixes that flip a shared stem's meaning: onboarding/offboarding, minimize/maximize.
ANTONYM_PREFIXES = frozenset(
    frozenset(pair)
    for pair in [
        ("on", "off"),
        ("in", "out"),
        ("up", "down"),
        ("pre", "post"),
        ("over", "under"),
        ("in", "ex"),
        ("im", "ex"),
        ("in", "de"),
        ("inc", "dec"),
        ("en", "de"),
        ("en", "dis"),
        ("min", "max"),
        ("micro", "macro"),
        ("intra", "inter"),
        ("hyper", "hypo"),
        ("pro", "anti"),
        ("un", ""),
        ("dis", ""),
        ("non", ""),
        ("de", ""),
        ("re", ""),
    ]
)

# Words that end like a plural but are not one (names above all): left as typed.
NOT_PLURAL = _words(
    """
    atlas canvas texas kansas arkansas vegas christmas alias bias series species kudos chaos
    athens wales mars news lens iris
    """
)

HONORIFICS = _words("mr mrs ms miss mx dr prof sir dame")

_NON_WORD = re.compile(r"[\W_]+")
_LETTER = r"[^\W\d_]"
_DOTTED = re.compile(rf"(?<!\w){_LETTER}(?:\.{_LETTER})+\.?(?!\w)")  # u.s. / U.S.A.
_APOSTROPHE = re.compile(rf"(?<={_LETTER})['’](?={_LETTER})")  # customer's, O'Brien
_AMPERSAND_PHRASE = re.compile(rf"(?<!\w)({_LETTER})\s*&\s*({_LETTER})(?!\w)")
_WITHOUT = re.compile(r"(?<!\w)w/o(?!\w)")
_WITH = re.compile(r"(?<!\w)w/")
_TOKEN = re.compile(r"(?:\d[.,](?=\d)|[^\W_])+")  # words; "2.5" and "1,000" stay one word
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")
_FISCAL_SHORT = re.compile(r"fy(\d{2})")
_JOIN_NUMBER = {"q": "q", "h": "h", "fy": "fy", "v": "v", "version": "v"}
_DIGIT = re.compile(r"\d")


def _fold(text: str) -> str:
    """Case and accents dropped: NFKD splits "é" into "e" and a mark; casefold beats lower()."""
    if text.isascii():
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def normalize(text: str) -> str:
    """What two spellings share: casefold, accents stripped, punctuation -> space, whitespace
    collapsed ("  Café  opening!! " -> "cafe opening")."""
    return _NON_WORD.sub(" ", _fold(text)).strip()


def _ampersand(match: re.Match[str]) -> str:
    phrase = f"{match.group(1)}&{match.group(2)}"
    return f" {AMPERSAND_PHRASES.get(phrase, phrase.replace('&', ' and '))} "


def _singular(word: str) -> str:
    """Plural folded, so "offices" and "office", "apps" and "app" are one word; words of three
    letters, words ending in -ss, -us, -is (status, analysis, business) and `NOT_PLURAL` (news,
    Atlas) are left alone."""
    if len(word) < 4 or _DIGIT.search(word) or word in NOT_PLURAL:
        return word
    if len(word) >= 5:
        if word.endswith("ies"):
            return word[:-3] + "y"
        if word.endswith(("sses", "xes", "ches", "shes", "zzes")):
            return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return _unsuffixed(word)


_DOUBLED = re.compile(r"([b-df-hj-np-tv-z])\1$")


def _unsuffixed(word: str) -> str:
    """-ing and -ed folded, so "waiting" is "wait" and "launched" "launch" ("Reduce patient
    waiting time" is "Reduce patient wait times"); a doubled last consonant is undone
    ("planned" is "plan"). Words under six letters are left alone (bring, need, speed)."""
    if len(word) < 6 or _DIGIT.search(word) or word in NOT_PLURAL:
        return word
    for suffix in ("ing", "ed"):
        if word.endswith(suffix):
            stem = word[: -len(suffix)]
            return stem[:-1] if _DOUBLED.search(stem) else stem
    return word


def _raw_words(text: str) -> list[str]:
    """Folded words before stop words: the special spellings (&, w/, %, U.S., 2.5) resolved
    before punctuation would lose them."""
    folded = _fold(text)
    if not folded.isascii() or any(char in folded for char in "'’.&/%"):
        folded = _DOTTED.sub(lambda match: match.group(0).replace(".", ""), folded)
        folded = _APOSTROPHE.sub("", folded)
        folded = _AMPERSAND_PHRASE.sub(_ampersand, folded)
        folded = _WITH.sub(" with ", _WITHOUT.sub(" without ", folded))
        folded = folded.replace("%", " percent ").replace("&", " and ")
    words = []
    for word in _TOKEN.findall(folded):
        if "," in word:
            word = word.replace(",", "") if _THOUSANDS.fullmatch(word) else word.replace(",", ".")
        words.append(word)
    return words


def _content_words(text: str) -> list[str]:
    """The title's content words in typed order (see the module docstring, rule 2)."""
    raw = _raw_words(text)
    joined: list[str] = []
    i = 0
    while i < len(raw):
        word = raw[i]
        if word in _JOIN_NUMBER and i + 1 < len(raw) and raw[i + 1].isdigit():
            word = _JOIN_NUMBER[word] + raw[i + 1]  # "Q 1" -> q1, "version 2" -> v2
            i += 1
        joined.append(word)
        i += 1
    words: list[str] = []
    for word in joined:
        words.extend(_word_parts(word))
    return words


@lru_cache(maxsize=65536)
def _word_parts(word: str) -> tuple[str, ...]:
    """The content words one typed word stands for: none (a stop word), one, or several (an
    abbreviation such as "hr"). Cached: titles share most of their words."""
    parts = []
    for part in ABBREVIATIONS.get(word, word).split():
        if part in STOP_WORDS:
            continue
        part = NUMBER_WORDS.get(part, part)
        fiscal = _FISCAL_SHORT.fullmatch(part)
        if fiscal:
            part = f"fy20{fiscal.group(1)}"
        parts.append(_singular(part))
    return tuple(parts)


def title_tokens(text: str) -> list[str]:
    """The words that carry a title's meaning, sorted: normalized, stop words dropped,
    abbreviations and number words expanded, plurals folded ("Open the Lisbon offices" ->
    ["lisbon", "office", "open"])."""
    return sorted(_content_words(text))


@dataclass(frozen=True, slots=True)
class _Title:
    """A title prepared once for many comparisons."""

    words: tuple[str, ...]  # content words in typed order
    tokens: tuple[str, ...]  # sorted
    joined: str  # sorted tokens, space separated
    compact: str  # words without spaces; numbers kept apart
    signature: str  # sorted first letters: equal for any two matching titles


def _prepare_title(text: str) -> _Title:
    words = tuple(_content_words(text))
    tokens = tuple(sorted(words))
    compact = "".join(f"|{word}|" if _DIGIT.search(word) else word for word in words)
    signature = "".join(sorted(word[0] for word in tokens))
    return _Title(words, tokens, " ".join(tokens), compact, signature)


def _leftovers(x: Sequence[str], y: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """Two sorted word sequences split into the words paired with an equal word (once) and the
    leftovers of each side."""
    common: list[str] = []
    left_x: list[str] = []
    left_y: list[str] = []
    i = j = 0
    while i < len(x) and j < len(y):
        if x[i] == y[j]:
            common.append(x[i])
            i += 1
            j += 1
        elif x[i] < y[j]:
            left_x.append(x[i])
            i += 1
        else:
            left_y.append(y[j])
            j += 1
    left_x.extend(x[i:])
    left_y.extend(y[j:])
    return common, left_x, left_y


def _antonym_prefixed(a: str, b: str) -> bool:
    """True when a and b are one stem under opposite prefixes (onboarding/offboarding)."""
    common = 0
    for char_a, char_b in zip(reversed(a), reversed(b), strict=False):
        if char_a != char_b:
            break
        common += 1
    if common < 3:
        return False
    return frozenset((a[: len(a) - common], b[: len(b) - common])) in ANTONYM_PREFIXES


def _is_transposition(a: str, b: str) -> bool:
    """One swap of adjacent letters and nothing else ("saels" / "sales")."""
    return len(a) == len(b) and OSA.distance(a, b) == 1 and Levenshtein.distance(a, b) == 2


@lru_cache(maxsize=65536)
def _typo_pair(a: str, b: str) -> float | None:
    """Similarity 0..1 when title words a and b are one word mistyped, else None (rule 4).
    Call with a < b: the cache then holds each pair once."""
    if a[0] != b[0] or _DIGIT.search(a) or _DIGIT.search(b):
        return None
    shorter = min(len(a), len(b))
    if shorter < 4 or (a in OPPOSITES and b in OPPOSITES):
        return None
    if frozenset((a, b)) in DISTINCT_WORDS or _antonym_prefixed(a, b):
        return None
    ratio = fuzz.ratio(a, b)
    if shorter <= 5:
        ok = _is_transposition(a, b)
    elif shorter <= 9:
        ok = OSA.distance(a, b, score_cutoff=1) == 1
    else:
        distance = OSA.distance(a, b, score_cutoff=2)
        ok = distance == 1 or (distance == 2 and abs(len(a) - len(b)) <= 1 and ratio >= 88)
    return ratio / 100 if ok else None


def _typo(a: str, b: str) -> float | None:
    return _typo_pair(a, b) if a < b else _typo_pair(b, a)


def _aligned_score(common: Sequence[str], pairs: Sequence[tuple[str, str, float]]) -> float:
    """Rule 6 for one alignment: equal words `common` (sorted) and typo pairs (x word, y word,
    ratio), each pair at the same place in both strings, in an order that does not depend on
    which title is x (so the score is symmetric)."""
    n = len(common) + len(pairs)
    word_mean = (len(common) + sum(sorted(sim for _, _, sim in pairs))) / n
    ordered = sorted(pairs, key=lambda pair: (min(pair[0], pair[1]), max(pair[0], pair[1])))
    x_text = " ".join([*common, *(pair[0] for pair in ordered)])
    y_text = " ".join([*common, *(pair[1] for pair in ordered)])
    overall = fuzz.ratio(x_text, y_text) / 100
    return round(0.5 * word_mean + 0.5 * overall, 4)


def _best_alignment(
    common: Sequence[str], left_x: Sequence[str], left_y: Sequence[str]
) -> float | None:
    """The best score over the one-to-one pairings of the leftover words into typo pairs, or
    None when some word cannot be paired. Few words (at most `MAX_TYPO_PAIRS`): every pairing is
    tried, so the answer does not depend on which title comes first."""
    table = [[_typo(a, b) for b in left_y] for a in left_x]
    if any(all(sim is None for sim in row) for row in table):
        return None
    best: float | None = None
    for order in itertools.permutations(range(len(left_y))):
        pairs = []
        for i, j in enumerate(order):
            sim = table[i][j]
            if sim is None:
                break
            pairs.append((left_x[i], left_y[j], sim))
        else:
            score = _aligned_score(common, pairs)
            best = score if best is None else max(best, score)
    return best


def _compare_titles(x: _Title, y: _Title) -> float | None:
    """Score of two prepared titles, or None when they are not the same thing (rules 3-6)."""
    if not x.tokens or not y.tokens:
        return None
    if x.tokens == y.tokens:
        return 1.0
    if x.compact == y.compact:
        return round(fuzz.ratio(" ".join(x.words), " ".join(y.words)) / 100, 4)
    n = len(x.tokens)
    if n != len(y.tokens) or x.signature != y.signature:
        return None
    common, left_x, left_y = _leftovers(x.tokens, y.tokens)
    if len(left_x) > min(MAX_TYPO_PAIRS, max(1, n // 2)):
        return None
    if n == 1:
        a, b = left_x[0], left_y[0]
        sim = _typo(a, b)
        if sim is None or sim < 0.9 or OSA.distance(a, b) > 1:
            return None
    return _best_alignment(common, left_x, left_y)


def same_title(a: str, b: str) -> float | None:
    """Similarity 0..1 when titles a and b name the same thing, else None (module docstring)."""
    return _compare_titles(_prepare_title(a), _prepare_title(b))


@dataclass(frozen=True, slots=True)
class _Person:
    """A person prepared once for many comparisons."""

    has_text: bool
    email: str  # stripped, casefolded; "" when absent
    tokens: tuple[str, ...]  # name tokens, sorted
    signature: str  # sorted first letters of the name tokens


def _prepare_person(item: Item) -> _Person:
    folded = _APOSTROPHE.sub("", _fold(item.text))  # O'Brien -> obrien
    tokens = tuple(sorted(t for t in _NON_WORD.sub(" ", folded).split() if t not in HONORIFICS))
    signature = "".join(sorted(token[0] for token in tokens))
    return _Person(bool(item.text.strip()), item.email.strip().casefold(), tokens, signature)


_VOWELS = frozenset("aeiouy")


@lru_cache(maxsize=65536)
def _name_typo_pair(a: str, b: str) -> float | None:
    """Similarity 0..1 when name tokens a and b are one name mistyped, else None. Call a < b."""
    if a[0] != b[0] or min(len(a), len(b)) < 4:
        return None
    if _is_transposition(a, b):
        return fuzz.ratio(a, b) / 100
    if min(len(a), len(b)) < 5 or OSA.distance(a, b, score_cutoff=1) != 1:
        return None
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) < len(longer):
        vowel_ending = longer[-1] in _VOWELS and longer[:-1] == shorter  # Paul/Paula
    else:
        vowel_ending = a[:-1] == b[:-1] and a[-1] in _VOWELS and b[-1] in _VOWELS  # Maria/Marie
    return None if vowel_ending else fuzz.ratio(a, b) / 100


def _name_typo(a: str, b: str) -> float | None:
    return _name_typo_pair(a, b) if a < b else _name_typo_pair(b, a)


def _name_similarity(x: _Person, y: _Person) -> float | None:
    """Mean token similarity of two full names, or None when they are not one name."""
    n = len(x.tokens)
    if n < 2 or n != len(y.tokens) or x.signature != y.signature:
        return None
    _, left_x, left_y = _leftovers(x.tokens, y.tokens)
    if not left_x:
        return 1.0
    if len(left_x) > 1:
        return None
    similarity = _name_typo(left_x[0], left_y[0])
    return None if similarity is None else (n - 1 + similarity) / n


def _compare_people(x: _Person, y: _Person) -> float | None:
    """Score of two prepared people, or None when they are two people (module docstring)."""
    if not x.has_text or not y.has_text:
        return None
    if x.email and x.email == y.email:
        return 1.0
    name = _name_similarity(x, y)
    if name is None:
        return None
    if x.email and y.email:
        return 0.9 if name == 1.0 else None
    return round(0.95 * name, 4)


def same_person(a: Item, b: Item) -> float | None:
    """Similarity 0..1 when a and b are one person, else None (module docstring)."""
    return _compare_people(_prepare_person(a), _prepare_person(b))


P = TypeVar("P", bound=Hashable)


@dataclass
class _Clustering(Generic[P]):
    """Blocking, comparing and union-find, shared by titles and people."""

    compare: Callable[[P, P], float | None]
    keys: Callable[[P, Callable[[str], int]], Iterable[Hashable]]
    words: Callable[[P], Iterable[str]]  # what rarity is counted over
    threshold: float
    cap: int
    stats: MatchStats
    parent: dict[int, int] = field(default_factory=dict)
    weakest: dict[int, float] = field(default_factory=dict)

    def run(self, prepared: list[tuple[int, P]]) -> list[Cluster]:
        groups: dict[P, list[int]] = defaultdict(list)
        for item_id, form in prepared:
            groups[form].append(item_id)
        forms = list(groups)
        self.stats.items = len(prepared)
        self.stats.distinct = len(forms)
        edges: list[tuple[float, int, int]] = []
        for form, ids in groups.items():
            if len(ids) > 1:
                score = self.compare(form, form)
                if score is not None and score >= self.threshold:
                    edges.extend((score, ids[0], other) for other in ids[1:])
        for i, j in self._candidates(forms):
            self.stats.comparisons += 1
            score = self.compare(forms[i], forms[j])
            if score is not None and score >= self.threshold:
                self.stats.matches += 1
                edges.append((score, groups[forms[i]][0], groups[forms[j]][0]))
        return self._union(edges)

    def _candidates(self, forms: list[P]) -> Iterator[tuple[int, int]]:
        """Each pair of distinct forms that share a block key, once."""
        frequency = Counter(word for form in forms for word in set(self.words(form)))
        blocks: dict[Hashable, list[int]] = defaultdict(list)
        for index, form in enumerate(forms):
            for key in set(self.keys(form, frequency.__getitem__)):
                blocks[key].append(index)
        seen: set[tuple[int, int]] = set()
        for members in blocks.values():
            if len(members) < 2:
                continue
            if len(members) > self.cap:
                self.stats.skipped_blocks += 1
                continue
            self.stats.blocks += 1
            for pair in itertools.combinations(members, 2):
                if pair not in seen:
                    seen.add(pair)
                    yield pair

    def _find(self, node: int) -> int:
        root = node
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while self.parent.get(node, node) != root:  # path compression
            self.parent[node], node = root, self.parent[node]
        return root

    def _union(self, edges: list[tuple[float, int, int]]) -> list[Cluster]:
        """Strongest pairs first, so a cluster's score is its weakest necessary link."""
        for score, a, b in sorted(edges, key=lambda edge: (-edge[0], edge[1], edge[2])):
            self.parent.setdefault(a, a)
            self.parent.setdefault(b, b)
            root_a, root_b = self._find(a), self._find(b)
            if root_a == root_b:
                continue
            self.parent[root_b] = root_a
            self.weakest[root_a] = min(
                score, self.weakest.get(root_a, 1.0), self.weakest.pop(root_b, 1.0)
            )
        members: dict[int, list[int]] = defaultdict(list)
        for node in self.parent:
            members[self._find(node)].append(node)
        clusters = [
            Cluster(tuple(sorted(ids)), self.weakest[root])
            for root, ids in members.items()
            if len(ids) > 1
        ]
        return sorted(clusters, key=lambda cluster: (-cluster.score, cluster.ids))


def _deletions(word: str) -> set[str]:
    """The word and every way of dropping one letter: two words one edit apart share one."""
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def _title_keys(title: _Title, frequency: Callable[[str], int]) -> Iterator[Hashable]:
    """Block keys of a title: any title it matches shares at least one (module docstring)."""
    yield ("joined", title.compact)
    if len(title.tokens) == 1:
        for variant in _deletions(title.tokens[0]):
            yield ("one-word", title.signature, variant)
        return
    rarest = sorted(set(title.tokens), key=lambda word: (frequency(word), word))
    for word in rarest[: len(title.tokens) // 2 + 1]:
        yield ("word", title.signature, word)


def _person_keys(person: _Person, frequency: Callable[[str], int]) -> Iterator[Hashable]:
    """Block keys of a person: the email, and the two rarest name tokens with the initials."""
    if person.email:
        yield ("email", person.email)
    if len(person.tokens) >= 2:
        rarest = sorted(set(person.tokens), key=lambda token: (frequency(token), token))
        for token in rarest[:2]:
            yield ("name", person.signature, token)


def title_clusters(
    items: Iterable[Item],
    *,
    threshold: float = 0.85,
    stats: MatchStats | None = None,
    block_cap: int = BLOCK_CAP,
) -> list[Cluster]:
    """Groups of titles that name the same thing, scored at least `threshold`, best first."""
    cache: dict[str, _Title] = {}
    prepared = []
    for item in items:
        title = cache.get(item.text)
        if title is None:
            title = cache[item.text] = _prepare_title(item.text)
        if title.tokens:
            prepared.append((item.id, title))
    clustering = _Clustering[_Title](
        compare=_compare_titles,
        keys=_title_keys,
        words=lambda title: title.tokens,
        threshold=threshold,
        cap=block_cap,
        stats=stats if stats is not None else MatchStats(),
    )
    return clustering.run(prepared)


def people_clusters(
    items: Iterable[Item], *, stats: MatchStats | None = None, block_cap: int = BLOCK_CAP
) -> list[Cluster]:
    """Groups of people records that are one person, best first."""
    prepared = [(item.id, _prepare_person(item)) for item in items if item.text.strip()]
    clustering = _Clustering[_Person](
        compare=_compare_people,
        keys=_person_keys,
        words=lambda person: person.tokens,
        threshold=0.0,
        cap=block_cap,
        stats=stats if stats is not None else MatchStats(),
    )
    return clustering.run(prepared)
