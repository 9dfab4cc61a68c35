"""missionos.text.fold: one rule for ignoring case and accents, pure, no database."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from missionos.text import fold


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Équipe", "equipe"),
        ("ÉQUIPE", "equipe"),
        ("Crème Brûlée", "creme brulee"),
        ("Straße", "strasse"),
        ("ﬁnance", "finance"),  # a compatibility ligature
        ("Ångström", "angstrom"),
        ("Ñandú", "nandu"),
        ("  Two  words ", "  two  words "),  # spacing is the caller's business
        ("✅ Done!", "✅ done!"),  # symbols and punctuation are kept
        ("", ""),
    ],
)
def test_fold_drops_accents_and_case(text: str, folded: str):
    assert fold(text) == folded


def test_fold_is_the_same_for_composed_and_decomposed_accents():
    composed = "é"  # U+00E9
    decomposed = "e\u0301"  # e + combining acute
    assert composed != decomposed
    assert fold(composed) == fold(decomposed) == "e"


@given(st.text())
def test_folding_twice_changes_nothing(text: str):
    assert fold(fold(text)) == fold(text)


@given(st.text())
def test_the_unicode_form_of_the_input_does_not_matter(text: str):
    for form in ("NFC", "NFD", "NFKC", "NFKD"):
        assert fold(unicodedata.normalize(form, text)) == fold(text)


COMBINING_ACCENTS = st.sampled_from(
    [chr(code) for code in range(0x0300, 0x0370) if unicodedata.combining(chr(code))]
)


@st.composite
def with_case_and_accents_changed(draw: st.DrawFn) -> tuple[str, str]:
    """A plain word and the same word with random case and accents on its letters."""
    base = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz 0123456789-'", max_size=30))
    varied = []
    for char in base:
        varied.append(char.upper() if draw(st.booleans()) else char)
        if char.isalpha():
            varied.extend(draw(st.lists(COMBINING_ACCENTS, max_size=3)))
    # Letters with their accents composed where Unicode has a single code point for them.
    return base, unicodedata.normalize("NFC", "".join(varied))


@given(with_case_and_accents_changed())
def test_strings_differing_only_by_case_and_accents_fold_equal(pair: tuple[str, str]):
    base, varied = pair
    assert fold(varied) == fold(base) == base


@given(st.text(alphabet=st.characters(codec="ascii")))
def test_ascii_folds_like_lower(text: str):
    assert fold(text) == text.lower()


def test_every_empty_state_says_what_to_do_next():
    """An empty list or page says what would fill it and who can (components/empty.html's
    hint), not just that it is empty."""
    import re
    from pathlib import Path

    templates = Path(__file__).resolve().parents[1] / "templates"
    bare = [
        f"{path.relative_to(templates)}: {include}"
        for path in templates.rglob("*.html")
        if path.name != "line_chart.html"  # passes its caller's hint through
        for include in re.findall(r'{% include "components/empty.html"[^%]*%}', path.read_text())
        if "hint=" not in include
    ]
    assert not bare, f"give these empty states a hint: {bare}"
