"""Codecs for Messenger and Instagram: webhook envelopes, bare events and Graph API pages.

One decoder serves both platforms because Meta uses the same event shapes on
both. What it accepts:

* webhook envelopes ``{"object": "page" | "instagram", "entry": [...]}`` whose
  entries carry ``messaging``, ``standby`` (handover) or ``changes`` (the App
  Dashboard test shape);
* bare messaging events ``{"sender", "recipient", "timestamp", <kind>: {...}}``
  and the ``{"field", "value"}`` wrapper of newer postback examples;
* Graph API pages (``data`` + ``paging``) of conversations with nested
  messages, or of messages;
* Graph error bodies and recorded exchanges ``{"status_code", "headers",
  "json"}`` (or a list of them), which become ``Ignored`` records of kind
  ``api_error`` with the error classification as the reason.

Identity: the account id is the webhook entry id (the Page id, or the
Instagram account id), else the page side of the event (recipient of an
inbound event, sender of an echo), else ``context.account_id``, else
``"default"``. The chat id is the contact's PSID or IGSID. The message id is
the ``mid``, which the Graph API returns unchanged as the message ``id``, so a
message seen by webhook and again by polling gets the same key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from socialinbox.adapters.base import DecodeContext, OutboundMessage
from socialinbox.adapters.meta.graph import classify_error
from socialinbox.errors import UsageError
from socialinbox.model import (
    Account,
    Attachment,
    AttachmentType,
    Batch,
    Contact,
    ContactStatus,
    ContactStatusEvent,
    ConversationKey,
    DeleteEvent,
    DeliveryEvent,
    Direction,
    EditEvent,
    Ignored,
    Item,
    Message,
    MessageKey,
    MessageKind,
    NoticeEvent,
    Platform,
    PostbackEvent,
    Quarantined,
    ReactionEvent,
    ReadEvent,
)

__all__ = [
    "INSTAGRAM_CODEC",
    "MESSENGER_CODEC",
    "MetaCodec",
    "build_send_bodies",
    "format_graph_time",
    "parse_timestamp",
]

logger = logging.getLogger(__name__)

# A number above this is read as milliseconds: 1e11 seconds is the year 5138,
# while 1e11 milliseconds is 1973, before any Graph API message existed.
_MILLISECONDS_THRESHOLD = 100_000_000_000

MESSAGING_KEYS = (
    "message",
    "message_edit",
    "reaction",
    "read",
    "delivery",
    "postback",
    "referral",
    "policy_enforcement",
    "message_request",
)
"""Event payload keys that the codec turns into messages or events."""

IGNORED_EVENT_REASONS: Mapping[str, str] = {
    "optin": "Messenger opt-ins (checkbox plugin, notification requests) are not ingested",
    "pass_thread_control": "handover protocol control change; thread ownership is not tracked",
    "take_thread_control": "handover protocol control change; thread ownership is not tracked",
    "request_thread_control": "handover protocol control request; ownership is not tracked",
    "app_roles": "handover protocol app roles are not tracked",
    "account_linking": "account linking events are not ingested",
    "messaging_feedback": "customer feedback survey answers are not ingested",
    "response_feedback": "response feedback is not ingested",
    "game_play": "instant game events are not ingested",
    "messaging_handovers": "handover protocol events are not tracked",
}

MESSENGER_WEBHOOK_FIELDS = frozenset(
    {
        "messages",
        "message_echoes",
        "message_edits",
        "message_reactions",
        "message_reads",
        "message_deliveries",
        "messaging_postbacks",
        "messaging_referrals",
        "messaging_seen",
        "messaging_optins",
        "messaging_policy_enforcement",
        "messaging_handovers",
        "standby",
    }
)

# Messenger names reactions; the emoji is sent too, but not on older payloads.
REACTION_EMOJIS: Mapping[str, str] = {
    "smile": "😆",
    "angry": "😠",
    "sad": "😢",
    "wow": "😮",
    "love": "❤",
    "like": "👍",
    "dislike": "👎",
}

_ATTACHMENT_KIND: Mapping[AttachmentType, MessageKind] = {
    AttachmentType.IMAGE: MessageKind.MEDIA,
    AttachmentType.VIDEO: MessageKind.MEDIA,
    AttachmentType.ANIMATION: MessageKind.MEDIA,
    AttachmentType.AUDIO: MessageKind.MEDIA,
    AttachmentType.VOICE: MessageKind.MEDIA,
    AttachmentType.FILE: MessageKind.MEDIA,
    AttachmentType.STICKER: MessageKind.STICKER,
    AttachmentType.STORY_MENTION: MessageKind.STORY_MENTION,
    AttachmentType.SHARE: MessageKind.SHARE,
    AttachmentType.POST: MessageKind.SHARE,
    AttachmentType.REEL: MessageKind.SHARE,
    AttachmentType.STORY: MessageKind.SHARE,
    AttachmentType.FALLBACK: MessageKind.SHARE,
    AttachmentType.LOCATION: MessageKind.LOCATION,
}


# --------------------------------------------------------------------------- time


def parse_timestamp(value: Any) -> datetime:
    """Parse a Meta timestamp into an aware UTC datetime.

    Accepts milliseconds or seconds as integers, floats or digit strings
    (webhooks send milliseconds, the dashboard test sends a seconds string),
    and ISO 8601 strings such as ``2021-09-08T06:34:04+0000`` (Graph API
    ``created_time``). A naive ISO string is read as UTC.

    Raises:
        ValueError: the value is none of these.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        return _from_number(float(value))
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)
        return _from_number(number)
    raise ValueError(f"not a timestamp: {type(value).__name__}")


