"""The normalized model every adapter produces and every consumer reads.

All models are frozen pydantic v2 models. Identifiers are strings on every
platform, because Messenger app ids and Telegram update ids exceed 2**53 and
lose precision as JSON numbers. Every datetime is aware and in UTC: a naive
value is rejected and an aware one is converted to UTC on validation.

The platform payload a value came from is kept in ``raw`` so that fields we do
not understand yet survive and can be reprocessed. ``raw`` is excluded from
``repr`` because it carries personal data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
)

__all__ = [
    "Account",
    "Attachment",
    "AttachmentStatus",
    "AttachmentType",
    "Batch",
    "ContactStatus",
    "ContactStatusEvent",
    "Contact",
    "Conversation",
    "ConversationKey",
    "DeleteEvent",
    "DeliveryEvent",
    "Direction",
    "EditEvent",
    "Event",
    "Ignored",
    "Item",
    "Message",
    "MessageKey",
    "MessageKind",
    "NoticeEvent",
    "OutboundMessage",
    "ParticipantEvent",
    "Platform",
    "PostbackEvent",
    "Quarantined",
    "ReactionEvent",
    "ReadEvent",
    "SendResult",
    "TextFormat",
    "utc_now",
]


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""An aware datetime, converted to UTC; naive datetimes fail validation."""


def utc_now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class Platform(StrEnum):
    """A messaging platform that socialinbox reads from and sends to."""

    X = "x"
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"
    TELEGRAM = "telegram"


