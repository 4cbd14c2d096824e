"""Read a Telegram Desktop JSON export (``result.json``).

Three shapes are accepted:

* a single chat: ``{"name", "type", "id", "messages": [...]}``;
* a whole account: ``{"personal_information": {"user_id"}, "chats": {"list": [chat, ...]},
  "left_chats": {"list": [...]}}``;
* a bare list of messages of one channel, as pasted from an export; the
  channel comes from the ``from_id`` (``channel<id>``) of its posts.

A message has ``id``, ``type`` (``message`` or ``service``), ``date`` and
``date_unixtime`` (a string), ``from`` and ``from_id`` (``user<id>`` or
``channel<id>``), ``text`` (a string, or a list of strings and entity objects
``{"type", "text"}``), ``edited``/``edited_unixtime``, ``reply_to_message_id``,
``forwarded_from``, media references (``photo``, ``file`` with
``media_type``) and ``reactions``. A media reference is a path inside the
export, or ``(File not included. ...)`` when the export left the file out.

Keys follow the Bot API codec: the chat id is the Bot API chat id (the user id
for a private chat, ``-<id>`` for a basic group, ``-100<id>`` for a supergroup
or channel) and the message id is the export's ``id``. Channel and supergroup
message ids are the same for every reader, so a post imported here and seen
by the bot is stored once. Private chat message ids are numbered per account,
so history of a private chat exported by a person never equals what a bot saw.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from socialinbox.exports.common import (
    DEFAULT_ACCOUNT_ID,
    BatchBuilder,
    ExportContext,
    InvalidPart,
    JsonReader,
    UnexpectedShape,
    unix_time,
)
from socialinbox.exports.sources import ExportSource
from socialinbox.jsonbytes import parse_json_bytes
from socialinbox.model import (
    Attachment,
    AttachmentStatus,
    AttachmentType,
    Batch,
    Contact,
    ConversationKey,
    Direction,
    EditEvent,
    Item,
    Message,
    MessageKey,
    MessageKind,
    ParticipantEvent,
    Platform,
    ReactionEvent,
)

__all__ = ["bot_api_chat_id", "decode", "plain_text"]

PLATFORM = Platform.TELEGRAM

_PRIVATE_TYPES = frozenset({"personal_chat", "bot_chat", "saved_messages"})
_BASIC_GROUP_TYPES = frozenset({"private_group"})
_NOT_INCLUDED = "(File not included"

_FILE_TYPES: Mapping[str, AttachmentType] = {
    "sticker": AttachmentType.STICKER,
    "voice_message": AttachmentType.VOICE,
    "video_message": AttachmentType.VIDEO,
    "video_file": AttachmentType.VIDEO,
    "animation": AttachmentType.ANIMATION,
    "audio_file": AttachmentType.AUDIO,
}

_JOIN_ACTIONS = frozenset({"invite_members", "join_group_by_link", "join_group_by_request"})
_LEAVE_ACTIONS = frozenset({"remove_members"})


def bot_api_chat_id(chat_type: str | None, export_id: Any) -> str:
    """Return the Bot API chat id of an exported chat."""
    if isinstance(export_id, bool) or not isinstance(export_id, int | str):
        raise InvalidPart("chat id is missing or not a number")
    digits = str(export_id).strip()
    if not digits.lstrip("-").isdigit():
        raise InvalidPart(f"chat id is not a number: {export_id!r}")
    if digits.startswith("-") or chat_type in _PRIVATE_TYPES:
        return digits
    if chat_type in _BASIC_GROUP_TYPES:
        return f"-{digits}"
    return f"-100{digits}"


def plain_text(value: Any) -> str | None:
    """Join the ``text`` field (a string, or a list of strings and entities) into plain text."""
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if not isinstance(value, list):
        raise InvalidPart("text is neither a string nor a list")
    parts = []
    for part in value:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, Mapping) and isinstance(part.get("text"), str):
            parts.append(part["text"])
        else:
            raise InvalidPart("text entity has no text string")
    return "".join(parts) or None


def _time(message: Mapping[str, Any], unix_key: str, iso_key: str) -> datetime | None:
    if message.get(unix_key) is not None:
        return unix_time(message[unix_key], unix_key)
    value = message.get(iso_key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidPart(f"{iso_key} is not a string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise InvalidPart(f"{iso_key} is not an ISO 8601 time: {value!r}") from error
    # NOTE: older exports without date_unixtime carry only this naive time,
    # in the exporting computer's time zone. That zone is unknown here, so
    # the time is read as UTC.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _peer(from_id: Any) -> tuple[str, str] | None:
    """Split ``user123`` / ``channel123`` / ``chat123`` into its kind and number."""
    if not isinstance(from_id, str):
        return None
    for prefix in ("user", "channel", "chat"):
        if from_id.startswith(prefix) and from_id[len(prefix) :].isdigit():
            return prefix, from_id[len(prefix) :]
    return None


def _sender(message: Mapping[str, Any]) -> Contact | None:
    peer = _peer(message.get("from_id"))
    if peer is None:
        return None
    kind, number = peer
    name = message.get("from")
    display_name = name if isinstance(name, str) and name else None
    if kind == "user":
        return Contact(platform=PLATFORM, user_id=number, display_name=display_name)
    # The Bot API codec names a chat that posts as itself "chat:<chat id>".
    chat_id = f"-100{number}" if kind == "channel" else f"-{number}"
    return Contact(platform=PLATFORM, user_id=f"chat:{chat_id}", display_name=display_name)


def _reference(value: Any, field_name: str) -> str | None:
    """Return the path of a media file inside the export, or ``None`` when it was left out.

    The store gets no copy and the export contains no Bot API ``file_id``: a
    file inside the export gets status ``in_export``, a missing one ``not_included``.
    """
    if not isinstance(value, str):
        raise InvalidPart(f"{field_name} is not a string")
    if value.startswith(_NOT_INCLUDED):
        return None
    return value


def _int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def _attachments(message: Mapping[str, Any]) -> tuple[MessageKind | None, list[Attachment]]:
    attachments: list[Attachment] = []
    kind: MessageKind | None = None
    if message.get("photo") is not None:
        path = _reference(message["photo"], "photo")
        attachments.append(
            Attachment(
                type=AttachmentType.IMAGE,
                file_name=path,
                status=AttachmentStatus.IN_EXPORT if path else AttachmentStatus.NOT_INCLUDED,
                width=_int(message.get("width")),
                height=_int(message.get("height")),
                size=_int(message.get("photo_file_size")),
            )
        )
    if message.get("file") is not None:
        path = _reference(message["file"], "file")
        media_type = message.get("media_type")
        attachment_type = _FILE_TYPES.get(str(media_type), AttachmentType.FILE)
        duration = message.get("duration_seconds")
        emoji = message.get("sticker_emoji")
        attachments.append(
            Attachment(
                type=attachment_type,
                file_name=path,
                status=AttachmentStatus.IN_EXPORT if path else AttachmentStatus.NOT_INCLUDED,
                mime_type=message.get("mime_type")
                if isinstance(message.get("mime_type"), str)
                else None,
                size=_int(message.get("file_size")),
                width=_int(message.get("width")),
                height=_int(message.get("height")),
                duration=float(duration) if isinstance(duration, int | float) else None,
                title=emoji if isinstance(emoji, str) else None,
                is_animated=True if attachment_type is AttachmentType.ANIMATION else None,
            )
        )
        if attachment_type is AttachmentType.STICKER:
            kind = MessageKind.STICKER
    location = message.get("location_information")
    if isinstance(location, Mapping):
        attachments.append(
            Attachment(
                type=AttachmentType.LOCATION,
                title=f"{location.get('latitude')},{location.get('longitude')}",
            )
        )
        kind = MessageKind.LOCATION
    contact = message.get("contact_information")
    if isinstance(contact, Mapping):
        name = " ".join(
            str(contact[part]) for part in ("first_name", "last_name") if contact.get(part)
        )
        attachments.append(Attachment(type=AttachmentType.CONTACT, title=name or None))
        kind = MessageKind.CONTACT_CARD
    if isinstance(message.get("poll"), Mapping):
        kind = MessageKind.POLL
    if kind is None and attachments:
        kind = MessageKind.MEDIA
    return kind, attachments


class _Chat:
    def __init__(
        self,
        chat_id: str,
        chat_type: str | None,
        title: str | None,
        context: ExportContext,
        builder: BatchBuilder,
        own_ids: frozenset[str],
    ) -> None:
        self.chat_id = chat_id
        self.is_group = chat_type not in _PRIVATE_TYPES
        self.title = title if self.is_group else None
        self.context = context
        self.builder = builder
        self.account_id = builder.account_id or DEFAULT_ACCOUNT_ID
        self.own_ids = own_ids

    def key(self, message_id: str) -> MessageKey:
        return MessageKey(
            platform=PLATFORM,
            account_id=self.account_id,
            chat_id=self.chat_id,
            message_id=message_id,
        )

    def decode(self, message: Any) -> None:
        if not isinstance(message, Mapping):
            raise InvalidPart("messages entry is not an object")
        identifier = message.get("id")
        if isinstance(identifier, bool) or not isinstance(identifier, int | str):
            raise InvalidPart("id is missing or not a number")
        message_id = str(identifier)
        sent_at = _time(message, "date_unixtime", "date")
        if sent_at is None:
            raise InvalidPart("date_unixtime and date are missing")
        message_type = message.get("type")
        if message_type == "service":
            self.service(message, sent_at)
            return
        if message_type != "message":
            self.builder.ignore(
                dict(message),
                kind=str(message_type),
                reason=f"Telegram export entry type {message_type!r} is not a message",
            )
            return

        sender = _sender(message)
        text = plain_text(message.get("text"))
        kind, attachments = _attachments(message)
        poll = message.get("poll")
        if kind is MessageKind.POLL and isinstance(poll, Mapping) and text is None:
            question = poll.get("question")
            text = question if isinstance(question, str) else None
        if kind is None:
            kind = MessageKind.TEXT if text is not None else MessageKind.UNSUPPORTED
        reply_to = message.get("reply_to_message_id")
        forwarded = message.get("forwarded_from")
        outbound = sender is not None and sender.user_id in self.own_ids
        key = self.key(message_id)
        items: list[Item] = [
            Message(
                key=key,
                direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
                kind=kind,
                is_group=self.is_group,
                chat_title=self.title,
                sender=sender,
                text=text,
                attachments=tuple(attachments),
                reply_to=str(reply_to) if isinstance(reply_to, int | str) else None,
                forwarded_from=forwarded if isinstance(forwarded, str) else None,
                sent_at=sent_at,
                received_at=self.context.received_at,
                raw=dict(message),
            )
        ]
        edited_at = _time(message, "edited_unixtime", "edited")
        if edited_at is not None:
            # The export holds only the final text; the edit event records
            # when it changed, and updates a copy the bot stored earlier.
            items.append(
                EditEvent(
                    target=key,
                    text=text,
                    occurred_at=edited_at,
                    received_at=self.context.received_at,
                    raw={"id": message_id, "edited_unixtime": message.get("edited_unixtime")},
                )
            )
        items.extend(self.reactions(key, message, sent_at))
        self.builder.add(*items)

    def reactions(
        self, key: MessageKey, message: Mapping[str, Any], sent_at: datetime
    ) -> list[ReactionEvent]:
        reactions = message.get("reactions")
        if reactions is None:
            return []
        if not isinstance(reactions, list):
            raise InvalidPart("reactions is not a list")
        by_actor: dict[str, tuple[list[str], datetime]] = {}
        for reaction in reactions:
            if not isinstance(reaction, Mapping):
                raise InvalidPart("reactions entry is not an object")
            emoji = reaction.get("emoji") or reaction.get("document_id")
            if not isinstance(emoji, str):
                continue
            for recent in reaction.get("recent") or []:
                peer = _peer(recent.get("from_id")) if isinstance(recent, Mapping) else None
                if peer is None:
                    continue
                actor = peer[1] if peer[0] == "user" else f"chat:-100{peer[1]}"
                when = _time(recent, "date_unixtime", "date") or sent_at
                emojis, latest = by_actor.get(actor, ([], when))
                emojis.append(emoji)
                by_actor[actor] = (emojis, max(latest, when))
        return [
            ReactionEvent(
                target=key,
                actor_id=actor,
                emojis=tuple(emojis),
                occurred_at=when,
                received_at=self.context.received_at,
                raw={"reactions": reactions},
            )
            for actor, (emojis, when) in sorted(by_actor.items())
        ]

    def service(self, message: Mapping[str, Any], sent_at: datetime) -> None:
        action = message.get("action")
        actor = _peer(message.get("actor_id"))
        actor_id = actor[1] if actor is not None and actor[0] == "user" else None
        if action in _JOIN_ACTIONS | _LEAVE_ACTIONS:
            members = message.get("members")
            if action != "invite_members" and action != "remove_members" and actor_id:
                participant_ids: tuple[str, ...] = (actor_id,)
            elif isinstance(members, list) and members:
                # The export names added or removed members without their ids.
                participant_ids = tuple(f"name:{member}" for member in members)
            else:
                raise InvalidPart(f"{action} service message has no members")
            self.builder.add(
                ParticipantEvent(
                    conversation=ConversationKey(
                        platform=PLATFORM, account_id=self.account_id, chat_id=self.chat_id
                    ),
                    action="leave" if action in _LEAVE_ACTIONS else "join",
                    participant_ids=participant_ids,
                    actor_id=actor_id,
                    occurred_at=sent_at,
                    received_at=self.context.received_at,
                    raw=dict(message),
                )
            )
            return
        self.builder.ignore(
            dict(message),
            kind=f"service.{action}",
            reason="service message, not a conversation message",
        )


def _chats(document: Any) -> tuple[list[Any], str | None]:
    """Return the chats of an export and the exporting user's id, if it names one."""
    if isinstance(document, list):
        return [{"messages": document}], None
    if not isinstance(document, Mapping):
        raise InvalidPart("export is neither an object nor a list of messages")
    owner = _owner(document)
    if "messages" in document:
        return [document], owner
    chats: list[Any] = []
    for section in ("chats", "left_chats"):
        part = document.get(section)
        if isinstance(part, Mapping) and isinstance(part.get("list"), list):
            chats.extend(part["list"])
    if not chats and owner is None:
        raise InvalidPart("export has neither messages nor chats.list")
    return chats, owner


