"""Normalize Telegram Bot API JSON into socialinbox items.

The codec is pure: it reads parsed JSON (or raw bytes) and returns a
:class:`~socialinbox.model.Batch`. It accepts

* one ``Update`` (a dict with ``update_id``), as a webhook delivers it;
* a ``getUpdates`` response ``{"ok": true, "result": [...]}``;
* a bare ``Message`` dict (``message_id`` and ``chat``), read as a ``message`` update;
* a Bot API error body ``{"ok": false, "error_code": ...}``, counted as ignored
  with kind ``api_error`` and the description as reason;
* a list of any of those (for example every line of a ``.jsonl`` file), which
  lets albums be grouped across updates;
* ``bytes`` or ``str`` holding one of those as JSON (invalid UTF-8 or JSON is
  quarantined).

Per-account options (``DecodeContext.options``):

``chat_types``
    chat types whose messages are ingested; default ``private``, ``group`` and
    ``supergroup``. Messages and events in other chats are counted as ignored.
``business``
    whether Telegram Business messages are ingested (default ``True``).
``max_download_bytes``
    files larger than this keep the status ``too_large`` (default 20 MiB, the
    Bot API's ``getFile`` limit).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from socialinbox.adapters.base import DecodeContext
from socialinbox.model import (
    Account,
    Attachment,
    AttachmentStatus,
    AttachmentType,
    Batch,
    Contact,
    ContactStatus,
    ContactStatusEvent,
    ConversationKey,
    DeleteEvent,
    Direction,
    EditEvent,
    Ignored,
    Item,
    Message,
    MessageKey,
    MessageKind,
    ParticipantEvent,
    Platform,
    PostbackEvent,
    Quarantined,
    ReactionEvent,
)

__all__ = [
    "CODEC",
    "DEFAULT_CHAT_TYPES",
    "MAX_DOWNLOAD_BYTES",
    "TelegramCodec",
    "album_id",
    "decode_all",
    "business_chat_id",
    "merge_albums",
    "parse_chat_id",
    "update_ids",
]

PLATFORM = Platform.TELEGRAM
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
"""The Bot API's ``getFile`` limit; larger files are kept as ``too_large``."""
DEFAULT_CHAT_TYPES = frozenset({"private", "group", "supergroup"})
CHAT_TYPES = ("private", "group", "supergroup", "channel")

MESSAGE_UPDATES = ("message", "channel_post", "business_message")
EDIT_UPDATES = ("edited_message", "edited_channel_post", "edited_business_message")
BUSINESS_UPDATES = ("business_message", "edited_business_message", "deleted_business_messages")
HANDLED_UPDATES = (
    *MESSAGE_UPDATES,
    *EDIT_UPDATES,
    "deleted_business_messages",
    "message_reaction",
    "my_chat_member",
    "chat_member",
    "callback_query",
)
IGNORED_UPDATES = {
    "message_reaction_count": "anonymous reaction counts name no actor",
    "inline_query": "inline queries are not conversation messages",
    "chosen_inline_result": "inline results are not conversation messages",
    "shipping_query": "payments are not handled",
    "pre_checkout_query": "payments are not handled",
    "purchased_paid_media": "payments are not handled",
    "poll": "poll state changes are not conversation messages",
    "poll_answer": "poll answers are not conversation messages",
    "chat_join_request": "join requests are not conversation messages",
    "chat_boost": "boosts are not conversation messages",
    "removed_chat_boost": "boosts are not conversation messages",
    "business_connection": "business connection state is configuration, not a message",
    "guest_message": "guest messages are not handled yet",
    "managed_bot": "managed bot updates are not conversation messages",
}

SERVICE_FIELDS = (
    "new_chat_title",
    "new_chat_photo",
    "delete_chat_photo",
    "group_chat_created",
    "supergroup_chat_created",
    "channel_chat_created",
    "message_auto_delete_timer_changed",
    "migrate_to_chat_id",
    "migrate_from_chat_id",
    "pinned_message",
    "successful_payment",
    "refunded_payment",
    "users_shared",
    "chat_shared",
    "connected_website",
    "write_access_allowed",
    "passport_data",
    "proximity_alert_triggered",
    "boost_added",
    "chat_background_set",
    "forum_topic_created",
    "forum_topic_edited",
    "forum_topic_closed",
    "forum_topic_reopened",
    "general_forum_topic_hidden",
    "general_forum_topic_unhidden",
    "giveaway_created",
    "giveaway_completed",
    "giveaway_winners",
    "video_chat_scheduled",
    "video_chat_started",
    "video_chat_ended",
    "video_chat_participants_invited",
    "web_app_data",
    "gift",
    "unique_gift",
    "paid_message_price_changed",
    "direct_message_price_changed",
    "checklist_tasks_done",
    "checklist_tasks_added",
)

