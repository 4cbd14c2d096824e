"""The Bot API transport: a bare python-telegram-bot ``Bot`` inside our own event loop.

No ``Application`` and no PTB updater: socialinbox decides when to poll and
when an offset may advance. Updates are fetched as raw JSON (not PTB objects)
so that the codec sees exactly what Telegram sent, type drift included; a
payload PTB could not deserialize would otherwise block the whole poll.

Every PTB exception is turned into a :mod:`socialinbox.errors` exception by
:func:`map_error`.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from telegram import Bot, Message, ReplyParameters
from telegram import error as tg_error
from telegram.request import HTTPXRequest

from socialinbox.errors import (
    AuthError,
    NotFound,
    PermissionDenied,
    PlatformError,
    RateLimited,
    SocialInboxError,
    TransportError,
)

__all__ = [
    "DEFAULT_BASE_FILE_URL",
    "DEFAULT_BASE_URL",
    "BotBlocked",
    "ChatMigrated",
    "TelegramTransport",
    "map_error",
]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_BASE_FILE_URL = "https://api.telegram.org/file/bot"
PLATFORM = "telegram"


_TOKEN_IN_URL = re.compile(r"/bot[0-9]+:[A-Za-z0-9_-]+")


class _RedactBotTokens(logging.Filter):
    """Hide bot tokens in the request URLs that httpx logs at INFO level."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/bot" in message:
            redacted = _TOKEN_IN_URL.sub("/bot<token>", message)
            if redacted != message:
                record.msg, record.args = redacted, ()
        return True


_REDACTOR = _RedactBotTokens()


def _install_redaction() -> None:
    # a logger's filters see only records created on that very logger
    for name in (
        "httpx",
        "httpcore",
        "telegram",
        "telegram.Bot",
        "telegram.request.BaseRequest",
        "telegram.request.HTTPXRequest",
    ):
        target = logging.getLogger(name)
        if _REDACTOR not in target.filters:
            target.addFilter(_REDACTOR)