def _owner(document: Mapping[str, Any]) -> str | None:
    """Return the exporting user's id from ``personal_information``, if the export names it."""
    personal = document.get("personal_information")
    if isinstance(personal, Mapping) and isinstance(personal.get("user_id"), int | str):
        return str(personal["user_id"])
    return None


def _fragment_chat(messages: Iterable[Any]) -> tuple[str, str] | None:
    """Return the chat id and type of a bare message list from its channel posts."""
    channels = {
        peer[1]
        for message in messages
        if isinstance(message, Mapping)
        for peer in [_peer(message.get("from_id"))]
        if peer is not None and peer[0] == "channel"
    }
    if len(channels) == 1:
        return f"-100{channels.pop()}", "public_channel"
    return None


def decode(source: ExportSource, context: ExportContext) -> Iterator[Batch]:
    """Yield the chats of a Telegram Desktop export as batches.

    The file is read twice, one message at a time: once to check the whole
    file and learn the owner and each chat's id, once to decode it. A file
    that does not parse, or has a shape that makes the whole file a single
    quarantined part, is read whole instead, so it is quarantined whole with
    nothing imported from it.
    """
    builder = BatchBuilder(PLATFORM, context.account_id or DEFAULT_ACCOUNT_ID, context.chunk_size)
    try:
        with source.open() as handle:
            outline = _outline_file(JsonReader(handle))
    except ValueError:
        # Invalid UTF-8 or JSON, or a shape left to the whole-file reader,
        # which reports it as before.
        outline = None
    if outline is None:
        yield from _decode_whole_file(source, context, builder)
        return

    own_ids = _own_ids(context, outline.owner)
    # NOTE: the second pass assumes the file did not change since the first.
    if outline.fragment_chat_id is not None:
        decoder = _Chat(outline.fragment_chat_id, "public_channel", None, context, builder, own_ids)
        with source.open() as handle:
            messages = JsonReader(handle).elements()
            yield from _decode_messages(decoder, messages, f"{source.location}#", builder)
    elif outline.single_chat is not None:
        chat = outline.single_chat
        assert chat.chat_id is not None
        decoder = _Chat(chat.chat_id, chat.chat_type, chat.name, context, builder, own_ids)
        with source.open() as handle:
            reader = JsonReader(handle)
            for key in reader.members():
                if key != "messages":
                    reader.skip()
                    continue
                prefix = f"{source.location}#messages"
                yield from _decode_messages(decoder, reader.elements(), prefix, builder)
    else:
        in_file_order = list(outline.sections)
        # Chats are decoded in the whole-file reader's order, "chats" first,
        # which takes one walk per section when "left_chats" comes first in the file.
        in_order = [name for name in _SECTIONS if name in outline.sections]
        walks = [in_order] if in_file_order == in_order else [[name] for name in in_order]
        for wanted in walks:
            with source.open() as handle:
                yield from _stream_sections(
                    JsonReader(handle), wanted, outline, source, context, builder, own_ids
                )
    yield from builder.rest()


