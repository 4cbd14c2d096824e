"""Rendering an announcement for each platform, in that platform's units and limits.

===========================  =========================  ==============================
target                        limit per message           what happens above it
===========================  =========================  ==============================
Telegram message / channel    4,096 UTF-16 code units     split, never inside an entity
Telegram photo caption        1,024 UTF-16 code units     photo first, text after it
X post                        280 weighted (twitter-text) an error: write an override
X DM                          10,000 UTF-16 code units    split
Messenger DM                  2,000 characters            split
Instagram DM                  1,000 UTF-8 bytes           split
Facebook Page post            63,206 characters           an error
Instagram feed caption        2,200 characters            an error
===========================  =========================  ==============================

Telegram gets the formatting as HTML; every other platform gets plain text
with links written out, because Meta and X show no markup in these fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from socialinbox.adapters.meta.eligibility import POLICIES, text_size
from socialinbox.adapters.telegram.split import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    render_html,
    split_text,
    utf16_len,
)
from socialinbox.adapters.twitter.limits import DM_TEXT_LIMIT, POST_WEIGHTED_LIMIT
from socialinbox.broadcast.markdown import parse_markdown, plain_text
from socialinbox.model import Platform

__all__ = ["Part", "Rendering", "render"]

TargetKind = Literal["dm", "channel", "post"]

# NOTE: the two feed limits below come from Meta's help pages, not from the
# Graph API reference; a longer text fails at send time with Meta's error.
FACEBOOK_POST_LIMIT = 63_206
INSTAGRAM_CAPTION_LIMIT = 2_200


@dataclass(frozen=True)
class Part:
    """One platform message: text (in ``parse_mode``), an image, or both."""

    text: str | None
    image_url: str | None = None


@dataclass(frozen=True)
class Rendering:
    """An announcement rendered for one platform and target kind."""

    platform: Platform
    kind: TargetKind
    parts: tuple[Part, ...]
    parse_mode: str | None
    size: int
    """Size of the whole text in ``unit``."""
    limit: int
    unit: str
    errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def preview(self) -> str:
        """The text as a reader sees it, parts separated by a marker line."""
        texts = [part.text or "" for part in self.parts]
        return "\n--- next message ---\n".join(texts)


def render(
    source: str, platform: Platform, kind: TargetKind, *, image_url: str | None = None
) -> Rendering:
    """Render the Markdown subset ``source`` for ``platform`` and target ``kind``."""
    if platform is Platform.TELEGRAM:
        return _telegram(source, kind, image_url)
    if platform is Platform.X:
        return _x_post(source, image_url) if kind == "post" else _x_dm(source, image_url)
    if kind == "post":
        return _meta_post(source, platform, image_url)
    return _meta_dm(source, platform, image_url)


def _telegram(source: str, kind: TargetKind, image_url: str | None) -> Rendering:
    text, entities = parse_markdown(source)
    size = utf16_len(text)
    parts: list[Part] = []
    if image_url is not None and size <= CAPTION_LIMIT:
        parts.append(Part(text=render_html(text, entities), image_url=image_url))
    else:
        if image_url is not None:
            parts.append(Part(text=None, image_url=image_url))
        parts.extend(
            Part(text=render_html(chunk.text, chunk.entities))
            for chunk in split_text(text, entities, limit=TEXT_LIMIT)
            if chunk.text.strip()
        )
    return Rendering(
        platform=Platform.TELEGRAM,
        kind=kind,
        parts=tuple(parts),
        parse_mode="HTML",
        size=size,
        limit=TEXT_LIMIT,
        unit="UTF-16 code units",
    )


def _x_post(source: str, image_url: str | None) -> Rendering:
    text = plain_text(source, link_style="space")
    # twitter-text compiles large regular expressions on import, so it is
    # loaded only when an X post is rendered.
    from twitter_text import parse_tweet

    weighted = parse_tweet(text).weightedLength
    errors: list[str] = []
    if weighted > POST_WEIGHTED_LIMIT:
        errors.append(
            f"X post has weighted length {weighted}, over the limit of {POST_WEIGHTED_LIMIT}; "
            "give a shorter text with --override x=TEXT"
        )
    notes = []
    if image_url is not None:
        notes.append("the image is not attached on X: media upload is not implemented")
    return Rendering(
        platform=Platform.X,
        kind="post",
        parts=(Part(text=text),),
        parse_mode=None,
        size=weighted,
        limit=POST_WEIGHTED_LIMIT,
        unit="weighted characters",
        errors=tuple(errors),
        notes=tuple(notes),
    )


def _x_dm(source: str, image_url: str | None) -> Rendering:
    text = plain_text(source)
    notes = []
    if image_url is not None:
        notes.append("the image is not attached on X: media upload is not implemented")
    return Rendering(
        platform=Platform.X,
        kind="dm",
        parts=tuple(Part(text=chunk) for chunk in split_by_size(text, DM_TEXT_LIMIT, utf16_len)),
        parse_mode=None,
        size=utf16_len(text),
        limit=DM_TEXT_LIMIT,
        unit="UTF-16 code units",
        notes=tuple(notes),
    )


def _meta_dm(source: str, platform: Platform, image_url: str | None) -> Rendering:
    policy = POLICIES[platform]
    text = plain_text(source)

    def size(value: str) -> int:
        return text_size(platform, value)

    parts = [Part(text=chunk) for chunk in split_by_size(text, policy.text_limit, size)]
    if image_url is not None:
        parts.append(Part(text=None, image_url=image_url))
    return Rendering(
        platform=platform,
        kind="dm",
        parts=tuple(parts),
        parse_mode=None,
        size=size(text),
        limit=policy.text_limit,
        unit=policy.text_unit,
    )


def _meta_post(source: str, platform: Platform, image_url: str | None) -> Rendering:
    text = plain_text(source)
    limit = INSTAGRAM_CAPTION_LIMIT if platform is Platform.INSTAGRAM else FACEBOOK_POST_LIMIT
    errors = []
    if len(text) > limit:
        errors.append(f"{platform.value} post is {len(text)} characters, over the limit of {limit}")
    if platform is Platform.INSTAGRAM and image_url is None:
        errors.append("an Instagram feed post needs an image")
    return Rendering(
        platform=platform,
        kind="post",
        parts=(Part(text=text, image_url=image_url),),
        parse_mode=None,
        size=len(text),
        limit=limit,
        unit="characters",
        errors=tuple(errors),
    )


def split_by_size(text: str, limit: int, size: Callable[[str], int]) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` by ``size``.

    Cuts prefer a paragraph break, then a line break, then a space, and fall
    back to the longest prefix that fits. Whitespace at a cut is dropped.
    """
    parts: list[str] = []
    rest = text.strip()
    while rest and size(rest) > limit:
        low, high = 1, len(rest)
        while low < high:  # longest prefix that fits
            middle = (low + high + 1) // 2
            if size(rest[:middle]) <= limit:
                low = middle
            else:
                high = middle - 1
        end = low
        cut = -1
        for separator in ("\n\n", "\n", " "):
            cut = rest.rfind(separator, 0, end + 1)
            if cut > end * 3 // 10:
                break
            cut = -1
        if cut <= 0:
            cut = end
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts
