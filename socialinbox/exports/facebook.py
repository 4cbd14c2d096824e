"""Read Messenger and Instagram threads from a "Download your information" export.

Both platforms write one folder per thread (``messages/inbox/<name>_<id>/``,
inside ``your_activity_across_facebook/`` or ``your_instagram_activity/`` in
newer exports) with ``message_1.json``, ``message_2.json``, ... Each file
holds ``participants`` (names only), ``title``, ``thread_path`` and
``messages`` (newest first) with ``sender_name``, ``timestamp_ms``,
``content``, ``photos``, ``videos``, ``gifs``, ``audio_files``, ``files``,
``sticker``, ``share``, ``reactions``, ``is_unsent``, ``call_duration`` and
``type`` (``Generic``, ``Share``, ``Call``, ``Subscribe``, ``Unsubscribe``).

Meta writes every non-ASCII character double-encoded: the UTF-8 bytes of the
text, each byte stored as the code point of the same number (``é`` becomes
``\\u00c3\\u00a9``). :func:`repair_text` reverses that exactly.

The export has no platform ids at all, so keys are derived:

* chat id ``export:<thread folder>`` (the last part of ``thread_path``);
* sender ``name:<display name>``;
* message id: a hash of the chat, the sender, ``timestamp_ms``, the text as
  exported and the media paths, with ``-2``, ``-3``, ... appended to identical
  messages in one file. Importing the same export again gives the same keys,
  so nothing is stored twice.

These keys never equal the ids (PSID, IGSID, ``mid``) the Graph API uses, so a
message imported from an export and fetched through the API is stored twice.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any

from pydantic import ValidationError

from socialinbox.exports.common import (
    DEFAULT_ACCOUNT_ID,
    BatchBuilder,
    ExportContext,
    InvalidPart,
    unix_time,
)
from socialinbox.exports.sources import ExportFormat, ExportSource
from socialinbox.jsonbytes import parse_json_bytes
from socialinbox.model import (
    Attachment,
    AttachmentStatus,
    AttachmentType,
    Batch,
    Contact,
    ConversationKey,
    Direction,
    Item,
    Message,
    MessageKey,
    MessageKind,
    ParticipantEvent,
    Platform,
    ReactionEvent,
)

__all__ = ["contact_id", "decode", "platform_of", "repair_text", "thread_chat_id"]

_MEDIA_FIELDS: tuple[tuple[str, AttachmentType], ...] = (
    ("photos", AttachmentType.IMAGE),
    ("videos", AttachmentType.VIDEO),
    ("gifs", AttachmentType.ANIMATION),
    ("audio_files", AttachmentType.AUDIO),
    ("files", AttachmentType.FILE),
)


def repair_text(value: str) -> str:
    """Undo Meta's double encoding: read each code point as one byte of UTF-8.

    Text that is not double-encoded (a code point above U+00FF, or bytes that
    are not valid UTF-8) is returned unchanged.
    """
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _optional_text(value: Any, field_name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidPart(f"{field_name} is not a string")
    return repair_text(value)


def contact_id(name: str) -> str:
    """Return the contact id derived from a repaired display name."""
    return f"name:{name}"


def thread_chat_id(document: Mapping[str, Any], member_name: str) -> str:
    """Return the chat id of a thread: its folder name, from ``thread_path`` or the file path."""
    thread_path = document.get("thread_path")
    if isinstance(thread_path, str) and thread_path.strip("/"):
        folder = thread_path.strip("/").rsplit("/", 1)[-1]
    else:
        parent = PurePosixPath(member_name).parent.name
        if not parent:
            raise InvalidPart("thread_path is missing and the file is not in a thread folder")
        folder = parent
    return f"export:{repair_text(folder)}"


def platform_of(source: ExportSource, context: ExportContext) -> Platform:
    """Return Instagram or Messenger: the user's choice, else the export's file names."""
    if context.platform in (Platform.MESSENGER, Platform.INSTAGRAM):
        return context.platform
    if "instagram" in source.location.lower():
        return Platform.INSTAGRAM
    return Platform.MESSENGER


def _learn_profile(document: Any, context: ExportContext) -> None:
    """Take the owner's name from ``profile_information.json`` or ``personal_information.json``."""
    if not isinstance(document, Mapping):
        return
    for key in ("profile_v2", "profile"):
        profile = document.get(key)
        name = profile.get("name") if isinstance(profile, Mapping) else None
        full_name = name.get("full_name") if isinstance(name, Mapping) else None
        if isinstance(full_name, str) and full_name:
            context.meta_owner_name = repair_text(full_name)
            return
    users = document.get("profile_user")
    if isinstance(users, list) and users and isinstance(users[0], Mapping):
        data = users[0].get("string_map_data")
        entry = data.get("Name") if isinstance(data, Mapping) else None
        value = entry.get("value") if isinstance(entry, Mapping) else None
        if isinstance(value, str) and value:
            context.meta_owner_name = repair_text(value)


