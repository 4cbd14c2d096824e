"""Splitting and Telegram's markup dialects: property tests over generated Unicode text."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialinbox.adapters.telegram.split import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    Entity,
    FormattingError,
    escape,
    normalize_entities,
    parse,
    parse_html,
    parse_markdown_v2,
    render,
    render_html,
    render_markdown_v2,
    split_formatted,
    split_text,
    utf16_len,
)

PIECES = [
    *"abcçğıİöşüAZ09",
    " ",
    " ",
    "\n",
    "\n\n",
    "\t",
    "\r",
    *".,!?<>&\"'*_[]()~`>#+-=|{}\\/;:",
    "😀",
    "👍🏽",
    "👨‍👩‍👧",
    "e\u0301",
    "中文",
    "𝔘𝔫𝔦",
    "🇹🇷",
    "&amp;",
    "<b>",
]
TEXT = st.lists(st.sampled_from(PIECES), max_size=300).map("".join)

HTML_TYPES = [
    "bold",
    "italic",
    "underline",
    "strikethrough",
    "spoiler",
    "text_link",
    "text_mention",
    "blockquote",
    "expandable_blockquote",
    "code",
    "pre",
]
MARKDOWN_TYPES = [
    "bold",
    "italic",
    "underline",
    "strikethrough",
    "spoiler",
    "text_link",
    "text_mention",
    "code",
    "pre",
]
LEAVES = {"code", "pre"}
URLS = st.text(alphabet='abc/?=&)(\\_*"<>#', min_size=1, max_size=8).map(
    lambda tail: "https://example.com/" + tail
)


def prefix_units(text: str) -> list[int]:
    units = [0]
    for char in text:
        units.append(units[-1] + (2 if ord(char) > 0xFFFF else 1))
    return units


def nested_entities(
    data: st.DataObject,
    text: str,
    types: list[str],
    *,
    max_units: int,
    same_type_nesting: bool,
) -> list[Entity]:
    """Draw properly nested entities over ``text`` (offsets in UTF-16 units)."""
    units = prefix_units(text)
    found: list[Entity] = []

    def fill(lo: int, hi: int, parents: frozenset[str], depth: int) -> None:
        if hi - lo < 1 or depth > 3:
            return
        count = data.draw(st.integers(0, 3))
        points = sorted(
            data.draw(st.lists(st.integers(lo, hi), min_size=2 * count, max_size=2 * count))
        )
        for start, end in zip(points[::2], points[1::2], strict=True):
            if end <= start or units[end] - units[start] > max_units:
                continue
            choices = [kind for kind in types if same_type_nesting or kind not in parents]
            kind = data.draw(st.sampled_from(choices))
            extra: dict[str, object] = {}
            if kind == "text_link":
                extra["url"] = data.draw(URLS)
            elif kind == "text_mention":
                extra["user_id"] = data.draw(st.integers(1, 10**12))
            elif kind == "pre":
                extra["language"] = data.draw(st.sampled_from([None, "python", "c++"]))
            found.append(Entity(units[start], units[end] - units[start], kind, **extra))  # type: ignore[arg-type]
            if kind not in LEAVES:
                fill(start, end, parents | {kind}, depth + 1)

    fill(0, len(text), frozenset(), 0)
    return sorted(found)


def rejoin(chunks: list[tuple[str, list[Entity]]]) -> tuple[str, list[Entity]]:
    text = ""
    entities: list[Entity] = []
    for chunk_text, chunk_entities in chunks:
        base = utf16_len(text)
        entities.extend(
            Entity(
                e.offset + base, e.length, e.type, e.url, e.language, e.custom_emoji_id, e.user_id
            )
            for e in chunk_entities
        )
        text += chunk_text
    return text, sorted(entities)


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(data=st.data(), text=TEXT, limit=st.integers(2, 120))
def test_plain_split_property(data: st.DataObject, text: str, limit: int) -> None:
    entities = nested_entities(data, text, HTML_TYPES, max_units=limit, same_type_nesting=True)
    chunks = split_text(text, entities, limit=limit)
    assert all(chunk.length <= limit for chunk in chunks)
    assert all(chunk.text for chunk in chunks) or text == ""
    joined, joined_entities = rejoin([(c.text, list(c.entities)) for c in chunks])
    assert joined == text
    # never inside an entity: each entity comes back whole from one chunk
    assert joined_entities == entities


@PROPERTY
@given(data=st.data(), text=TEXT, limit=st.integers(2, 120))
def test_html_split_property(data: st.DataObject, text: str, limit: int) -> None:
    entities = nested_entities(data, text, HTML_TYPES, max_units=limit, same_type_nesting=True)
    source = render_html(text, entities)
    assert parse_html(source) == (text, normalize_entities(entities))
    chunks = split_formatted(source, "HTML", limit=limit)
    parsed = [parse_html(chunk) for chunk in chunks]  # every chunk is valid HTML
    assert all(utf16_len(chunk_text) <= limit for chunk_text, _ in parsed)
    joined, joined_entities = rejoin(parsed)
    assert joined == text
    assert joined_entities == entities


@PROPERTY
@given(data=st.data(), text=TEXT, limit=st.integers(2, 120))
def test_markdown_v2_split_property(data: st.DataObject, text: str, limit: int) -> None:
    entities = nested_entities(data, text, MARKDOWN_TYPES, max_units=limit, same_type_nesting=False)
    source = render_markdown_v2(text, entities)
    assert parse_markdown_v2(source) == (text, normalize_entities(entities))
    chunks = split_formatted(source, "MarkdownV2", limit=limit)
    parsed = [parse_markdown_v2(chunk) for chunk in chunks]
    assert all(utf16_len(chunk_text) <= limit for chunk_text, _ in parsed)
    joined, joined_entities = rejoin(parsed)
    assert joined == text
    assert joined_entities == entities


@settings(max_examples=30, deadline=None)
@given(
    piece=st.lists(st.sampled_from(PIECES), min_size=20, max_size=60).map("".join),
    times=st.integers(60, 200),
)
def test_real_limit_on_long_texts(piece: str, times: int) -> None:
    text = piece * times
    for mode in (None, "HTML", "MarkdownV2"):
        source = escape(text, mode)
        chunks = split_formatted(source, mode)
        assert all(utf16_len(parse(chunk, mode)[0]) <= TEXT_LIMIT for chunk in chunks)
        assert "".join(parse(chunk, mode)[0] for chunk in chunks) == text


def test_counts_utf16_units() -> None:
    assert utf16_len("a😀𝔘ç") == 1 + 2 + 2 + 1
    chunks = split_text("😀" * 5, limit=4)
    assert [chunk.text for chunk in chunks] == ["😀😀", "😀😀", "😀"]


def test_prefers_paragraphs_then_lines_then_spaces() -> None:
    text = "birinci paragraf\n\nikinci satır\nüçüncü kelime dördüncü"
    assert [c.text for c in split_text(text, limit=30)] == [
        "birinci paragraf\n\n",
        "ikinci satır\n",
        "üçüncü kelime dördüncü",
    ]
    assert [c.text for c in split_text("tek satır ama çok uzun kelimeler", limit=12)] == [
        "tek satır ",
        "ama çok ",
        "uzun ",
        "kelimeler",
    ]


def test_keeps_grapheme_clusters_and_flags_together() -> None:
    family = "👨‍👩‍👧"
    chunks = split_text("ab" + family + "🇹🇷", limit=9)
    assert family in chunks[0].text or family in chunks[1].text
    assert all("‍" not in (c.text[0], c.text[-1]) for c in chunks)
    assert "".join(c.text for c in chunks) == "ab" + family + "🇹🇷"


def test_an_entity_longer_than_the_limit_is_split_into_pieces() -> None:
    text = "x" * 10
    chunks = split_text(text, [Entity(0, 10, "bold")], limit=4)
    assert [c.text for c in chunks] == ["xxxx", "xxxx", "xx"]
    assert [c.entities for c in chunks] == [
        (Entity(0, 4, "bold"),),
        (Entity(0, 4, "bold"),),
        (Entity(0, 2, "bold"),),
    ]
    assert split_formatted("<b>" + text + "</b>", "HTML", limit=4) == [
        "<b>xxxx</b>",
        "<b>xxxx</b>",
        "<b>xx</b>",
    ]


def test_html_split_never_cuts_a_tag_or_an_escape() -> None:
    source = (
        "<b>kalın</b> &lt;etiket&gt; " + '<a href="https://example.com/?a=1&amp;b=2">bağlantı</a>'
    )
    chunks = split_formatted(source, "HTML", limit=12)
    assert chunks == [
        "<b>kalın</b> ",
        "&lt;etiket&gt; ",
        '<a href="https://example.com/?a=1&amp;b=2">bağlantı</a>',
    ]


def test_escaping_per_parse_mode() -> None:
    text = "1 < 2 & 3 > 2 *yıldız* _alt_ [x](y) \\ `kod`"
    assert escape(text, None) == text
    assert escape(text, "HTML") == "1 &lt; 2 &amp; 3 &gt; 2 *yıldız* _alt_ [x](y) \\ `kod`"
    assert parse(escape(text, "HTML"), "HTML") == (text, [])
    assert parse(escape(text, "MarkdownV2"), "MarkdownV2") == (text, [])
    assert escape("a.b!", "markdownv2") == "a\\.b\\!"
    with pytest.raises(ValueError, match="legacy Markdown"):
        escape("x", "Markdown")


def test_html_forms() -> None:
    source = (
        '<strong>a</strong><em>b</em><ins>c</ins><del>d</del><span class="tg-spoiler">e</span>'
        '<a href="tg://user?id=42">f</a><tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
        '<pre><code class="language-python">g</code></pre><blockquote expandable>h</blockquote>'
        "&#105;&#x6A;&quot;&unknown; > &"
    )
    text, entities = parse_html(source)
    assert text == 'abcdef👍ghij"&unknown; > &'
    assert [e.type for e in entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "text_mention",
        "custom_emoji",
        "pre",
        "expandable_blockquote",
    ]
    assert entities[5].user_id == 42
    assert entities[6].custom_emoji_id == "5368324170671202286"
    assert entities[7].language == "python"
    assert parse_html(render_html(text, entities)) == (text, entities)


@pytest.mark.parametrize(
    "source",
    [
        "<b>open",
        "</b>",
        "<b><i>x</b></i>",
        "<marquee>x</marquee>",
        "<span>x</span>",
        "<a>x</a>",
        "a < b",
        "<code><b>x</b></code>",
    ],
)
def test_invalid_html_is_refused(source: str) -> None:
    with pytest.raises(FormattingError):
        parse_html(source)


@pytest.mark.parametrize(
    "source",
    ["*open", "1.5", "a_b", "[text](url", "`code", "||x|", "*a _b* c_", "![e](https://x)"],
)
def test_invalid_markdown_v2_is_refused(source: str) -> None:
    with pytest.raises(FormattingError):
        parse_markdown_v2(source)


def test_markdown_v2_forms() -> None:
    source = (
        "*b* _i_ __u__ ~s~ ||sp|| [l](https://e.com/a\\)b) ![👍](tg://emoji?id=5) "
        "`c\\`d` ```py\nx = 1\n```"
    )
    text, entities = parse_markdown_v2(source)
    assert text == "b i u s sp l 👍 c`d x = 1\n"
    kinds = [(e.type, text_of(text, e)) for e in entities]
    assert kinds == [
        ("bold", "b"),
        ("italic", "i"),
        ("underline", "u"),
        ("strikethrough", "s"),
        ("spoiler", "sp"),
        ("text_link", "l"),
        ("custom_emoji", "👍"),
        ("code", "c`d"),
        ("pre", "x = 1\n"),
    ]
    assert entities[5].url == "https://e.com/a)b"
    assert parse_markdown_v2(render_markdown_v2(text, entities)) == (text, entities)


def test_markdown_v2_italic_next_to_underline_is_disambiguated() -> None:
    text = "abc"
    entities = [Entity(0, 3, "underline"), Entity(1, 2, "italic")]
    source = render_markdown_v2(text, entities)
    assert source == "__a_bc_\r__"
    assert parse_markdown_v2(source) == (text, entities)


def test_markdown_v2_blockquotes() -> None:
    text = "giriş\nalıntı bir\nalıntı iki\nson"
    entities = [Entity(6, 21, "blockquote")]
    source = render_markdown_v2(text, entities)
    assert source == "giriş\n>alıntı bir\n>alıntı iki\nson"
    assert parse_markdown_v2(source) == (text, entities)
    expandable = [Entity(6, 21, "expandable_blockquote")]
    source = render_markdown_v2(text, expandable)
    assert source == "giriş\n**>alıntı bir\n>alıntı iki||\nson"
    assert parse_markdown_v2(source) == (text, expandable)
    with pytest.raises(ValueError, match="start of a line"):
        render_markdown_v2(text, [Entity(2, 3, "blockquote")])


def text_of(text: str, entity: Entity) -> str:
    encoded = text.encode("utf-16-le")
    return encoded[2 * entity.offset : 2 * entity.end].decode("utf-16-le")


def test_limits_are_telegrams() -> None:
    assert (TEXT_LIMIT, CAPTION_LIMIT) == (4096, 1024)
    assert split_formatted("", None) == [""]
    with pytest.raises(ValueError, match="overlap"):
        render("abc", [Entity(0, 2, "bold"), Entity(1, 2, "italic")], "HTML")
