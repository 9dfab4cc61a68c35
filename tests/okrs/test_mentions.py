"""@mentions, pure: who a name fits, what stays plain, and that everything else is escaped."""

from __future__ import annotations

from okrs.mentions import Directory, find_mentions, render

PEOPLE = Directory.of(
    [
        (1, "Jo Former", "jo.former@example.org"),
        (2, "Ana Lima", ""),
        (3, "Ana Souza", "asouza@example.org"),
        (4, "Óscar Núñez", ""),
    ]
)


def names(text: str) -> list[tuple[str, int]]:
    return [(text[start:end], pk) for start, end, pk in find_mentions(text, PEOPLE)]


def test_full_name_first_name_and_handle_in_any_case():
    assert names("Thanks @Jo Former, and @jo too") == [("@Jo Former", 1), ("@jo", 1)]
    assert names("cc @JO.FORMER and @jformer? no: @jo.former.") == [
        ("@JO.FORMER", 1),
        ("@jo.former", 1),
    ]
    assert names("@asouza: see @Ana Lima") == [("@asouza", 3), ("@Ana Lima", 2)]
    assert names("@óscar núñez!") == [("@óscar núñez", 4)]
    # Accents, case and spacing as people type them.
    assert names("@oscar NUNEZ, @Jo   Former") == [("@oscar NUNEZ", 4), ("@Jo   Former", 1)]
    decomposed = "@O\u0301scar"
    assert names(decomposed) == [(decomposed, 4)]


def test_ambiguous_unknown_partial_and_emails_stay_plain():
    assert names("@Ana, are you there?") == []  # two Anas
    assert names("@Joanne @Nobody @") == []  # a longer word; nobody; nothing
    assert names("write to jo@example.org") == []  # an address, not a mention
    assert names("(@Jo)") == [("@Jo", 1)]


def test_render_escapes_everything_and_marks_mentions():
    text = "<b>hi</b> @Jo & <script>x</script>"
    html = str(render(text, find_mentions(text, PEOPLE), {1: "Jo Former"}))
    assert html == (
        "&lt;b&gt;hi&lt;/b&gt; "
        '<span class="mention" title="Jo Former">@Jo</span>'
        " &amp; &lt;script&gt;x&lt;/script&gt;"
    )
    # A person no longer there (or a stored span out of range): plain, escaped text.
    assert str(render(text, [[10, 13, 1], [0, 999, 1]], {})) == str(render(text, [], {}))
    hostile = '@Jo"><img src=x onerror=alert(1)>'
    marked = str(render(hostile, find_mentions(hostile, PEOPLE), {1: '"><x>'}))
    assert "<img" not in marked and 'title="&quot;&gt;&lt;x&gt;"' in marked
