"""Splitting long Telegram texts, and Telegram's HTML and MarkdownV2 dialects.

Telegram limits a message to 4096 characters and a caption to 1024, counted
*after entity parsing* (markup does not count) and, as far as anyone has
measured, in UTF-16 code units. An emoji outside the Basic Multilingual Plane
counts as two.

:func:`split_text` cuts a plain text with its entities into chunks that each
fit the limit. A cut never falls inside an entity (unless one entity alone is
longer than the limit), never between the halves of a surrogate pair, and
prefers paragraph breaks, then line breaks, then spaces. Chunks concatenate
back to the original text exactly; whitespace at a cut stays at the end of the
earlier chunk.

:func:`split_formatted` does the same for a text written in a parse mode
(``"HTML"`` or ``"MarkdownV2"``): it parses the markup into text and entities,
splits, and renders every chunk back in the same mode, so no chunk ends inside
a tag and every special character is escaped as that mode requires.

The parsers follow the Bot API's "Formatting options" and are strict: input
that Telegram would reject raises :class:`FormattingError`.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

__all__ = [
    "CAPTION_LIMIT",
    "TEXT_LIMIT",
    "Entity",
    "FormattingError",
    "TextChunk",
    "escape",
    "escape_html",
    "escape_markdown_v2",
    "parse",
    "parse_html",
    "normalize_entities",
    "parse_markdown_v2",
    "render",
    "render_html",
    "render_markdown_v2",
    "split_formatted",
    "split_text",
    "utf16_len",
]

TEXT_LIMIT = 4096
"""Longest message text, in UTF-16 code units after entity parsing."""
CAPTION_LIMIT = 1024
"""Longest media caption, in UTF-16 code units after entity parsing."""

PARSE_MODES = ("HTML", "MarkdownV2")

# Entity types that can be written as markup. Others (mention, hashtag, url,
# bot_command, email, phone_number, cashtag, bank_card) are detected by
# Telegram itself and are left out when rendering.
FORMATTING_TYPES = frozenset(
    {
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
        "blockquote",
        "expandable_blockquote",
    }
)


class FormattingError(ValueError):
    """Markup that Telegram would refuse ("can't parse entities")."""


@dataclass(frozen=True, order=True)
class Entity:
    """A Bot API ``MessageEntity``; ``offset`` and ``length`` are in UTF-16 code units."""

    offset: int
    length: int
    type: str
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None
    user_id: int | None = None

    @property
    def end(self) -> int:
        return self.offset + self.length

    def to_api(self) -> dict[str, Any]:
        """Return the Bot API JSON form."""
        data: dict[str, Any] = {"type": self.type, "offset": self.offset, "length": self.length}
        if self.url is not None:
            data["url"] = self.url
        if self.language is not None:
            data["language"] = self.language
        if self.custom_emoji_id is not None:
            data["custom_emoji_id"] = self.custom_emoji_id
        if self.user_id is not None:
            data["user"] = {"id": self.user_id, "is_bot": False, "first_name": ""}
        return data

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Entity:
        """Build from the Bot API JSON form."""
        user = data.get("user")
        return cls(
            offset=int(data["offset"]),
            length=int(data["length"]),
            type=str(data["type"]),
            url=data.get("url"),
            language=data.get("language"),
            custom_emoji_id=data.get("custom_emoji_id"),
            user_id=int(user["id"]) if isinstance(user, dict) and "id" in user else None,
        )


@dataclass(frozen=True)
class TextChunk:
    """One piece of a split text: plain text and its entities (offsets relative to it)."""

    text: str
    entities: tuple[Entity, ...] = ()

    @property
    def length(self) -> int:
        return utf16_len(self.text)


# --------------------------------------------------------------------------- counting


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units (what Telegram counts)."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _utf16_prefix(text: str) -> list[int]:
    """Return ``p`` with ``p[i]`` = UTF-16 length of ``text[:i]``."""
    prefix = [0] * (len(text) + 1)
    total = 0
    for index, char in enumerate(text):
        total += 2 if ord(char) > 0xFFFF else 1
        prefix[index + 1] = total
    return prefix


def _cp_index(prefix: list[int], units: int) -> int:
    """Return the code point index at ``units`` UTF-16 units (rounded up inside a pair)."""
    lo, hi = 0, len(prefix) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if prefix[mid] < units:
            lo = mid + 1
        else:
            hi = mid
    return lo


# --------------------------------------------------------------------------- splitting


def _glued(text: str, index: int) -> bool:
    """Whether a cut before ``text[index]`` would tear a visible character apart."""
    if index <= 0 or index >= len(text):
        return False
    before, after = text[index - 1], text[index]
    if before == "\r" and after == "\n":
        return True
    if before == "\u200d" or after == "\u200d":
        return True
    code = ord(after)
    if unicodedata.combining(after) or unicodedata.category(after) in ("Mn", "Me", "Mc"):
        return True
    # variation selectors, emoji skin-tone modifiers, tag characters, keycap
    return (
        0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
        or code == 0x20E3
        or (0x1F1E6 <= code <= 0x1F1FF and 0x1F1E6 <= ord(before) <= 0x1F1FF)
    )


def split_text(
    text: str,
    entities: Iterable[Entity] = (),
    *,
    limit: int = TEXT_LIMIT,
) -> list[TextChunk]:
    """Cut ``text`` into chunks of at most ``limit`` UTF-16 code units.

    Entities are carried into the chunk that holds them, with offsets made
    relative to that chunk. A cut falls inside an entity only when that entity
    alone does not fit in ``limit``; it is then split into one entity per chunk.

    Raises:
        ValueError: ``limit`` is smaller than 2 (a surrogate pair must fit).
    """
    if limit < 2:
        raise ValueError("limit must be at least 2 UTF-16 code units")
    entity_list = [entity for entity in entities if entity.length > 0]
    prefix = _utf16_prefix(text)
    total = prefix[-1]
    if total <= limit:
        return [TextChunk(text, tuple(sorted(entity_list)))]
    # entity bounds in code points
    spans = [
        (_cp_index(prefix, entity.offset), _cp_index(prefix, entity.end)) for entity in entity_list
    ]
    inside = [0] * (len(text) + 1)  # inside[i] > 0: a cut at i falls inside an entity
    for start, end in spans:
        for index in range(start + 1, end):
            inside[index] += 1

    cuts: list[int] = []
    start = 0
    while prefix[len(text)] - prefix[start] > limit:
        hard_end = _cp_index(prefix, prefix[start] + limit + 1) - 1
        hard_end = max(hard_end, start + 1)
        cut = _choose_cut(text, start, hard_end, inside, prefix, limit)
        cuts.append(cut)
        start = cut
    bounds = [0, *cuts, len(text)]
    chunks = []
    for left, right in itertools.pairwise(bounds):
        unit_left, unit_right = prefix[left], prefix[right]
        chunk_entities = []
        for entity in entity_list:
            lo, hi = max(entity.offset, unit_left), min(entity.end, unit_right)
            if hi > lo:
                chunk_entities.append(replace(entity, offset=lo - unit_left, length=hi - lo))
        chunks.append(TextChunk(text[left:right], tuple(sorted(chunk_entities))))
    return chunks


def _choose_cut(
    text: str, start: int, hard_end: int, inside: list[int], prefix: list[int], limit: int
) -> int:
    """Pick the best cut position in ``(start, hard_end]``."""
    minimum_units = prefix[start] + max(1, limit * 3 // 10)
    candidates = range(hard_end, start, -1)

    def free(index: int) -> bool:
        return inside[index] == 0 and not _glued(text, index)

    # paragraph break, line break, whitespace, then any free position
    def paragraph(i: int) -> bool:
        return text[i - 1] == "\n" and i >= 2 and text[i - 2] == "\n"

    def line(i: int) -> bool:
        return text[i - 1] == "\n"

    def space(i: int) -> bool:
        return text[i - 1].isspace() and not text[i].isspace()

    tests = (paragraph, line, space)
    for test in tests:
        for index in candidates:
            if prefix[index] < minimum_units:
                break
            if index < len(text) and free(index) and test(index):
                return index
    for index in candidates:
        if free(index):
            return index
    # keeping entities whole matters more than keeping a grapheme cluster whole
    for index in candidates:
        if inside[index] == 0:
            return index
    # an entity longer than the limit: cut inside it, still not inside a character
    for index in candidates:
        if not _glued(text, index):
            return index
    return hard_end


# --------------------------------------------------------------------------- HTML


_HTML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def escape_html(text: str) -> str:
    """Escape ``&``, ``<``, ``>`` and ``"`` for Telegram's HTML parse mode."""
    return "".join(_HTML_ESCAPES.get(char, char) for char in text)


