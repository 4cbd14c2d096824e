"""A Telegram Bot API emulator: a real HTTP server on 127.0.0.1.

It speaks the wire format python-telegram-bot uses (POST to
``/bot<token>/<method>`` with form-urlencoded, multipart or JSON bodies, values
that are not strings sent as JSON strings) and answers with the Bot API
envelope (``ok``, ``result``, ``error_code``, ``description``, ``parameters``).

::

    from socialinbox.testing.telegram import TelegramEmulator

    with TelegramEmulator() as tg:
        tg.add_message(chat_id=42, text="Merhaba")
        bot = telegram.Bot(tg.token, base_url=tg.bot_base_url)
        ...
        assert tg.sent[0].text == "Hoş geldiniz"

What it implements:

* ``getUpdates`` with real offset semantics: an update below ``offset`` is
  confirmed and dropped on the server; ``limit``; ``timeout`` long polling;
  ``allowed_updates`` (kept across calls, Telegram's default when never set);
  a negative offset keeps only the last updates.
* ``getMe``, ``sendMessage``, ``sendPhoto``, ``sendDocument``, ``getFile`` and
  file downloads, ``sendChatAction``, ``editMessageText``, ``deleteMessage``,
  ``getChat``, ``setWebhook``, ``deleteWebhook``, ``getWebhookInfo``.
* Telegram's flood limits (1 message per second per chat, 30 per second
  overall, 20 per minute per group), answered with 429 and
  ``parameters.retry_after``; ``limits=False`` turns them off.
* Validation as the Bot API does it: empty or too long texts (UTF-16 units
  after entity parsing), captions over 1024, markup that does not parse,
  replies to unknown messages, unknown chats, blocked users, migrated groups.
* Faults on demand through :meth:`TelegramEmulator.inject`.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from socialinbox.adapters.telegram.split import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    FormattingError,
    parse,
    utf16_len,
)
from socialinbox.testing._server import BackgroundServer

__all__ = [
    "DEFAULT_TOKEN",
    "Fault",
    "FaultKind",
    "Limits",
    "RecordedRequest",
    "SentMessage",
    "StoredFile",
    "TelegramEmulator",
]

DEFAULT_TOKEN = "123456789:TEST-socialinbox-emulator-token"  # noqa: S105 - a fake token
DEFAULT_ALLOWED = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
"""What Telegram delivers when ``allowed_updates`` was never set (or set to ``[]``)."""
UPDATE_TYPES = DEFAULT_ALLOWED | {"message_reaction", "message_reaction_count", "chat_member"}
DOWNLOAD_LIMIT = 20 * 1024 * 1024
SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendAnimation",
        "sendSticker",
        "sendLocation",
        "sendContact",
        "copyMessage",
        "forwardMessage",
    }
)
# parameters that stay strings even when they look like JSON
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "url",
        "file_id",
        "business_connection_id",
        "secret_token",
        "action",
        "photo",
        "document",
        "emoji",
        "inline_message_id",
    }
)

FaultKind = Literal[
    "rate_limit",
    "server_error",
    "timeout",
    "malformed",
    "unauthorized",
    "forbidden",
    "migrated",
    "bad_request",
    "conflict",
]


@dataclass
class Fault:
    """One injected failure; see :meth:`TelegramEmulator.inject`."""

    kind: FaultKind
    method: str | None = None
    times: int = 1
    retry_after: int = 1
    status: int = 500
    delay: float = 0.0
    description: str | None = None
    migrate_to_chat_id: int | None = None


@dataclass(frozen=True)
class Limits:
    """Flood limits; Telegram's documented values by default."""

    per_chat_per_second: int = 1
    overall_per_second: int = 30
    per_group_per_minute: int = 20


@dataclass(frozen=True)
class StoredFile:
    """A file the emulator can hand out through ``getFile`` and the download route."""

    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    size: int
    file_name: str | None = None
    mime_type: str | None = None