def _from_number(number: float) -> datetime:
    if number < 0:
        raise ValueError(f"negative timestamp {number}")
    if number >= _MILLISECONDS_THRESHOLD:
        number /= 1000
    return datetime.fromtimestamp(number, UTC)


def format_graph_time(value: datetime) -> str:
    """Format ``value`` the way the Graph API writes ``created_time``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


# --------------------------------------------------------------------------- helpers


class _PartError(Exception):
    """A part of the payload cannot be normalized; the message names the field."""


def _id_of(value: Any) -> str | None:
    """Return the id of ``{"id": ...}`` (or ``{"user_ref": ...}``) as a string."""
    if isinstance(value, Mapping):
        for name in ("id", "user_ref"):
            raw = value.get(name)
            if isinstance(raw, str | int) and not isinstance(raw, bool) and str(raw):
                return str(raw)
    return None


def _str_or_none(value: Any) -> str | None:
    if isinstance(value, str) and value != "":
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _truthy(value: Any) -> bool:
    """Read a boolean flag that may arrive as ``true``, ``"true"`` or ``1``."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1"}
    return value is True or value == 1


def _raw_bytes(part: Any) -> bytes:
    try:
        return json.dumps(part, ensure_ascii=False, default=str).encode("utf-8")
    except (TypeError, ValueError):
        return repr(part).encode("utf-8")


def _kind_for(text: str | None, attachments: Iterable[Attachment]) -> MessageKind:
    for attachment in attachments:
        kind = _ATTACHMENT_KIND.get(attachment.type)
        if kind is not None:
            return kind
    return MessageKind.TEXT if text else MessageKind.UNSUPPORTED


def _dedupe_attachments(attachments: list[Attachment]) -> tuple[Attachment, ...]:
    """Drop repeats, such as the image copy sent next to a ``sticker`` during the transition."""
    seen: set[tuple[AttachmentType, str]] = set()
    result: list[Attachment] = []
    for attachment in attachments:
        identity = attachment.media_id or attachment.url
        if identity is not None:
            marker = (attachment.type, identity)
            if marker in seen:
                continue
            seen.add(marker)
        result.append(attachment)
    return tuple(result)


# --------------------------------------------------------------------------- attachments


def _webhook_attachment(raw: Mapping[str, Any]) -> Attachment:
    """Normalize one webhook ``message.attachments[]`` element."""
    kind = raw.get("type")
    payload = raw.get("payload")
    payload = payload if isinstance(payload, Mapping) else {}
    url = _str_or_none(payload.get("url")) or _str_or_none(raw.get("url"))
    title = _str_or_none(payload.get("title")) or _str_or_none(raw.get("title"))
    sticker_id = _str_or_none(payload.get("sticker_id"))

    if kind == "image" and sticker_id is not None:
        return Attachment(type=AttachmentType.STICKER, media_id=sticker_id, url=url)
    simple = {
        "image": AttachmentType.IMAGE,
        "video": AttachmentType.VIDEO,
        "audio": AttachmentType.AUDIO,
        "file": AttachmentType.FILE,
        "share": AttachmentType.SHARE,
        "story_mention": AttachmentType.STORY_MENTION,
        "fallback": AttachmentType.FALLBACK,
        "location": AttachmentType.LOCATION,
        "animated_image": AttachmentType.ANIMATION,
    }
    if kind in simple:
        media_id = _str_or_none(payload.get("attachment_id")) or _str_or_none(payload.get("id"))
        return Attachment(type=simple[kind], url=url, title=title, media_id=media_id)
    if kind == "sticker":
        return Attachment(type=AttachmentType.STICKER, media_id=sticker_id, url=url)
    if kind in {"reel", "ig_reel"}:
        media_id = _str_or_none(payload.get("reel_video_id"))
        return Attachment(type=AttachmentType.REEL, media_id=media_id, url=url, title=title)
    if kind in {"post", "ig_post"}:
        media_id = _str_or_none(payload.get("ig_post_media_id"))
        return Attachment(type=AttachmentType.POST, media_id=media_id, url=url, title=title)
    if kind == "ig_story":
        return Attachment(
            type=AttachmentType.STORY,
            media_id=_str_or_none(payload.get("story_media_id")),
            url=_str_or_none(payload.get("story_media_url")) or url,
        )
    # Templates, appointment bookings and types added after this code.
    return Attachment(
        type=AttachmentType.OTHER,
        url=url,
        title=title or (str(kind) if isinstance(kind, str) else None),
    )