def _participants(document: Mapping[str, Any]) -> list[str]:
    participants = document.get("participants") or []
    if not isinstance(participants, list):
        raise InvalidPart("participants is not a list")
    names = []
    for participant in participants:
        name = participant.get("name") if isinstance(participant, Mapping) else None
        if isinstance(name, str) and name:
            names.append(repair_text(name))
    return names


def _owner(
    context: ExportContext, participants: list[str], title: str | None, is_group: bool
) -> str | None:
    """Return our display name in this thread, or ``None`` when the export does not show it."""
    if context.owner_name:
        return context.owner_name
    if context.meta_owner_name:
        return context.meta_owner_name
    if not is_group and len(participants) == 2 and title in participants:
        # A one-to-one thread is titled with the other person's name.
        return participants[1] if participants[0] == title else participants[0]
    return None


def _media(entry: Mapping[str, Any]) -> list[Attachment]:
    attachments = []
    for field_name, kind in _MEDIA_FIELDS:
        items = entry.get(field_name)
        if items is None:
            continue
        if not isinstance(items, list):
            raise InvalidPart(f"{field_name} is not a list")
        for item in items:
            uri = item.get("uri") if isinstance(item, Mapping) else None
            if not isinstance(uri, str) or not uri:
                raise InvalidPart(f"{field_name}[].uri is missing")
            attachments.append(_file_attachment(kind, uri))
    sticker = entry.get("sticker")
    if sticker is not None:
        uri = sticker.get("uri") if isinstance(sticker, Mapping) else None
        if not isinstance(uri, str) or not uri:
            raise InvalidPart("sticker.uri is missing")
        attachments.append(_file_attachment(AttachmentType.STICKER, uri))
    return attachments


def _file_attachment(kind: AttachmentType, uri: str) -> Attachment:
    # The file stays in the export because the store keeps no copy, and no
    # platform id or URL can fetch it again. file_name is its path in the export.
    return Attachment(
        type=kind,
        file_name=repair_text(uri),
        status=AttachmentStatus.IN_EXPORT,
        is_animated=True if kind is AttachmentType.ANIMATION else None,
    )


def _share(entry: Mapping[str, Any]) -> Attachment | None:
    share = entry.get("share")
    if share is None:
        return None
    if not isinstance(share, Mapping):
        raise InvalidPart("share is not an object")
    link = share.get("link")
    title = share.get("share_text")
    if link is None and title is None:
        return None
    return Attachment(
        type=AttachmentType.SHARE,
        url=link if isinstance(link, str) else None,
        title=repair_text(title) if isinstance(title, str) else None,
    )


def _kind(entry: Mapping[str, Any], text: str | None, attachments: list[Attachment]) -> MessageKind:
    if entry.get("type") == "Call":
        return MessageKind.SERVICE
    if any(item.type is AttachmentType.STICKER for item in attachments):
        return MessageKind.STICKER
    if any(item.type is not AttachmentType.SHARE for item in attachments):
        return MessageKind.MEDIA
    if attachments:
        return MessageKind.SHARE
    if text is None:
        return MessageKind.UNSUPPORTED
    return MessageKind.TEXT