@dataclass(frozen=True)
class RecordedRequest:
    """A Bot API call as the emulator received it (values already JSON-decoded)."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200


@dataclass(frozen=True)
class SentMessage:
    """A message the bot sent, with the Message JSON the emulator answered."""

    method: str
    chat_id: int | str
    message: dict[str, Any]
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def text(self) -> str | None:
        value = self.message.get("text", self.message.get("caption"))
        return value if isinstance(value, str) else None

    @property
    def source(self) -> str | None:
        """The text or caption exactly as sent, before entity parsing."""
        value = self.params.get("text", self.params.get("caption"))
        return value if isinstance(value, str) else None

    @property
    def parse_mode(self) -> str | None:
        value = self.params.get("parse_mode")
        return value if isinstance(value, str) else None

    @property
    def message_id(self) -> int:
        return int(self.message["message_id"])

    @property
    def reply_to_message_id(self) -> int | None:
        reply = self.message.get("reply_to_message")
        return int(reply["message_id"]) if isinstance(reply, dict) else None


class _ApiError(Exception):
    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _to_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _update_type(update: Mapping[str, Any]) -> str | None:
    return next((key for key in update if key != "update_id"), None)


def _chat_of(update: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = _update_type(update)
    body = update.get(kind) if kind else None
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("chat"), dict):
        chat: dict[str, Any] = body["chat"]
        return chat
    message = body.get("message")
    if isinstance(message, dict) and isinstance(message.get("chat"), dict):
        inner: dict[str, Any] = message["chat"]
        return inner
    return None


def _chat_type_of(chat_id: int) -> str:
    """Guess a chat's type from its id: people are positive, supergroups start with -100."""
    if chat_id > 0:
        return "private"
    if chat_id < -(10**12):
        return "supergroup"
    return "group"