_SECTIONS = ("chats", "left_chats")


@dataclass
class _ChatOutline:
    """Facts about one chat object, found by the checking pass."""

    chat_id: str | None = None
    """Set when the chat can be decoded message by message. Otherwise it is read whole."""
    chat_type: str | None = None
    name: str | None = None


@dataclass
class _FileOutline:
    """Facts about a whole ``result.json``, found by the checking pass."""

    owner: str | None = None
    fragment_chat_id: str | None = None
    """The channel of a bare message list."""
    single_chat: _ChatOutline | None = None
    """The chat of a one-chat export."""
    sections: dict[str, list[_ChatOutline]] = field(default_factory=dict)
    """The chat lists of a whole-account export, by section name, in file order."""


def _outline_file(reader: JsonReader) -> _FileOutline | None:
    """Walk the whole file once and check its JSON; ``None`` leaves it to the whole-file reader.

    Raises:
        ValueError: the file is not UTF-8 or not JSON.
    """
    if reader.peek() == "[":
        found = _fragment_chat(reader.elements())
        reader.end()
        return _FileOutline(fragment_chat_id=found[0]) if found is not None else None
    if reader.peek() != "{":
        return None

    keys: Counter[str] = Counter()
    members: dict[str, Any] = {}
    messages_are_list = False
    sections: dict[str, list[_ChatOutline] | None] = {}
    for key in reader.members():
        keys[key] += 1
        if key == "messages":
            messages_are_list = reader.peek() == "["
            reader.skip()
        elif key in _SECTIONS:
            sections[key] = _outline_section(reader)
        elif key in ("name", "type", "id", "personal_information"):
            members[key] = reader.value()
        else:
            reader.skip()
    reader.end()
    if any(keys[key] > 1 for key in ("messages", *_SECTIONS)):
        # json.loads keeps the last of repeated keys; the whole-file reader does the same.
        return None

    outline = _FileOutline(owner=_owner(members))
    if keys["messages"]:
        chat = _chat_outline(members, messages_are_list)
        if chat.chat_id is None:
            return None
        outline.single_chat = chat
        return outline
    outline.sections = {name: chats for name, chats in sections.items() if chats is not None}
    if not any(outline.sections.values()) and outline.owner is None:
        return None
    return outline


