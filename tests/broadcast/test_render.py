"""Rendering per platform and opt-out keywords."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from socialinbox.adapters.telegram.split import parse_html, utf16_len
from socialinbox.broadcast.markdown import parse_markdown, plain_text
from socialinbox.broadcast.optout import detect_opt_out
from socialinbox.broadcast.render import render
from socialinbox.model import ContactStatus, Direction, Platform
from tests.broadcast.support import inbound

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def test_markdown_entities_in_utf16_units() -> None:
    text, entities = parse_markdown("😀 **Bakım** [detay](https://example.com/b)\n- bir")
    assert text == "😀 Bakım detay\n• bir"
    bold, link = entities
    assert (bold.type, bold.offset, bold.length) == ("bold", 3, 5)
    assert (link.type, link.url) == ("text_link", "https://example.com/b")


def test_plain_text_writes_links_out() -> None:
    assert plain_text("Bkz. [durum sayfası](https://example.com/s)") == (
        "Bkz. durum sayfası (https://example.com/s)"
    )


def test_telegram_long_text_splits_at_4096_units() -> None:
    body = "**Kesinti** 🚧 " + ("Hizmetimiz kısa süreliğine kesintiye uğrayacak. " * 200)
    rendering = render(body, Platform.TELEGRAM, "dm")
    assert rendering.parse_mode == "HTML"
    assert len(rendering.parts) == 3
    for part in rendering.parts:
        assert part.text is not None
        visible, _ = parse_html(part.text)
        assert utf16_len(visible) <= 4096
    assert rendering.parts[0].text is not None
    assert rendering.parts[0].text.startswith("<b>Kesinti</b>")


def test_x_post_over_280_weighted_is_an_error() -> None:
    # Each emoji weighs 2 under the twitter-text v3 rules.
    rendering = render("🚧" * 141, Platform.X, "post")
    assert rendering.size == 282
    assert rendering.errors
    assert "282" in rendering.errors[0]
    assert render("🚧" * 140, Platform.X, "post").errors == ()


def test_instagram_dm_limit_counts_utf8_bytes() -> None:
    body = "ğüşiöç " * 200  # 1,400 characters, 2,400 UTF-8 bytes
    rendering = render(body, Platform.INSTAGRAM, "dm")
    assert rendering.unit == "bytes"
    assert rendering.size == len(body.encode()) == 2400
    assert all(len((part.text or "").encode()) <= 1000 for part in rendering.parts)
    assert "".join(part.text or "" for part in rendering.parts).replace(" ", "") == body.replace(" ", "")


def test_messenger_dm_splits_at_2000_characters() -> None:
    rendering = render("a" * 4500, Platform.MESSENGER, "dm")
    assert [len(part.text or "") for part in rendering.parts] == [2000, 2000, 500]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DURDUR", ContactStatus.OPTED_OUT),
        ("durdur.", ContactStatus.OPTED_OUT),
        ("  Stop! ", ContactStatus.OPTED_OUT),
        ("UNSUBSCRIBE", ContactStatus.OPTED_OUT),
        ("ABONELİK İPTAL", ContactStatus.OPTED_OUT),
        ("abonelik iptal", ContactStatus.OPTED_OUT),
        ("ABONELİKTEN ÇIK", ContactStatus.OPTED_OUT),
        ("BAŞLA", ContactStatus.ACTIVE),
        ("stop sending me the invoice twice", None),
        ("Durdurdunuz mu siparişi?", None),
    ],
)
def test_detect_opt_out_keywords(text: str, expected: ContactStatus | None) -> None:
    event = detect_opt_out(inbound(Platform.TELEGRAM, "1", "42", NOW, text=text))
    assert (event.status if event else None) == expected
    if event is not None:
        assert event.contact.user_id == "42"
        assert event.account_id == "1"


def test_detect_opt_out_ignores_outbound_messages() -> None:
    message = inbound(Platform.TELEGRAM, "1", "42", NOW, text="STOP").model_copy(
        update={"direction": Direction.OUTBOUND}
    )
    assert detect_opt_out(message) is None