class _Thread:
    def __init__(
        self,
        document: Mapping[str, Any],
        source: ExportSource,
        context: ExportContext,
        builder: BatchBuilder,
        platform: Platform,
    ) -> None:
        self.source = source
        self.context = context
        self.builder = builder
        self.platform = platform
        self.account_id = builder.account_id or DEFAULT_ACCOUNT_ID
        self.chat_id = thread_chat_id(document, source.name)
        self.participants = _participants(document)
        self.title = _optional_text(document.get("title"), "title")
        thread_type = document.get("thread_type")
        self.is_group = thread_type == "RegularGroup" or len(self.participants) > 2
        self.owner = _owner(context, self.participants, self.title, self.is_group)
        self.seen: Counter[str] = Counter()

    def contact(self, name: str) -> Contact:
        return Contact(platform=self.platform, user_id=contact_id(name), display_name=name)

    def message_id(self, entry: Mapping[str, Any], media: list[Attachment]) -> str:
        share = entry.get("share")
        fields = [
            self.chat_id,
            entry.get("sender_name"),
            entry.get("timestamp_ms"),
            entry.get("content"),
            entry.get("type"),
            [item.file_name for item in media],
            share.get("link") if isinstance(share, Mapping) else None,
        ]
        encoded = json.dumps(fields, ensure_ascii=False, default=str).encode()
        base = hashlib.sha256(encoded).hexdigest()[:32]
        self.seen[base] += 1
        count = self.seen[base]
        return base if count == 1 else f"{base}-{count}"

    def decode(self, entry: Any) -> None:
        if not isinstance(entry, Mapping):
            raise InvalidPart("messages entry is not an object")
        sender_raw = entry.get("sender_name")
        if not isinstance(sender_raw, str) or not sender_raw:
            raise InvalidPart("sender_name is missing")
        sender = repair_text(sender_raw)
        sent_at = unix_time(entry.get("timestamp_ms"), "timestamp_ms", milliseconds=True)
        media = _media(entry)
        message_id = self.message_id(entry, media)
        conversation = ConversationKey(
            platform=self.platform, account_id=self.account_id, chat_id=self.chat_id
        )
        entry_type = entry.get("type")
        if entry_type in ("Subscribe", "Unsubscribe"):
            self.builder.add(self.membership(entry, conversation, sender, sent_at))
            return

        text = _optional_text(entry.get("content"), "content")
        attachments = list(media)
        share = _share(entry)
        if share is not None:
            attachments.append(share)
        deleted = entry.get("is_unsent") is True
        key = MessageKey(
            platform=self.platform,
            account_id=self.account_id,
            chat_id=self.chat_id,
            message_id=message_id,
        )
        items: list[Item] = [
            Message(
                key=key,
                direction=Direction.OUTBOUND if sender == self.owner else Direction.INBOUND,
                kind=_kind(entry, text, attachments),
                is_group=self.is_group,
                chat_title=self.title,
                sender=self.contact(sender),
                # An unsent message keeps its place in the thread but no content.
                text=None if deleted else text,
                attachments=() if deleted else tuple(attachments),
                sent_at=sent_at,
                received_at=self.context.received_at,
                deleted=deleted,
                raw=None if deleted else dict(entry),
            )
        ]
        reactions = entry.get("reactions") or []
        if not isinstance(reactions, list):
            raise InvalidPart("reactions is not a list")
        emojis_by_actor: dict[str, list[str]] = {}
        raw_by_actor: dict[str, list[Any]] = {}
        for reaction in reactions:
            if not isinstance(reaction, Mapping):
                raise InvalidPart("reactions entry is not an object")
            emoji = reaction.get("reaction")
            actor = reaction.get("actor")
            if not isinstance(emoji, str) or not isinstance(actor, str):
                raise InvalidPart("reactions[] needs a reaction and an actor string")
            name = repair_text(actor)
            emojis_by_actor.setdefault(name, []).append(repair_text(emoji))
            raw_by_actor.setdefault(name, []).append(dict(reaction))
        for name, emojis in emojis_by_actor.items():
            # The export gives no reaction time, so the message time is used.
            items.append(
                ReactionEvent(
                    target=key,
                    actor_id=contact_id(name),
                    emojis=tuple(emojis),
                    occurred_at=sent_at,
                    received_at=self.context.received_at,
                    raw={"reactions": raw_by_actor[name]},
                )
            )
        self.builder.add(*items)

    def membership(
        self,
        entry: Mapping[str, Any],
        conversation: ConversationKey,
        sender: str,
        sent_at: Any,
    ) -> ParticipantEvent:
        users = entry.get("users")
        if not isinstance(users, list) or not users:
            raise InvalidPart(f"{entry.get('type')} message has no users list")
        names = []
        for user in users:
            name = user.get("name") if isinstance(user, Mapping) else None
            if not isinstance(name, str) or not name:
                raise InvalidPart("users[].name is missing")
            names.append(contact_id(repair_text(name)))
        return ParticipantEvent(
            conversation=conversation,
            action="join" if entry.get("type") == "Subscribe" else "leave",
            participant_ids=tuple(names),
            actor_id=contact_id(sender),
            occurred_at=sent_at,
            received_at=self.context.received_at,
            raw=dict(entry),
        )


def decode(source: ExportSource, context: ExportContext) -> Iterator[Batch]:
    """Yield one thread file (or learn the owner from a profile file) as batches."""
    platform = platform_of(source, context)
    builder = BatchBuilder(platform, context.account_id or DEFAULT_ACCOUNT_ID, context.chunk_size)
    data = source.read()
    document, problem = parse_json_bytes(data, allow_bom=True)
    if problem is not None:
        builder.quarantine(problem, data, source.location)
        yield from builder.rest()
        return

    if source.format is ExportFormat.META_PROFILE:
        _learn_profile(document, context)
        return
    messages = document.get("messages") if isinstance(document, Mapping) else None
    if not isinstance(messages, list):
        builder.quarantine(
            f"{platform.value} export thread file has no messages list", data, source.location
        )
        yield from builder.rest()
        return
    try:
        thread = _Thread(document, source, context, builder, platform)
    except InvalidPart as error:
        builder.quarantine(f"{platform.value} export thread: {error}", data, source.location)
        yield from builder.rest()
        return

    for index, entry in enumerate(messages):
        location = f"{source.location}#messages[{index}]"
        try:
            thread.decode(entry)
        except InvalidPart as error:
            builder.quarantine(f"{platform.value} export message: {error}", entry, location)
        except ValidationError as error:
            builder.quarantine(
                f"{platform.value} export message failed validation: {error.errors()[0]['msg']}",
                entry,
                location,
            )
        yield from builder.drain_if_full()
    yield from builder.rest()