def _outline_section(reader: JsonReader) -> list[_ChatOutline] | None:
    """Outline the chats of ``chats`` or ``left_chats``, or return ``None`` if it has no ``list``."""
    if reader.peek() != "{":
        reader.skip()
        return None
    lists = 0
    chats: list[_ChatOutline] | None = None
    for key in reader.members():
        if key != "list":
            reader.skip()
            continue
        lists += 1
        if reader.peek() == "[":
            chats = [_outline_chat(reader) for _ in reader.items()]
        else:
            chats = None
            reader.skip()
    if lists > 1:
        raise UnexpectedShape("repeated list key in a chats section")
    return chats


def _outline_chat(reader: JsonReader) -> _ChatOutline:
    if reader.peek() != "{":
        reader.skip()
        return _ChatOutline()
    message_lists = 0
    messages_are_list = False
    members: dict[str, Any] = {}
    for key in reader.members():
        if key == "messages":
            message_lists += 1
            messages_are_list = reader.peek() == "["
            reader.skip()
        elif key in ("name", "type", "id"):
            members[key] = reader.value()
        else:
            reader.skip()
    # A repeated messages key is left to the whole-chat reader, where the last one counts.
    return _chat_outline(members, message_lists == 1 and messages_are_list)


def _chat_outline(members: Mapping[str, Any], messages_are_list: bool) -> _ChatOutline:
    if not messages_are_list:
        return _ChatOutline()
    raw_type = members.get("type")
    chat_type = raw_type if isinstance(raw_type, str) else None
    try:
        chat_id = bot_api_chat_id(chat_type, members.get("id"))
    except InvalidPart:
        return _ChatOutline()
    name = members.get("name")
    return _ChatOutline(chat_id, chat_type, name if isinstance(name, str) else None)