class TelegramEmulator:
    """A fake Bot API server for one bot.

    Args:
        token: the bot token the server accepts; any other gets 401.
        bot_id: the bot's user id; by default the number before the colon of ``token``.
        username: the bot's username.
        limits: flood limits, or ``False`` to turn them off for fast tests.
        strict_chats: answer "chat not found" for chats the emulator never saw.
        port: a fixed port; 0 picks a free one.
        clock: the monotonic clock the flood limits read (tests can freeze it).
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_id: int | None = None,
        username: str = "socialinbox_test_bot",
        first_name: str = "socialinbox test bot",
        limits: Limits | bool = True,
        strict_chats: bool = True,
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        head = token.split(":", 1)[0]
        self.bot_id = bot_id if bot_id is not None else (int(head) if head.isdigit() else 1)
        self.username = username
        self.first_name = first_name
        self.limits: Limits | None = (
            Limits() if limits is True else limits if isinstance(limits, Limits) else None
        )
        self.strict_chats = strict_chats
        self._lock = threading.RLock()
        self._queue: list[tuple[int, dict[str, Any]]] = []
        self._next_update_id = 1
        self._allowed: frozenset[str] = DEFAULT_ALLOWED
        self._chats: dict[int, dict[str, Any]] = {}
        self._usernames: dict[str, int] = {}
        self._messages: dict[int, dict[int, dict[str, Any]]] = {}
        self._next_message_id: dict[int, int] = {}
        self._blocked: set[int] = set()
        self._migrated: dict[int, int] = {}
        self._files: dict[str, StoredFile] = {}
        self._sent: list[SentMessage] = []
        self._requests: list[RecordedRequest] = []
        self._faults: deque[Fault] = deque()
        self._webhook_url = ""
        self._chat_sends: dict[int | str, deque[float]] = {}
        self._all_sends: deque[float] = deque()
        self._clock = clock
        self._closing = False
        self._server = BackgroundServer(self.app(), port=port, name="telegram-emulator")

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> TelegramEmulator:
        """Start serving on 127.0.0.1."""
        self._closing = False
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop the server (pending long polls return at once)."""
        self._closing = True
        self._server.stop()

    def __enter__(self) -> TelegramEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return self._server.base_url

    @property
    def bot_base_url(self) -> str:
        """The value for PTB's ``Bot(base_url=...)``: ``<base_url>/bot``."""
        return self.base_url + "/bot"

    @property
    def file_base_url(self) -> str:
        """The value for PTB's ``Bot(base_file_url=...)``: ``<base_url>/file/bot``."""
        return self.base_url + "/file/bot"

    # ----------------------------------------------------------------- loading updates

    def add_updates(self, *sources: Any) -> list[int]:
        """Queue updates for ``getUpdates`` and return their update ids.

        Each source may be an ``Update`` dict, a bare ``Message`` dict (wrapped
        as a ``message`` update), a ``getUpdates`` response, a list of those,
        or the path of a ``.json`` or ``.jsonl`` file holding them. An update
        without ``update_id`` gets the next one; an ``update_id`` that is not an
        integer is kept as it is (the emulator orders it by arrival).
        """
        ids: list[int] = []
        for source in sources:
            for update in self._expand(source):
                ids.append(self._enqueue(update))
        return ids

    def _expand(self, source: Any) -> Iterable[dict[str, Any]]:
        if isinstance(source, str | Path):
            path = Path(source)
            text = path.read_bytes().decode("utf-8", "replace")
            if path.suffix == ".jsonl":
                for line in text.splitlines():
                    if line.strip():
                        yield from self._expand(json.loads(line))
            else:
                yield from self._expand(json.loads(text))
            return
        if isinstance(source, list | tuple):
            for element in source:
                yield from self._expand(element)
            return
        if not isinstance(source, Mapping):
            raise TypeError(f"cannot load an update from {type(source).__name__}")
        if "update_id" in source:
            yield dict(source)
        elif "ok" in source or "result" in source:
            if isinstance(source.get("result"), list):
                yield from self._expand(source["result"])
        elif "message_id" in source and "chat" in source:
            yield {"message": dict(source)}
        elif len(source) == 1 and next(iter(source)) in UPDATE_TYPES:
            yield dict(source)  # an update without its id: the next one is given
        else:
            raise ValueError("not an update, a message or a getUpdates response")

    def _enqueue(self, update: dict[str, Any]) -> int:
        with self._lock:
            number = _to_int(update.get("update_id"))
            if "update_id" not in update:
                number = self._next_update_id
                update = {"update_id": number, **update}
            if number is None:
                number = self._next_update_id
            self._next_update_id = max(self._next_update_id, number + 1)
            self._queue.append((number, update))
            self._queue.sort(key=lambda pair: pair[0])
            self._learn(update)
            return number

    def _learn(self, update: Mapping[str, Any]) -> None:
        chat = _chat_of(update)
        if chat is not None:
            chat_id = _to_int(chat.get("id"))
            if chat_id is not None:
                self._remember_chat(chat_id, chat)
                kind = _update_type(update)
                body = update.get(kind) if kind else None
                if isinstance(body, dict):
                    message_id = _to_int(body.get("message_id"))
                    if message_id is not None and kind in (
                        "message",
                        "channel_post",
                        "edited_message",
                        "edited_channel_post",
                    ):
                        self._messages.setdefault(chat_id, {})[message_id] = body
                        self._next_message_id[chat_id] = max(
                            self._next_message_id.get(chat_id, 1), message_id + 1
                        )
                    if kind == "my_chat_member" and chat.get("type") == "private":
                        status = (body.get("new_chat_member") or {}).get("status")
                        if status == "kicked":
                            self._blocked.add(chat_id)
                        elif status in ("member", "administrator"):
                            self._blocked.discard(chat_id)

    def _remember_chat(self, chat_id: int, chat: Mapping[str, Any]) -> None:
        known = self._chats.setdefault(chat_id, {"id": chat_id})
        known.update({key: value for key, value in chat.items() if key != "id"})
        if "type" not in known:
            known["type"] = "private" if chat_id > 0 else "group"
        username = known.get("username")
        if isinstance(username, str):
            self._usernames[username.lower()] = chat_id

    def add_chat(
        self,
        chat_id: int,
        *,
        type: str | None = None,
        title: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> dict[str, Any]:
        """Make a chat known (sends to unknown chats fail when ``strict_chats``)."""
        chat: dict[str, Any] = {"id": chat_id}
        if type is None:
            type = _chat_type_of(chat_id)
        chat["type"] = type
        for key, value in (
            ("title", title),
            ("username", username),
            ("first_name", first_name),
            ("last_name", last_name),
        ):
            if value is not None:
                chat[key] = value
        with self._lock:
            self._remember_chat(chat_id, chat)
            return dict(self._chats[chat_id])

    def add_message(
        self,
        chat_id: int,
        text: str | None = None,
        *,
        from_user: Mapping[str, Any] | None = None,
        chat_type: str | None = None,
        chat_title: str | None = None,
        update_type: str = "message",
        date: int | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Queue a realistic message update and return it.

        ``from_user`` defaults to a person whose id is ``chat_id`` in a private
        chat and to user 1000 in a group. ``fields`` are added to the Message
        (``photo=[...]``, ``media_group_id=...``, ``reply_to_message=...``).
        """
        with self._lock:
            known = self._chats.get(chat_id)
        if chat_type is None:
            chat_type = (known or {}).get("type") or _chat_type_of(chat_id)
        if from_user is None:
            user_id = chat_id if chat_type == "private" else 1000
            from_user = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = from_user.get("first_name", "")
            if from_user.get("username"):
                chat["username"] = from_user["username"]
        else:
            chat["title"] = chat_title or (known or {}).get("title") or f"Chat {chat_id}"
        with self._lock:
            message_id = self._next_message_id.get(chat_id, 1)
            self._next_message_id[chat_id] = message_id + 1
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": date if date is not None else int(time.time()),
            "chat": chat,
        }
        if update_type != "channel_post":
            message["from"] = dict(from_user)
        if text is not None:
            message["text"] = text
        message.update({key: value for key, value in fields.items() if value is not None})
        update = {update_type: message}
        update_id = self._enqueue(update)
        return {"update_id": update_id, **update}

    def add_file(
        self,
        content: bytes,
        *,
        file_id: str | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
        size: int | None = None,
    ) -> StoredFile:
        """Store a file that ``getFile`` and the download route serve.

        ``size`` overrides the reported size (to test the 20 MB download limit
        without allocating it).
        """
        stored = StoredFile(
            file_id=file_id or "F" + uuid.uuid4().hex,
            file_unique_id="U" + uuid.uuid4().hex[:12],
            file_path=f"documents/{uuid.uuid4().hex[:8]}_{file_name or 'file'}",
            content=content,
            size=size if size is not None else len(content),
            file_name=file_name,
            mime_type=mime_type,
        )
        with self._lock:
            self._files[stored.file_id] = stored
        return stored

    # ----------------------------------------------------------------- chat states

    def block(self, chat_id: int) -> None:
        """The user of a private chat blocks the bot: sends get 403 from now on."""
        with self._lock:
            self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        with self._lock:
            self._blocked.discard(chat_id)

    def migrate(self, chat_id: int, new_chat_id: int) -> None:
        """Upgrade a group to a supergroup: sends to ``chat_id`` answer ``migrate_to_chat_id``."""
        with self._lock:
            self._migrated[chat_id] = new_chat_id
            old = self._chats.get(chat_id, {})
            self._remember_chat(
                new_chat_id,
                {"type": "supergroup", "title": old.get("title", f"Chat {new_chat_id}")},
            )

    # ----------------------------------------------------------------- faults

    def inject(
        self,
        kind: FaultKind,
        *,
        method: str | None = None,
        times: int = 1,
        retry_after: int = 1,
        status: int = 500,
        delay: float = 0.0,
        description: str | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> Fault:
        """Queue a failure for the next matching request(s).

        Kinds: ``rate_limit`` (429 with ``retry_after``), ``server_error``
        (``status``, 500 by default), ``timeout`` (wait ``delay`` seconds, then
        answer normally), ``malformed`` (200 with a body that is not JSON),
        ``unauthorized`` (401), ``forbidden`` (403 "bot was blocked by the
        user"), ``migrated`` (400 with ``migrate_to_chat_id``), ``bad_request``
        (400) and ``conflict`` (409). ``method`` limits it to one Bot API method.
        """
        fault = Fault(
            kind=kind,
            method=method,
            times=times,
            retry_after=retry_after,
            status=status,
            delay=delay,
            description=description,
            migrate_to_chat_id=migrate_to_chat_id,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, method: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                # Bot API method names are case-insensitive, and clients differ.
                matches = fault.method is None or fault.method.lower() == method.lower()
                if fault.times > 0 and matches:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # ----------------------------------------------------------------- inspection

    @property
    def sent(self) -> list[SentMessage]:
        """Messages sent so far, oldest first."""
        with self._lock:
            return list(self._sent)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every Bot API call received, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed with an offset."""
        with self._lock:
            return [update for _, update in self._queue]

    @property
    def files(self) -> dict[str, StoredFile]:
        with self._lock:
            return dict(self._files)

    def clear_sent(self) -> None:
        with self._lock:
            self._sent.clear()

    def wait_for_sent(self, count: int, timeout: float = 5.0) -> list[SentMessage]:
        """Block until ``count`` messages were sent, or raise ``TimeoutError``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = self.sent
            if len(sent) >= count:
                return sent
            time.sleep(0.01)
        raise TimeoutError(f"{len(self.sent)} of {count} messages sent after {timeout}s")

    # ----------------------------------------------------------------- HTTP

    def app(self) -> Starlette:
        """The Starlette application (mountable elsewhere)."""
        return Starlette(
            routes=[
                Route("/bot{token}/{method}", self._handle, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._download, methods=["GET"]),
            ]
        )

    async def _handle(self, request: Request) -> Response:
        method = request.path_params["method"]
        try:
            params, files = await self._read_params(request)
        except ValueError as error:
            return self._error(400, f"Bad Request: {error}")
        except ClientDisconnect:
            # The client went away mid-request (a killed process in the crash tests).
            return Response(status_code=499)
        status = 200
        try:
            fault = self._take_fault(method)
            if fault is not None:
                early = await self._apply_fault(fault)
                if early is not None:
                    status = early.status_code
                    return early
            result = await self._dispatch(request.path_params["token"], method, params, files)
            return JSONResponse({"ok": True, "result": result})
        except _ApiError as error:
            status = error.status
            return self._error(error.status, error.description, error.parameters)
        finally:
            with self._lock:
                self._requests.append(
                    RecordedRequest(method=method, params=params, at=time.time(), status=status)
                )

    async def _dispatch(
        self, token: str, method: str, params: dict[str, Any], files: dict[str, bytes]
    ) -> Any:
        if token != self.token:
            raise _ApiError(401, "Unauthorized")
        # Bot API method names are case-insensitive
        handler = next(
            (
                getattr(self, name)
                for name in dir(self)
                if name.startswith("_m_") and name[3:].lower() == method.lower()
            ),
            None,
        )
        if handler is None:
            raise _ApiError(404, "Not Found")
        return await handler(params, files)

    @staticmethod
    def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return JSONResponse(body, status_code=status)

    async def _apply_fault(self, fault: Fault) -> Response | None:
        kind = fault.kind
        if kind == "timeout":
            await asyncio.sleep(fault.delay or 5.0)
            return None
        if kind == "rate_limit":
            return self._error(
                429,
                fault.description or f"Too Many Requests: retry after {fault.retry_after}",
                {"retry_after": fault.retry_after},
            )
        if kind == "server_error":
            descriptions = {
                500: "Internal Server Error",
                502: "Bad Gateway",
                503: "Service Unavailable",
            }
            return self._error(
                fault.status, fault.description or descriptions.get(fault.status, "Error")
            )
        if kind == "malformed":
            return Response(
                b'{"ok": true, "result": [{"update_id": ', media_type="application/json"
            )
        if kind == "unauthorized":
            return self._error(401, fault.description or "Unauthorized")
        if kind == "forbidden":
            return self._error(403, fault.description or "Forbidden: bot was blocked by the user")
        if kind == "migrated":
            return self._error(
                400,
                fault.description or "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": fault.migrate_to_chat_id or -1001234567890},
            )
        if kind == "conflict":
            return self._error(
                409,
                fault.description
                or "Conflict: terminated by other getUpdates request; make sure that only one "
                "bot instance is running",
            )
        return self._error(400, fault.description or "Bad Request")

    async def _read_params(self, request: Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        body = await request.body()
        content_type = request.headers.get("content-type", "")
        raw: dict[str, str] = dict(request.query_params)
        files: dict[str, bytes] = {}
        if content_type.startswith("application/json"):
            data = json.loads(body or b"{}")
            if not isinstance(data, dict):
                raise ValueError("JSON body must be an object")
            return data, files
        if content_type.startswith("multipart/form-data"):
            parser = BytesParser(policy=HTTP)
            message = parser.parsebytes(
                b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
            )
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if not isinstance(name, str):
                    continue
                payload = part.get_payload(decode=True)
                payload = payload if isinstance(payload, bytes) else b""
                if part.get_filename() is not None:
                    files[name] = payload
                else:
                    charset = part.get_content_charset() or "utf-8"
                    raw[name] = payload.decode(charset)
        elif body:
            raw.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        params: dict[str, Any] = {}
        for key, value in raw.items():
            if key in STRING_PARAMS:
                params[key] = value
                continue
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        return params, files

    async def _download(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return self._error(401, "Unauthorized")
        path = request.path_params["path"]
        with self._lock:
            stored = next((f for f in self._files.values() if f.file_path == path), None)
        if stored is None:
            return self._error(404, "Not Found")
        return Response(stored.content, media_type=stored.mime_type or "application/octet-stream")

    # ----------------------------------------------------------------- methods

    def _me(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    async def _m_getMe(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return {
            **self._me(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": True,
            "has_main_web_app": False,
        }

    async def _m_logOut(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return True

    async def _m_close(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return True

    async def _m_setWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        with self._lock:
            self._webhook_url = str(params.get("url") or "")
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        with self._lock:
            self._webhook_url = ""
            if params.get("drop_pending_updates") in (True, "true"):
                self._queue.clear()
        return True

    async def _m_getWebhookInfo(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        with self._lock:
            return {
                "url": self._webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(self._queue),
            }

    async def _m_getUpdates(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        with self._lock:
            if self._webhook_url:
                raise _ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
        offset = _to_int(params.get("offset"))
        limit = _to_int(params.get("limit"))
        limit = 100 if limit is None else max(1, min(100, limit))
        timeout = params.get("timeout")
        timeout_seconds = float(timeout) if isinstance(timeout, int | float) else 0.0
        allowed = params.get("allowed_updates")
        with self._lock:
            if isinstance(allowed, list):
                self._allowed = frozenset(str(kind) for kind in allowed) or DEFAULT_ALLOWED
            if offset is not None:
                if offset < 0:
                    self._queue = self._queue[offset:]
                else:
                    self._queue = [pair for pair in self._queue if pair[0] >= offset]
        deadline = time.monotonic() + max(0.0, timeout_seconds)
        while True:
            with self._lock:
                ready = [
                    update for _, update in self._queue if _update_type(update) in self._allowed
                ]
            if ready or time.monotonic() >= deadline or self._closing:
                return ready[:limit]
            await asyncio.sleep(0.02)

    def _resolve_chat(self, value: Any) -> tuple[int | str, dict[str, Any]]:
        with self._lock:
            if isinstance(value, str) and value.startswith("@"):
                chat_id = self._usernames.get(value[1:].lower())
                if chat_id is None:
                    raise _ApiError(400, "Bad Request: chat not found")
                return chat_id, dict(self._chats[chat_id])
            chat_id_int = _to_int(value)
            if chat_id_int is None:
                raise _ApiError(400, "Bad Request: chat_id is empty")
            if chat_id_int in self._migrated:
                raise _ApiError(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    {"migrate_to_chat_id": self._migrated[chat_id_int]},
                )
            if chat_id_int in self._blocked:
                raise _ApiError(403, "Forbidden: bot was blocked by the user")
            chat = self._chats.get(chat_id_int)
            if chat is None:
                if self.strict_chats:
                    raise _ApiError(400, "Bad Request: chat not found")
                chat = {"id": chat_id_int, "type": "private" if chat_id_int > 0 else "group"}
            return chat_id_int, dict(chat)

    def _check_flood(self, chat_id: int | str, chat: Mapping[str, Any]) -> None:
        limits = self.limits
        if limits is None:
            return
        now = self._clock()
        with self._lock:
            overall = self._all_sends
            while overall and now - overall[0] >= 1.0:
                overall.popleft()
            per_chat = self._chat_sends.setdefault(chat_id, deque())
            window = 60.0 if chat.get("type") in ("group", "supergroup") else 1.0
            while per_chat and now - per_chat[0] >= 60.0:
                per_chat.popleft()
            recent_second = [t for t in per_chat if now - t < 1.0]
            waits: list[float] = []
            if len(overall) >= limits.overall_per_second:
                waits.append(1.0 - (now - overall[0]))
            if len(recent_second) >= limits.per_chat_per_second:
                waits.append(1.0 - (now - recent_second[-limits.per_chat_per_second]))
            if window == 60.0 and len(per_chat) >= limits.per_group_per_minute:
                waits.append(60.0 - (now - per_chat[-limits.per_group_per_minute]))
            if waits:
                retry_after = max(1, math.ceil(max(waits)))
                raise _ApiError(
                    429,
                    f"Too Many Requests: retry after {retry_after}",
                    {"retry_after": retry_after},
                )
            overall.append(now)
            per_chat.append(now)

    def _check_text(
        self, source: Any, parse_mode: Any, limit: int, *, caption: bool
    ) -> tuple[str, list[dict[str, Any]]]:
        what = "caption" if caption else "text"
        if not isinstance(source, str):
            source = "" if source is None else str(source)
        try:
            text, entities = parse(
                source, parse_mode if isinstance(parse_mode, str) and parse_mode else None
            )
        except FormattingError as error:
            raise _ApiError(400, f"Bad Request: can't parse entities: {error}") from error
        except ValueError as error:
            raise _ApiError(400, f"Bad Request: unsupported parse_mode: {error}") from error
        if not caption and not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > limit:
            raise _ApiError(
                400,
                f"Bad Request: message {what} is too long"
                if caption
                else "Bad Request: message is too long",
            )
        return text, [entity.to_api() for entity in entities]

    def _reply(self, chat_id: int | str, params: Mapping[str, Any]) -> dict[str, Any] | None:
        target = params.get("reply_parameters")
        message_id: int | None = None
        allow_missing = False
        if isinstance(target, dict):
            message_id = _to_int(target.get("message_id"))
            allow_missing = bool(target.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id") is not None:
            message_id = _to_int(params.get("reply_to_message_id"))
            allow_missing = bool(params.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        with self._lock:
            known = self._messages.get(chat_id if isinstance(chat_id, int) else 0, {}).get(
                message_id
            )
        if known is None:
            if allow_missing:
                return None
            raise _ApiError(400, "Bad Request: message to be replied not found")
        return {key: value for key, value in known.items() if key != "reply_to_message"}

    def _record(
        self,
        method: str,
        chat_id: int | str,
        chat: dict[str, Any],
        params: dict[str, Any],
        files: dict[str, bytes],
        content: dict[str, Any],
    ) -> dict[str, Any]:
        with self._lock:
            key = chat_id if isinstance(chat_id, int) else 0
            message_id = self._next_message_id.get(key, 1)
            self._next_message_id[key] = message_id + 1
            message: dict[str, Any] = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": chat,
            }
            self._messages.setdefault(key, {})[message_id] = message
            if chat.get("type") != "channel":
                message["from"] = self._me()
            else:
                message["sender_chat"] = chat
            if params.get("business_connection_id"):
                message["business_connection_id"] = params["business_connection_id"]
            message.update(content)
            self._sent.append(
                SentMessage(
                    method=method, chat_id=chat_id, message=message, params=params, files=files
                )
            )
            return message

    async def _m_sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat_id, chat = self._resolve_chat(params.get("chat_id"))
        text, entities = self._check_text(
            params.get("text"), params.get("parse_mode"), TEXT_LIMIT, caption=False
        )
        reply = self._reply(chat_id, params)
        self._check_flood(chat_id, chat)
        content: dict[str, Any] = {"text": text}
        if entities or isinstance(params.get("entities"), list):
            content["entities"] = entities or params.get("entities")
        if reply is not None:
            content["reply_to_message"] = reply
        return self._record("sendMessage", chat_id, chat, params, files, content)

    def _media(
        self, field_name: str, params: dict[str, Any], files: dict[str, bytes]
    ) -> tuple[StoredFile | None, str]:
        value = params.get(field_name)
        upload: bytes | None = None
        if field_name in files:
            upload = files[field_name]
        elif isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
            upload = files[value[9:]]
        if upload is not None:
            return self.add_file(upload, file_name=field_name), "upload"
        if not isinstance(value, str) or not value:
            raise _ApiError(400, f"Bad Request: there is no {field_name} in the request")
        with self._lock:
            stored = self._files.get(value)
        if stored is not None:
            return stored, "file_id"
        if value.startswith(("http://", "https://")):
            return None, value
        raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    async def _send_media(
        self, method: str, field_name: str, params: dict[str, Any], files: dict[str, bytes]
    ) -> Any:
        chat_id, chat = self._resolve_chat(params.get("chat_id"))
        caption, entities = self._check_text(
            params.get("caption"), params.get("parse_mode"), CAPTION_LIMIT, caption=True
        )
        stored, _origin = self._media(field_name, params, files)
        reply = self._reply(chat_id, params)
        self._check_flood(chat_id, chat)
        file_id = stored.file_id if stored else "URL" + uuid.uuid4().hex
        unique = stored.file_unique_id if stored else "U" + uuid.uuid4().hex[:12]
        size = stored.size if stored else 0
        content: dict[str, Any] = {}
        if field_name == "photo":
            content["photo"] = [
                {
                    "file_id": file_id + "-s",
                    "file_unique_id": unique + "s",
                    "file_size": max(1, size // 10),
                    "width": 90,
                    "height": 90,
                },
                {
                    "file_id": file_id,
                    "file_unique_id": unique,
                    "file_size": size,
                    "width": 800,
                    "height": 800,
                },
            ]
        else:
            document: dict[str, Any] = {
                "file_id": file_id,
                "file_unique_id": unique,
                "file_size": size,
            }
            name = params.get("filename") or (stored.file_name if stored else None)
            if name:
                document["file_name"] = name
            content[field_name] = document
        if caption:
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        if reply is not None:
            content["reply_to_message"] = reply
        return self._record(method, chat_id, chat, params, files, content)

    async def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return await self._send_media("sendPhoto", "photo", params, files)

    async def _m_sendDocument(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return await self._send_media("sendDocument", "document", params, files)

    async def _m_sendChatAction(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self._resolve_chat(params.get("chat_id"))
        return True

    async def _m_getChat(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        _chat_id, chat = self._resolve_chat(params.get("chat_id"))
        return chat

    async def _m_getFile(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        file_id = params.get("file_id")
        with self._lock:
            stored = self._files.get(str(file_id))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        if stored.size > DOWNLOAD_LIMIT:
            raise _ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    async def _m_editMessageText(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat_id, chat = self._resolve_chat(params.get("chat_id"))
        text, entities = self._check_text(
            params.get("text"), params.get("parse_mode"), TEXT_LIMIT, caption=False
        )
        message_id = _to_int(params.get("message_id"))
        with self._lock:
            if message_id is None or message_id not in self._messages.get(
                chat_id if isinstance(chat_id, int) else 0, {}
            ):
                raise _ApiError(400, "Bad Request: message to edit not found")
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "edit_date": int(time.time()),
            "chat": chat,
            "from": self._me(),
            "text": text,
        }
        if entities:
            message["entities"] = entities
        return message

    async def _m_deleteMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat_id, _chat = self._resolve_chat(params.get("chat_id"))
        message_id = _to_int(params.get("message_id"))
        with self._lock:
            known = self._messages.get(chat_id if isinstance(chat_id, int) else 0, {})
            if message_id is None or message_id not in known:
                raise _ApiError(400, "Bad Request: message to delete not found")
            del known[message_id]
        return True