class BotBlocked(PermissionDenied):
    """The contact blocked the bot (403 "bot was blocked by the user").

    Attributes:
        chat_id: the chat the send was for.
        contact_status: a :class:`~socialinbox.model.ContactStatusEvent` marking
            the contact ``blocked_us``, filled in by the adapter; ingest it so the
            contact becomes ineligible for sends.
    """

    def __init__(self, message: str, *, chat_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.chat_id = chat_id
        self.contact_status: Any = None


class ChatMigrated(PlatformError):
    """A group became a supergroup; ``migrate_to_chat_id`` is its new chat id."""

    def __init__(self, message: str, *, migrate_to_chat_id: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.migrate_to_chat_id = migrate_to_chat_id


def _retry_after(error: tg_error.RetryAfter) -> timedelta:
    value = getattr(error, "_retry_after", None)  # a timedelta in PTB 22.2+, read without warning
    if isinstance(value, timedelta):
        return value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        legacy = error.retry_after
    return legacy if isinstance(legacy, timedelta) else timedelta(seconds=float(legacy))


def map_error(error: BaseException, *, method: str) -> SocialInboxError:
    """Translate a PTB exception raised by ``method`` into a socialinbox one.

    The message names the method and Telegram's description, never a token.
    """
    description = str(getattr(error, "message", "") or error)
    where = f"Telegram {method}"
    if isinstance(error, SocialInboxError):
        return error
    if isinstance(error, tg_error.RetryAfter):
        wait = _retry_after(error)
        return RateLimited(
            f"{where}: flood control, retry after {wait.total_seconds():g}s",
            platform=PLATFORM,
            status=429,
            code=429,
            description=description,
            retry_after=wait,
            transient=True,
        )
    if isinstance(error, tg_error.ChatMigrated):
        return ChatMigrated(
            f"{where}: the group moved to supergroup {error.new_chat_id}",
            platform=PLATFORM,
            status=400,
            code=400,
            description=description,
            migrate_to_chat_id=int(error.new_chat_id),
        )
    if isinstance(error, tg_error.InvalidToken | tg_error.EndPointNotFound):
        # PTB reports 401 and 404 as InvalidToken; through do_api_request, after
        # initialization, as EndPointNotFound. Every method we call exists.
        return AuthError(
            f"{where}: the bot token was rejected", platform=PLATFORM, status=401, code=401
        )
    if isinstance(error, tg_error.Forbidden):
        lowered = description.lower()
        if "blocked" in lowered or "deactivated" in lowered:
            return BotBlocked(
                f"{where}: {description}",
                platform=PLATFORM,
                status=403,
                code=403,
                description=description,
            )
        return PermissionDenied(
            f"{where}: {description}",
            platform=PLATFORM,
            status=403,
            code=403,
            description=description,
        )
    if isinstance(error, tg_error.Conflict):
        return PlatformError(
            f"{where}: {description}",
            platform=PLATFORM,
            status=409,
            code=409,
            description=description,
        )
    if isinstance(error, tg_error.BadRequest):
        lowered = description.lower()
        kind: type[PlatformError] = PlatformError
        if "not found" in lowered:
            kind = NotFound
        return kind(
            f"{where}: {description}",
            platform=PLATFORM,
            status=400,
            code=400,
            description=description,
        )
    if isinstance(error, tg_error.NetworkError):  # TimedOut, 5xx, bad JSON, connection errors
        return TransportError(f"{where}: {description}", platform=PLATFORM)
    if (
        isinstance(error, tg_error.TelegramError)
        and "invalid server response" in description.lower()
    ):
        # the body was not JSON: a proxy or a cut connection, not Telegram refusing
        return TransportError(f"{where}: {description}", platform=PLATFORM)
    if isinstance(error, tg_error.TelegramError):
        return PlatformError(f"{where}: {description}", platform=PLATFORM, description=description)
    return TransportError(f"{where}: {type(error).__name__}", platform=PLATFORM)


class TelegramTransport:
    """The Bot API calls socialinbox makes, with errors already mapped.

    Args:
        token: the bot token.
        base_url: Bot API base with the ``/bot`` suffix (an emulator's ``bot_base_url``).
        base_file_url: file download base (an emulator's ``file_base_url``).
        timeout: connect, write and read timeout of ordinary calls, in seconds.
        connections: size of the HTTP connection pool.
    """

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        base_file_url: str = DEFAULT_BASE_FILE_URL,
        timeout: float = 10.0,
        connections: int = 8,
    ) -> None:
        _install_redaction()
        self._timeout = timeout
        self._bot = Bot(
            token,
            base_url=base_url,
            base_file_url=base_file_url,
            request=HTTPXRequest(
                connection_pool_size=connections,
                connect_timeout=timeout,
                read_timeout=timeout,
                write_timeout=timeout,
                pool_timeout=timeout,
            ),
            get_updates_request=HTTPXRequest(
                connection_pool_size=1,
                connect_timeout=timeout,
                read_timeout=timeout,
                write_timeout=timeout,
                pool_timeout=timeout,
            ),
        )
        self._initialized = False
        self.me: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return "TelegramTransport(token=<hidden>)"

    @property
    def bot(self) -> Bot:
        """The underlying PTB ``Bot`` (initialized on first use)."""
        return self._bot

    async def start(self) -> dict[str, Any]:
        """Initialize the bot (``getMe``) and return the bot's user JSON."""
        if not self._initialized:
            try:
                await self._bot.initialize()
            except Exception as error:
                raise map_error(error, method="getMe") from error
            self._initialized = True
            self.me = self._bot.bot.to_dict()
        assert self.me is not None
        return self.me

    async def get_updates(
        self,
        *,
        offset: int | None,
        limit: int,
        poll_timeout: float,
        allowed_updates: Sequence[str] | None,
    ) -> list[Any]:
        """Call ``getUpdates`` and return the raw JSON updates (never confirms beyond ``offset``)."""
        await self.start()
        arguments: dict[str, Any] = {"limit": limit, "timeout": int(poll_timeout)}
        if offset is not None:
            arguments["offset"] = offset
        if allowed_updates is not None:
            arguments["allowed_updates"] = list(allowed_updates)
        try:
            # The lower-case method name (Bot API methods are case-insensitive)
            # takes PTB's raw escape hatch without its "use get_updates" warning;
            # PTB's own get_updates would deserialize, and one odd update would
            # fail the whole batch.
            result = await self._bot.do_api_request(
                "getupdates",
                api_kwargs=arguments,
                read_timeout=self._timeout + poll_timeout,
            )
        except Exception as error:
            raise map_error(error, method="getUpdates") from error
        if not isinstance(result, list):
            raise TransportError(
                f"Telegram getUpdates returned a {type(result).__name__}, not a list",
                platform=PLATFORM,
            )
        return result

    async def send_message(
        self,
        chat_id: int | str,
        text: str,
        *,
        parse_mode: str | None = None,
        reply_to: int | None = None,
        business_connection_id: str | None = None,
    ) -> Message:
        await self.start()
        try:
            return await self._bot.send_message(
                chat_id,
                text,
                parse_mode=parse_mode,
                reply_parameters=_reply(reply_to),
                business_connection_id=business_connection_id,
            )
        except Exception as error:
            raise map_error(error, method="sendMessage") from error

    async def send_photo(
        self,
        chat_id: int | str,
        photo: str | bytes,
        *,
        caption: str | None = None,
        parse_mode: str | None = None,
        reply_to: int | None = None,
        business_connection_id: str | None = None,
    ) -> Message:
        await self.start()
        try:
            return await self._bot.send_photo(
                chat_id,
                photo,
                caption=caption,
                parse_mode=parse_mode,
                reply_parameters=_reply(reply_to),
                business_connection_id=business_connection_id,
            )
        except Exception as error:
            raise map_error(error, method="sendPhoto") from error

    async def send_document(
        self,
        chat_id: int | str,
        document: str | bytes,
        *,
        caption: str | None = None,
        parse_mode: str | None = None,
        reply_to: int | None = None,
        file_name: str | None = None,
        business_connection_id: str | None = None,
    ) -> Message:
        await self.start()
        try:
            return await self._bot.send_document(
                chat_id,
                document,
                caption=caption,
                parse_mode=parse_mode,
                reply_parameters=_reply(reply_to),
                filename=file_name,
                business_connection_id=business_connection_id,
            )
        except Exception as error:
            raise map_error(error, method="sendDocument") from error

    async def download(self, file_id: str) -> bytes:
        """Fetch a file's bytes through ``getFile`` (Telegram serves at most 20 MB to bots)."""
        await self.start()
        try:
            file = await self._bot.get_file(file_id)
            return bytes(await file.download_as_bytearray())
        except Exception as error:
            raise map_error(error, method="getFile") from error

    async def close(self) -> None:
        if self._initialized:
            try:
                await self._bot.shutdown()
            finally:
                self._initialized = False


def _reply(message_id: int | None) -> ReplyParameters | None:
    if message_id is None:
        return None
    # a reply to a message deleted meanwhile still goes out, without the quote
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)