def _graph_attachment(raw: Mapping[str, Any]) -> Attachment:
    """Normalize one Graph API ``attachments.data[]`` element of a message node.

    NOTE: Meta's Message reference lists the field names but not every
    sub-field; ``image_data``, ``video_data`` and ``file_url`` are the
    documented carriers of the URL.
    """
    media_id = _str_or_none(raw.get("id"))
    mime_type = _str_or_none(raw.get("mime_type"))
    file_name = _str_or_none(raw.get("name"))
    size = _int_or_none(raw.get("size"))
    image = raw.get("image_data")
    video = raw.get("video_data")
    if isinstance(image, Mapping):
        is_sticker = _truthy(image.get("render_as_sticker"))
        animated = _str_or_none(image.get("animated_gif_url"))
        if is_sticker:
            kind = AttachmentType.STICKER
        elif animated:
            kind = AttachmentType.ANIMATION
        else:
            kind = AttachmentType.IMAGE
        return Attachment(
            type=kind,
            media_id=media_id,
            url=animated or _str_or_none(image.get("url")),
            mime_type=mime_type,
            file_name=file_name,
            size=size,
            width=_int_or_none(image.get("width")),
            height=_int_or_none(image.get("height")),
        )
    if isinstance(video, Mapping):
        return Attachment(
            type=AttachmentType.VIDEO,
            media_id=media_id,
            url=_str_or_none(video.get("url")),
            mime_type=mime_type,
            file_name=file_name,
            size=size,
            width=_int_or_none(video.get("width")),
            height=_int_or_none(video.get("height")),
        )
    kind = AttachmentType.FILE
    if mime_type is not None:
        major = mime_type.split("/", 1)[0]
        kind = {
            "audio": AttachmentType.AUDIO,
            "video": AttachmentType.VIDEO,
            "image": AttachmentType.IMAGE,
        }.get(major, AttachmentType.FILE)
    return Attachment(
        type=kind,
        media_id=media_id,
        url=_str_or_none(raw.get("file_url")) or _str_or_none(raw.get("url")),
        mime_type=mime_type,
        file_name=file_name,
        size=size,
    )


# --------------------------------------------------------------------------- decoder


