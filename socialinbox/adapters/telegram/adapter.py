"""The Telegram adapter: ``getUpdates`` polling and sends for one bot.

The adapter never touches the store. :meth:`TelegramAdapter.fetch` asks for
updates from the stored cursor (``offset``) and returns them with the next
cursor (highest ``update_id`` + 1). Telegram drops an update only when a later
``getUpdates`` call passes an offset above it, and the adapter passes only the
cursor the caller gives it, so nothing is confirmed before the caller stored
the batch together with its cursor. A crash between fetch and store replays
the same updates; ingest removes the duplicates by message key.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import SecretStr
from telegram import Message as PtbMessage
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from socialinbox.adapters.base import (
    Adapter,
    DecodeContext,
    FetchResult,
    OutboundMessage,
    SendResult,
)
from socialinbox.adapters.telegram.codec import CODEC, MESSAGE_UPDATES, parse_chat_id
from socialinbox.adapters.telegram.split import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    parse,
    split_formatted,
    split_text,
    utf16_len,
)
from socialinbox.adapters.telegram.transport import (
    DEFAULT_BASE_FILE_URL,
    DEFAULT_BASE_URL,
    BotBlocked,
    ChatMigrated,
    TelegramTransport,
)
from socialinbox.errors import (
    PlatformError,
    RateLimited,
    SocialInboxError,
    TransportError,
    UsageError,
)
from socialinbox.model import (
    AttachmentType,
    Batch,
    Contact,
    ContactStatus,
    ContactStatusEvent,
    ConversationKey,
    Platform,
    utc_now,
)

__all__ = ["DEFAULT_ALLOWED_UPDATES", "FloodPacer", "TelegramAdapter"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_ALLOWED_UPDATES: tuple[str, ...] = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "my_chat_member",
    "callback_query",
)
"""Update types requested explicitly (``message_reaction`` is off unless asked for)."""


class FloodPacer:
    """Client-side pacing to Telegram's flood limits, so sends rarely meet a 429.

    A bare PTB ``Bot`` has no rate limiter. Defaults: one message per second
    per chat, 30 per second overall, 20 per minute per group (negative chat
    id). ``margin`` adds a little to every wait against network jitter.
    """

    def __init__(
        self,
        *,
        per_chat_interval: float = 1.0,
        overall_per_second: int = 30,
        group_per_minute: int = 20,
        margin: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._per_chat_interval = per_chat_interval
        self._overall = overall_per_second
        self._group = group_per_minute
        self._margin = margin
        self._clock = clock
        self._lock = asyncio.Lock()
        self._last: dict[str, float] = {}
        self._recent: deque[float] = deque()
        self._groups: dict[str, deque[float]] = {}

    def _delay(self, chat: str, is_group: bool, now: float) -> float:
        waits = [0.0]
        last = self._last.get(chat)
        if last is not None:
            waits.append(last + self._per_chat_interval + self._margin - now)
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) >= self._overall:
            waits.append(self._recent[0] + 1.0 + self._margin - now)
        if is_group:
            window = self._groups.setdefault(chat, deque())
            while window and now - window[0] >= 60.0:
                window.popleft()
            if len(window) >= self._group:
                waits.append(window[0] + 60.0 + self._margin - now)
        return max(waits)

    async def wait(self, chat: str, *, is_group: bool) -> None:
        """Sleep until one more message to ``chat`` fits the limits, then count it."""
        async with self._lock:
            while True:
                delay = self._delay(chat, is_group, self._clock())
                if delay <= 0:
                    break
                await asyncio.sleep(delay)
            now = self._clock()
            self._last[chat] = now
            self._recent.append(now)
            if is_group:
                self._groups.setdefault(chat, deque()).append(now)

    def sent(self, chat: str) -> None:
        """Note that a message to ``chat`` just went through (after retries)."""
        self._last[chat] = self._clock()


class TelegramAdapter(Adapter):
    """One Telegram bot: long polling with ``getUpdates`` and sending.

    Args:
        token: the bot token (a ``SecretStr`` is unwrapped here and nowhere else).
        base_url: Bot API base ending in ``/bot``; an emulator's ``bot_base_url`` in tests.
        base_file_url: file download base; an emulator's ``file_base_url`` in tests.
        account_id: our account id; by default the bot's user id, which is the
            number before the colon of the token.
        own_user_ids: more user ids whose messages count as outbound (for
            example the owner of a connected Telegram Business account).
        options: codec options (``chat_types``, ``business``,
            ``max_download_bytes``; see :mod:`socialinbox.adapters.telegram.codec`).
        allowed_updates: update types requested in every ``getUpdates`` call.
        poll_timeout: long-poll timeout in seconds (0 for short polling).
        limit: updates per ``getUpdates`` call, 1 to 100.
        parse_mode: ``None`` (texts are plain), ``"HTML"`` or ``"MarkdownV2"``
            (outbound texts are written in that markup).
        max_retry_after: longest server-requested wait honoured inside one call,
            in seconds; a longer one raises :class:`~socialinbox.errors.RateLimited`
            for the caller to reschedule.
        max_attempts: attempts per API call, the first included.
        retry_sends_on_network_error: retry a send after a timeout or a 5xx.
            Off by default: the message may have gone out, and a retry could
            send it twice; the caller's ledger decides.
        pace: pace sends to the flood limits on the client side.
        album_grace: seconds to hold back an album still arriving at the end
            of a batch, so that its items become one message; 0 turns it off.
        follow_migrations: when a group moved to a supergroup, send there and
            call ``on_chat_migrated(old_chat_id, new_chat_id)``; otherwise raise
            :class:`~socialinbox.adapters.telegram.transport.ChatMigrated`.
        transport: a ready transport (tests); built from the other arguments otherwise.
    """

    platform = Platform.TELEGRAM

    def __init__(
        self,
        token: str | SecretStr,
        *,
        base_url: str = DEFAULT_BASE_URL,
        base_file_url: str = DEFAULT_BASE_FILE_URL,
        account_id: str | None = None,
        own_user_ids: Iterable[str] = (),
        options: Mapping[str, Any] | None = None,
        allowed_updates: Sequence[str] | None = DEFAULT_ALLOWED_UPDATES,
        poll_timeout: float = 30.0,
        limit: int = 100,
        parse_mode: str | None = None,
        max_retry_after: float = 60.0,
        max_attempts: int = 4,
        retry_sends_on_network_error: bool = False,
        pace: bool = True,
        album_grace: float = 2.0,
        follow_migrations: bool = True,
        on_chat_migrated: Callable[[str, str], Any] | None = None,
        timeout: float = 10.0,
        transport: TelegramTransport | None = None,
    ) -> None:
        if not 1 <= limit <= 100:
            raise UsageError(f"limit must be between 1 and 100, got {limit}")
        if max_attempts < 1:
            raise UsageError(f"max_attempts must be at least 1, got {max_attempts}")
        if parse_mode is not None:
            split_formatted("", parse_mode)  # raises for an unknown mode
        secret = token.get_secret_value() if isinstance(token, SecretStr) else token
        head = secret.split(":", 1)[0]
        self._account_id = account_id or (head if head.isdigit() else "default")
        self._own = frozenset({*map(str, own_user_ids), self._account_id})
        self._options = dict(options or {})
        self._allowed = tuple(allowed_updates) if allowed_updates is not None else None
        self._poll_timeout = poll_timeout
        self._limit = limit
        self._parse_mode = parse_mode
        self._max_retry_after = max_retry_after
        self._max_attempts = max_attempts
        self._retry_sends = retry_sends_on_network_error
        self._pacer = FloodPacer() if pace else None
        self._album_grace = album_grace
        self._held_since: dict[int, float] = {}
        self._follow_migrations = follow_migrations
        self._on_chat_migrated = on_chat_migrated
        self.migrations: dict[str, str] = {}
        """Chats that moved to a supergroup during this adapter's life: old id -> new id."""
        self._transport = transport or TelegramTransport(
            secret, base_url=base_url, base_file_url=base_file_url, timeout=timeout
        )

    def __repr__(self) -> str:
        return f"TelegramAdapter(account_id={self._account_id!r})"

    @property
    def account_id(self) -> str:
        return self._account_id

    @property
    def transport(self) -> TelegramTransport:
        return self._transport

    # ----------------------------------------------------------------- retries

    async def _call(
        self, method: str, call: Callable[[], Awaitable[T]], *, idempotent: bool
    ) -> tuple[T, int]:
        """Run ``call`` with retries; return its result and the number of attempts."""
        attempts = 0

        def retryable(error: BaseException) -> bool:
            if isinstance(error, RateLimited):
                wait = error.retry_after.total_seconds() if error.retry_after else 1.0
                return wait <= self._max_retry_after
            if isinstance(error, TransportError):
                return idempotent or self._retry_sends
            return False

        fallback = wait_exponential_jitter(multiplier=0.5, max=10.0, jitter=0.5)

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome is not None else None
            if isinstance(error, RateLimited) and error.retry_after is not None:
                return min(error.retry_after.total_seconds(), self._max_retry_after)
            return float(fallback(state))

        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=wait,
            retry=retry_if_exception(retryable),
            reraise=True,
        ):
            with attempt:
                attempts += 1
                if attempts > 1:
                    logger.info("retrying Telegram %s (attempt %d)", method, attempts)
                result = await call()
        return result, attempts

    # ----------------------------------------------------------------- fetching

    def _context(self, location: str) -> DecodeContext:
        return DecodeContext(
            account_id=self._account_id,
            received_at=utc_now(),
            location=location,
            own_user_ids=self._own,
            options=self._options,
        )

    async def start(self) -> dict[str, Any]:
        """Check the token with ``getMe`` and return the bot's user JSON."""
        me, _ = await self._call("getMe", self._transport.start, idempotent=True)
        return me

    async def fetch(self, cursor: str | None) -> FetchResult:
        """Long-poll ``getUpdates`` from ``cursor`` without confirming anything new.

        Returns the decoded batch and ``str(highest update_id + 1)`` as the
        cursor to store with it (``None`` when nothing arrived).
        """
        if cursor and not cursor.lstrip("-").isdigit():
            raise UsageError(f"a Telegram cursor is an update id, got {cursor!r}")
        offset = int(cursor) if cursor else None
        updates, requests = await self._call(
            "getUpdates",
            lambda: self._transport.get_updates(
                offset=offset,
                limit=self._limit,
                poll_timeout=self._poll_timeout,
                allowed_updates=self._allowed,
            ),
            idempotent=True,
        )
        full = len(updates) >= self._limit
        kept = self._without_open_album(updates, full=full)
        if not kept:
            if updates:  # everything held back: an album is still arriving
                await asyncio.sleep(min(0.5, max(self._album_grace / 4, 0.05)))
                return FetchResult(batch=Batch(), cursor=None, requests=requests, more=True)
            return FetchResult(batch=Batch(), cursor=None, requests=requests, more=False)
        ids = [_update_id(update) for update in kept]
        known = [number for number in ids if number is not None]
        next_cursor = str(max(known) + 1) if known else cursor
        batch = CODEC.decode(kept, self._context(f"getUpdates offset={offset}"))
        return FetchResult(
            batch=batch,
            cursor=next_cursor,
            requests=requests,
            more=full or len(kept) < len(updates),
        )

    def _without_open_album(self, updates: list[Any], *, full: bool) -> list[Any]:
        """Drop a trailing album that may still be arriving; it comes back next fetch."""
        if not updates or (self._album_grace <= 0 and not full):
            return updates
        group = _album_of(updates[-1])
        if group is None:
            return updates
        start = len(updates)
        while start > 0 and _album_of(updates[start - 1]) == group:
            start -= 1
        first_id = _update_id(updates[start])
        if first_id is None:
            return updates
        now = time.monotonic()
        held_since = self._held_since.setdefault(first_id, now)
        newest = max((_date(update) for update in updates[start:]), default=0)
        # Telegram dates are whole seconds: allow the second the date rounds away
        young = time.time() - newest <= self._album_grace + 1.0
        patience = now - held_since <= self._album_grace * 2 + 1
        if (full and start > 0) or (young and patience):
            return updates[:start]
        self._held_since.pop(first_id, None)
        return updates

    async def confirm(self, cursor: str | None) -> None:
        """Nothing to do: the next ``fetch(cursor)`` confirms the stored updates on the server."""

    # ----------------------------------------------------------------- sending

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send text (split at 4096 UTF-16 units) and photos or documents.

        A single attachment takes the text as its caption when it fits in 1024
        units; otherwise the text goes first and the media after it. Only the
        first message replies to ``reply_to``.

        Raises:
            BotBlocked: the contact blocked the bot; ``contact_status`` holds
                the event to ingest.
            RateLimited: Telegram asked for a longer wait than ``max_retry_after``.
            PlatformError: any other refusal.

        An error raised after some parts went out carries their ids in a
        ``sent_message_ids`` attribute.
        """
        if not message.text and not message.attachments:
            raise UsageError("nothing to send: no text and no attachments")
        chat_id = self.migrations.get(message.conversation.chat_id, message.conversation.chat_id)
        target, business = parse_chat_id(chat_id)
        reply_to = (
            int(message.reply_to) if message.reply_to and message.reply_to.isdigit() else None
        )
        steps = self._plan(message)
        sent: list[PtbMessage] = []
        for index, step in enumerate(steps):
            try:
                result = await self._send_step(
                    chat_id, target, business, step, reply_to if index == 0 else None
                )
            except SocialInboxError as error:
                error.sent_message_ids = tuple(str(m.message_id) for m in sent)  # type: ignore[attr-defined]
                raise
            target = result[1]
            sent.append(result[0])
        return SendResult(
            message_ids=tuple(str(m.message_id) for m in sent),
            sent_at=_aware(sent[0].date) if sent else utc_now(),
        )

    async def announce(
        self, channel: str, text: str, *, parse_mode: str | None = None
    ) -> SendResult:
        """Post ``text`` to a channel (``@username`` or its ``-100…`` id) the bot administers."""
        previous = self._parse_mode
        if parse_mode is not None:
            self._parse_mode = parse_mode
        try:
            return await self.send(
                OutboundMessage(
                    conversation=ConversationKey(
                        platform=Platform.TELEGRAM, account_id=self._account_id, chat_id=channel
                    ),
                    text=text,
                    client_ref=f"announce-{uuid.uuid4().hex}",
                )
            )
        finally:
            self._parse_mode = previous

    def _plan(self, message: OutboundMessage) -> list[dict[str, Any]]:
        text = message.text or ""
        mode = self._parse_mode
        visible = parse(text, mode)[0] if text else ""
        steps: list[dict[str, Any]] = []
        caption: str | None = None
        if len(message.attachments) == 1 and text and utf16_len(visible) <= CAPTION_LIMIT:
            caption = text
        elif text:
            if mode is None:
                chunks = [chunk.text for chunk in split_text(text, limit=TEXT_LIMIT)]
            else:
                chunks = split_formatted(text, mode, limit=TEXT_LIMIT)
            steps.extend(
                {"kind": "text", "text": chunk}
                for chunk in chunks
                if parse(chunk, mode)[0].strip()  # Telegram refuses blank messages
            )
        for attachment in message.attachments:
            source = attachment.media_id or attachment.url
            if source is None:
                raise UsageError("an outbound attachment needs a media_id (file_id) or a url")
            kind = "photo" if attachment.type is AttachmentType.IMAGE else "document"
            steps.append(
                {
                    "kind": kind,
                    "source": source,
                    "caption": caption,
                    "file_name": attachment.file_name,
                }
            )
            caption = None
        return steps

    async def _send_step(
        self,
        chat_id: str,
        target: int | str,
        business: str | None,
        step: Mapping[str, Any],
        reply_to: int | None,
    ) -> tuple[PtbMessage, int | str]:
        """Send one message; follow a group migration once. Return it and the chat used."""
        for _ in range(2):
            if self._pacer is not None:
                is_group = isinstance(target, int) and target < 0
                await self._pacer.wait(str(target), is_group=is_group)
            try:
                result, _attempts = await self._call(
                    "send",
                    lambda target=target: self._deliver(target, business, step, reply_to),  # type: ignore[misc]
                    idempotent=False,
                )
                if self._pacer is not None:
                    self._pacer.sent(str(target))
                return result, target
            except ChatMigrated as error:
                if not self._follow_migrations:
                    raise
                new_id = str(error.migrate_to_chat_id)
                logger.info("Telegram chat moved to a supergroup; sending there")
                self.migrations[chat_id] = new_id
                if self._on_chat_migrated is not None:
                    outcome = self._on_chat_migrated(chat_id, new_id)
                    if asyncio.iscoroutine(outcome):
                        await outcome
                target = error.migrate_to_chat_id
            except BotBlocked as error:
                error.chat_id = chat_id
                error.contact_status = ContactStatusEvent(
                    account_id=self._account_id,
                    contact=Contact(platform=Platform.TELEGRAM, user_id=str(target)),
                    status=ContactStatus.BLOCKED_US,
                    reason=error.description or "bot was blocked by the user",
                    occurred_at=utc_now(),
                    received_at=utc_now(),
                )
                raise
        raise PlatformError(
            "Telegram send: the chat moved twice in one send", platform="telegram", status=400
        )

    async def _deliver(
        self,
        target: int | str,
        business: str | None,
        step: Mapping[str, Any],
        reply_to: int | None,
    ) -> PtbMessage:
        mode = self._parse_mode
        if step["kind"] == "text":
            return await self._transport.send_message(
                target,
                step["text"],
                parse_mode=mode,
                reply_to=reply_to,
                business_connection_id=business,
            )
        caption = step.get("caption")
        if step["kind"] == "photo":
            return await self._transport.send_photo(
                target,
                step["source"],
                caption=caption,
                parse_mode=mode if caption else None,
                reply_to=reply_to,
                business_connection_id=business,
            )
        return await self._transport.send_document(
            target,
            step["source"],
            caption=caption,
            parse_mode=mode if caption else None,
            reply_to=reply_to,
            file_name=step.get("file_name"),
            business_connection_id=business,
        )

    async def download(self, file_id: str) -> bytes:
        """Download a received file by its ``file_id`` (Telegram serves at most 20 MB to bots)."""
        data, _ = await self._call(
            "getFile", lambda: self._transport.download(file_id), idempotent=True
        )
        return data

    async def close(self) -> None:
        await self._transport.close()


def _update_id(update: Any) -> int | None:
    if not isinstance(update, dict):
        return None
    value = update.get("update_id")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _body(update: Any) -> dict[str, Any] | None:
    if not isinstance(update, dict):
        return None
    for field in MESSAGE_UPDATES:
        body = update.get(field)
        if isinstance(body, dict):
            return body
    return None


def _album_of(update: Any) -> tuple[Any, Any] | None:
    body = _body(update)
    if body is None or body.get("media_group_id") is None:
        return None
    chat = body.get("chat")
    return (chat.get("id") if isinstance(chat, dict) else None, body["media_group_id"])


def _date(update: Any) -> float:
    body = _body(update)
    value = body.get("date") if body else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
