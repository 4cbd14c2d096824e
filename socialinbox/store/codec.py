"""Conversion between model objects and table rows."""

from __future__ import annotations

import hashlib
from typing import Any

from socialinbox.model import (
    Attachment,
    AttachmentStatus,
    Contact,
    Direction,
    Message,
    MessageKey,
    MessageKind,
    Platform,
    TextFormat,
)

__all__ = [
    "attachments_to_json",
    "created_event_key",
    "erase_attachments",
    "message_from_row",
    "message_payload",
    "message_to_row",
]


def attachments_to_json(attachments: tuple[Attachment, ...]) -> list[dict[str, Any]]:
    return [item.model_dump(mode="json", exclude_none=True) for item in attachments]


def erase_attachments(attachments: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Keep the type of each attachment of a deleted message and drop everything else."""
    return [
        {"type": item.get("type", "other"), "status": AttachmentStatus.ERASED.value}
        for item in attachments or []
    ]


def created_event_key(key: MessageKey) -> str:
    """Return the outbox idempotency key of the ``message.created`` event for ``key``."""
    return hashlib.sha256(f"message.created|{key}".encode()).hexdigest()[:32]


def message_to_row(message: Message, conversation_id: int) -> dict[str, Any]:
    key = message.key
    attachments = attachments_to_json(message.attachments)
    sender = (
        message.sender.model_dump(mode="json", exclude_none=True)
        if message.sender is not None
        else None
    )
    return {
        "conversation_id": conversation_id,
        "platform": key.platform.value,
        "account_id": key.account_id,
        "chat_id": key.chat_id,
        "message_id": key.message_id,
        "direction": message.direction.value,
        "kind": message.kind.value,
        "is_group": message.is_group,
        "sender_id": message.sender.user_id if message.sender is not None else None,
        "sender": sender,
        "chat_title": message.chat_title,
        "text": message.text,
        "original_text": message.text,
        "text_format": message.text_format.value,
        "attachments": attachments,
        "original_attachments": attachments,
        "reply_to": message.reply_to,
        "forwarded_from": message.forwarded_from,
        "sent_at": message.sent_at,
        "received_at": message.received_at,
        "edit_count": message.edit_count,
        "deleted": message.deleted,
        "deleted_at": None,
        "client_ref": message.client_ref,
        "raw": message.raw,
    }


def message_payload(message: Message) -> dict[str, Any]:
    """Return the JSON form of ``message`` that sinks receive (no raw payload)."""
    return message.model_dump(mode="json", exclude={"raw"})


def message_from_row(row: Any) -> Message:
    """Rebuild a :class:`Message` from a ``messages`` row (current state)."""
    sender = Contact.model_validate(row.sender) if row.sender else None
    return Message(
        key=MessageKey(
            platform=Platform(row.platform),
            account_id=row.account_id,
            chat_id=row.chat_id,
            message_id=row.message_id,
        ),
        direction=Direction(row.direction),
        kind=MessageKind(row.kind),
        is_group=row.is_group,
        chat_title=row.chat_title,
        sender=sender,
        text=row.text,
        text_format=TextFormat(row.text_format),
        attachments=tuple(Attachment.model_validate(item) for item in row.attachments or []),
        reply_to=row.reply_to,
        forwarded_from=row.forwarded_from,
        sent_at=row.sent_at,
        received_at=row.received_at,
        edit_count=row.edit_count,
        deleted=row.deleted,
        client_ref=row.client_ref,
        raw=row.raw,
    )
