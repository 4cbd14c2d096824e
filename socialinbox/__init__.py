"""socialinbox: one inbox for X, Messenger, Instagram and Telegram direct messages.

The names below are the supported public API; everything else may change
without notice. A five-minute tour::

    import socialinbox

    store = socialinbox.Store.open("sqlite:///inbox.db")
    batch = socialinbox.normalize(webhook_body, "messenger")
    store.ingest(batch)
    for conversation in store.list_conversations(status="open"):
        print(conversation.key, conversation.last_message_at)

Async services use :func:`open_store`, which returns an :class:`AsyncStore`
with the same methods as coroutines.
"""

from socialinbox.errors import (
    AuthError,
    ConfigError,
    DecodeError,
    NotEligible,
    NotFound,
    PermissionDenied,
    PlatformError,
    RateLimited,
    SinkError,
    SocialInboxError,
    StoreError,
    TransportError,
    UsageError,
)
from socialinbox.ingest import CursorUpdate, IngestResult
from socialinbox.model import (
    Account,
    Attachment,
    AttachmentStatus,
    AttachmentType,
    Batch,
    Contact,
    ContactStatus,
    ContactStatusEvent,
    Conversation,
    ConversationKey,
    DeleteEvent,
    DeliveryEvent,
    Direction,
    EditEvent,
    Event,
    Ignored,
    Item,
    Message,
    MessageKey,
    MessageKind,
    NoticeEvent,
    OutboundMessage,
    ParticipantEvent,
    Platform,
    PostbackEvent,
    Quarantined,
    ReactionEvent,
    ReadEvent,
    SendResult,
    TextFormat,
)
from socialinbox.replay import normalize
from socialinbox.store import (
    AsyncStore,
    QuarantineEntry,
    SendRecord,
    Store,
    StoredMessage,
    open_store,
)

__all__ = [
    "Account",
    "AsyncStore",
    "Attachment",
    "AttachmentStatus",
    "AttachmentType",
    "AuthError",
    "Batch",
    "ConfigError",
    "Contact",
    "ContactStatus",
    "ContactStatusEvent",
    "Conversation",
    "ConversationKey",
    "CursorUpdate",
    "DecodeError",
    "DeleteEvent",
    "DeliveryEvent",
    "Direction",
    "EditEvent",
    "Event",
    "Ignored",
    "IngestResult",
    "Item",
    "Message",
    "MessageKey",
    "MessageKind",
    "NotEligible",
    "NotFound",
    "NoticeEvent",
    "OutboundMessage",
    "ParticipantEvent",
    "PermissionDenied",
    "Platform",
    "PlatformError",
    "PostbackEvent",
    "QuarantineEntry",
    "Quarantined",
    "RateLimited",
    "ReactionEvent",
    "ReadEvent",
    "SendRecord",
    "SendResult",
    "SinkError",
    "SocialInboxError",
    "Store",
    "StoreError",
    "StoredMessage",
    "TextFormat",
    "TransportError",
    "UsageError",
    "normalize",
    "open_store",
]