def _stream_sections(
    reader: JsonReader,
    wanted: list[str],
    outline: _FileOutline,
    source: ExportSource,
    context: ExportContext,
    builder: BatchBuilder,
    own_ids: frozenset[str],
) -> Iterator[Batch]:
    """Decode the chats of the ``wanted`` sections, one message at a time where possible."""
    # Chat numbers in locations run on from "chats" into "left_chats".
    first_index = {"chats": 0, "left_chats": len(outline.sections.get("chats", []))}
    for key in reader.members():
        if key not in wanted or key not in outline.sections:
            reader.skip()
            continue
        chats = outline.sections[key]
        for section_key in reader.members():
            if section_key != "list":
                reader.skip()
                continue
            for position, _ in enumerate(reader.items()):
                chat_index = first_index[key] + position
                prefix = f"{source.location}#chats[{chat_index}].messages"
                chat = chats[position]
                if chat.chat_id is None:
                    yield from _decode_chat(
                        reader.value(), prefix, False, context, builder, own_ids, source
                    )
                    continue
                decoder = _Chat(chat.chat_id, chat.chat_type, chat.name, context, builder, own_ids)
                for chat_key in reader.members():
                    if chat_key == "messages":
                        yield from _decode_messages(decoder, reader.elements(), prefix, builder)
                    else:
                        reader.skip()