_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*?)?)\s*(/?)>")
_ATTR = re.compile(r"""([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
}


def _html_unescape(raw: str, *, where: str) -> str:
    """Decode the character references Telegram knows; anything else stays literal.

    Like Telegram's own parser, an ``&`` that starts no known reference and a
    ``>`` are ordinary characters.
    """
    out = []
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == "&":
            end = raw.find(";", index, index + 12)
            name = raw[index + 1 : end] if end != -1 else ""
            if name in _NAMED:
                out.append(_NAMED[name])
                index = end + 1
                continue
            if re.fullmatch(r"#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}", name):
                code = int(name[2:], 16) if name[1:2] in "xX" else int(name[1:])
                if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    raise FormattingError(f"invalid character reference &{name}; in {where}")
                out.append(chr(code))
                index = end + 1
                continue
        out.append(char)
        index += 1
    return "".join(out)


def parse_html(source: str) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML into plain text and entities.

    Raises:
        FormattingError: an unsupported tag, a tag left open, an unescaped ``<``
            or ``&``, or an unsupported named entity.
    """
    text_parts: list[str] = []
    units = 0
    stack: list[tuple[str, dict[str, str], int]] = []
    entities: list[Entity] = []
    position = 0
    while position < len(source):
        lt = source.find("<", position)
        chunk_end = len(source) if lt == -1 else lt
        if chunk_end > position:
            piece = _html_unescape(source[position:chunk_end], where="text")
            text_parts.append(piece)
            units += utf16_len(piece)
        if lt == -1:
            break
        match = _TAG.match(source, lt)
        if match is None:
            raise FormattingError(f"unsupported start tag at offset {lt}")
        closing, name, attr_text, self_closing = match.groups()
        name = name.lower()
        if self_closing:
            raise FormattingError(f"self-closing tag <{name}/> is not supported")
        if closing:
            if attr_text.strip():
                raise FormattingError(f"end tag </{name}> has attributes")
            if not stack or stack[-1][0] != name:
                raise FormattingError(f"unmatched end tag </{name}>")
            open_name, attrs, start_units = stack.pop()
            entity = _html_entity(open_name, attrs, start_units, units, stack)
            if entity is not None:
                entities.append(entity)
        else:
            attrs = {}
            for attr in _ATTR.finditer(attr_text):
                value = attr.group(2) if attr.group(2) is not None else attr.group(3)
                if value is None:
                    value = attr.group(4) if attr.group(4) is not None else ""
                attrs[attr.group(1).lower()] = _html_unescape(value, where="attribute")
            _check_open_tag(name, attrs, stack)
            stack.append((name, attrs, units))
        position = match.end()
    if stack:
        raise FormattingError(f"can't find end tag corresponding to start tag <{stack[-1][0]}>")
    return "".join(text_parts), normalize_entities(entities)


def _check_open_tag(name: str, attrs: dict[str, str], stack: list[Any]) -> None:
    if stack and stack[-1][0] in ("code", "tg-emoji"):
        raise FormattingError(f"tag <{name}> inside <{stack[-1][0]}> is not supported")
    if stack and stack[-1][0] == "pre" and name != "code":
        raise FormattingError(f"tag <{name}> inside <pre> is not supported")
    if name in _SIMPLE_TAGS or name in ("pre", "blockquote"):
        return
    if name == "code":
        return
    if name == "span":
        if attrs.get("class") != "tg-spoiler":
            raise FormattingError('<span> needs class="tg-spoiler"')
        return
    if name == "a":
        if not attrs.get("href"):
            raise FormattingError("<a> needs an href")
        return
    if name == "tg-emoji":
        if not attrs.get("emoji-id", "").isdigit():
            raise FormattingError('<tg-emoji> needs a numeric "emoji-id"')
        return
    raise FormattingError(f"unsupported start tag <{name}>")


def _html_entity(
    name: str, attrs: dict[str, str], start: int, end: int, stack: list[Any]
) -> Entity | None:
    length = end - start
    if name in _SIMPLE_TAGS:
        return Entity(start, length, _SIMPLE_TAGS[name])
    if name == "span":
        return Entity(start, length, "spoiler")
    if name == "a":
        href = attrs["href"]
        user = re.fullmatch(r"tg://user\?id=([0-9]{1,20})", href)
        if user:
            return Entity(start, length, "text_mention", user_id=int(user.group(1)))
        return Entity(start, length, "text_link", url=href)
    if name == "tg-emoji":
        return Entity(start, length, "custom_emoji", custom_emoji_id=attrs["emoji-id"])
    if name == "blockquote":
        kind = "expandable_blockquote" if "expandable" in attrs else "blockquote"
        return Entity(start, length, kind)
    if name == "code":
        if stack and stack[-1][0] == "pre":
            language = attrs.get("class", "")
            if language.startswith("language-"):
                # the pre is closed right after; remember the language on it
                pre_attrs = stack[-1][1]
                pre_attrs["language"] = language[len("language-") :]
            return None
        return Entity(start, length, "code")
    if name == "pre":
        return Entity(start, length, "pre", language=attrs.get("language") or None)
    return None  # pragma: no cover - _check_open_tag refuses the rest


def normalize_entities(entities: Iterable[Entity]) -> list[Entity]:
    """Drop empty entities and sort outer before inner."""
    kept = [entity for entity in entities if entity.length > 0]
    return sorted(kept, key=lambda e: (e.offset, -e.length, _RANK.get(e.type, 99), e))


_RANK = {
    # for entities over the same span: containers outside, code and pre inside
    "blockquote": 0,
    "expandable_blockquote": 0,
    "text_link": 1,
    "text_mention": 1,
    "bold": 2,
    "italic": 3,
    "underline": 4,
    "strikethrough": 5,
    "spoiler": 6,
    "custom_emoji": 7,
    "pre": 8,
    "code": 9,
}


def _tree_events(text: str, entities: Sequence[Entity]) -> list[tuple[int, int, Entity]]:
    """Return (code point index, 0=close/1=open, entity) events for nested rendering."""
    prefix = _utf16_prefix(text)
    formatting = [e for e in normalize_entities(entities) if e.type in FORMATTING_TYPES]
    if any(entity.end > prefix[-1] for entity in formatting):
        raise ValueError("an entity ends after the text")
    # check nesting
    stack: list[Entity] = []
    for entity in formatting:
        while stack and stack[-1].end <= entity.offset:
            stack.pop()
        if stack and entity.end > stack[-1].end:
            raise ValueError(
                f"entities overlap without nesting: {stack[-1].type} and {entity.type}"
            )
        stack.append(entity)
    events: list[tuple[int, int, Entity]] = []
    for order, entity in enumerate(formatting):
        events.append((_cp_index(prefix, entity.offset), order, entity))
    return events


def render_html(text: str, entities: Sequence[Entity] = ()) -> str:
    """Render plain ``text`` with ``entities`` as Telegram HTML, escaping everything else.

    Raises:
        ValueError: entities overlap without nesting.
    """
    prefix = _utf16_prefix(text)
    opened = _tree_events(text, entities)
    out: list[str] = []
    stack: list[tuple[Entity, int]] = []
    event_index = 0
    for index in range(len(text) + 1):
        while stack and stack[-1][1] <= index:
            out.append(_html_close(stack.pop()[0]))
        while event_index < len(opened) and opened[event_index][0] == index:
            entity = opened[event_index][2]
            out.append(_html_open(entity))
            stack.append((entity, _cp_index(prefix, entity.end)))
            event_index += 1
        if index < len(text):
            out.append(_HTML_ESCAPES.get(text[index], text[index]))
    while stack:
        out.append(_html_close(stack.pop()[0]))
    return "".join(out)


def _html_open(entity: Entity) -> str:
    kind = entity.type
    simple = {"bold": "b", "italic": "i", "underline": "u", "strikethrough": "s"}
    if kind in simple:
        return f"<{simple[kind]}>"
    if kind == "spoiler":
        return "<tg-spoiler>"
    if kind == "code":
        return "<code>"
    if kind == "pre":
        if entity.language:
            return f'<pre><code class="language-{escape_html(entity.language)}">'
        return "<pre>"
    if kind == "text_link":
        return f'<a href="{escape_html(entity.url or "")}">'
    if kind == "text_mention":
        return f'<a href="tg://user?id={entity.user_id}">'
    if kind == "custom_emoji":
        return f'<tg-emoji emoji-id="{entity.custom_emoji_id}">'
    if kind == "blockquote":
        return "<blockquote>"
    if kind == "expandable_blockquote":
        return "<blockquote expandable>"
    raise ValueError(f"entity type {kind!r} has no HTML form")  # pragma: no cover


def _html_close(entity: Entity) -> str:
    kind = entity.type
    simple = {"bold": "b", "italic": "i", "underline": "u", "strikethrough": "s"}
    if kind in simple:
        return f"</{simple[kind]}>"
    closing = {
        "spoiler": "</tg-spoiler>",
        "code": "</code>",
        "pre": "</code></pre>" if entity.language else "</pre>",
        "text_link": "</a>",
        "text_mention": "</a>",
        "custom_emoji": "</tg-emoji>",
        "blockquote": "</blockquote>",
        "expandable_blockquote": "</blockquote>",
    }
    return closing[kind]


# --------------------------------------------------------------------------- MarkdownV2

_MD_SPECIAL = set("_*[]()~`>#+-=|{}.!\\")


def escape_markdown_v2(text: str, *, context: str = "text") -> str:
    """Escape ``text`` for MarkdownV2.

    ``context`` is ``"text"`` (ordinary text), ``"code"`` (inside ``code`` or
    ``pre``: only backquote and backslash) or ``"url"`` (inside the ``(...)``
    of a link: only ``)`` and backslash). A carriage return is always escaped,
    because Telegram ignores a bare one in MarkdownV2.
    """
    if context == "code":
        special = {"`", "\\", "\r"}
    elif context == "url":
        special = {")", "\\", "\r"}
    else:
        special = _MD_SPECIAL | {"\r"}
    return "".join("\\" + char if char in special else char for char in text)


_MD_DELIMS = {
    "bold": ("*", "*"),
    "italic": ("_", "_"),
    "underline": ("__", "__"),
    "strikethrough": ("~", "~"),
    "spoiler": ("||", "||"),
}


def render_markdown_v2(text: str, entities: Sequence[Entity] = ()) -> str:
    """Render plain ``text`` with ``entities`` as MarkdownV2, escaping everything else.

    Blockquotes must start at the beginning of a line and end at the end of
    one (Telegram's MarkdownV2 marks them per line).

    Raises:
        ValueError: entities overlap without nesting, or a blockquote does not
            cover whole lines.
    """
    prefix = _utf16_prefix(text)
    opened = _tree_events(text, entities)
    out: list[str] = []
    stack: list[tuple[Entity, int]] = []
    event_index = 0
    quote_depth = 0

    def emit(piece: str) -> None:
        # a delimiter made of underscores right after another one is ambiguous;
        # a bare carriage return between them is ignored by Telegram
        if out and piece.startswith("_") and out[-1].endswith("_") and not out[-1].endswith("\\_"):
            out.append("\r")
        out.append(piece)

    for index in range(len(text) + 1):
        while stack and stack[-1][1] <= index:
            entity = stack.pop()[0]
            if entity.type in ("blockquote", "expandable_blockquote"):
                if index < len(text) and text[index] != "\n":
                    raise ValueError("a MarkdownV2 blockquote must end at the end of a line")
                quote_depth -= 1
                if entity.type == "expandable_blockquote":
                    emit("||")
            else:
                emit(_md_close(entity))
        while event_index < len(opened) and opened[event_index][0] == index:
            entity = opened[event_index][2]
            if entity.type in ("blockquote", "expandable_blockquote"):
                if index > 0 and text[index - 1] != "\n":
                    raise ValueError("a MarkdownV2 blockquote must start at the start of a line")
                if quote_depth:
                    raise ValueError("MarkdownV2 blockquotes cannot nest")
                quote_depth += 1
                emit("**>" if entity.type == "expandable_blockquote" else ">")
            else:
                emit(_md_open(entity))
            stack.append((entity, _cp_index(prefix, entity.end)))
            event_index += 1
        if index < len(text):
            char = text[index]
            in_code = any(e.type in ("code", "pre") for e, _ in stack)
            emit(escape_markdown_v2(char, context="code" if in_code else "text"))
            if char == "\n" and quote_depth and index + 1 < len(text):
                # the quote goes on past this line unless it ends right here
                if stack and any(
                    e.type in ("blockquote", "expandable_blockquote") and end > index + 1
                    for e, end in stack
                ):
                    emit(">")
    while stack:
        entity = stack.pop()[0]
        if entity.type == "expandable_blockquote":
            emit("||")
        elif entity.type != "blockquote":
            emit(_md_close(entity))
    return "".join(out)


def _md_open(entity: Entity) -> str:
    if entity.type in _MD_DELIMS:
        return _MD_DELIMS[entity.type][0]
    if entity.type == "code":
        return "`"
    if entity.type == "pre":
        return "```" + (entity.language or "") + "\n"
    if entity.type in ("text_link", "text_mention"):
        return "["
    if entity.type == "custom_emoji":
        return "!["
    raise ValueError(f"entity type {entity.type!r} has no MarkdownV2 form")  # pragma: no cover


def _md_close(entity: Entity) -> str:
    if entity.type in _MD_DELIMS:
        return _MD_DELIMS[entity.type][1]
    if entity.type == "code":
        return "`"
    if entity.type == "pre":
        return "```"
    if entity.type == "text_link":
        return "](" + escape_markdown_v2(entity.url or "", context="url") + ")"
    if entity.type == "text_mention":
        return f"](tg://user?id={entity.user_id})"
    if entity.type == "custom_emoji":
        return f"](tg://emoji?id={entity.custom_emoji_id})"
    raise ValueError(f"entity type {entity.type!r} has no MarkdownV2 form")  # pragma: no cover


def parse_markdown_v2(source: str) -> tuple[str, list[Entity]]:
    """Parse MarkdownV2 into plain text and entities.

    Raises:
        FormattingError: a reserved character left unescaped, an entity left
            open, or a malformed link.
    """
    parser = _MarkdownV2Parser(source)
    return parser.run()


class _MarkdownV2Parser:
    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.text: list[str] = []
        self.units = 0
        self.stack: list[tuple[str, int]] = []  # (type, start units)
        self.entities: list[Entity] = []
        self.quote: tuple[str, int] | None = None

    def add(self, char: str) -> None:
        self.text.append(char)
        self.units += 2 if ord(char) > 0xFFFF else 1

    def toggle(self, kind: str) -> None:
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == kind:
                if depth != len(self.stack) - 1:
                    raise FormattingError(
                        f"can't parse entities: {kind} closed while "
                        f"{self.stack[-1][0]} is still open at offset {self.pos}"
                    )
                _, start = self.stack.pop()
                self.entities.append(Entity(start, self.units - start, kind))
                return
        self.stack.append((kind, self.units))

    def at_line_start(self) -> bool:
        return self.pos == 0 or self.src[self.pos - 1] == "\n"

    def close_quote(self) -> None:
        if self.quote is not None:
            kind, start = self.quote
            # the quote ends before the newline that ended its last line
            end = self.units
            if self.text and self.text[-1] == "\n":
                end -= 1
            self.entities.append(Entity(start, end - start, kind))
            self.quote = None

    def run(self) -> tuple[str, list[Entity]]:
        src = self.src
        while self.pos < len(src):
            char = src[self.pos]
            if self.at_line_start() and (not self.stack or self.quote is not None):
                if src.startswith("**>", self.pos) and not self.stack:
                    self.close_quote()
                    self.quote = ("expandable_blockquote", self.units)
                    self.pos += 3
                    continue
                if char == ">":
                    if self.quote is None:
                        self.quote = ("blockquote", self.units)
                    self.pos += 1
                    continue
                if self.quote is not None and self.stack:
                    raise FormattingError(
                        "can't parse entities: an entity crosses a blockquote end"
                    )
                self.close_quote()
            if char == "\\":
                if self.pos + 1 >= len(src) or not 1 <= ord(src[self.pos + 1]) <= 126:
                    raise FormattingError(f"can't parse entities: bad escape at offset {self.pos}")
                self.add(src[self.pos + 1])
                self.pos += 2
                continue
            if char == "\r":
                self.pos += 1  # a bare carriage return is ignored
                continue
            if src.startswith("||", self.pos):
                if (
                    self.quote is not None
                    and self.quote[0] == "expandable_blockquote"
                    and not self.stack
                    and (self.pos + 2 == len(src) or src[self.pos + 2] == "\n")
                ):
                    self.pos += 2
                    self.close_quote()
                    continue
                self.toggle("spoiler")
                self.pos += 2
                continue
            if src.startswith("__", self.pos):
                self.toggle("underline")
                self.pos += 2
                continue
            simple = {"*": "bold", "_": "italic", "~": "strikethrough"}
            if char in simple:
                self.toggle(simple[char])
                self.pos += 1
                continue
            if src.startswith("```", self.pos):
                self.read_pre()
                continue
            if char == "`":
                self.read_code()
                continue
            if char == "[":
                self.stack.append(("link", self.units))
                self.pos += 1
                continue
            if src.startswith("![", self.pos):
                self.stack.append(("emoji", self.units))
                self.pos += 2
                continue
            if char == "]":
                self.read_link_target()
                continue
            if char in _MD_SPECIAL:
                raise FormattingError(
                    f"can't parse entities: character {char!r} is reserved and must be "
                    f"escaped with the preceding '\\' (offset {self.pos})"
                )
            self.add(char)
            self.pos += 1
        if self.stack:
            raise FormattingError(f"can't parse entities: {self.stack[-1][0]} is not closed")
        if self.quote is not None:
            if self.quote[0] == "expandable_blockquote":
                raise FormattingError("can't parse entities: expandable blockquote not closed")
            self.close_quote()
        return "".join(self.text), normalize_entities(self.entities)

    def read_code_body(self, terminator: str) -> None:
        src = self.src
        while True:
            if self.pos >= len(src):
                raise FormattingError("can't parse entities: code entity is not closed")
            if src.startswith(terminator, self.pos):
                self.pos += len(terminator)
                return
            char = src[self.pos]
            if char == "\\":
                if self.pos + 1 >= len(src):
                    raise FormattingError("can't parse entities: bad escape in code")
                self.add(src[self.pos + 1])
                self.pos += 2
                continue
            if char == "\r":
                self.pos += 1
                continue
            if char == "`":
                raise FormattingError("can't parse entities: unescaped '`' in code")
            self.add(char)
            self.pos += 1

    def read_code(self) -> None:
        if any(kind in ("code",) for kind, _ in self.stack):
            raise FormattingError("can't parse entities: nested code")
        self.pos += 1
        start = self.units
        self.read_code_body("`")
        self.entities.append(Entity(start, self.units - start, "code"))

    def read_pre(self) -> None:
        self.pos += 3
        newline = self.src.find("\n", self.pos)
        close = self.src.find("```", self.pos)
        language = None
        if newline != -1 and (close == -1 or newline < close):
            language = self.src[self.pos : newline] or None
            if language is not None and not re.fullmatch(r"[^\s`\\]+", language):
                raise FormattingError("can't parse entities: bad pre language")
            self.pos = newline + 1
        start = self.units
        self.read_code_body("```")
        self.entities.append(Entity(start, self.units - start, "pre", language=language))

    def read_link_target(self) -> None:
        if not self.stack or self.stack[-1][0] not in ("link", "emoji"):
            raise FormattingError(f"can't parse entities: unexpected ']' at offset {self.pos}")
        kind, start = self.stack.pop()
        src = self.src
        if not src.startswith("(", self.pos + 1):
            raise FormattingError("can't parse entities: ']' must be followed by '('")
        self.pos += 2
        url: list[str] = []
        while True:
            if self.pos >= len(src):
                raise FormattingError("can't parse entities: link target is not closed")
            char = src[self.pos]
            if char == "\\" and self.pos + 1 < len(src):
                url.append(src[self.pos + 1])
                self.pos += 2
                continue
            if char == ")":
                self.pos += 1
                break
            if char != "\r":
                url.append(char)
            self.pos += 1
        target = "".join(url)
        length = self.units - start
        if kind == "emoji":
            match = re.fullmatch(r"tg://emoji\?id=([0-9]+)", target)
            if not match:
                raise FormattingError("can't parse entities: custom emoji needs tg://emoji?id=")
            self.entities.append(Entity(start, length, "custom_emoji", custom_emoji_id=match[1]))
            return
        user = re.fullmatch(r"tg://user\?id=([0-9]{1,20})", target)
        if user:
            self.entities.append(Entity(start, length, "text_mention", user_id=int(user[1])))
        else:
            self.entities.append(Entity(start, length, "text_link", url=target))


# --------------------------------------------------------------------------- dispatch


def _check_mode(parse_mode: str | None) -> str | None:
    if parse_mode is None:
        return None
    for mode in PARSE_MODES:
        if parse_mode.lower() == mode.lower():
            return mode
    if parse_mode.lower() == "markdown":
        raise ValueError("the legacy Markdown parse mode is not supported; use MarkdownV2")
    raise ValueError(f"unknown parse mode {parse_mode!r}")


def escape(text: str, parse_mode: str | None) -> str:
    """Escape plain ``text`` so that ``parse_mode`` shows it literally."""
    mode = _check_mode(parse_mode)
    if mode == "HTML":
        return escape_html(text)
    if mode == "MarkdownV2":
        return escape_markdown_v2(text)
    return text


def parse(source: str, parse_mode: str | None) -> tuple[str, list[Entity]]:
    """Parse ``source`` written in ``parse_mode`` (``None``: plain, no entities)."""
    mode = _check_mode(parse_mode)
    if mode == "HTML":
        return parse_html(source)
    if mode == "MarkdownV2":
        return parse_markdown_v2(source)
    return source, []


def render(text: str, entities: Sequence[Entity], parse_mode: str | None) -> str:
    """Render ``text`` and ``entities`` in ``parse_mode`` (``None``: the text itself)."""
    mode = _check_mode(parse_mode)
    if mode == "HTML":
        return render_html(text, entities)
    if mode == "MarkdownV2":
        return render_markdown_v2(text, entities)
    return text


def split_formatted(source: str, parse_mode: str | None, *, limit: int = TEXT_LIMIT) -> list[str]:
    """Split ``source`` written in ``parse_mode`` into sendable chunks in the same mode.

    Each chunk parses on its own, shows at most ``limit`` UTF-16 code units,
    and the chunks' parsed texts concatenate to the parsed text of ``source``.

    Raises:
        FormattingError: ``source`` is not valid in ``parse_mode``.
    """
    mode = _check_mode(parse_mode)
    text, entities = parse(source, mode)
    if mode is None:
        return [chunk.text for chunk in split_text(text, limit=limit)]
    if utf16_len(text) <= limit:
        return [source]
    return [
        render(chunk.text, chunk.entities, mode)
        for chunk in split_text(text, entities, limit=limit)
    ]