class Direction(StrEnum):
    """Whether a message was written by a contact or by the account."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MessageKind(StrEnum):
    """The main content type of a message; attachments give the details."""

    TEXT = "text"
    MEDIA = "media"
    STICKER = "sticker"
    SHARE = "share"
    STORY_MENTION = "story_mention"
    LOCATION = "location"
    CONTACT_CARD = "contact_card"
    POLL = "poll"
    SERVICE = "service"
    UNSUPPORTED = "unsupported"


class TextFormat(StrEnum):
    """The markup of ``Message.text``."""

    PLAIN = "plain"
    MARKDOWN = "markdown"
    HTML = "html"


class AttachmentType(StrEnum):
    """The kind of media or object attached to a message."""

    IMAGE = "image"
    VIDEO = "video"
    ANIMATION = "animation"
    AUDIO = "audio"
    VOICE = "voice"
    FILE = "file"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACT = "contact"
    SHARE = "share"
    POST = "post"
    REEL = "reel"
    STORY = "story"
    STORY_MENTION = "story_mention"
    FALLBACK = "fallback"
    OTHER = "other"


class AttachmentStatus(StrEnum):
    """Whether the content of an attachment can still be fetched."""

    AVAILABLE = "available"
    """The platform media id or URL can be used to download the file."""
    TOO_LARGE = "too_large"
    """The file exceeds what the platform API lets a bot download."""
    EXPIRED = "expired"
    """The platform no longer serves the file (for example, an expired CDN URL)."""
    NOT_INCLUDED = "not_included"
    """The source (usually a data export) references the file without containing it."""
    IN_EXPORT = "in_export"
    """The file is inside the data export the message was imported from; ``file_name`` is its path there."""
    ERASED = "erased"
    """The message was deleted, so the reference was removed."""


class ContactStatus(StrEnum):
    """Delivery-relevant state of a contact, recorded from platform events."""

    ACTIVE = "active"
    BLOCKED_US = "blocked_us"
    """The contact blocked the account; sends to them are not eligible."""
    MESSAGE_REQUEST = "message_request"
    """The conversation is still a message request the contact has not accepted."""
    OPTED_OUT = "opted_out"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


class Account(_Frozen):
    """Our own presence on a platform: a bot, a page or a handle."""

    platform: Platform
    account_id: str = Field(min_length=1)
    username: str | None = None
    display_name: str | None = None


class Contact(_Frozen):
    """A person (or a bot, or a chat acting as a sender) on one platform."""

    platform: Platform
    user_id: str = Field(min_length=1)
    username: str | None = None
    display_name: str | None = None
    language_code: str | None = None
    is_bot: bool | None = None


class ConversationKey(_Frozen):
    """Identity of one chat between an account and a contact or a group."""

    platform: Platform
    account_id: str = Field(min_length=1)
    chat_id: str = Field(min_length=1)

    def __str__(self) -> str:
        return f"{self.platform.value}:{self.account_id}:{self.chat_id}"


class Conversation(_Frozen):
    """A conversation with its workflow state, as the store returns it."""

    key: ConversationKey
    is_group: bool = False
    title: str | None = None
    contact_user_id: str | None = None
    status: Literal["open", "closed"] = "open"
    assignee: str | None = None
    priority: int = 0
    tags: tuple[str, ...] = ()
    first_message_at: UtcDatetime | None = None
    last_message_at: UtcDatetime | None = None
    last_inbound_at: UtcDatetime | None = None
    """Latest inbound message or postback; opens the messaging window on Meta platforms."""
    last_read_at: UtcDatetime | None = None


class MessageKey(_Frozen):
    """Canonical identity of a message.

    The platform message id is unique only inside one chat on Telegram, so
    the chat is part of the key on every platform.
    """

    platform: Platform
    account_id: str = Field(min_length=1)
    chat_id: str = Field(min_length=1)
    message_id: str = Field(min_length=1)

    @property
    def conversation(self) -> ConversationKey:
        return ConversationKey(
            platform=self.platform, account_id=self.account_id, chat_id=self.chat_id
        )

    def __str__(self) -> str:
        return f"{self.platform.value}:{self.account_id}:{self.chat_id}:{self.message_id}"


class Attachment(_Frozen):
    """One piece of media or a shared object inside a message."""

    type: AttachmentType
    media_id: str | None = None
    """Platform id usable to fetch the file (Telegram ``file_id``, X media key)."""
    url: str | None = None
    mime_type: str | None = None
    size: int | None = Field(default=None, ge=0)
    """Size in bytes, when the platform reports it."""
    status: AttachmentStatus = AttachmentStatus.AVAILABLE
    file_name: str | None = None
    title: str | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    """Length in seconds for audio and video."""
    is_animated: bool | None = None


class Message(_Frozen):
    """A message in a conversation, inbound or outbound."""

    type: Literal["message"] = "message"
    key: MessageKey
    direction: Direction
    kind: MessageKind = MessageKind.TEXT
    is_group: bool = False
    chat_title: str | None = None
    sender: Contact | None = None
    """The author, or ``None`` for anonymous channel posts."""
    text: str | None = None
    text_format: TextFormat = TextFormat.PLAIN
    attachments: tuple[Attachment, ...] = ()
    reply_to: str | None = None
    """Platform message id (or story id) this message replies to."""
    forwarded_from: str | None = None
    """Display name or id of the original author of a forwarded message."""
    sent_at: UtcDatetime
    """Platform timestamp."""
    received_at: UtcDatetime
    """When socialinbox first received the payload."""
    edit_count: int = Field(default=0, ge=0)
    deleted: bool = False
    client_ref: str | None = None
    """Our own send reference carried back by an echo (Messenger ``metadata``)."""
    raw: dict[str, Any] | None = Field(default=None, repr=False)

    @property
    def conversation(self) -> ConversationKey:
        return self.key.conversation


class _EventBase(_Frozen):
    occurred_at: UtcDatetime
    received_at: UtcDatetime
    raw: dict[str, Any] | None = Field(default=None, repr=False)

    def identity(self) -> str:
        """Return a stable id for this event, equal for redeliveries of it."""
        fields = self.model_dump(mode="json", exclude={"raw", "received_at"})
        encoded = json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(encoded).hexdigest()[:32]


class EditEvent(_EventBase):
    """A message's text or attachments changed."""

    type: Literal["edit"] = "edit"
    target: MessageKey
    text: str | None = None
    attachments: tuple[Attachment, ...] | None = None
    """New attachments, or ``None`` when the edit left them unchanged."""
    edit_number: int | None = None
    """The platform's own edit counter, when it has one (Messenger ``num_edit``)."""


class DeleteEvent(_EventBase):
    """A message was unsent or deleted; its content is erased on ingest."""

    type: Literal["delete"] = "delete"
    target: MessageKey


class ReactionEvent(_EventBase):
    """The full current reaction of one actor on one message.

    An empty ``emojis`` tuple removes the actor's reaction. Platforms that
    report single add and remove steps are normalized to this state form.
    """

    type: Literal["reaction"] = "reaction"
    target: MessageKey
    actor_id: str
    emojis: tuple[str, ...] = ()


class ReadEvent(_EventBase):
    """A contact read the conversation up to a point."""

    type: Literal["read"] = "read"
    conversation: ConversationKey
    reader_id: str
    watermark: UtcDatetime | None = None
    message_id: str | None = None


class DeliveryEvent(_EventBase):
    """The platform reports messages delivered to the contact."""

    type: Literal["delivery"] = "delivery"
    conversation: ConversationKey
    recipient_id: str
    message_ids: tuple[str, ...] = ()
    watermark: UtcDatetime | None = None


class PostbackEvent(_EventBase):
    """A contact pressed a button or followed a referral link."""

    type: Literal["postback"] = "postback"
    conversation: ConversationKey
    sender: Contact
    payload: str | None = None
    title: str | None = None
    referral: dict[str, Any] | None = None


