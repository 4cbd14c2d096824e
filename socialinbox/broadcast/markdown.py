"""The Markdown subset announcements are written in, parsed to text and entities.

Supported: paragraphs and line breaks, ``- `` or ``* `` list items (shown
with a bullet), ``**bold**``, ``*italic*`` or ``_italic_``, ``` `code` ```
and ``[label](https://…)`` links. A backslash makes the next character
literal. Anything else is kept as plain text, so a stray ``*`` never breaks
a message. Entity offsets and lengths are in UTF-16 code units, as Telegram
counts them.
"""

from __future__ import annotations

import re

from socialinbox.adapters.telegram.split import Entity, utf16_len

__all__ = ["parse_markdown", "plain_text"]

_LIST_ITEM = re.compile(r"^(\s*)[-*]\s+")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_DELIMITERS = (("**", "bold"), ("*", "italic"), ("_", "italic"))


def parse_markdown(source: str) -> tuple[str, list[Entity]]:
    """Return the visible text of ``source`` and its formatting entities."""
    lines = source.replace("\r\n", "\n").strip("\n").split("\n")
    out: list[str] = []
    entities: list[Entity] = []
    for index, line in enumerate(lines):
        if index:
            out.append("\n")
        match = _LIST_ITEM.match(line)
        if match:
            out.append(match.group(1) + "• ")
            line = line[match.end() :]
        _parse_inline(line, out, entities)
    return "".join(out), sorted(entities)


def _parse_inline(line: str, out: list[str], entities: list[Entity]) -> None:
    position = 0
    while position < len(line):
        char = line[position]
        if char == "\\" and position + 1 < len(line):
            out.append(line[position + 1])
            position += 2
            continue
        if char == "`":
            end = line.find("`", position + 1)
            if end > position + 1:
                _emit(line[position + 1 : end], "code", out, entities)
                position = end + 1
                continue
        if char == "[":
            link = _LINK.match(line, position)
            if link is not None and link.group(2).startswith(("http://", "https://")):
                _emit(link.group(1), "text_link", out, entities, url=link.group(2))
                position = link.end()
                continue
        matched = False
        for delimiter, kind in _DELIMITERS:
            if line.startswith(delimiter, position):
                end = line.find(delimiter, position + len(delimiter))
                inner = line[position + len(delimiter) : end] if end > 0 else ""
                if inner and not inner[0].isspace() and not inner[-1].isspace():
                    start_units = utf16_len("".join(out))
                    _parse_inline(inner, out, entities)
                    length = utf16_len("".join(out)) - start_units
                    entities.append(Entity(offset=start_units, length=length, type=kind))
                    position = end + len(delimiter)
                    matched = True
                break
        if matched:
            continue
        out.append(char)
        position += 1


def _emit(
    text: str, kind: str, out: list[str], entities: list[Entity], *, url: str | None = None
) -> None:
    offset = utf16_len("".join(out))
    out.append(text)
    entities.append(Entity(offset=offset, length=utf16_len(text), type=kind, url=url))


def plain_text(source: str, *, link_style: str = "parenthesized") -> str:
    """Return ``source`` without markup; links become ``label (url)`` or ``label url``.

    A link whose label is the URL itself is written once.
    """
    text, entities = parse_markdown(source)
    links = [entity for entity in entities if entity.type == "text_link" and entity.url]
    if not links:
        return text
    # Insert the URLs from the end so earlier offsets stay valid; offsets are
    # UTF-16 units, so map them back to code point indexes first.
    prefix = [0]
    for char in text:
        prefix.append(prefix[-1] + (2 if ord(char) > 0xFFFF else 1))
    index_of = {units: index for index, units in enumerate(prefix)}
    result = text
    for entity in sorted(links, key=lambda item: item.offset, reverse=True):
        start, end = index_of[entity.offset], index_of[entity.end]
        label = text[start:end]
        if label == entity.url:
            continue
        addition = f" ({entity.url})" if link_style == "parenthesized" else f" {entity.url}"
        result = result[:end] + addition + result[end:]
    return result