@dataclass
class _Decoder:
    """Collects the output of one ``decode`` call."""

    platform: Platform
    context: DecodeContext
    items: list[Item] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)
    accounts: dict[str, Account] = field(default_factory=dict)

    def batch(self) -> Batch:
        return Batch(
            items=tuple(self.items),
            quarantined=tuple(self.quarantined),
            ignored=tuple(self.ignored),
            accounts=tuple(self.accounts.values()),
        )

    def quarantine(self, part: Any, reason: str, account_id: str | None = None) -> None:
        self.quarantined.append(
            Quarantined(
                platform=self.platform,
                account_id=account_id,
                reason=reason,
                raw=_raw_bytes(part),
                location=self.context.location,
            )
        )

    def ignore(self, part: Any, kind: str, reason: str, account_id: str | None = None) -> None:
        self.ignored.append(
            Ignored.of(self.platform, part, kind=kind, reason=reason, account_id=account_id)
        )

    def note_account(self, account_id: str) -> None:
        if account_id != "default" and account_id not in self.accounts:
            self.accounts[account_id] = Account(platform=self.platform, account_id=account_id)

    # ------------------------------------------------------------------ dispatch

    def payload(self, payload: Any) -> None:
        if isinstance(payload, list):
            for element in payload:
                self.payload(element)
            return
        if not isinstance(payload, Mapping):
            self.quarantine(payload, f"payload is a JSON {type(payload).__name__}, not an object")
            return
        if "status_code" in payload and ("json" in payload or "headers" in payload):
            self.recorded_exchange(payload)
        elif isinstance(payload.get("error"), Mapping):
            self.api_error(payload, None, {})
        elif "entry" in payload:
            self.envelope(payload)
        elif isinstance(payload.get("data"), list):
            self.graph_page(payload)
        elif "field" in payload and isinstance(payload.get("value"), Mapping):
            self.changed_field(payload, None, None)
        elif "sender" in payload or "recipient" in payload:
            self.event(payload, None, None)
        else:
            keys = ", ".join(sorted(str(key) for key in payload)[:8]) or "none"
            self.quarantine(
                payload,
                "unrecognized Meta payload: no entry, data, error, sender or status_code key "
                f"(keys: {keys})",
            )

    def recorded_exchange(self, exchange: Mapping[str, Any]) -> None:
        status = _int_or_none(exchange.get("status_code"))
        headers = exchange.get("headers")
        headers = headers if isinstance(headers, Mapping) else {}
        body = exchange.get("json")
        if (status is not None and status >= 400) or (
            isinstance(body, Mapping) and isinstance(body.get("error"), Mapping)
        ):
            self.api_error(body, status, {str(k): str(v) for k, v in headers.items()})
        elif body is None:
            self.ignore(exchange, "api_response", "recorded response has no JSON body")
        else:
            self.payload(body)

    def api_error(self, body: Any, status: int | None, headers: Mapping[str, str]) -> None:
        info = classify_error(status, body, headers)
        self.ignore(body, "api_error", info.reason, account_id=self.context.account_id)

    # ------------------------------------------------------------------ webhooks

    def envelope(self, payload: Mapping[str, Any]) -> None:
        entries = payload.get("entry")
        if not isinstance(entries, list):
            self.quarantine(payload, "webhook envelope: entry is not a list")
            return
        for entry in entries:
            if not isinstance(entry, Mapping):
                self.quarantine(entry, "webhook envelope: entry element is not an object")
                continue
            self.entry(entry)

    def entry(self, entry: Mapping[str, Any]) -> None:
        entry_id = _str_or_none(entry.get("id"))
        # The App Dashboard test tool sends entry id "0", which names no account.
        account = entry_id if entry_id not in {None, "0"} else None
        entry_time = entry.get("time")
        found = False
        for list_name in ("messaging", "standby"):
            events = entry.get(list_name)
            if events is None:
                continue
            found = True
            if not isinstance(events, list):
                self.quarantine(entry, f"entry.{list_name} is not a list", account)
                continue
            for event in events:
                self.event(event, account, entry_time)
        changes = entry.get("changes")
        if changes is not None:
            found = True
            if not isinstance(changes, list):
                self.quarantine(entry, "entry.changes is not a list", account)
            else:
                for change in changes:
                    self.changed_field(change, account, entry_time)
        if not found:
            self.ignore(
                entry,
                "entry",
                "webhook entry has no messaging, standby or changes events",
                account_id=account or self.context.account_id,
            )

    def changed_field(self, change: Any, account: str | None, entry_time: Any) -> None:
        if not isinstance(change, Mapping):
            self.quarantine(change, "entry.changes element is not an object", account)
            return
        field_name = change.get("field")
        value = change.get("value")
        if field_name in MESSENGER_WEBHOOK_FIELDS and isinstance(value, Mapping):
            self.event(value, account, entry_time)
            return
        self.ignore(
            change,
            f"changes:{field_name}",
            "page field change that is not a messaging event",
            account_id=account or self.context.account_id,
        )

    def event(self, event: Any, entry_account: str | None, entry_time: Any) -> None:
        if not isinstance(event, Mapping):
            self.quarantine(event, "messaging event is not an object", entry_account)
            return
        try:
            self._event(event, entry_account, entry_time)
        except (_PartError, ValueError, TypeError, ValidationError) as error:
            reason = str(error) if isinstance(error, _PartError) else _short(error)
            self.quarantine(event, reason, entry_account or self.context.account_id)

    def _event(self, event: Mapping[str, Any], entry_account: str | None, entry_time: Any) -> None:
        kind = next((key for key in MESSAGING_KEYS if key in event), None)
        if kind is None:
            other = next(
                (key for key in event if key not in {"sender", "recipient", "timestamp"}), None
            )
            reason = IGNORED_EVENT_REASONS.get(str(other), "messaging event type is not ingested")
            self.ignore(
                event,
                str(other or "unknown"),
                reason,
                account_id=entry_account or self.context.account_id,
            )
            return
        sides = self._sides(event, entry_account)
        occurred_at = self._event_time(event, entry_time, kind)
        self.note_account(sides.account)
        handler = getattr(self, f"_on_{kind}")
        handler(event, event[kind], sides, occurred_at)

    def _sides(self, event: Mapping[str, Any], entry_account: str | None) -> _Sides:
        sender = _id_of(event.get("sender"))
        recipient = _id_of(event.get("recipient"))
        message = event.get("message")
        echo = isinstance(message, Mapping) and _truthy(message.get("is_echo"))
        own = {entry_account, self.context.account_id, *self.context.own_user_ids} - {None}
        outbound = echo or (sender in own and recipient not in own)
        page_side = sender if outbound else recipient
        contact = recipient if outbound else sender
        if contact is None:
            side = "recipient" if outbound else "sender"
            raise _PartError(f"messaging event has no {side}.id naming the contact")
        account = entry_account or page_side or self.context.account_id or "default"
        return _Sides(account=account, contact=contact, outbound=outbound)

    def _event_time(self, event: Mapping[str, Any], entry_time: Any, kind: str) -> datetime:
        raw = event.get("timestamp")
        if raw is not None:
            try:
                return parse_timestamp(raw)
            except ValueError as error:
                raise _PartError(f"timestamp is not a valid time: {raw!r}") from error
        # Delivery receipts may come without a timestamp: fall back to the watermark.
        body = event.get(kind)
        if isinstance(body, Mapping) and body.get("watermark") is not None:
            try:
                return parse_timestamp(body["watermark"])
            except ValueError as error:
                raise _PartError(f"{kind}.watermark is not a valid time") from error
        if entry_time is not None:
            try:
                return parse_timestamp(entry_time)
            except ValueError as error:
                raise _PartError(f"entry.time is not a valid time: {entry_time!r}") from error
        return self.context.received_at

    def _key(self, sides: _Sides, mid: Any, field_name: str) -> MessageKey:
        message_id = _str_or_none(mid)
        if message_id is None:
            raise _PartError(f"{field_name} is missing, so the event names no message")
        return MessageKey(
            platform=self.platform,
            account_id=sides.account,
            chat_id=sides.contact,
            message_id=message_id,
        )

    def _conversation(self, sides: _Sides) -> ConversationKey:
        return ConversationKey(
            platform=self.platform, account_id=sides.account, chat_id=sides.contact
        )

    def _contact(self, sides: _Sides) -> Contact:
        return Contact(platform=self.platform, user_id=sides.contact)

    # ------------------------------------------------------------------ event kinds

    def _on_message(self, event: Mapping[str, Any], body: Any, sides: _Sides, at: datetime) -> None:
        if not isinstance(body, Mapping):
            raise _PartError("message is not an object")
        key = self._key(sides, body.get("mid"), "message.mid")
        raw = dict(event)
        if _truthy(body.get("is_deleted")):
            self.items.append(
                DeleteEvent(
                    target=key, occurred_at=at, received_at=self.context.received_at, raw=raw
                )
            )
            return
        text = body.get("text") if isinstance(body.get("text"), str) else None
        attachments = self._message_attachments(body.get("attachments"), sides.account)
        kind = _kind_for(text, attachments)
        if _truthy(body.get("is_unsupported")):
            kind = MessageKind.UNSUPPORTED
        self.items.append(
            Message(
                key=key,
                direction=_direction(sides.outbound),
                kind=kind,
                sender=Contact(
                    platform=self.platform,
                    user_id=sides.account if sides.outbound else sides.contact,
                ),
                text=text or None,
                attachments=attachments,
                reply_to=_reply_target(body.get("reply_to")),
                sent_at=at,
                received_at=self.context.received_at,
                client_ref=_str_or_none(body.get("metadata")) if sides.outbound else None,
                raw=raw,
            )
        )

    def _message_attachments(self, raw: Any, account: str) -> tuple[Attachment, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            raise _PartError("message.attachments is not a list")
        attachments: list[Attachment] = []
        for index, element in enumerate(raw):
            if not isinstance(element, Mapping):
                self.quarantine(element, f"message.attachments[{index}] is not an object", account)
                continue
            attachments.append(_webhook_attachment(element))
        return _dedupe_attachments(attachments)

    def _on_message_edit(
        self, event: Mapping[str, Any], body: Any, sides: _Sides, at: datetime
    ) -> None:
        if not isinstance(body, Mapping):
            raise _PartError("message_edit is not an object")
        self.items.append(
            EditEvent(
                target=self._key(sides, body.get("mid"), "message_edit.mid"),
                text=body.get("text") if isinstance(body.get("text"), str) else None,
                edit_number=_int_or_none(body.get("num_edit")),
                occurred_at=at,
                received_at=self.context.received_at,
                raw=dict(event),
            )
        )

    def _on_reaction(
        self, event: Mapping[str, Any], body: Any, sides: _Sides, at: datetime
    ) -> None:
        if not isinstance(body, Mapping):
            raise _PartError("reaction is not an object")
        target = self._key(sides, body.get("mid"), "reaction.mid")
        action = body.get("action")
        if action == "unreact":
            emojis: tuple[str, ...] = ()
        elif action in {"react", None}:
            emoji = _str_or_none(body.get("emoji"))
            name = _str_or_none(body.get("reaction"))
            symbol = emoji or REACTION_EMOJIS.get(name or "") or name
            if symbol is None:
                raise _PartError("reaction has neither emoji nor reaction name")
            emojis = (symbol,)
        else:
            raise _PartError(f"reaction.action {action!r} is neither react nor unreact")
        self.items.append(
            ReactionEvent(
                target=target,
                actor_id=sides.contact,
                emojis=emojis,
                occurred_at=at,
                received_at=self.context.received_at,
                raw=dict(event),
            )
        )

    def _on_read(self, event: Mapping[str, Any], body: Any, sides: _Sides, at: datetime) -> None:
        body = body if isinstance(body, Mapping) else {}
        watermark = body.get("watermark")
        self.items.append(
            ReadEvent(
                conversation=self._conversation(sides),
                reader_id=sides.contact,
                watermark=parse_timestamp(watermark) if watermark is not None else None,
                message_id=_str_or_none(body.get("mid")),
                occurred_at=at,
                received_at=self.context.received_at,
                raw=dict(event),
            )
        )

    def _on_delivery(
        self, event: Mapping[str, Any], body: Any, sides: _Sides, at: datetime
    ) -> None:
        body = body if isinstance(body, Mapping) else {}
        mids = body.get("mids")
        message_ids = tuple(
            str(mid) for mid in (mids if isinstance(mids, list) else []) if _str_or_none(mid)
        )
        watermark = body.get("watermark")
        self.items.append(
            DeliveryEvent(
                conversation=self._conversation(sides),
                recipient_id=sides.contact,
                message_ids=message_ids,
                watermark=parse_timestamp(watermark) if watermark is not None else None,
                occurred_at=at,
                received_at=self.context.received_at,
                raw=dict(event),
            )
        )

    def _on_postback(
        self, event: Mapping[str, Any], body: Any, sides: _Sides, at: datetime
    ) -> None:
        if not isinstance(body, Mapping):
            raise _PartError("postback is not an object")
        referral = body.get("referral")
        self.items.append(
            PostbackEvent(
                conversation=self._conversation(sides),
                sender=self._contact(sides),
                payload=_str_or_none(body.get("payload")),
                title=_str_or_none(body.get("title")),
                referral=dict(referral) if isinstance(referral, Mapping) else None,
                occurred_at=at,
                received_at=self.context.received_at,
                raw=dict(event),
            )
        )

    def _on_referral(
        self, event: Mapping[str, Any], body: Any, sides: _Sides, at: datetime
    ) -> None:
        if not isinstance(body, Mapping):
            raise _PartError("referral is not an object")
        self.items.append(
            PostbackEvent(
                conversation=self._conversation(sides),
                sender=self._contact(sides),
                payload=_str_or_none(body.get("ref")),
                referral=dict(body),
                occurred_at=at,
                received_at=self.context.received_at,
                raw=dict(event),
            )
        )

    def _on_policy_enforcement(
        self, event: Mapping[str, Any], body: Any, sides: _Sides, at: datetime
    ) -> None:
        if not isinstance(body, Mapping):
            raise _PartError("policy_enforcement is not an object")
        action = _str_or_none(body.get("action")) or "unknown"
        reason = body.get("reason")
        self.items.append(
            NoticeEvent(
                platform=self.platform,
                account_id=sides.account,
                notice=f"policy_enforcement.{action}",
                # The reason arrives indented over several lines; keep its words only.
                reason=" ".join(reason.split()) if isinstance(reason, str) else None,
                occurred_at=at,
                received_at=self.context.received_at,
                raw=dict(event),
            )
        )

    def _on_message_request(
        self, event: Mapping[str, Any], body: Any, sides: _Sides, at: datetime
    ) -> None:
        # Messenger sends the bare string "accept"; accept an {"action": ...} object too.
        value = body.get("action") if isinstance(body, Mapping) else body
        accepted = isinstance(value, str) and value.lower() == "accept"
        self.items.append(
            ContactStatusEvent(
                account_id=sides.account,
                contact=self._contact(sides),
                status=ContactStatus.ACTIVE if accepted else ContactStatus.MESSAGE_REQUEST,
                reason=f"message_request {value}" if isinstance(value, str) else "message_request",
                occurred_at=at,
                received_at=self.context.received_at,
                raw=dict(event),
            )
        )

    # ------------------------------------------------------------------ Graph pages

    def graph_page(self, payload: Mapping[str, Any]) -> None:
        data = payload["data"]
        if not data:
            self.ignore(
                payload,
                "graph_page",
                "Graph API page lists no conversations or messages",
                account_id=self.context.account_id,
            )
            return
        account = self.context.account_id or "default"
        self.note_account(account)
        for element in data:
            if not isinstance(element, Mapping):
                self.quarantine(element, "Graph page data element is not an object", account)
            elif "created_time" in element or "from" in element:
                self.graph_message(element, account, None)
            elif any(key in element for key in ("messages", "participants", "updated_time")):
                self.graph_conversation(element, account)
            else:
                self.quarantine(
                    element, "Graph page element is neither a conversation nor a message", account
                )

    def graph_conversation(self, conversation: Mapping[str, Any], account: str) -> None:
        own = {account, *self.context.own_user_ids}
        chat_id: str | None = None
        participants = conversation.get("participants")
        if isinstance(participants, Mapping) and isinstance(participants.get("data"), list):
            for participant in participants["data"]:
                participant_id = _id_of(participant)
                if participant_id is not None and participant_id not in own:
                    chat_id = participant_id
                    break
        messages = conversation.get("messages")
        if messages is None:
            return
        if not isinstance(messages, Mapping) or not isinstance(messages.get("data"), list):
            self.quarantine(conversation, "conversation.messages.data is not a list", account)
            return
        for node in messages["data"]:
            self.graph_message(node, account, chat_id)

    def graph_message(self, node: Any, account: str, chat_id: str | None) -> None:
        if not isinstance(node, Mapping):
            self.quarantine(node, "Graph message is not an object", account)
            return
        try:
            self._graph_message(node, account, chat_id)
        except (_PartError, ValueError, TypeError, ValidationError) as error:
            reason = str(error) if isinstance(error, _PartError) else _short(error)
            self.quarantine(node, reason, account)

    def _graph_message(self, node: Mapping[str, Any], account: str, chat_id: str | None) -> None:
        own = {account, *self.context.own_user_ids}
        sender = node.get("from")
        sender_id = _id_of(sender)
        recipients = node.get("to")
        recipient_ids = []
        if isinstance(recipients, Mapping) and isinstance(recipients.get("data"), list):
            recipient_ids = [_id_of(r) for r in recipients["data"]]
        outbound = sender_id in own
        if chat_id is None:
            others = [r for r in recipient_ids if r is not None and r not in own]
            chat_id = (others[0] if others else None) if outbound else sender_id
        if chat_id is None:
            raise _PartError("Graph message has no from.id or to.data naming the contact")
        created = node.get("created_time")
        if created is None:
            raise _PartError("Graph message has no created_time")
        try:
            sent_at = parse_timestamp(created)
        except ValueError as error:
            raise _PartError(f"created_time is not a valid time: {created!r}") from error
        message_id = _str_or_none(node.get("id"))
        if message_id is None:
            raise _PartError("Graph message has no id")
        text = node.get("message") if isinstance(node.get("message"), str) else None
        attachments, reply_to = self._graph_attachments(node)
        kind = _kind_for(text, attachments)
        if _truthy(node.get("is_unsupported")):
            kind = MessageKind.UNSUPPORTED
        sender_map = sender if isinstance(sender, Mapping) else {}
        self.items.append(
            Message(
                key=MessageKey(
                    platform=self.platform,
                    account_id=account,
                    chat_id=chat_id,
                    message_id=message_id,
                ),
                direction=_direction(outbound),
                kind=kind,
                sender=Contact(
                    platform=self.platform,
                    user_id=sender_id or chat_id,
                    username=_str_or_none(sender_map.get("username")),
                    display_name=_str_or_none(sender_map.get("name")),
                ),
                text=text or None,
                attachments=attachments,
                reply_to=reply_to,
                sent_at=sent_at,
                received_at=self.context.received_at,
                raw=dict(node),
            )
        )

    def _graph_attachments(self, node: Mapping[str, Any]) -> tuple[tuple[Attachment, ...], Any]:
        attachments: list[Attachment] = []
        for name in ("attachments", "shares"):
            container = node.get(name)
            if container is None:
                continue
            data = container.get("data") if isinstance(container, Mapping) else None
            if not isinstance(data, list):
                raise _PartError(f"{name}.data is not a list")
            for element in data:
                if not isinstance(element, Mapping):
                    raise _PartError(f"{name}.data element is not an object")
                if name == "shares":
                    attachments.append(
                        Attachment(
                            type=AttachmentType.SHARE,
                            url=_str_or_none(element.get("link")),
                            title=_str_or_none(element.get("name")),
                        )
                    )
                else:
                    attachments.append(_graph_attachment(element))
        sticker = _str_or_none(node.get("sticker"))
        if sticker is not None:
            attachments.append(Attachment(type=AttachmentType.STICKER, url=sticker))
        reply_to: str | None = None
        story = node.get("story")
        if isinstance(story, Mapping):
            mention = story.get("mention")
            if isinstance(mention, Mapping):
                attachments.append(
                    Attachment(
                        type=AttachmentType.STORY_MENTION,
                        media_id=_str_or_none(mention.get("id")),
                        url=_str_or_none(mention.get("link")),
                    )
                )
            replied = story.get("reply_to")
            if isinstance(replied, Mapping):
                reply_to = _str_or_none(replied.get("id"))
        return _dedupe_attachments(attachments), reply_to


@dataclass(frozen=True)
class _Sides:
    account: str
    contact: str
    outbound: bool


def _direction(outbound: bool) -> Direction:
    return Direction.OUTBOUND if outbound else Direction.INBOUND


def _reply_target(value: Any) -> str | None:
    if not isinstance(value, Mapping):
        return None
    mid = _str_or_none(value.get("mid"))
    if mid is not None:
        return mid
    story = value.get("story")
    if isinstance(story, Mapping):
        return _str_or_none(story.get("id"))
    return None


def _short(error: Exception) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"cannot normalize event: {type(error).__name__}: {text}"[:300]


# --------------------------------------------------------------------------- codec


class MetaCodec:
    """The codec of one Meta platform (Messenger or Instagram)."""

    def __init__(self, platform: Platform) -> None:
        if platform not in {Platform.MESSENGER, Platform.INSTAGRAM}:
            raise UsageError(f"MetaCodec supports messenger and instagram, not {platform.value}")
        self.platform = platform

    def __repr__(self) -> str:
        return f"MetaCodec({self.platform.value})"

    def sniff(self, payload: Any) -> bool:
        """Return whether ``payload`` looks like this platform's.

        Bare messaging events, Graph pages and Graph errors are claimed by
        Messenger only, because nothing in them names the platform; callers
        that know the source (a folder name, a webhook route) pass it instead.
        """
        if isinstance(payload, list):
            return bool(payload) and self.sniff(payload[0])
        if not isinstance(payload, Mapping):
            return False
        if "status_code" in payload and "json" in payload:
            return self.sniff(payload["json"])
        kind = payload.get("object")
        if kind is not None:
            return bool(kind == ("page" if self.platform is Platform.MESSENGER else "instagram"))
        if isinstance(payload.get("entry"), list):
            # Envelopes without "object" come from Instagram integrations that
            # store the entry list only; Messenger always sends object "page".
            return self.platform is Platform.INSTAGRAM and _has_messaging_entry(payload["entry"])
        if self.platform is not Platform.MESSENGER:
            return False
        if isinstance(payload.get("data"), list) and isinstance(payload.get("paging"), Mapping):
            return True
        if isinstance(payload.get("error"), Mapping):
            error = payload["error"]
            return isinstance(error.get("code"), int) and "message" in error
        if payload.get("field") in MESSENGER_WEBHOOK_FIELDS:
            return True
        if isinstance(payload.get("sender"), Mapping) and isinstance(
            payload.get("recipient"), Mapping
        ):
            return any(key in payload for key in (*MESSAGING_KEYS, *IGNORED_EVENT_REASONS))
        return False

    def decode(self, payload: Any, context: DecodeContext) -> Batch:
        """Normalize one parsed payload; never raises for malformed input."""
        decoder = _Decoder(platform=self.platform, context=context)
        try:
            decoder.payload(payload)
        except Exception as error:  # decode must never raise, whatever the payload
            logger.exception("%s codec failed on a payload", self.platform.value)
            decoder.quarantine(payload, _short(error), context.account_id)
        return decoder.batch()


def _has_messaging_entry(entries: list[Any]) -> bool:
    return any(
        isinstance(entry, Mapping)
        and any(key in entry for key in ("messaging", "standby", "changes"))
        for entry in entries
    )


MESSENGER_CODEC = MetaCodec(Platform.MESSENGER)
INSTAGRAM_CODEC = MetaCodec(Platform.INSTAGRAM)


# --------------------------------------------------------------------------- outbound

_SEND_ATTACHMENT_TYPES: Mapping[AttachmentType, str] = {
    AttachmentType.IMAGE: "image",
    AttachmentType.ANIMATION: "image",
    AttachmentType.VIDEO: "video",
    AttachmentType.AUDIO: "audio",
    AttachmentType.VOICE: "audio",
    AttachmentType.FILE: "file",
}


def build_send_bodies(
    platform: Platform,
    message: OutboundMessage,
    *,
    messaging_type: str,
    tag: str | None,
) -> list[dict[str, Any]]:
    """Build the Send API bodies for ``message``: the text first, then one per attachment.

    The Send API takes either text or one attachment per call, so a reply
    with a caption and two images becomes three calls. Messenger bodies carry
    ``client_ref`` as ``metadata`` so that every echo names the logical send;
    Instagram has no ``metadata``, so its echoes are matched by message id.

    Raises:
        UsageError: the message is empty, or an attachment has no URL or
            media id, or a type the Send API cannot send.
    """
    parts: list[dict[str, Any]] = []
    if message.text:
        parts.append({"text": message.text})
    for attachment in message.attachments:
        send_type = _SEND_ATTACHMENT_TYPES.get(attachment.type)
        if send_type is None:
            raise UsageError(
                f"{platform.value} cannot send a {attachment.type.value} attachment; "
                "send image, video, audio or file"
            )
        if attachment.media_id:
            payload: dict[str, Any] = {"attachment_id": attachment.media_id}
        elif attachment.url:
            payload = {"url": attachment.url, "is_reusable": True}
        else:
            raise UsageError(
                f"{platform.value} attachment of type {attachment.type.value} needs a url "
                "or a media_id"
            )
        parts.append({"attachment": {"type": send_type, "payload": payload}})
    if not parts:
        raise UsageError(f"{platform.value} message {message.client_ref} has no text or attachment")
    bodies: list[dict[str, Any]] = []
    for index, part in enumerate(parts):
        if platform is Platform.MESSENGER:
            part["metadata"] = message.client_ref
        body: dict[str, Any] = {
            "recipient": {"id": message.conversation.chat_id},
            "messaging_type": messaging_type,
            "message": part,
        }
        if tag is not None:
            body["tag"] = tag
        if index == 0 and message.reply_to:
            body["reply_to"] = {"mid": message.reply_to}
        bodies.append(body)
    return bodies