class ParticipantEvent(_EventBase):
    """Participants joined or left a group conversation."""

    type: Literal["participant"] = "participant"
    conversation: ConversationKey
    action: Literal["join", "leave"]
    participant_ids: tuple[str, ...]
    actor_id: str | None = None


class ContactStatusEvent(_EventBase):
    """A change in whether we may message a contact (blocked us, request accepted)."""

    type: Literal["contact_status"] = "contact_status"
    account_id: str
    contact: Contact
    status: ContactStatus
    reason: str | None = None


class NoticeEvent(_EventBase):
    """A platform notice about the account itself, such as a policy enforcement."""

    type: Literal["notice"] = "notice"
    platform: Platform
    account_id: str
    notice: str
    reason: str | None = None


Event = Annotated[
    EditEvent
    | DeleteEvent
    | ReactionEvent
    | ReadEvent
    | DeliveryEvent
    | PostbackEvent
    | ParticipantEvent
    | ContactStatusEvent
    | NoticeEvent,
    Field(discriminator="type"),
]
"""Any change that is not a new message."""

Item = Annotated[
    Message
    | EditEvent
    | DeleteEvent
    | ReactionEvent
    | ReadEvent
    | DeliveryEvent
    | PostbackEvent
    | ParticipantEvent
    | ContactStatusEvent
    | NoticeEvent,
    Field(discriminator="type"),
]
"""A message or an event: what a codec produces and ingest consumes."""


class OutboundMessage(_Frozen):
    """A message we ask a platform to deliver."""

    conversation: ConversationKey
    text: str | None = None
    attachments: tuple[Attachment, ...] = ()
    reply_to: str | None = None
    client_ref: str = Field(min_length=1)
    """Our idempotency reference, recorded before the platform call."""
    tag: str | None = None
    """Platform message tag when sending outside the standard window (Meta)."""


class SendResult(_Frozen):
    """The platform's result for an outbound message."""

    message_ids: tuple[str, ...]
    """One id per platform message: a long text or text plus media may become several."""
    sent_at: UtcDatetime


class Quarantined(_Frozen):
    """A payload that could not be normalized, kept with the reason and its bytes."""

    platform: Platform | None
    account_id: str | None = None
    reason: str
    raw: bytes = Field(repr=False)
    location: str | None = None
    """The source: a file and line, a webhook route or a poll request."""

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


class Ignored(_Frozen):
    """A well-formed payload that socialinbox deliberately does not ingest."""

    platform: Platform
    account_id: str | None = None
    kind: str
    """The platform's name for the update type, such as ``typing`` or ``chat_member``."""
    reason: str
    digest: str
    """SHA-256 of the payload, so that a redelivery is counted once."""

    @classmethod
    def of(
        cls,
        platform: Platform,
        payload: object,
        *,
        kind: str,
        reason: str,
        account_id: str | None = None,
    ) -> Ignored:
        """Build an ``Ignored`` record whose digest is computed from ``payload``."""
        encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
        digest = hashlib.sha256(encoded.encode()).hexdigest()
        return cls(
            platform=platform, account_id=account_id, kind=kind, reason=reason, digest=digest
        )


class Batch(_Frozen):
    """The output of one decode step: items to ingest and the payloads set aside."""

    items: tuple[Item, ...] = ()
    quarantined: tuple[Quarantined, ...] = ()
    ignored: tuple[Ignored, ...] = ()
    accounts: tuple[Account, ...] = ()
    """Accounts the payload revealed (a page id, a bot's own user)."""

    def __add__(self, other: Batch) -> Batch:
        # Both sides are already validated, so skip re-validating every item.
        return Batch.model_construct(
            items=self.items + other.items,
            quarantined=self.quarantined + other.quarantined,
            ignored=self.ignored + other.ignored,
            accounts=self.accounts + other.accounts,
        )

    @classmethod
    def merge(cls, batches: Iterable[Batch]) -> Batch:
        """Concatenate ``batches`` in order, in linear time."""
        items: list[Item] = []
        quarantined: list[Quarantined] = []
        ignored: list[Ignored] = []
        accounts: list[Account] = []
        for batch in batches:
            items.extend(batch.items)
            quarantined.extend(batch.quarantined)
            ignored.extend(batch.ignored)
            accounts.extend(batch.accounts)
        return cls.model_construct(
            items=tuple(items),
            quarantined=tuple(quarantined),
            ignored=tuple(ignored),
            accounts=tuple(accounts),
        )

    @property
    def messages(self) -> tuple[Message, ...]:
        return tuple(item for item in self.items if isinstance(item, Message))