ENVELOPE_KEYS = frozenset({"ok", "result", "error_code", "description", "parameters"})
MEMBER_STATUSES = frozenset({"member", "administrator", "creator"})


class _Reject(Exception):
    """A part of the payload cannot be normalized; the message is the reason."""


# --------------------------------------------------------------------------- helpers


def _to_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    return None


def _to_bool(value: Any) -> bool | None:
    """Read the boolean drift seen in the wild: ``true``, ``1``, ``"False"``, ``"0"``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no", ""):
            return False
    return None


def _id(value: Any, what: str) -> str:
    number = _to_int(value)
    if number is None:
        raise _Reject(f"{what} is missing or not an integer")
    return str(number)


def _timestamp(value: Any, what: str) -> datetime:
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if number is None and isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is None or not math.isfinite(number) or number < 0:
        raise _Reject(f"{what} is missing or not a Unix time")
    try:
        return datetime.fromtimestamp(number, UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise _Reject(f"{what} is out of range") from error


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Reject(f"{what} is a {type(value).__name__}, not an object")
    return value


def _str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _name(data: Mapping[str, Any]) -> str | None:
    parts = [_str(data.get("first_name")), _str(data.get("last_name"))]
    name = " ".join(part for part in parts if part)
    return name or _str(data.get("title")) or None


def business_chat_id(chat_id: str, connection_id: str | None) -> str:
    """Return our chat id for a chat seen through a Telegram Business connection.

    A business chat has the same Telegram chat id as the bot's own private
    chat with that person, but its own message ids, so it is kept apart:
    ``business:<connection id>:<chat id>``.
    """
    if connection_id:
        return f"business:{connection_id}:{chat_id}"
    return f"business::{chat_id}"


def parse_chat_id(chat_id: str) -> tuple[int | str, str | None]:
    """Split one of our chat ids into the Bot API ``chat_id`` and a business connection id."""
    connection: str | None = None
    if chat_id.startswith("business:"):
        _, connection_part, chat_id = chat_id.split(":", 2)
        connection = connection_part or None
    number = _to_int(chat_id)
    return (number if number is not None else chat_id), connection


def _contact(user: Any) -> Contact:
    data = _dict(user, "user")
    return Contact(
        platform=PLATFORM,
        user_id=_id(data.get("id"), "user id"),
        username=_str(data.get("username")),
        display_name=_name(data),
        language_code=_str(data.get("language_code")),
        is_bot=_to_bool(data.get("is_bot")),
    )


def _chat_contact(chat: Any) -> Contact:
    data = _dict(chat, "chat")
    return Contact(
        platform=PLATFORM,
        user_id="chat:" + _id(data.get("id"), "chat id"),
        username=_str(data.get("username")),
        display_name=_name(data),
    )


def _chat_type(chat: Mapping[str, Any]) -> str | None:
    kind = chat.get("type")
    return kind if isinstance(kind, str) else None


class _Options:
    def __init__(self, context: DecodeContext) -> None:
        options = context.options or {}
        chat_types = options.get("chat_types")
        if chat_types is None:
            self.chat_types = DEFAULT_CHAT_TYPES
        elif isinstance(chat_types, str):
            self.chat_types = frozenset(part.strip() for part in chat_types.split(","))
        else:
            self.chat_types = frozenset(str(part) for part in chat_types)
        self.business = bool(options.get("business", True))
        limit = _to_int(options.get("max_download_bytes"))
        self.max_download = limit if limit is not None else MAX_DOWNLOAD_BYTES
        self.account = context.account_id or "default"
        self.own = frozenset(str(user) for user in context.own_user_ids)
        if context.account_id:
            self.own |= {context.account_id}
        self.received_at = context.received_at


def _file(
    data: Any,
    kind: AttachmentType,
    options: _Options,
    *,
    mime_type: str | None = None,
) -> Attachment:
    item = _dict(data, kind.value)
    size = _to_int(item.get("file_size"))
    if size is not None and size < 0:
        size = None
    duration = item.get("duration")
    status = AttachmentStatus.AVAILABLE
    if size is not None and size > options.max_download:
        status = AttachmentStatus.TOO_LARGE
    return Attachment(
        type=kind,
        media_id=_str(item.get("file_id")),
        mime_type=_str(item.get("mime_type")) or mime_type,
        size=size,
        status=status,
        file_name=_str(item.get("file_name")),
        title=_str(item.get("title")),
        width=_to_int(item.get("width")),
        height=_to_int(item.get("height")),
        duration=float(duration) if isinstance(duration, int | float) else None,
    )


def _largest_photo(sizes: Any) -> Any:
    if isinstance(sizes, dict):
        return sizes
    if not isinstance(sizes, list) or not sizes:
        raise _Reject("photo is not a list of sizes")

    def area(size: Any) -> tuple[int, int]:
        if not isinstance(size, dict):
            return (-1, -1)
        width = _to_int(size.get("width")) or 0
        height = _to_int(size.get("height")) or 0
        return (width * height, _to_int(size.get("file_size")) or 0)

    return max(sizes, key=area)


def _content(
    message: Mapping[str, Any], options: _Options
) -> tuple[MessageKind, tuple[Attachment, ...]] | None:
    """Return the kind and attachments of a message, or ``None`` for a service message."""
    if "animation" in message:  # an animation also carries a ``document``
        return MessageKind.MEDIA, (_file(message["animation"], AttachmentType.ANIMATION, options),)
    if "photo" in message:
        largest = _largest_photo(message["photo"])
        photo = _file(largest, AttachmentType.IMAGE, options, mime_type="image/jpeg")
        return MessageKind.MEDIA, (photo,)
    for field, kind in (
        ("video", AttachmentType.VIDEO),
        ("video_note", AttachmentType.VIDEO),
        ("voice", AttachmentType.VOICE),
        ("audio", AttachmentType.AUDIO),
        ("document", AttachmentType.FILE),
    ):
        if field in message:
            return MessageKind.MEDIA, (_file(message[field], kind, options),)
    if "sticker" in message:
        sticker = _dict(message["sticker"], "sticker")
        animated = _to_bool(sticker.get("is_animated"))
        video = _to_bool(sticker.get("is_video"))
        if animated:
            mime = "application/x-tgsticker"
        elif video:
            mime = "video/webm"
        else:
            mime = "image/webp"
        attachment = _file(sticker, AttachmentType.STICKER, options, mime_type=mime)
        attachment = attachment.model_copy(
            update={
                "is_animated": bool(animated or video),
                "title": _str(sticker.get("emoji")),
            }
        )
        return MessageKind.STICKER, (attachment,)
    if "location" in message or "venue" in message:
        venue = message.get("venue")
        location = message.get("location")
        if location is None and isinstance(venue, dict):
            location = venue.get("location")
        where = _dict(location, "location")
        title = _str(venue.get("title")) if isinstance(venue, dict) else None
        url = f"geo:{where.get('latitude')},{where.get('longitude')}"
        return MessageKind.LOCATION, (
            Attachment(type=AttachmentType.LOCATION, url=url, title=title),
        )
    if "contact" in message:
        card = _dict(message["contact"], "contact")
        phone = _str(card.get("phone_number"))
        return MessageKind.CONTACT_CARD, (
            Attachment(
                type=AttachmentType.CONTACT,
                title=_name(card),
                url=f"tel:{phone}" if phone else None,
                media_id=_str(card.get("user_id")),
            ),
        )
    if "poll" in message:
        return MessageKind.POLL, ()
    if "story" in message:
        story = message["story"] if isinstance(message["story"], dict) else {}
        return MessageKind.SHARE, (
            Attachment(type=AttachmentType.STORY, media_id=_str(story.get("id"))),
        )
    if "text" in message or "caption" in message:
        return MessageKind.TEXT, ()
    if any(field in message for field in SERVICE_FIELDS) or any(
        field in message for field in ("new_chat_members", "left_chat_member")
    ):
        return None
    # dice, game, invoice, paid media, giveaway, checklist ...: kept, not understood
    return MessageKind.UNSUPPORTED, ()


def _text(message: Mapping[str, Any]) -> str | None:
    text = message.get("text")
    if text is None:
        text = message.get("caption")
    if text is None and isinstance(message.get("poll"), dict):
        text = message["poll"].get("question")
    return text if isinstance(text, str) else None


def _forwarded_from(message: Mapping[str, Any]) -> str | None:
    origin = message.get("forward_origin")
    if isinstance(origin, dict):
        kind = origin.get("type")
        if kind == "user" and isinstance(origin.get("sender_user"), dict):
            user = origin["sender_user"]
            return _name(user) or _str(user.get("username")) or _str(user.get("id"))
        if kind == "hidden_user":
            return _str(origin.get("sender_user_name"))
        if kind in ("chat", "channel"):
            chat = origin.get("sender_chat") or origin.get("chat")
            if isinstance(chat, dict):
                return _name(chat) or _str(chat.get("username")) or _str(chat.get("id"))
    # the fields before Bot API 7.0
    user = message.get("forward_from")
    if isinstance(user, dict):
        return _name(user) or _str(user.get("username")) or _str(user.get("id"))
    chat = message.get("forward_from_chat")
    if isinstance(chat, dict):
        return _name(chat) or _str(chat.get("username")) or _str(chat.get("id"))
    return _str(message.get("forward_sender_name"))


def _reply_to(message: Mapping[str, Any]) -> str | None:
    reply = message.get("reply_to_message")
    if isinstance(reply, dict):
        number = _to_int(reply.get("message_id"))
        if number is not None:
            return str(number)
    story = message.get("reply_to_story")
    if isinstance(story, dict):
        number = _to_int(story.get("id"))
        if number is not None:
            return f"story:{number}"
    return None


def album_id(message: Message) -> str | None:
    """Return the ``media_group_id`` a decoded message belongs to, if any."""
    raw = message.raw or {}
    group = raw.get("media_group_id")
    if isinstance(group, str):
        return group
    for field in MESSAGE_UPDATES:
        body = raw.get(field)
        if isinstance(body, dict) and isinstance(body.get("media_group_id"), str | int):
            return str(body["media_group_id"])
    if isinstance(raw.get("message_id"), int) and isinstance(raw.get("media_group_id"), int):
        return str(raw["media_group_id"])
    return None


def _album_raws(message: Message) -> list[dict[str, Any]]:
    raw = message.raw or {}
    updates = raw.get("updates")
    if isinstance(raw.get("media_group_id"), str) and isinstance(updates, list):
        return list(updates)
    return [raw]


def merge_albums(batch: Batch) -> Batch:
    """Merge the messages of one album (same chat and ``media_group_id``) into one.

    The merged message keeps the key and time of the album's first item (the
    lowest message id), every item's attachments in message-id order, and the
    caption of whichever item carries one. ``raw`` becomes
    ``{"media_group_id": ..., "updates": [...]}``. Other items keep their order.
    """
    groups: dict[tuple[str, str, str], list[Message]] = {}
    for item in batch.items:
        if isinstance(item, Message):
            group = album_id(item)
            if group is not None:
                groups.setdefault((item.key.account_id, item.key.chat_id, group), []).append(item)
    if not any(len(members) > 1 for members in groups.values()):
        return batch
    merged: dict[tuple[str, str, str], Message] = {}
    for group_key, members in groups.items():
        if len(members) < 2:
            continue
        ordered = sorted(members, key=lambda m: (_to_int(m.key.message_id) or 0, m.sent_at))
        lead = ordered[0]
        text = next((m.text for m in ordered if m.text), None)
        seen: set[str] = set()
        raws: list[dict[str, Any]] = []
        for member in ordered:
            for raw in _album_raws(member):
                marker = json.dumps(raw, sort_keys=True, default=str)
                if marker not in seen:
                    seen.add(marker)
                    raws.append(raw)
        attachments: list[Attachment] = []
        for member in ordered:
            for attachment in member.attachments:
                if attachment not in attachments:
                    attachments.append(attachment)
        merged[group_key] = lead.model_copy(
            update={
                "text": text,
                "kind": MessageKind.MEDIA,
                "attachments": tuple(attachments),
                "reply_to": next((m.reply_to for m in ordered if m.reply_to), None),
                "raw": {"media_group_id": group_key[2], "updates": raws},
            }
        )
    items: list[Item] = []
    emitted: set[tuple[str, str, str]] = set()
    for item in batch.items:
        if isinstance(item, Message):
            group = album_id(item)
            group_key = (item.key.account_id, item.key.chat_id, group or "")
            if group is not None and group_key in merged:
                if group_key not in emitted:
                    emitted.add(group_key)
                    items.append(merged[group_key])
                continue
        items.append(item)
    return batch.model_copy(update={"items": tuple(items)})


def update_ids(payload: Any) -> list[int]:
    """Return the ``update_id`` values found in an update, a list or a getUpdates response."""
    if isinstance(payload, dict) and isinstance(payload.get("result"), list):
        payload = payload["result"]
    if isinstance(payload, dict):
        payload = [payload]
    ids = []
    if isinstance(payload, list):
        for update in payload:
            if isinstance(update, dict):
                number = _to_int(update.get("update_id"))
                if number is not None:
                    ids.append(number)
    return ids


# --------------------------------------------------------------------------- the codec


class TelegramCodec:
    """The Telegram Bot API codec (see the module documentation)."""

    platform: Platform = PLATFORM
    accepts_lists: bool = True
    """``decode`` takes a list of updates and groups albums across it."""

    # ----------------------------------------------------------------- sniffing

    def sniff(self, payload: Any) -> bool:
        """Return whether ``payload`` looks like Bot API JSON."""
        if isinstance(payload, bytes | bytearray):
            payload = bytes(payload).decode("utf-8", "replace")
        if isinstance(payload, str):
            try:
                payload = json.loads(payload)
            except ValueError:
                return False
        if isinstance(payload, list):
            return bool(payload) and all(self.sniff(element) for element in payload)
        if not isinstance(payload, dict):
            return False
        if "update_id" in payload:
            return True
        keys = set(payload)
        if "ok" in keys and ("result" in keys or "error_code" in keys):
            return True
        if "result" in keys and keys <= ENVELOPE_KEYS:
            return True
        return "message_id" in keys and isinstance(payload.get("chat"), dict)

    # ----------------------------------------------------------------- decoding

    def decode(self, payload: Any, context: DecodeContext) -> Batch:
        """Normalize ``payload``; never raises for malformed input."""
        options = _Options(context)
        if isinstance(payload, bytes | bytearray):
            raw_bytes = bytes(payload)
            try:
                payload = json.loads(raw_bytes.decode("utf-8"))
            except UnicodeDecodeError as error:
                return self._quarantine(
                    raw_bytes,
                    f"invalid UTF-8 at byte {error.start} (0x{raw_bytes[error.start]:02x})",
                    options,
                    context.location,
                )
            except ValueError as error:
                return self._quarantine(
                    raw_bytes, f"invalid JSON: {error}", options, context.location
                )
        elif isinstance(payload, str):
            try:
                payload = json.loads(payload)
            except ValueError as error:
                return self._quarantine(
                    payload.encode("utf-8", "surrogatepass"),
                    f"invalid JSON: {error}",
                    options,
                    context.location,
                )
        return self._decode_parsed(payload, options, context.location)

    def _decode_parsed(self, payload: Any, options: _Options, location: str | None) -> Batch:
        if isinstance(payload, list):
            batch = Batch()
            for index, element in enumerate(payload):
                where = f"{location}:{index + 1}" if location else f"item {index + 1}"
                batch = batch + self._decode_one(element, options, where, nested=True)
            return merge_albums(batch)
        return merge_albums(self._decode_one(payload, options, location, nested=False))

    def _decode_one(
        self, payload: Any, options: _Options, location: str | None, *, nested: bool
    ) -> Batch:
        if isinstance(payload, dict) and ("ok" in payload or set(payload) <= ENVELOPE_KEYS):
            if "update_id" not in payload:
                return self._envelope(payload, options, location)
        if isinstance(payload, dict) and "update_id" not in payload and "message_id" in payload:
            payload = {"update_id": None, "message": payload}
        if isinstance(payload, list) and nested:
            return self._decode_parsed(payload, options, location)
        try:
            return self._update(payload, options)
        except _Reject as reject:
            return self._quarantine(payload, str(reject), options, location)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in issue['loc'])}: {issue['type']}"
                for issue in error.errors()
            )
            return self._quarantine(payload, f"invalid value ({problems})", options, location)
        except Exception as error:  # noqa: BLE001 - a payload must never crash ingest
            return self._quarantine(
                payload, f"could not normalize ({type(error).__name__})", options, location
            )

    def _envelope(self, payload: dict[str, Any], options: _Options, location: str | None) -> Batch:
        ok = payload.get("ok")
        if ok is True and isinstance(payload.get("result"), list):
            batch = Batch()
            for index, update in enumerate(payload["result"]):
                where = f"{location} result[{index}]" if location else f"result[{index}]"
                batch = batch + self._decode_one(update, options, where, nested=False)
            return batch
        if ok is False:
            description = _str(payload.get("description")) or f"error {payload.get('error_code')}"
            parameters = payload.get("parameters")
            if isinstance(parameters, dict) and parameters:
                details = ", ".join(f"{key}={value}" for key, value in sorted(parameters.items()))
                description = f"{description} ({details})"
            return Batch(
                ignored=(
                    Ignored.of(
                        PLATFORM,
                        payload,
                        kind="api_error",
                        reason=description,
                        account_id=options.account,
                    ),
                )
            )
        if ok is True:
            return Batch(
                ignored=(
                    Ignored.of(
                        PLATFORM,
                        payload,
                        kind="api_response",
                        reason="a Bot API result that is not a list of updates",
                        account_id=options.account,
                    ),
                )
            )
        result = payload.get("result")
        return self._quarantine(
            payload,
            f"Bot API response without a boolean 'ok'; its result is a {type(result).__name__}, "
            "not a list of updates",
            options,
            location,
        )

    def _quarantine(
        self, payload: Any, reason: str, options: _Options, location: str | None
    ) -> Batch:
        if isinstance(payload, bytes):
            raw = payload
        else:
            raw = json.dumps(payload, ensure_ascii=False, default=str).encode(
                "utf-8", "surrogatepass"
            )
        return Batch(
            quarantined=(
                Quarantined(
                    platform=PLATFORM,
                    account_id=options.account,
                    reason=reason,
                    raw=raw,
                    location=location,
                ),
            )
        )

    def _ignored(self, payload: Any, kind: str, reason: str, options: _Options) -> Batch:
        return Batch(
            ignored=(
                Ignored.of(PLATFORM, payload, kind=kind, reason=reason, account_id=options.account),
            )
        )

    # ----------------------------------------------------------------- one update

    def _update(self, payload: Any, options: _Options) -> Batch:
        update = _dict(payload, "update")
        if update.get("update_id") is not None and _to_int(update.get("update_id")) is None:
            raise _Reject("update_id is not an integer")
        kinds = [key for key in update if key != "update_id"]
        kind = next((key for key in kinds if key in HANDLED_UPDATES), None)
        if kind is None:
            kind = next((key for key in kinds if key in IGNORED_UPDATES), None)
            if kind is not None:
                return self._ignored(update, kind, IGNORED_UPDATES[kind], options)
            name = kinds[0] if kinds else "empty"
            return self._ignored(update, name, "update type not handled by socialinbox", options)
        body = update[kind]
        if kind in BUSINESS_UPDATES and not options.business:
            return self._ignored(
                update, kind, "business messages are off for this account", options
            )
        if kind in MESSAGE_UPDATES:
            return self._message(update, kind, _dict(body, kind), options)
        if kind in EDIT_UPDATES:
            return self._edit(update, kind, _dict(body, kind), options)
        if kind == "deleted_business_messages":
            return self._business_delete(update, _dict(body, kind), options)
        if kind == "message_reaction":
            return self._reaction(update, _dict(body, kind), options)
        if kind in ("my_chat_member", "chat_member"):
            return self._member(update, kind, _dict(body, kind), options)
        return self._callback(update, _dict(body, kind), options)

    def _chat(
        self, update: Mapping[str, Any], kind: str, message: Mapping[str, Any], options: _Options
    ) -> tuple[str, dict[str, Any], Batch | None]:
        """Return our chat id, the chat, and an ``Ignored`` batch when its type is off."""
        chat = _dict(message.get("chat"), "chat")
        chat_id = _id(chat.get("id"), "chat id")
        chat_type = _chat_type(chat)
        if chat_type is not None and chat_type not in options.chat_types:
            reason = f"{chat_type} chats are not ingested for this account (option chat_types)"
            return chat_id, chat, self._ignored(update, kind, reason, options)
        if kind in BUSINESS_UPDATES:
            chat_id = business_chat_id(chat_id, _str(message.get("business_connection_id")))
        return chat_id, chat, None

    def _key(self, options: _Options, chat_id: str, message_id: Any) -> MessageKey:
        return MessageKey(
            platform=PLATFORM,
            account_id=options.account,
            chat_id=chat_id,
            message_id=_id(message_id, "message_id"),
        )

    def _message(
        self, update: dict[str, Any], kind: str, message: dict[str, Any], options: _Options
    ) -> Batch:
        chat_id, chat, ignored = self._chat(update, kind, message, options)
        if ignored is not None:
            return ignored
        key = self._key(options, chat_id, message.get("message_id"))
        sent_at = _timestamp(message.get("date"), "date")
        sender: Contact | None = None
        if message.get("from") is not None:
            sender = _contact(message["from"])
        elif message.get("sender_chat") is not None:
            sender = _chat_contact(message["sender_chat"])
        content = _content(message, options)
        if content is None:
            return self._service(update, kind, message, key, sender, sent_at, options)
        message_kind, attachments = content
        outbound = (sender is not None and sender.user_id in options.own) or (
            message.get("sender_business_bot") is not None
        )
        chat_type = _chat_type(chat)
        if chat_type is not None:
            is_group = chat_type != "private"
        else:
            is_group = (_to_int(chat.get("id")) or 0) < 0
        return Batch(
            items=(
                Message(
                    key=key,
                    direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
                    kind=message_kind,
                    is_group=is_group,
                    chat_title=_str(chat.get("title")),
                    sender=sender,
                    text=_text(message),
                    attachments=attachments,
                    reply_to=_reply_to(message),
                    forwarded_from=_forwarded_from(message),
                    sent_at=sent_at,
                    received_at=options.received_at,
                    raw=update,
                ),
            )
        )

    def _service(
        self,
        update: dict[str, Any],
        kind: str,
        message: dict[str, Any],
        key: MessageKey,
        sender: Contact | None,
        sent_at: datetime,
        options: _Options,
    ) -> Batch:
        conversation = key.conversation
        actor = sender.user_id if sender is not None else None
        if isinstance(message.get("new_chat_members"), list):
            ids = tuple(
                _id(_dict(user, "user").get("id"), "user id")
                for user in message["new_chat_members"]
            )
            return Batch(
                items=(
                    ParticipantEvent(
                        conversation=conversation,
                        action="join",
                        participant_ids=ids,
                        actor_id=actor,
                        occurred_at=sent_at,
                        received_at=options.received_at,
                        raw=update,
                    ),
                )
            )
        if message.get("left_chat_member") is not None:
            left = _id(_dict(message["left_chat_member"], "user").get("id"), "user id")
            return Batch(
                items=(
                    ParticipantEvent(
                        conversation=conversation,
                        action="leave",
                        participant_ids=(left,),
                        actor_id=actor,
                        occurred_at=sent_at,
                        received_at=options.received_at,
                        raw=update,
                    ),
                )
            )
        field = next(field for field in SERVICE_FIELDS if field in message)
        return self._ignored(
            update, f"{kind}.{field}", "service message, not a conversation message", options
        )

    def _edit(
        self, update: dict[str, Any], kind: str, message: dict[str, Any], options: _Options
    ) -> Batch:
        chat_id, _chat, ignored = self._chat(update, kind, message, options)
        if ignored is not None:
            return ignored
        key = self._key(options, chat_id, message.get("message_id"))
        when = (
            message.get("edit_date")
            if message.get("edit_date") is not None
            else message.get("date")
        )
        content = _content(message, options)
        attachments = content[1] if content is not None and content[1] else None
        return Batch(
            items=(
                EditEvent(
                    target=key,
                    text=_text(message),
                    attachments=attachments,
                    occurred_at=_timestamp(when, "edit_date"),
                    received_at=options.received_at,
                    raw=update,
                ),
            )
        )

    def _business_delete(
        self, update: dict[str, Any], body: dict[str, Any], options: _Options
    ) -> Batch:
        chat = _dict(body.get("chat"), "chat")
        chat_id = business_chat_id(
            _id(chat.get("id"), "chat id"), _str(body.get("business_connection_id"))
        )
        ids = body.get("message_ids")
        if not isinstance(ids, list):
            raise _Reject("message_ids is not a list")
        items = tuple(
            DeleteEvent(
                target=self._key(options, chat_id, message_id),
                occurred_at=options.received_at,
                received_at=options.received_at,
                raw=update,
            )
            for message_id in ids
        )
        return Batch(items=items)

    def _reaction(self, update: dict[str, Any], body: dict[str, Any], options: _Options) -> Batch:
        chat_id, _chat, ignored = self._chat(update, "message_reaction", body, options)
        if ignored is not None:
            return ignored
        if body.get("user") is not None:
            actor = _id(_dict(body["user"], "user").get("id"), "user id")
        elif body.get("actor_chat") is not None:
            actor = "chat:" + _id(
                _dict(body["actor_chat"], "actor_chat").get("id"), "actor chat id"
            )
        else:
            raise _Reject("message_reaction names neither user nor actor_chat")
        reactions = body.get("new_reaction")
        if reactions is None:
            reactions = []
        if not isinstance(reactions, list):
            raise _Reject("new_reaction is not a list")
        emojis: list[str] = []
        for reaction in reactions:
            data = _dict(reaction, "reaction")
            kind = data.get("type")
            if kind == "emoji" and isinstance(data.get("emoji"), str):
                emojis.append(data["emoji"])
            elif kind == "custom_emoji" and data.get("custom_emoji_id") is not None:
                emojis.append(str(data["custom_emoji_id"]))
            elif kind == "paid":
                emojis.append("paid")
            else:
                raise _Reject(f"unknown reaction type {kind!r}")
        return Batch(
            items=(
                ReactionEvent(
                    target=self._key(options, chat_id, body.get("message_id")),
                    actor_id=actor,
                    emojis=tuple(emojis),
                    occurred_at=_timestamp(body.get("date"), "date"),
                    received_at=options.received_at,
                    raw=update,
                ),
            )
        )

    def _member(
        self, update: dict[str, Any], kind: str, body: dict[str, Any], options: _Options
    ) -> Batch:
        chat = _dict(body.get("chat"), "chat")
        chat_id = _id(chat.get("id"), "chat id")
        chat_type = _chat_type(chat)
        old = _dict(body.get("old_chat_member"), "old_chat_member")
        new = _dict(body.get("new_chat_member"), "new_chat_member")
        member = _contact(new.get("user"))
        new_status, old_status = new.get("status"), old.get("status")
        occurred_at = _timestamp(body.get("date"), "date")
        actor = _contact(body["from"]) if body.get("from") is not None else None
        accounts: tuple[Account, ...] = ()
        if kind == "my_chat_member":
            accounts = (
                Account(
                    platform=PLATFORM,
                    account_id=member.user_id,
                    username=member.username,
                    display_name=member.display_name,
                ),
            )
        if kind == "my_chat_member" and chat_type == "private":
            contact = (
                actor
                if actor is not None
                else _chat_contact(chat).model_copy(update={"user_id": chat_id})
            )
            if new_status == "kicked":
                status, reason = ContactStatus.BLOCKED_US, "the contact blocked the bot"
            elif new_status in MEMBER_STATUSES:
                status, reason = ContactStatus.ACTIVE, "the contact (re)started the bot"
            else:
                return self._ignored(
                    update, kind, f"bot status {new_status!r} in a private chat", options
                )
            event = ContactStatusEvent(
                account_id=options.account,
                contact=contact,
                status=status,
                reason=reason,
                occurred_at=occurred_at,
                received_at=options.received_at,
                raw=update,
            )
            return Batch(items=(event,), accounts=accounts)
        if chat_type is not None and chat_type not in options.chat_types:
            reason = f"{chat_type} chats are not ingested for this account (option chat_types)"
            return self._ignored(update, kind, reason, options)
        was_in = old_status in MEMBER_STATUSES or (
            old_status == "restricted" and _to_bool(old.get("is_member"))
        )
        is_in = new_status in MEMBER_STATUSES or (
            new_status == "restricted" and _to_bool(new.get("is_member"))
        )
        if was_in == is_in:
            return Batch(
                ignored=self._ignored(
                    update, kind, "membership unchanged (rights only)", options
                ).ignored,
                accounts=accounts,
            )
        change = ParticipantEvent(
            conversation=ConversationKey(
                platform=PLATFORM, account_id=options.account, chat_id=chat_id
            ),
            action="join" if is_in else "leave",
            participant_ids=(member.user_id,),
            actor_id=actor.user_id if actor is not None else None,
            occurred_at=occurred_at,
            received_at=options.received_at,
            raw=update,
        )
        return Batch(items=(change,), accounts=accounts)

    def _callback(self, update: dict[str, Any], body: dict[str, Any], options: _Options) -> Batch:
        message = body.get("message")
        if not isinstance(message, dict):
            return self._ignored(update, "callback_query", "inline-mode button: no chat", options)
        chat_id, _chat, ignored = self._chat(update, "callback_query", message, options)
        if ignored is not None:
            return ignored
        data = body.get("data")
        return Batch(
            items=(
                PostbackEvent(
                    conversation=ConversationKey(
                        platform=PLATFORM, account_id=options.account, chat_id=chat_id
                    ),
                    sender=_contact(body.get("from")),
                    payload=data if isinstance(data, str) else _str(body.get("game_short_name")),
                    occurred_at=options.received_at,
                    received_at=options.received_at,
                    raw=update,
                ),
            )
        )


CODEC = TelegramCodec()
"""The codec instance the registry hands out."""


def decode_all(payloads: Iterable[Any], context: DecodeContext) -> Batch:
    """Decode several payloads as one batch, so that albums across them are merged."""
    return CODEC.decode(list(payloads), context)
