"""Read the direct messages of an X (Twitter) archive.

An archive stores its data as JavaScript assignments,
``window.YTD.direct_messages.part0 = [ ... ]``, whose right-hand side is JSON:

* ``data/direct-messages.js``: one-to-one conversations;
* ``data/direct-messages-group.js``: group conversations, whose
  ``messageCreate`` entries have no ``recipientId``;
* ``data/account.js``: the owner's ``accountId`` and ``username``.

Each conversation is ``{"dmConversation": {"conversationId", "messages"}}``
with ``messageCreate`` (``id``, ``senderId``, ``text``, ``createdAt``,
``mediaUrls``, ``urls``, ``reactions``), ``joinConversation``,
``participantsJoin``, ``participantsLeave`` and ``conversationNameUpdate``
entries.

Keys match the X codec: the chat id is the conversation id with a one-to-one
pair in canonical order, and the message id is the archive's ``id``, which is
the DM event id the API returns. A DM imported from the archive and fetched
through the API is therefore stored once, as long as both use the same
account id: the owner's X user id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from socialinbox.adapters.twitter.codec import normalize_conversation_id
from socialinbox.exports.common import (
    DEFAULT_ACCOUNT_ID,
    BatchBuilder,
    ExportContext,
    InvalidPart,
    JsonReader,
    UnexpectedShape,
)
from socialinbox.exports.sources import ExportFormat, ExportSource
from socialinbox.model import (
    Account,
    Attachment,
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

__all__ = ["REACTION_EMOJIS", "decode", "infer_owner", "parse_archive_file"]

PLATFORM = Platform.X

# NOTE: X archives name DM reactions with these keys (seen in archives from
# 2020 to 2023). A key not listed here is kept as it is, so a newer archive
# that writes the emoji itself still imports.
REACTION_EMOJIS: Mapping[str, str] = {
    "like": "❤️",
    "funny": "😂",
    "surprised": "😲",
    "sad": "😢",
    "excited": "🔥",
    "agree": "👍",
    "disagree": "👎",
}

_ENTRY_KINDS_IGNORED = {
    "conversationNameUpdate": "group name changes are not stored",
}


def parse_archive_file(data: bytes) -> Any:
    """Return the JSON value of an archive ``.js`` file (or of plain JSON).

    Raises:
        InvalidPart: the file is not UTF-8 or its JSON does not parse.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidPart(f"invalid UTF-8 at byte {error.start}") from error
    stripped = text.lstrip()
    if stripped.startswith("window."):
        _, separator, stripped = stripped.partition("=")
        if not separator:
            raise InvalidPart("archive file has no '=' after the window.YTD name")
    try:
        return json.loads(stripped)
    except json.JSONDecodeError as error:
        raise InvalidPart(
            f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from error


def infer_owner(conversations: Any) -> str | None:
    """Return the user id present in every one-to-one conversation id, when exactly one is."""
    if not isinstance(conversations, list):
        return None
    return _common_user(_conversation_id(entry) for entry in conversations)


def _conversation_id(entry: Any) -> Any:
    conversation = entry.get("dmConversation") if isinstance(entry, Mapping) else None
    return conversation.get("conversationId") if isinstance(conversation, Mapping) else None


def _common_user(conversation_ids: Iterable[Any]) -> str | None:
    common: set[str] | None = None
    for conversation_id in conversation_ids:
        if not isinstance(conversation_id, str) or "-" not in conversation_id:
            continue
        parts = set(conversation_id.split("-"))
        common = parts if common is None else common & parts
    if common is not None and len(common) == 1:
        return next(iter(common))
    return None


def _time(value: Any, field_name: str) -> datetime:
    if not isinstance(value, str):
        raise InvalidPart(f"{field_name} is missing or not a string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise InvalidPart(f"{field_name} is not an ISO 8601 time: {value!r}") from error
    if parsed.tzinfo is None:
        raise InvalidPart(f"{field_name} has no time zone: {value!r}")
    return parsed.astimezone(UTC)


def _id(value: Any, field_name: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise InvalidPart(f"{field_name} is missing or not an id")


def _chat_id(conversation: Mapping[str, Any]) -> str:
    return normalize_conversation_id(
        _id(conversation.get("conversationId"), "dmConversation.conversationId")
    )


def _media_attachment(url: Any) -> Attachment:
    if not isinstance(url, str) or not url:
        raise InvalidPart("mediaUrls entry is not a URL")
    lowered = url.lower()
    if "/dm_gif/" in lowered:
        kind = AttachmentType.ANIMATION
    elif "/dm_video/" in lowered or lowered.endswith(".mp4"):
        kind = AttachmentType.VIDEO
    else:
        kind = AttachmentType.IMAGE
    return Attachment(
        type=kind,
        url=url,
        file_name=url.rsplit("/", 1)[-1] or None,
        is_animated=True if kind is AttachmentType.ANIMATION else None,
    )


class _Decoder:
    def __init__(self, source: ExportSource, context: ExportContext, builder: BatchBuilder) -> None:
        self.source = source
        self.context = context
        self.builder = builder
        self.account_id = builder.account_id or DEFAULT_ACCOUNT_ID
        own = set(context.own_user_ids)
        if context.x_owner_id:
            own.add(context.x_owner_id)
        if self.account_id.isdigit():
            own.add(self.account_id)
        self.own_ids = frozenset(own)

    def conversation(self, index: int, entry: Any) -> Iterator[Batch]:
        location = f"{self.source.location}#[{index}]"
        conversation = entry.get("dmConversation") if isinstance(entry, Mapping) else None
        if not isinstance(conversation, Mapping):
            self.builder.quarantine("dmConversation is missing or not an object", entry, location)
            return
        try:
            chat_id = _chat_id(conversation)
        except InvalidPart as error:
            self.builder.quarantine(f"X archive conversation: {error}", entry, location)
            return
        messages = conversation.get("messages")
        if not isinstance(messages, list):
            self.builder.quarantine(
                "dmConversation.messages is missing or not a list", entry, location
            )
            return
        yield from self.messages(index, chat_id, messages)

    def messages(self, index: int, chat_id: str, messages: Iterable[Any]) -> Iterator[Batch]:
        location = f"{self.source.location}#[{index}]"
        for position, item in enumerate(messages):
            part_location = f"{location}.dmConversation.messages[{position}]"
            try:
                self.entry(chat_id, item)
            except InvalidPart as error:
                self.builder.quarantine(f"X archive DM: {error}", item, part_location)
            except ValidationError as error:
                self.builder.quarantine(
                    f"X archive DM failed validation: {error.errors()[0]['msg']}",
                    item,
                    part_location,
                )
            yield from self.builder.drain_if_full()

    def entry(self, chat_id: str, item: Any) -> None:
        if not isinstance(item, Mapping) or len(item) != 1:
            raise InvalidPart("message entry is not an object with one event key")
        kind, body = next(iter(item.items()))
        if not isinstance(body, Mapping):
            raise InvalidPart(f"{kind} is not an object")
        if kind == "messageCreate":
            self.message(chat_id, body)
        elif kind in ("joinConversation", "participantsJoin", "participantsLeave"):
            self.participants(chat_id, kind, body)
        else:
            reason = _ENTRY_KINDS_IGNORED.get(
                kind, f"X archive entry {kind} is not one socialinbox stores"
            )
            self.builder.ignore(dict(item), kind=kind, reason=reason)

    def message(self, chat_id: str, body: Mapping[str, Any]) -> None:
        event_id = _id(body.get("id"), "messageCreate.id")
        sender_id = _id(body.get("senderId"), "messageCreate.senderId")
        text = body.get("text")
        if text is not None and not isinstance(text, str):
            raise InvalidPart("messageCreate.text is not a string")
        media_urls = body.get("mediaUrls") or []
        if not isinstance(media_urls, list):
            raise InvalidPart("messageCreate.mediaUrls is not a list")
        attachments = tuple(_media_attachment(url) for url in media_urls)
        key = MessageKey(
            platform=PLATFORM, account_id=self.account_id, chat_id=chat_id, message_id=event_id
        )
        outbound = sender_id in self.own_ids
        items: list[Item] = [
            Message(
                key=key,
                direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
                kind=MessageKind.MEDIA if attachments else MessageKind.TEXT,
                is_group="-" not in chat_id,
                sender=Contact(platform=PLATFORM, user_id=sender_id),
                text=text,
                attachments=attachments,
                sent_at=_time(body.get("createdAt"), "messageCreate.createdAt"),
                received_at=self.context.received_at,
                raw=dict(body),
            )
        ]
        reactions = body.get("reactions") or []
        if not isinstance(reactions, list):
            raise InvalidPart("messageCreate.reactions is not a list")
        items.extend(self.reaction(key, reaction) for reaction in reactions)
        self.builder.add(*items)

    def reaction(self, target: MessageKey, reaction: Any) -> ReactionEvent:
        if not isinstance(reaction, Mapping):
            raise InvalidPart("reactions entry is not an object")
        reaction_key = reaction.get("reactionKey")
        if not isinstance(reaction_key, str) or not reaction_key:
            raise InvalidPart("reactions[].reactionKey is missing")
        return ReactionEvent(
            target=target,
            actor_id=_id(reaction.get("senderId"), "reactions[].senderId"),
            emojis=(REACTION_EMOJIS.get(reaction_key, reaction_key),),
            occurred_at=_time(reaction.get("createdAt"), "reactions[].createdAt"),
            received_at=self.context.received_at,
            raw=dict(reaction),
        )

    def participants(self, chat_id: str, kind: str, body: Mapping[str, Any]) -> None:
        ids = body.get("participantsSnapshot") if kind == "joinConversation" else None
        if ids is None:
            ids = body.get("userIds")
        if not isinstance(ids, list) or not ids:
            raise InvalidPart(f"{kind} has no participantsSnapshot or userIds")
        initiator = body.get("initiatingUserId")
        self.builder.add(
            ParticipantEvent(
                conversation=ConversationKey(
                    platform=PLATFORM, account_id=self.account_id, chat_id=chat_id
                ),
                action="leave" if kind == "participantsLeave" else "join",
                participant_ids=tuple(_id(user, f"{kind} user id") for user in ids),
                actor_id=_id(initiator, f"{kind}.initiatingUserId") if initiator else None,
                occurred_at=_time(body.get("createdAt"), f"{kind}.createdAt"),
                received_at=self.context.received_at,
                raw=dict(body),
            )
        )


def _learn_account(document: Any, context: ExportContext) -> None:
    entries = document if isinstance(document, list) else []
    for entry in entries:
        account = entry.get("account") if isinstance(entry, Mapping) else None
        if isinstance(account, Mapping) and account.get("accountId"):
            context.x_owner_id = str(account["accountId"])
            username = account.get("username")
            context.x_owner_username = username if isinstance(username, str) else None
            return


def decode(source: ExportSource, context: ExportContext) -> Iterator[Batch]:
    """Yield the archive file ``source`` as batches of at most ``context.chunk_size`` parts.

    A direct-messages file whose JSON is an array is read twice, one
    conversation at a time: once to check the whole file and find the owner,
    once to decode it. Every other file is read whole, so any file that does
    not parse is quarantined whole, with nothing imported from it.
    """
    account_hint = context.account_id or context.x_owner_id
    builder = BatchBuilder(PLATFORM, account_hint or DEFAULT_ACCOUNT_ID, context.chunk_size)
    if source.format is ExportFormat.X_DIRECT_MESSAGES:
        try:
            with source.open() as handle:
                outlines = _outline_file(JsonReader(handle))
        except ValueError:
            # Invalid UTF-8 or JSON, or a shape the streaming walk leaves to
            # the whole-file reader, which reports it as before.
            outlines = None
        if outlines is not None:
            decoder = _start(source, context, builder, (item.conversation_id for item in outlines))
            # NOTE: this assumes the file did not change since the check above.
            with source.open() as handle:
                yield from _stream_file(JsonReader(handle), outlines, decoder)
            yield from builder.rest()
            return
    yield from _decode_whole_file(source, context, builder)


def _decode_whole_file(
    source: ExportSource, context: ExportContext, builder: BatchBuilder
) -> Iterator[Batch]:
    data = source.read()
    try:
        document = parse_archive_file(data)
    except InvalidPart as error:
        builder.quarantine(f"X archive file: {error}", data, source.location)
        yield from builder.rest()
        return

    if source.format is ExportFormat.X_ACCOUNT:
        _learn_account(document, context)
        if context.x_owner_id is not None:
            builder.accounts.append(
                Account(
                    platform=PLATFORM,
                    account_id=context.account_id or context.x_owner_id,
                    username=context.x_owner_username,
                )
            )
        yield from builder.rest()
        return

    if not isinstance(document, list):
        builder.quarantine(
            "X archive file is not a list of conversations", document, source.location
        )
        yield from builder.rest()
        return
    decoder = _start(source, context, builder, (_conversation_id(entry) for entry in document))
    for index, entry in enumerate(document):
        yield from decoder.conversation(index, entry)
    yield from builder.rest()


def _start(
    source: ExportSource,
    context: ExportContext,
    builder: BatchBuilder,
    conversation_ids: Iterable[Any],
) -> _Decoder:
    """Settle the owner and account id of a direct-messages file and return its decoder."""
    if context.x_owner_id is None and not source.is_group_file:
        context.x_owner_id = _common_user(conversation_ids)
    account_id = context.account_id or context.x_owner_id or DEFAULT_ACCOUNT_ID
    builder.account_id = account_id
    if context.x_owner_id is not None:
        builder.accounts.append(
            Account(platform=PLATFORM, account_id=account_id, username=context.x_owner_username)
        )
    return _Decoder(source, context, builder)


@dataclass(frozen=True)
class _Outline:
    """Facts about one element of the conversation array, found by the checking pass."""

    conversation_id: Any
    """``dmConversation.conversationId`` as written, for finding the owner."""
    chat_id: str | None
    """Set when the element can be decoded message by message. Otherwise it is read whole."""


def _outline_file(reader: JsonReader) -> list[_Outline]:
    """Walk the whole file once, checking its JSON, and outline each conversation.

    Raises:
        ValueError: the file is not UTF-8 or not JSON, or its value is not an array.
    """
    _skip_assignment(reader)
    outlines = [_outline_entry(reader) for _ in reader.items()]
    reader.end()
    return outlines


def _skip_assignment(reader: JsonReader) -> None:
    if reader.looking_at("window.") and not reader.skip_past("="):
        raise UnexpectedShape("archive file has no '=' after the window.YTD name")
    if reader.peek() != "[":
        raise UnexpectedShape("the archive value is not an array")


def _outline_entry(reader: JsonReader) -> _Outline:
    if reader.peek() != "{":
        reader.value()
        return _Outline(None, None)
    conversations = 0
    outline = _Outline(None, None)
    for key in reader.members():
        if key != "dmConversation":
            reader.skip()
            continue
        conversations += 1
        outline = _outline_conversation(reader)
    # A repeated key is left to the whole-element reader, where the last one counts.
    return outline if conversations == 1 else _Outline(outline.conversation_id, None)


def _outline_conversation(reader: JsonReader) -> _Outline:
    if reader.peek() != "{":
        reader.value()
        return _Outline(None, None)
    members: dict[str, Any] = {}
    message_lists = 0
    messages_are_list = False
    for key in reader.members():
        if key == "messages":
            message_lists += 1
            messages_are_list = reader.peek() == "["
            reader.skip()
        else:
            members[key] = reader.value()
    conversation_id = members.get("conversationId")
    if message_lists != 1 or not messages_are_list:
        return _Outline(conversation_id, None)
    try:
        return _Outline(conversation_id, _chat_id(members))
    except InvalidPart:
        return _Outline(conversation_id, None)


def _stream_file(
    reader: JsonReader, outlines: list[_Outline], decoder: _Decoder
) -> Iterator[Batch]:
    _skip_assignment(reader)
    for index, _ in enumerate(reader.items()):
        chat_id = outlines[index].chat_id
        if chat_id is None:
            yield from decoder.conversation(index, reader.value())
            continue
        for key in reader.members():
            if key != "dmConversation":
                reader.skip()
                continue
            for inner_key in reader.members():
                if inner_key == "messages":
                    yield from decoder.messages(index, chat_id, reader.elements())
                else:
                    reader.skip()
