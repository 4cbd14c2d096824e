"""Helpers for the CRM sink tests: model builders, a settable clock and a webhook receiver."""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from socialinbox.crm.base import OutboxEvent
from socialinbox.crm.webhook import WebhookVerificationError, verify_webhook
from socialinbox.model import (
    Attachment,
    AttachmentType,
    Batch,
    Contact,
    DeleteEvent,
    Direction,
    EditEvent,
    Item,
    Message,
    MessageKey,
    Platform,
    ReactionEvent,
    ReadEvent,
)
from socialinbox.store import Store
from socialinbox.store.tables import DeliveryRow, OutboxRow, table_of

T0 = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)
ACCOUNT = "7000"
OUTBOX = table_of(OutboxRow)
DELIVERIES = table_of(DeliveryRow)


def message(
    chat: str,
    number: int,
    text: str | None = None,
    *,
    direction: Direction = Direction.INBOUND,
    platform: Platform = Platform.TELEGRAM,
    attachments: tuple[Attachment, ...] = (),
) -> Message:
    """Build a direct message ``number`` in chat ``chat`` from contact ``chat``."""
    sender = (
        Contact(platform=platform, user_id=chat, display_name=f"Müşteri {chat}")
        if direction is Direction.INBOUND
        else Contact(platform=platform, user_id=ACCOUNT, display_name="Destek")
    )
    sent = T0 + timedelta(minutes=number)
    return Message(
        key=MessageKey(platform=platform, account_id=ACCOUNT, chat_id=chat, message_id=str(number)),
        direction=direction,
        sender=sender,
        text=text if text is not None else f"Merhaba, çekim talebim {number} ne durumda?",
        attachments=attachments,
        sent_at=sent,
        received_at=sent + timedelta(seconds=2),
    )


def edit(target: Message, text: str) -> EditEvent:
    return EditEvent(
        target=target.key,
        text=text,
        occurred_at=target.sent_at + timedelta(minutes=5),
        received_at=target.sent_at + timedelta(minutes=5),
    )


def delete(target: Message) -> DeleteEvent:
    return DeleteEvent(
        target=target.key,
        occurred_at=target.sent_at + timedelta(minutes=6),
        received_at=target.sent_at + timedelta(minutes=6),
    )


def reaction(target: Message, *emojis: str) -> ReactionEvent:
    return ReactionEvent(
        target=target.key,
        actor_id=target.key.chat_id,
        emojis=emojis,
        occurred_at=target.sent_at + timedelta(minutes=7),
        received_at=target.sent_at + timedelta(minutes=7),
    )


def read(target: Message) -> ReadEvent:
    return ReadEvent(
        conversation=target.conversation,
        reader_id=target.key.chat_id,
        message_id=target.key.message_id,
        occurred_at=target.sent_at + timedelta(minutes=8),
        received_at=target.sent_at + timedelta(minutes=8),
    )


def image() -> Attachment:
    return Attachment(type=AttachmentType.IMAGE, media_id="AgAD-1", file_name="dekont.jpg")


def ingest(store: Store, *items: Item) -> None:
    """Store ``items`` one batch at a time, in the order given, like successive polls."""
    for item in items:
        store.ingest(Batch(items=(item,)))


def outbox_events(store: Store) -> list[OutboxEvent]:
    with store.engine.connect() as connection:
        rows = connection.execute(sa.select(OUTBOX).order_by(OUTBOX.c.id)).all()
    return [OutboxEvent.from_row(row) for row in rows]


def deliveries(store: Store, sink: str) -> dict[int, Any]:
    """Return outbox id -> ``deliveries`` row of ``sink``."""
    with store.engine.connect() as connection:
        rows = connection.execute(sa.select(DELIVERIES).where(DELIVERIES.c.sink == sink)).all()
    return {row.outbox_id: row for row in rows}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] | None = None
    commit: bool = False
    """Count the event as received before answering (a response lost on the way back)."""


class WebhookReceiver:
    """A Standard Webhooks receiver app: verifies signatures and counts events by ``webhook-id``."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.lock = threading.Lock()
        self.answers: deque[Answer] = deque()
        self.failing: Answer | None = None
        """When set, every request gets this answer until cleared."""
        self.posts: list[str] = []
        """``webhook-id`` of every verified request that was accepted, in arrival order."""
        self.bodies: dict[str, Any] = {}
        self.rejected_signatures = 0
        self.app = Starlette(routes=[Route("/hook", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        try:
            document = verify_webhook(self.secret, dict(request.headers), body)
        except WebhookVerificationError:
            with self.lock:
                self.rejected_signatures += 1
            return JSONResponse({"error": "bad signature"}, status_code=401)
        webhook_id = request.headers["webhook-id"]
        with self.lock:
            answer = self.failing or (self.answers.popleft() if self.answers else Answer())
            if 200 <= answer.status < 300 or answer.commit:
                self.posts.append(webhook_id)
                self.bodies[webhook_id] = document
        return JSONResponse({"ok": True}, status_code=answer.status, headers=answer.headers)

    def arrivals(self) -> Counter[str]:
        """Return how many times each event arrived."""
        with self.lock:
            return Counter(self.posts)

    def stored(self) -> Counter[str]:
        """Return the events the receiver keeps: one copy per ``webhook-id``."""
        with self.lock:
            return Counter(dict.fromkeys(self.bodies, 1))