def _own_ids(context: ExportContext, owner: str | None) -> frozenset[str]:
    own_ids = set(context.own_user_ids)
    if owner is not None:
        own_ids.add(owner)
    if context.account_id and context.account_id.isdigit():
        own_ids.add(context.account_id)
    return frozenset(own_ids)


def _decode_whole_file(
    source: ExportSource, context: ExportContext, builder: BatchBuilder
) -> Iterator[Batch]:
    data = source.read()
    document, problem = parse_json_bytes(data, allow_bom=True)
    if problem is not None:
        builder.quarantine(problem, data, source.location)
        yield from builder.rest()
        return
    try:
        chats, owner = _chats(document)
    except InvalidPart as error:
        builder.quarantine(f"Telegram export: {error}", data, source.location)
        yield from builder.rest()
        return

    own_ids = _own_ids(context, owner)
    bare_list = isinstance(document, list)
    single_chat = not bare_list and len(chats) == 1 and chats[0] is document
    for chat_index, chat in enumerate(chats):
        if bare_list:
            prefix = f"{source.location}#"
        elif single_chat:
            prefix = f"{source.location}#messages"
        else:
            prefix = f"{source.location}#chats[{chat_index}].messages"
        yield from _decode_chat(chat, prefix, bare_list, context, builder, own_ids, source)
    yield from builder.rest()


def _decode_chat(
    chat: Any,
    prefix: str,
    bare_list: bool,
    context: ExportContext,
    builder: BatchBuilder,
    own_ids: frozenset[str],
    source: ExportSource,
) -> Iterator[Batch]:
    """Decode one chat read whole, or quarantine it when it has no usable id or messages."""
    if not isinstance(chat, Mapping) or not isinstance(chat.get("messages"), list):
        builder.quarantine("chat has no messages list", chat, prefix.rstrip("#"))
        return
    messages = chat["messages"]
    chat_type: str | None
    if bare_list:
        found = _fragment_chat(messages)
        if found is None:
            builder.quarantine(
                "Telegram export chat: a bare message list names no single channel in "
                "from_id, so its chat is unknown; import the chat's result.json instead",
                chat,
                source.location,
            )
            return
        chat_id, chat_type = found
    else:
        raw_type = chat.get("type")
        chat_type = raw_type if isinstance(raw_type, str) else None
        try:
            chat_id = bot_api_chat_id(chat_type, chat.get("id"))
        except InvalidPart as error:
            builder.quarantine(f"Telegram export chat: {error}", chat, prefix.rstrip("#"))
            return
    name = chat.get("name")
    decoder = _Chat(
        chat_id,
        chat_type,
        name if isinstance(name, str) else None,
        context,
        builder,
        own_ids,
    )
    yield from _decode_messages(decoder, messages, prefix, builder)


def _decode_messages(
    decoder: _Chat, messages: Iterable[Any], prefix: str, builder: BatchBuilder
) -> Iterator[Batch]:
    for index, message in enumerate(messages):
        location = f"{prefix}[{index}]"
        try:
            decoder.decode(message)
        except InvalidPart as error:
            builder.quarantine(f"Telegram export message: {error}", message, location)
        except ValidationError as error:
            builder.quarantine(
                f"Telegram export message failed validation: {error.errors()[0]['msg']}",
                message,
                location,
            )
        yield from builder.drain_if_full()
