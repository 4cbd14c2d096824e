"""Normalize X (Twitter) direct message payloads.

Three wire shapes reach this codec:

* **API v2** responses of ``GET /2/dm_events`` and the per-conversation
  routes: ``data`` is a list of DM events (``MessageCreate``,
  ``ParticipantsJoin``, ``ParticipantsLeave``) with ``includes.users``,
  ``includes.media`` and ``includes.tweets``. The send routes return
  ``data: {dm_conversation_id, dm_event_id}``.
* **v1.1** ``direct_messages/events`` bodies: ``events`` (a page) or
  ``event`` (a send response), each a ``message_create`` with a millisecond
  ``created_timestamp`` string.
* **Account Activity API** webhook bodies: ``for_user_id`` plus
  ``direct_message_events``, ``direct_message_mark_read_events`` or
  ``direct_message_indicate_typing_events``, with a ``users`` map.

A vcrpy cassette (a dict with ``interactions``) is accepted too: every
recorded response body is decoded, and the request URIs fill in the
conversation ids that default-field v2 responses leave out.

Keys: the account id is ``for_user_id`` when present, else
``context.account_id``, else ``"default"``. The chat id is the
``dm_conversation_id``. One-to-one ids have the form ``A-B`` and are written
with the smaller user id first (the order X itself uses), so a DM seen through
v2 and through the webhook gets the same key. Group ids are a bare number.
The message id is the DM event id.

Options read from ``DecodeContext.options``:

* ``dm_conversation_id``: conversation of a page fetched from
  ``/2/dm_conversations/{id}/dm_events`` whose events lack that field.
* ``client_refs``: mapping of DM event id to our send reference. Events in it
  are our own sends coming back: outbound, with ``client_ref`` set.
* ``own_event_ids``: DM event ids we sent whose send reference is unknown
  (send responses recorded in a cassette). Events in it are outbound.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from socialinbox.adapters.base import DecodeContext
from socialinbox.model import (
    Account,
    Attachment,
    AttachmentType,
    Batch,
    Contact,
    ConversationKey,
    Direction,
    Ignored,
    Item,
    Message,
    MessageKey,
    MessageKind,
    ParticipantEvent,
    Platform,
    Quarantined,
)

__all__ = [
    "CODEC",
    "TwitterCodec",
    "normalize_conversation_id",
    "one_to_one_conversation_id",
    "snowflake_time",
]

logger = logging.getLogger(__name__)

PLATFORM = Platform.X
DEFAULT_ACCOUNT_ID = "default"

SNOWFLAKE_EPOCH_MS = 1288834974657
"""Milliseconds since the Unix epoch at which X snowflake ids start counting."""

_AAA_DM_KEY = "direct_message_events"
_AAA_READ_KEY = "direct_message_mark_read_events"
_AAA_TYPING_KEY = "direct_message_indicate_typing_events"
_AAA_METADATA_KEYS = frozenset({"for_user_id", "users", "apps", "user_has_blocked", "source"})
_V2_EVENT_TYPES = frozenset({"MessageCreate", "ParticipantsJoin", "ParticipantsLeave"})
_API_HOSTS = ("api.twitter.com", "api.x.com")
_USER_ID = re.compile(r"^\d+$")

_MEDIA_TYPES: dict[str, AttachmentType] = {
    "photo": AttachmentType.IMAGE,
    "video": AttachmentType.VIDEO,
    "animated_gif": AttachmentType.ANIMATION,
}


class _InvalidPart(Exception):
    """A part of a payload that cannot be normalized; the message names the field."""


# ---------------------------------------------------------------------------
# Identity helpers


def snowflake_time(snowflake: str | int) -> datetime:
    """Return the creation time encoded in an X snowflake id.

    Raises:
        ValueError: ``snowflake`` is not a non-negative integer.
    """
    value = int(snowflake)
    if value < 0:
        raise ValueError(f"snowflake id must not be negative: {value}")
    return datetime.fromtimestamp(((value >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, UTC)


def one_to_one_conversation_id(user_a: str, user_b: str) -> str:
    """Return the ``A-B`` conversation id of two users, smaller id first."""
    low, high = sorted((str(user_a), str(user_b)), key=lambda user: (len(user), user))
    return f"{low}-{high}"


def normalize_conversation_id(conversation_id: str) -> str:
    """Return ``conversation_id`` with a one-to-one pair in canonical order.

    Group ids (a single number) and ids of any other form are returned as given.
    """
    parts = conversation_id.split("-")
    if len(parts) == 2 and all(_USER_ID.match(part) for part in parts):
        return one_to_one_conversation_id(parts[0], parts[1])
    return conversation_id


def _is_group(conversation_id: str) -> bool:
    return "-" not in conversation_id


def _id_string(value: Any, field_name: str) -> str:
    """Return an id as a string; X sends strings, older bodies sometimes numbers."""
    if isinstance(value, bool) or value is None:
        raise _InvalidPart(f"{field_name} is missing or not an id")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise _InvalidPart(f"{field_name} is missing or not an id: {value!r}")


def _optional_id(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _parse_iso_time(value: Any, field_name: str) -> datetime:
    if not isinstance(value, str):
        raise _InvalidPart(f"{field_name} is not a string: {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise _InvalidPart(f"{field_name} is not an ISO 8601 time: {value!r}") from error
    if parsed.tzinfo is None:
        raise _InvalidPart(f"{field_name} has no time zone: {value!r}")
    return parsed.astimezone(UTC)


def _parse_millisecond_time(value: Any, field_name: str) -> datetime:
    """Parse a millisecond Unix time given as a string (v1.1) or a number."""
    if isinstance(value, bool):
        raise _InvalidPart(f"{field_name} is not a millisecond timestamp: {value!r}")
    try:
        milliseconds = int(value)
    except (TypeError, ValueError) as error:
        raise _InvalidPart(f"{field_name} is not a millisecond timestamp: {value!r}") from error
    try:
        return datetime.fromtimestamp(milliseconds / 1000, UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise _InvalidPart(f"{field_name} is out of range: {value!r}") from error


def _event_time(created: Any, event_id: str, field_name: str) -> datetime:
    """Return the event time, falling back to the time inside the snowflake id.

    Default-field v2 responses carry no ``created_at``; the id still encodes
    the creation time to the millisecond.
    """
    if created is not None:
        return _parse_iso_time(created, field_name)
    try:
        return snowflake_time(event_id)
    except ValueError as error:
        raise _InvalidPart(
            f"{field_name} is missing and the event id {event_id!r} is not a snowflake"
        ) from error


def _raw_bytes(part: Any) -> bytes:
    return json.dumps(part, ensure_ascii=False, default=str).encode()


# ---------------------------------------------------------------------------
# Decoding state


@dataclass
class _State:
    """Per-payload decoding state: context, identities and the batch being built."""

    context: DecodeContext
    account_id: str
    own_ids: frozenset[str]
    client_refs: Mapping[str, str]
    own_event_ids: frozenset[str] = frozenset()
    conversation_hint: str | None = None
    users: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    media: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    tweets: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)

    def quarantine(self, reason: str, part: Any) -> None:
        logger.warning("quarantined an X payload part: %s (at %s)", reason, self.context.location)
        self.quarantined.append(
            Quarantined(
                platform=PLATFORM,
                account_id=self.account_id,
                reason=reason,
                raw=_raw_bytes(part),
                location=self.context.location,
            )
        )

    def ignore(self, part: Any, *, kind: str, reason: str) -> None:
        self.ignored.append(
            Ignored.of(PLATFORM, part, kind=kind, reason=reason, account_id=self.account_id)
        )

    def contact(self, user_id: str) -> Contact:
        user = self.users.get(user_id, {})
        username = user.get("username") or user.get("screen_name")
        display_name = user.get("name")
        return Contact(
            platform=PLATFORM,
            user_id=user_id,
            username=username if isinstance(username, str) else None,
            display_name=display_name if isinstance(display_name, str) else None,
        )

    def conversation(self, chat_id: str) -> ConversationKey:
        return ConversationKey(platform=PLATFORM, account_id=self.account_id, chat_id=chat_id)

    def direction(self, event_id: str, sender_id: str | None) -> Direction:
        if event_id in self.client_refs or event_id in self.own_event_ids:
            return Direction.OUTBOUND
        if sender_id is not None and sender_id in self.own_ids:
            return Direction.OUTBOUND
        return Direction.INBOUND

    def batch(self) -> Batch:
        return Batch(
            items=tuple(self.items),
            quarantined=tuple(self.quarantined),
            ignored=tuple(self.ignored),
            accounts=tuple(self.accounts),
        )


def _new_state(payload: Mapping[str, Any], context: DecodeContext) -> _State:
    for_user_id = _optional_id(payload.get("for_user_id"))
    account_id = for_user_id or context.account_id or DEFAULT_ACCOUNT_ID
    own_ids = set(context.own_user_ids)
    if for_user_id is not None:
        own_ids.add(for_user_id)
    if context.account_id is not None and _USER_ID.match(context.account_id):
        # The X account id is our user id, so messages from it are our own.
        own_ids.add(context.account_id)
    client_refs = context.options.get("client_refs") or {}
    hint = context.options.get("dm_conversation_id")
    return _State(
        context=context,
        account_id=account_id,
        own_ids=frozenset(own_ids),
        client_refs={str(key): str(value) for key, value in dict(client_refs).items()},
        own_event_ids=frozenset(str(value) for value in context.options.get("own_event_ids", ())),
        conversation_hint=normalize_conversation_id(str(hint)) if hint else None,
    )


# ---------------------------------------------------------------------------
# API v2


def _index_includes(state: _State, includes: Any) -> None:
    if not isinstance(includes, Mapping):
        return
    for name, target, key in (
        ("users", state.users, "id"),
        ("media", state.media, "media_key"),
        ("tweets", state.tweets, "id"),
    ):
        entries = includes.get(name)
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if isinstance(entry, Mapping) and isinstance(entry.get(key), str | int):
                target[str(entry[key])] = entry


def _v2_media_attachment(state: _State, media_key: str) -> Attachment:
    media = state.media.get(media_key)
    if media is None:
        # The event names media that the response did not expand.
        return Attachment(type=AttachmentType.OTHER, media_id=media_key)
    attachment_type = _MEDIA_TYPES.get(str(media.get("type")), AttachmentType.OTHER)
    url = media.get("url")
    mime_type = None
    variants = media.get("variants")
    if isinstance(variants, list):
        best = _best_video_variant(variants, url_key="url", type_key="content_type")
        if best is not None:
            url, mime_type = best
    if not isinstance(url, str):
        url = media.get("preview_image_url")
    duration_ms = media.get("duration_ms")
    return Attachment(
        type=attachment_type,
        media_id=media_key,
        url=url if isinstance(url, str) else None,
        mime_type=mime_type,
        width=_positive_int(media.get("width")),
        height=_positive_int(media.get("height")),
        duration=duration_ms / 1000 if isinstance(duration_ms, int | float) else None,
        is_animated=True if attachment_type is AttachmentType.ANIMATION else None,
    )


def _best_video_variant(
    variants: Iterable[Any], *, url_key: str, type_key: str
) -> tuple[str, str | None] | None:
    """Return the URL and MIME type of the highest-bitrate MP4 variant."""
    best: tuple[int, str, str | None] | None = None
    for variant in variants:
        if not isinstance(variant, Mapping) or not isinstance(variant.get(url_key), str):
            continue
        content_type = variant.get(type_key)
        if content_type is not None and content_type != "video/mp4":
            continue
        bitrate = variant.get("bitrate") or variant.get("bit_rate") or 0
        rank = bitrate if isinstance(bitrate, int) else 0
        if best is None or rank > best[0]:
            best = (rank, variant[url_key], content_type if isinstance(content_type, str) else None)
    return None if best is None else (best[1], best[2])


def _positive_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def _v2_post_attachments(state: _State, event: Mapping[str, Any]) -> list[Attachment]:
    # ``referenced_tweets`` is the 2025 name; the 2026 spec renames the
    # expansion to ``referenced_posts``, so both keys are read.
    references = event.get("referenced_tweets") or event.get("referenced_posts") or []
    if not isinstance(references, list):
        raise _InvalidPart("referenced_tweets is not a list")
    attachments = []
    for reference in references:
        if not isinstance(reference, Mapping):
            raise _InvalidPart("referenced_tweets entry is not an object")
        post_id = _id_string(reference.get("id"), "referenced_tweets[].id")
        post = state.tweets.get(post_id, {})
        text = post.get("text")
        attachments.append(
            Attachment(
                type=AttachmentType.POST,
                media_id=post_id,
                url=f"https://x.com/i/status/{post_id}",
                title=text if isinstance(text, str) else None,
            )
        )
    return attachments


def _v2_chat_id(state: _State, event: Mapping[str, Any]) -> str:
    conversation_id = event.get("dm_conversation_id")
    if conversation_id is None:
        if state.conversation_hint is not None:
            return state.conversation_hint
        # Default-field responses omit it; the adapter always requests it.
        raise _InvalidPart("dm_conversation_id is missing (default-field response)")
    return normalize_conversation_id(_id_string(conversation_id, "dm_conversation_id"))


def _decode_v2_message(state: _State, event: Mapping[str, Any], event_id: str) -> Message:
    chat_id = _v2_chat_id(state, event)
    sender_id = _optional_id(event.get("sender_id"))
    direction = state.direction(event_id, sender_id)
    if sender_id is None and direction is Direction.OUTBOUND and len(state.own_ids) == 1:
        # Our own send coming back in a default-field response: the sender is us.
        sender_id = next(iter(state.own_ids))
    text = event.get("text")
    if text is not None and not isinstance(text, str):
        raise _InvalidPart(f"text is not a string: {type(text).__name__}")

    attachments: list[Attachment] = []
    event_attachments = event.get("attachments")
    if event_attachments is not None:
        if not isinstance(event_attachments, Mapping):
            raise _InvalidPart("attachments is not an object")
        media_keys = event_attachments.get("media_keys") or []
        if not isinstance(media_keys, list):
            raise _InvalidPart("attachments.media_keys is not a list")
        for media_key in media_keys:
            attachments.append(
                _v2_media_attachment(state, _id_string(media_key, "attachments.media_keys[]"))
            )
    has_media = bool(attachments)
    attachments.extend(_v2_post_attachments(state, event))

    return Message(
        key=MessageKey(
            platform=PLATFORM, account_id=state.account_id, chat_id=chat_id, message_id=event_id
        ),
        direction=direction,
        kind=_message_kind(has_media=has_media, has_posts=len(attachments) > int(has_media)),
        is_group=_is_group(chat_id),
        sender=state.contact(sender_id) if sender_id is not None else None,
        text=text,
        attachments=tuple(attachments),
        sent_at=_event_time(event.get("created_at"), event_id, "created_at"),
        received_at=state.context.received_at,
        client_ref=state.client_refs.get(event_id),
        raw=dict(event),
    )


def _message_kind(*, has_media: bool, has_posts: bool) -> MessageKind:
    if has_media:
        return MessageKind.MEDIA
    if has_posts:
        return MessageKind.SHARE
    return MessageKind.TEXT


def _decode_v2_participants(
    state: _State, event: Mapping[str, Any], event_id: str, event_type: str
) -> ParticipantEvent:
    participant_ids = event.get("participant_ids")
    if not isinstance(participant_ids, list) or not participant_ids:
        raise _InvalidPart(
            f"{event_type} event has no participant_ids: request "
            "dm_event.fields=participant_ids or expansions=participant_ids"
        )
    return ParticipantEvent(
        conversation=state.conversation(_v2_chat_id(state, event)),
        action="join" if event_type == "ParticipantsJoin" else "leave",
        participant_ids=tuple(_id_string(user, "participant_ids[]") for user in participant_ids),
        actor_id=_optional_id(event.get("sender_id")),
        occurred_at=_event_time(event.get("created_at"), event_id, "created_at"),
        received_at=state.context.received_at,
        raw=dict(event),
    )


def _decode_v2_event(state: _State, event: Any) -> None:
    if not isinstance(event, Mapping):
        state.quarantine("data[] entry is not a DM event object", event)
        return
    event_type = event.get("event_type")
    if not isinstance(event_type, str):
        state.quarantine("X DM event: event_type is missing or not a string", event)
        return
    if event_type not in _V2_EVENT_TYPES:
        state.ignore(
            event,
            kind=event_type,
            reason=f"DM event type {event_type} is not one socialinbox ingests",
        )
        return
    try:
        event_id = _id_string(event.get("id"), "id")
        if event_type == "MessageCreate":
            state.items.append(_decode_v2_message(state, event, event_id))
        else:
            state.items.append(_decode_v2_participants(state, event, event_id, event_type))
    except _InvalidPart as error:
        state.quarantine(f"X DM event: {error}", event)
    except ValueError as error:  # pydantic validation of the normalized values
        state.quarantine(f"X DM event failed validation: {error}", event)


def _decode_v2(state: _State, payload: Mapping[str, Any]) -> None:
    _index_includes(state, payload.get("includes"))
    data = payload.get("data")
    if isinstance(data, list):
        for event in data:
            _decode_v2_event(state, event)
    elif isinstance(data, Mapping) and "dm_event_id" in data:
        state.ignore(
            payload,
            kind="dm_event_created",
            # The DM itself arrives with the next dm_events poll, matched by event id.
            reason="send acknowledgement without message content",
        )
    elif data is not None:
        state.quarantine("data is neither a list of DM events nor a send result", payload)
    _record_partial_errors(state, payload)


def _record_partial_errors(state: _State, payload: Mapping[str, Any]) -> None:
    """Count the v2 ``errors`` array (partial errors next to ``data``) as ignored."""
    errors = payload.get("errors")
    if not isinstance(errors, list):
        return
    for error in errors:
        if not isinstance(error, Mapping):
            continue
        title = error.get("title") or error.get("message") or "error"
        state.ignore(
            error,
            kind="api_error",
            reason=f"X returned an error entry instead of data: {title}",
        )


# ---------------------------------------------------------------------------
# v1.1 and Account Activity API


def _legacy_attachment(attachment: Any) -> Attachment:
    if not isinstance(attachment, Mapping):
        raise _InvalidPart("message_data.attachment is not an object")
    media = attachment.get("media")
    if attachment.get("type") != "media" or not isinstance(media, Mapping):
        return Attachment(type=AttachmentType.OTHER)
    media_id = _optional_id(media.get("id_str")) or _optional_id(media.get("id"))
    attachment_type = _MEDIA_TYPES.get(str(media.get("type")), AttachmentType.OTHER)
    url = media.get("media_url_https") or media.get("media_url")
    mime_type = None
    video_info = media.get("video_info")
    if isinstance(video_info, Mapping) and isinstance(video_info.get("variants"), list):
        best = _best_video_variant(video_info["variants"], url_key="url", type_key="content_type")
        if best is not None:
            url, mime_type = best
    large = media.get("sizes", {}).get("large") if isinstance(media.get("sizes"), Mapping) else None
    duration_ms = video_info.get("duration_millis") if isinstance(video_info, Mapping) else None
    return Attachment(
        type=attachment_type,
        media_id=media_id,
        url=url if isinstance(url, str) else None,
        mime_type=mime_type,
        width=_positive_int(large.get("w")) if isinstance(large, Mapping) else None,
        height=_positive_int(large.get("h")) if isinstance(large, Mapping) else None,
        duration=duration_ms / 1000 if isinstance(duration_ms, int | float) else None,
        is_animated=True if attachment_type is AttachmentType.ANIMATION else None,
    )


def _decode_legacy_message(state: _State, event: Mapping[str, Any], *, own_send: bool) -> Message:
    event_id = _id_string(event.get("id"), "id")
    message_create = event.get("message_create")
    if not isinstance(message_create, Mapping):
        raise _InvalidPart("message_create is missing or not an object")
    sender_id = _id_string(message_create.get("sender_id"), "message_create.sender_id")
    target = message_create.get("target")
    if not isinstance(target, Mapping):
        raise _InvalidPart("message_create.target is missing or not an object")
    recipient_id = _id_string(target.get("recipient_id"), "message_create.target.recipient_id")
    message_data = message_create.get("message_data")
    if not isinstance(message_data, Mapping):
        raise _InvalidPart("message_create.message_data is missing or not an object")
    text = message_data.get("text")
    if text is not None and not isinstance(text, str):
        raise _InvalidPart("message_create.message_data.text is not a string")

    attachments = []
    if message_data.get("attachment") is not None:
        attachments.append(_legacy_attachment(message_data["attachment"]))

    chat_id = one_to_one_conversation_id(sender_id, recipient_id)
    # A DM addressed to its own sender can only be the account writing to
    # itself, and the v1.1 ``event`` body is the response to our own send.
    outbound = own_send or sender_id == recipient_id
    direction = Direction.OUTBOUND if outbound else state.direction(event_id, sender_id)
    return Message(
        key=MessageKey(
            platform=PLATFORM, account_id=state.account_id, chat_id=chat_id, message_id=event_id
        ),
        direction=direction,
        kind=MessageKind.MEDIA if attachments else MessageKind.TEXT,
        is_group=False,
        sender=state.contact(sender_id),
        text=text,
        attachments=tuple(attachments),
        sent_at=_parse_millisecond_time(event.get("created_timestamp"), "created_timestamp"),
        received_at=state.context.received_at,
        client_ref=state.client_refs.get(event_id),
        raw=dict(event),
    )


def _decode_legacy_event(state: _State, event: Any, *, own_send: bool = False) -> None:
    if not isinstance(event, Mapping):
        state.quarantine("direct message event is not an object", event)
        return
    event_type = event.get("type")
    if event_type != "message_create":
        state.ignore(
            event,
            kind=str(event_type),
            reason=f"direct message event type {event_type!r} is not one socialinbox ingests",
        )
        return
    try:
        state.items.append(_decode_legacy_message(state, event, own_send=own_send))
    except _InvalidPart as error:
        state.quarantine(f"X direct message event: {error}", event)
    except ValueError as error:
        state.quarantine(f"X direct message event failed validation: {error}", event)


def _decode_account_activity(state: _State, payload: Mapping[str, Any]) -> None:
    users = payload.get("users")
    if isinstance(users, Mapping):
        for user_id, user in users.items():
            if isinstance(user, Mapping):
                state.users[str(user_id)] = user
    for_user_id = _optional_id(payload.get("for_user_id"))
    if for_user_id is not None:
        own = state.contact(for_user_id)
        state.accounts.append(
            Account(
                platform=PLATFORM,
                account_id=for_user_id,
                username=own.username,
                display_name=own.display_name,
            )
        )

    for key, value in payload.items():
        if key in _AAA_METADATA_KEYS:
            continue
        if key == _AAA_DM_KEY:
            if not isinstance(value, list):
                state.quarantine(f"{key} is not a list", payload)
                continue
            for event in value:
                _decode_legacy_event(state, event)
        elif key == _AAA_READ_KEY:
            for event in value if isinstance(value, list) else [value]:
                state.ignore(
                    event,
                    kind=key,
                    reason="read receipt: socialinbox does not track read state of X conversations",
                )
        elif key == _AAA_TYPING_KEY:
            for event in value if isinstance(value, list) else [value]:
                state.ignore(
                    event,
                    kind=key,
                    reason="typing indicator: transient, carries no message",
                )
        else:
            state.ignore(
                {key: value},
                kind=key,
                reason=f"Account Activity event {key} is not a direct message event",
            )


def _decode_v11(state: _State, payload: Mapping[str, Any]) -> None:
    if "event" in payload:
        # POST direct_messages/events/new answers with the event it created.
        _decode_legacy_event(state, payload["event"], own_send=True)
    events = payload.get("events")
    if events is None:
        return
    if not isinstance(events, list):
        state.quarantine("events is not a list", payload)
        return
    for event in events:
        _decode_legacy_event(state, event)


# ---------------------------------------------------------------------------
# vcrpy cassettes


def _cassette_body(response: Mapping[str, Any]) -> Any:
    """Return the parsed JSON body of a recorded response, or ``None`` when empty.

    Raises:
        _InvalidPart: the body cannot be decoded or parsed.
    """
    body = response.get("body")
    content: Any = body.get("string") if isinstance(body, Mapping) else body
    if content is None or content in ("", b""):
        return None
    if isinstance(content, str):
        raw = content.encode()
    elif isinstance(content, bytes | bytearray):
        raw = bytes(content)
    else:
        raise _InvalidPart("response body is neither text nor bytes")
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise _InvalidPart(f"response body is not valid gzip: {error}") from error
    elif not raw.lstrip().startswith((b"{", b"[")):
        try:
            raw = gzip.decompress(base64.b64decode(raw, validate=False))
        except (binascii.Error, OSError, EOFError) as error:
            raise _InvalidPart("response body is neither JSON nor base64 gzip") from error
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _InvalidPart(f"response body is not JSON: {error}") from error


def _cassette_route(request: Mapping[str, Any]) -> tuple[str, list[str]]:
    uri = request.get("uri")
    method = str(request.get("method", "GET")).upper()
    path = urlsplit(uri).path if isinstance(uri, str) else ""
    return method, [segment for segment in path.split("/") if segment]


def _learn_own_id(conversation_id: Any, participant_id: str) -> str | None:
    """Return our user id from a one-to-one conversation id and the other participant."""
    if not isinstance(conversation_id, str):
        return None
    parts = conversation_id.split("-")
    if len(parts) == 2 and participant_id in parts:
        return parts[1] if parts[0] == participant_id else parts[0]
    return None


def _decode_cassette(payload: Mapping[str, Any], context: DecodeContext) -> Batch:
    """Decode every recorded response body of a vcrpy cassette.

    Send responses of the same cassette tell which event ids are ours and
    which user id is ours; the request URIs of per-conversation lookups give
    the conversation id that default-field events leave out.
    """
    batch = Batch()
    own_ids = set(context.own_user_ids)
    own_event_ids = {str(value) for value in context.options.get("own_event_ids", ())}
    interactions = payload.get("interactions")
    if not isinstance(interactions, list):
        return _quarantine_batch(context, "cassette interactions is not a list", payload)
    for index, interaction in enumerate(interactions):
        location = f"{context.location or 'cassette'}#interactions[{index}]"
        if not isinstance(interaction, Mapping):
            batch += _quarantine_batch(
                replace(context, location=location), "interaction is not an object", interaction
            )
            continue
        request = interaction.get("request")
        response = interaction.get("response")
        if not isinstance(request, Mapping) or not isinstance(response, Mapping):
            batch += _quarantine_batch(
                replace(context, location=location),
                "interaction has no request or response object",
                interaction,
            )
            continue
        try:
            body = _cassette_body(response)
        except _InvalidPart as error:
            batch += _quarantine_batch(
                replace(context, location=location), f"recorded body: {error}", response
            )
            continue
        if body is None:
            continue

        method, segments = _cassette_route(request)
        options: dict[str, Any] = dict(context.options)
        data = body.get("data") if isinstance(body, Mapping) else None
        if method == "POST" and isinstance(data, Mapping) and "dm_event_id" in data:
            own_event_ids.add(str(data["dm_event_id"]))
            if segments[:3] == ["2", "dm_conversations", "with"] and len(segments) >= 4:
                learned = _learn_own_id(data.get("dm_conversation_id"), segments[3])
                if learned is not None:
                    own_ids.add(learned)
        if method == "GET" and segments[-1:] == ["dm_events"] and len(segments) >= 4:
            if segments[2] == "with" and len(segments) == 5 and len(own_ids) == 1:
                options["dm_conversation_id"] = one_to_one_conversation_id(
                    segments[3], next(iter(own_ids))
                )
            elif segments[2] != "with":
                options["dm_conversation_id"] = segments[2]
        options["own_event_ids"] = frozenset(own_event_ids)
        batch += CODEC.decode(
            body,
            replace(context, location=location, own_user_ids=frozenset(own_ids), options=options),
        )
    return batch


def _quarantine_batch(context: DecodeContext, reason: str, part: Any) -> Batch:
    account_id = context.account_id or DEFAULT_ACCOUNT_ID
    logger.warning("quarantined an X payload: %s (at %s)", reason, context.location)
    return Batch(
        quarantined=(
            Quarantined(
                platform=PLATFORM,
                account_id=account_id,
                reason=reason,
                raw=_raw_bytes(part),
                location=context.location,
            ),
        )
    )


# ---------------------------------------------------------------------------
# The codec


def _is_cassette(payload: Mapping[str, Any]) -> bool:
    interactions = payload.get("interactions")
    if not isinstance(interactions, list) or not interactions:
        return False
    for interaction in interactions:
        request = interaction.get("request") if isinstance(interaction, Mapping) else None
        uri = request.get("uri") if isinstance(request, Mapping) else None
        if isinstance(uri, str) and urlsplit(uri).hostname in _API_HOSTS:
            return True
    return False


def _is_error_body(payload: Mapping[str, Any]) -> bool:
    """Whether ``payload`` is an error response: v1 ``errors`` or v2 problem JSON."""
    if "data" in payload or "meta" in payload:
        return False
    if isinstance(payload.get("errors"), list):
        return True
    return isinstance(payload.get("title"), str) and isinstance(payload.get("type"), str)


class TwitterCodec:
    """Codec for X direct message payloads (API v2, v1.1, Account Activity API)."""

    platform: Platform = PLATFORM

    def sniff(self, payload: Any) -> bool:
        """Return whether ``payload`` has the shape of an X DM payload."""
        if not isinstance(payload, Mapping):
            return False
        if _is_cassette(payload):
            return True
        if "for_user_id" in payload or any(
            key in payload for key in (_AAA_DM_KEY, _AAA_READ_KEY, _AAA_TYPING_KEY)
        ):
            return True
        data = payload.get("data")
        if isinstance(data, list) and any(
            isinstance(event, Mapping) and event.get("event_type") in _V2_EVENT_TYPES
            for event in data
        ):
            return True
        if isinstance(data, Mapping) and "dm_conversation_id" in data and "dm_event_id" in data:
            return True
        meta = payload.get("meta")
        if isinstance(meta, Mapping) and "result_count" in meta and "data" not in payload:
            return True
        event = payload.get("event")
        if isinstance(event, Mapping) and "message_create" in event:
            return True
        events = payload.get("events")
        if isinstance(events, list) and (
            "next_cursor" in payload
            or any(isinstance(item, Mapping) and "message_create" in item for item in events)
        ):
            return True
        return False

    def decode(self, payload: Any, context: DecodeContext) -> Batch:
        """Normalize one parsed X payload; bad parts are quarantined, never raised."""
        if not isinstance(payload, Mapping):
            return _quarantine_batch(
                context, f"X payload is not a JSON object but {type(payload).__name__}", payload
            )
        if "interactions" in payload:
            return _decode_cassette(payload, context)
        state = _new_state(payload, context)
        if "for_user_id" in payload or any(
            key in payload for key in (_AAA_DM_KEY, _AAA_READ_KEY, _AAA_TYPING_KEY)
        ):
            _decode_account_activity(state, payload)
        elif "event" in payload or "events" in payload:
            _decode_v11(state, payload)
        elif _is_error_body(payload):
            title = payload.get("title") or "errors"
            state.ignore(
                payload,
                kind="error_response",
                reason=f"X API error response ({title}), not a DM payload",
            )
        elif "data" in payload or "meta" in payload:
            _decode_v2(state, payload)
        else:
            state.quarantine(
                "X payload has none of data, meta, events, event, for_user_id", payload
            )
        return state.batch()


CODEC = TwitterCodec()
"""The X codec instance the adapter registry loads."""
