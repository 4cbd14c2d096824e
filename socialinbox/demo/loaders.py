"""Turn the demo conversation script into each platform emulator's own payloads.

The script (``conversations.json``) is platform-neutral: a contact and a list
of steps (``text``, ``photo``, ``album``, ``sticker``, ``edit``, ``unsend``,
``reply``, ``duplicate``, ``block``). Each loader feeds the steps it supports
to its emulator in that platform's wire format and counts the distinct
messages the store should end up with.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from socialinbox.model import Platform, utc_now
from socialinbox.testing.meta import MetaEmulator
from socialinbox.testing.telegram import TelegramEmulator
from socialinbox.testing.twitter import TwitterEmulator

__all__ = [
    "DemoScript",
    "load_meta",
    "load_script",
    "load_telegram",
    "load_x",
]

# A few bytes that start like a JPEG; the demo never decodes them.
_FAKE_JPEG = b"\xff\xd8\xff\xe0" + b"socialinbox demo image" * 8


@dataclass
class DemoScript:
    """The parsed sample conversations and what loading them should produce."""

    platforms: dict[str, list[dict[str, Any]]]
    expected_messages: dict[Platform, int] = field(default_factory=dict)
    webhook_bodies: list[tuple[Platform, dict[str, Any]]] = field(default_factory=list)
    """Meta webhook bodies to POST to the daemon once its HTTP server listens."""


def load_script() -> DemoScript:
    """Read the sample conversations that ship with the package."""
    text = resources.files("socialinbox.demo").joinpath("conversations.json").read_text("utf-8")
    document = json.loads(text)
    return DemoScript(platforms={key: value for key, value in document.items() if key != "about"})


def _at(step: dict[str, Any], now: datetime) -> datetime:
    return now - timedelta(minutes=float(step.get("minutes_ago", 0)))


def _counts_as_message(step: dict[str, Any]) -> bool:
    return step["type"] in {"text", "photo", "album", "sticker", "reply"}


# -- Telegram -----------------------------------------------------------------------


def load_telegram(
    emulator: TelegramEmulator, script: DemoScript, now: datetime | None = None
) -> None:
    """Queue the Telegram conversations as ``getUpdates`` updates."""
    now = now or utc_now()
    bot = {
        "id": emulator.bot_id,
        "is_bot": True,
        "first_name": emulator.first_name,
        "username": emulator.username,
    }
    expected = 0
    for number, conversation in enumerate(script.platforms.get("telegram", [])):
        contact = conversation["contact"]
        chat_id = int(contact["id"])
        user = {
            "id": chat_id,
            "is_bot": False,
            **{key: value for key, value in contact.items() if key != "id"},
        }
        emulator.add_chat(
            chat_id,
            type="private",
            first_name=contact.get("first_name"),
            username=contact.get("username"),
        )
        # Step index -> the update that carried it (an album's first item).
        sent: dict[int, dict[str, Any]] = {}
        for position, step in enumerate(conversation["steps"]):
            when = int(_at(step, now).timestamp())
            kind = step["type"]
            if _counts_as_message(step):
                expected += 1
            if kind == "text":
                sent[position] = emulator.add_message(
                    chat_id, step["text"], from_user=user, date=when
                )
            elif kind == "photo":
                sent[position] = emulator.add_message(
                    chat_id,
                    None,
                    from_user=user,
                    date=when,
                    photo=_photo_sizes(emulator, step["file_name"]),
                    caption=step.get("caption") or None,
                )
            elif kind == "album":
                group = f"demo-album-{number}"
                files = step["files"]
                for index, file_name in enumerate(files):
                    # The caption rides on the last item, as some clients send it.
                    caption = step.get("caption") if index == len(files) - 1 else None
                    item = emulator.add_message(
                        chat_id,
                        None,
                        from_user=user,
                        date=when,
                        photo=_photo_sizes(emulator, file_name),
                        media_group_id=group,
                        caption=caption,
                    )
                    sent.setdefault(position, item)
            elif kind == "sticker":
                sent[position] = emulator.add_message(
                    chat_id,
                    None,
                    from_user=user,
                    date=when,
                    sticker={
                        "file_id": f"CAACAgIAAx-demo-sticker-{number}",
                        "file_unique_id": f"AgADdemo{number}",
                        "type": "regular",
                        "width": 512,
                        "height": 512,
                        "is_animated": False,
                        "is_video": False,
                        "emoji": step.get("emoji", "🙂"),
                    },
                )
            elif kind == "edit":
                original = _message_of(sent[step["of"]])
                edited = {**original, "text": step["text"], "edit_date": when}
                emulator.add_updates({"edited_message": edited})
            elif kind == "duplicate":
                emulator.add_updates({"message": _message_of(sent[step["of"]])})
            elif kind == "block":
                emulator.add_updates(
                    {
                        "my_chat_member": {
                            "chat": {
                                "id": chat_id,
                                "type": "private",
                                "first_name": contact.get("first_name", ""),
                            },
                            "from": user,
                            "date": when,
                            "old_chat_member": {"user": bot, "status": "member"},
                            "new_chat_member": {"user": bot, "status": "kicked", "until_date": 0},
                        }
                    }
                )
                emulator.block(chat_id)
    # An album counts once: its items become one message with several attachments.
    script.expected_messages[Platform.TELEGRAM] = expected


def _message_of(update: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = update["message"]
    return message


def _photo_sizes(emulator: TelegramEmulator, file_name: str) -> list[dict[str, Any]]:
    """One picture in three sizes, as Telegram sends it; only the largest is stored."""
    stored = emulator.add_file(_FAKE_JPEG, file_name=file_name, mime_type="image/jpeg")
    digest = hashlib.sha256(file_name.encode()).hexdigest()[:10]
    return [
        {
            "file_id": f"{stored.file_id}-s",
            "file_unique_id": f"{digest}s",
            "width": 90,
            "height": 90,
            "file_size": 1200,
        },
        {
            "file_id": f"{stored.file_id}-m",
            "file_unique_id": f"{digest}m",
            "width": 320,
            "height": 320,
            "file_size": 15000,
        },
        {
            "file_id": stored.file_id,
            "file_unique_id": digest,
            "width": 1280,
            "height": 1280,
            "file_size": len(_FAKE_JPEG),
        },
    ]


# -- X ------------------------------------------------------------------------------


def load_x(emulator: TwitterEmulator, script: DemoScript, now: datetime | None = None) -> None:
    """Add the X conversations as v2 DM events."""
    now = now or utc_now()
    expected = 0
    for number, conversation in enumerate(script.platforms.get("x", [])):
        contact = conversation["contact"]
        contact_id = str(contact["id"])
        emulator.add_user(contact_id, username=contact.get("username"), name=contact.get("name"))
        for index, step in enumerate(conversation["steps"]):
            when = _at(step, now)
            kind = step["type"]
            if _counts_as_message(step):
                expected += 1
            if kind == "text":
                emulator.add_message(sender_id=contact_id, text=step["text"], created_at=when)
            elif kind == "reply":
                emulator.add_message(
                    sender_id=emulator.user_id,
                    recipient_id=contact_id,
                    text=step["text"],
                    created_at=when,
                )
            elif kind == "photo":
                media_key = f"3_{1_800_000_000_000_000_000 + number * 100 + index}"
                emulator.add_media(
                    {
                        "media_key": media_key,
                        "type": "photo",
                        "url": f"https://ton.x.com/i/ton/data/dm/{media_key}/{step['file_name']}",
                        "width": 1170,
                        "height": 2532,
                    }
                )
                emulator.add_message(
                    sender_id=contact_id,
                    text=step.get("caption") or "",
                    media_keys=[media_key],
                    created_at=when,
                )
    script.expected_messages[Platform.X] = expected


# -- Messenger and Instagram ----------------------------------------------------------


def load_meta(
    emulator: MetaEmulator,
    script: DemoScript,
    *,
    page_id: str,
    instagram_id: str,
    now: datetime | None = None,
) -> None:
    """Record the Messenger and Instagram conversations in the Graph emulator.

    Every inbound message is both in the conversations the Graph API lists
    and in a webhook body (``script.webhook_bodies``), so the demo receives it
    twice and the store keeps it once. Replies, edits and unsends travel by
    webhook only, as Meta sends them.
    """
    now = now or utc_now()
    for platform, key in ((Platform.MESSENGER, "messenger"), (Platform.INSTAGRAM, "instagram")):
        account_id = page_id if platform is Platform.MESSENGER else instagram_id
        expected = 0
        for conversation in script.platforms.get(key, []):
            contact = conversation["contact"]
            contact_id = str(contact["id"])
            emulator.contact_names[contact_id] = contact.get("username") or contact["name"]
            mids: dict[int, str] = {}
            for index, step in enumerate(conversation["steps"]):
                when = _at(step, now)
                kind = step["type"]
                if _counts_as_message(step):
                    expected += 1
                if kind in {"text", "photo"}:
                    attachments: list[tuple[str, str]] = []
                    if kind == "photo":
                        attachments = [
                            ("image", f"https://scontent.example.com/demo/{step['file_name']}")
                        ]
                    body = emulator.inbound(
                        platform,
                        account_id,
                        contact_id,
                        text=step.get("text") or step.get("caption"),
                        attachments=attachments,
                        at=when,
                    )
                    mids[index] = body["entry"][0]["messaging"][0]["message"]["mid"]
                    script.webhook_bodies.append((platform, body))
                elif kind == "reply":
                    mid = f"m_demo_echo_{key}_{contact_id}_{index}"
                    mids[index] = mid
                    message: dict[str, Any] = {"mid": mid, "is_echo": True, "text": step["text"]}
                    if platform is Platform.MESSENGER:
                        message["app_id"] = emulator.app_id
                    event = {
                        "sender": {"id": account_id},
                        "recipient": {"id": contact_id},
                        "timestamp": int(when.timestamp() * 1000),
                        "message": message,
                    }
                    script.webhook_bodies.append(
                        (platform, emulator.envelope(platform, account_id, [event]))
                    )
                elif kind == "edit":
                    event = {
                        "sender": {"id": contact_id},
                        "recipient": {"id": account_id},
                        "timestamp": int(when.timestamp() * 1000),
                        "message_edit": {
                            "mid": mids[step["of"]],
                            "text": step["text"],
                            "num_edit": 1,
                        },
                    }
                    script.webhook_bodies.append(
                        (platform, emulator.envelope(platform, account_id, [event]))
                    )
                elif kind == "unsend":
                    mid = mids[step["of"]]
                    _forget_message(emulator, mid)
                    event = {
                        "sender": {"id": contact_id},
                        "recipient": {"id": account_id},
                        "timestamp": int(when.timestamp() * 1000),
                        "message": {"mid": mid, "is_deleted": True},
                    }
                    script.webhook_bodies.append(
                        (platform, emulator.envelope(platform, account_id, [event]))
                    )
        script.expected_messages[platform] = expected


def _forget_message(emulator: MetaEmulator, mid: str) -> None:
    """Drop an unsent message from the Graph listing, as Meta does."""
    for conversation in emulator.conversations.values():
        conversation.messages[:] = [
            message for message in conversation.messages if message.mid != mid
        ]
