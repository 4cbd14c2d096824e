"""The ``chatwoot`` sink: post messages into a Chatwoot API-channel inbox.

It uses Chatwoot's application API (``/api/v1/accounts/{account_id}/...``)
with a user access token in the ``api_access_token`` header:

* one Chatwoot contact per socialinbox conversation, found or created by its
  ``identifier`` ``"<platform>:<account id>:<chat id>"``; the same string is the
  ``source_id`` of the contact's contact inbox;
* one Chatwoot conversation per contact in the inbox, reused once it exists;
* ``message.created`` becomes an ``incoming`` (from the contact) or
  ``outgoing`` (from our account) message; edits, deletions and reactions
  become private notes; other events are accepted without a request.

Chatwoot accepts the same message twice, so the sink keeps a delivery record
per idempotency key (:class:`ChatwootLedger`): it writes "posting to
conversation N" before the request and the message id after it. When an
earlier attempt's outcome is unknown (a timeout, a 5xx, a crash), the sink
looks for the message's ``source_id`` in the conversation before posting again.

Chatwoot's throttle answers a plain-text 429 without ``Retry-After``; the
sink retries a few times with exponential backoff and then defers the rest
of the batch for ``throttle_window``.

Every message the sink posts comes back on the inbox's webhook. Use
:func:`parse_chatwoot_webhook` on those deliveries: ``is_agent_reply`` is true
only for replies a person wrote in Chatwoot.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, urlsplit

import httpx
import sqlalchemy as sa
import tenacity
from pydantic import BaseModel, ConfigDict, SecretStr

from socialinbox.crm.base import DeliveryResult, OutboxEvent, Sink, mask_url
from socialinbox.crm.webhook import DEFAULT_TOLERANCE, WebhookVerificationError
from socialinbox.errors import ConfigError
from socialinbox.locale.catalog_crm import CATALOG_CRM
from socialinbox.model import ConversationKey, Platform, utc_now
from socialinbox.store.tables import DeliveryRow, OutboxRow, table_of

if TYPE_CHECKING:
    from socialinbox.store import Store

__all__ = [
    "SOURCE_ID_PREFIX",
    "ChatwootLedger",
    "ChatwootSink",
    "ChatwootWebhookEvent",
    "LedgerEntry",
    "MemoryLedger",
    "StoreLedger",
    "contact_identifier",
    "create_chatwoot_sink",
    "parse_chatwoot_webhook",
    "verify_chatwoot_signature",
]

logger = logging.getLogger(__name__)

SOURCE_ID_PREFIX = "socialinbox:"
"""Prefix of the ``source_id`` of every message the sink posts."""
MARKER = "socialinbox"
"""Key the sink sets in ``content_attributes`` of every message it posts."""
SEARCH_PAGE_SIZE = 15
"""Chatwoot's contact search page size (``RESULTS_PER_PAGE``)."""
MAX_SEARCH_PAGES = 20
FLOOD_WAIT = timedelta(minutes=1)
"""Chatwoot refuses more than 200 messages per conversation per minute (default limit)."""

_deliveries = table_of(DeliveryRow)
_outbox = table_of(OutboxRow)


def contact_identifier(key: ConversationKey) -> str:
    """Return the Chatwoot contact ``identifier`` (and contact-inbox ``source_id``) of ``key``."""
    return f"{key.platform.value}:{key.account_id}:{key.chat_id}"


def _conversation_from_identifier(identifier: str | None) -> ConversationKey | None:
    if not identifier:
        return None
    parts = identifier.split(":", 2)
    if len(parts) != 3 or parts[0] not in {platform.value for platform in Platform}:
        return None
    platform, account_id, chat_id = parts
    if not account_id or not chat_id:
        return None
    return ConversationKey(platform=Platform(platform), account_id=account_id, chat_id=chat_id)


# -- the delivery record ------------------------------------------------------------


@dataclass(frozen=True)
class LedgerEntry:
    """The sink's record of one event: its conversation, and its message once posted."""

    conversation_id: int
    message_id: int | None = None
    """``None`` while the post's outcome is unknown."""

    def encode(self) -> str:
        if self.message_id is None:
            return f"conversation/{self.conversation_id}/posting"
        return f"conversation/{self.conversation_id}/message/{self.message_id}"

    @classmethod
    def decode(cls, text: str | None) -> LedgerEntry | None:
        parts = (text or "").split("/")
        try:
            if len(parts) == 3 and parts[0] == "conversation" and parts[2] == "posting":
                return cls(int(parts[1]))
            if len(parts) == 4 and parts[0] == "conversation" and parts[2] == "message":
                return cls(int(parts[1]), int(parts[3]))
        except ValueError:
            return None
        return None


class ChatwootLedger(Protocol):
    """The sink's own record of what it posted, keyed by outbox event."""

    async def get(self, event: OutboxEvent) -> LedgerEntry | None: ...

    async def record(self, event: OutboxEvent, entry: LedgerEntry) -> None: ...

    async def conversation_for(self, event: OutboxEvent) -> int | None:
        """Return the Chatwoot conversation used for earlier events of ``event``'s chat."""
        ...


class MemoryLedger:
    """A ledger in process memory: deduplicates only until the process exits."""

    def __init__(self) -> None:
        self._entries: dict[str, LedgerEntry] = {}
        self._conversations: dict[tuple[str, str, str | None], int] = {}

    async def get(self, event: OutboxEvent) -> LedgerEntry | None:
        return self._entries.get(event.event_key)

    async def record(self, event: OutboxEvent, entry: LedgerEntry) -> None:
        self._entries[event.event_key] = entry
        self._conversations[event.ordering_key] = entry.conversation_id

    async def conversation_for(self, event: OutboxEvent) -> int | None:
        return self._conversations.get(event.ordering_key)


class StoreLedger:
    """A ledger in the ``remote_id`` column of the sink's ``deliveries`` rows.

    The delivery worker creates those rows before it calls the sink and
    writes the same encoding into ``remote_id`` when it records a delivery,
    so the record survives restarts and is shared by every worker.
    """

    def __init__(self, engine: sa.Engine, sink: str) -> None:
        self._engine = engine
        self._sink = sink

    async def get(self, event: OutboxEvent) -> LedgerEntry | None:
        return await asyncio.to_thread(self._get, event.id)

    def _get(self, outbox_id: int) -> LedgerEntry | None:
        with self._engine.connect() as connection:
            value = connection.execute(
                sa.select(_deliveries.c.remote_id).where(
                    _deliveries.c.outbox_id == outbox_id, _deliveries.c.sink == self._sink
                )
            ).scalar_one_or_none()
        return LedgerEntry.decode(value)

    async def record(self, event: OutboxEvent, entry: LedgerEntry) -> None:
        await asyncio.to_thread(self._record, event.id, entry.encode())

    def _record(self, outbox_id: int, value: str) -> None:
        with self._engine.begin() as connection:
            updated = connection.execute(
                _deliveries.update()
                .where(_deliveries.c.outbox_id == outbox_id, _deliveries.c.sink == self._sink)
                .values(remote_id=value)
            ).rowcount
            if not updated:
                connection.execute(
                    _deliveries.insert().values(
                        outbox_id=outbox_id,
                        sink=self._sink,
                        status="pending",
                        attempts=0,
                        remote_id=value,
                    )
                )

    async def conversation_for(self, event: OutboxEvent) -> int | None:
        return await asyncio.to_thread(self._conversation_for, event)

    def _conversation_for(self, event: OutboxEvent) -> int | None:
        chat = (
            _outbox.c.chat_id.is_(None)
            if event.chat_id is None
            else _outbox.c.chat_id == event.chat_id
        )
        query = (
            sa.select(_deliveries.c.remote_id)
            .join(_outbox, _outbox.c.id == _deliveries.c.outbox_id)
            .where(
                _deliveries.c.sink == self._sink,
                _deliveries.c.remote_id.is_not(None),
                _outbox.c.platform == event.platform.value,
                _outbox.c.account_id == event.account_id,
                chat,
            )
            .order_by(_deliveries.c.outbox_id.desc())
            .limit(1)
        )
        with self._engine.connect() as connection:
            value = connection.execute(query).scalar_one_or_none()
        entry = LedgerEntry.decode(value)
        return entry.conversation_id if entry is not None else None


# -- errors -------------------------------------------------------------------------


class _ChatwootError(Exception):
    """A Chatwoot request failed with an HTTP status."""

    def __init__(self, status: int, description: str, path: str) -> None:
        super().__init__(f"Chatwoot answered HTTP {status} on {path}: {description}")
        self.status = status
        self.description = description


class _Throttled(_ChatwootError):
    pass


def _describe_error(response: httpx.Response) -> str:
    """Return Chatwoot's error text: ``error``, ``message`` or ``errors`` in JSON, else the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200] or "(empty body)"
    if isinstance(body, dict):
        for field in ("error", "message"):
            if isinstance(body.get(field), str):
                return str(body[field])
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(str(item) for item in errors)
    return str(body)[:200]


# -- the sink -----------------------------------------------------------------------


class ChatwootSink(Sink):
    """Deliver outbox events into one Chatwoot API-channel inbox.

    Args:
        base_url: the Chatwoot installation, such as ``https://chat.example.com``.
        account_id: the Chatwoot account id.
        inbox_id: the id of an inbox of type API ("API channel").
        api_token: a user (agent or administrator) access token. Agent-bot
            tokens cannot create or search contacts.
        name: the sink name used in the deliveries table.
        ledger: the delivery record; default: the store's ``deliveries`` rows
            once the delivery worker attaches the store, else process memory.
        language: ``en`` or ``tr``, for the notes the sink writes.
        timeout: seconds per request.
        throttle_retries: how many times a throttled request is repeated at once.
        throttle_backoff: seconds before the first repeat; doubled each time.
        throttle_window: how long the rest of the batch waits after that.
        scan_pages: pages of 20 messages searched for an earlier post whose
            outcome was unknown.
        client: an ``httpx.AsyncClient`` to use; the sink closes only its own.
    """

    max_batch_size = 20

    def __init__(
        self,
        base_url: str,
        *,
        account_id: int,
        inbox_id: int,
        api_token: str | SecretStr,
        name: str = "chatwoot",
        ledger: ChatwootLedger | None = None,
        language: str = "en",
        timeout: float = 15.0,
        throttle_retries: int = 2,
        throttle_backoff: float = 1.0,
        throttle_window: timedelta = timedelta(minutes=1),
        scan_pages: int = 10,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(name)
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"invalid Chatwoot URL {mask_url(base_url)!r}: expected http:// or https://"
            )
        if language not in {"en", "tr"}:
            raise ConfigError(f"unsupported language {language!r} for sink {name!r}: use en or tr")
        token = api_token if isinstance(api_token, SecretStr) else SecretStr(api_token)
        if not token.get_secret_value():
            raise ConfigError(f"Chatwoot sink {name!r} needs an api_token")
        self.base_url = base_url.rstrip("/")
        self.account_id = int(account_id)
        self.inbox_id = int(inbox_id)
        self.language = language
        self._ledger: ChatwootLedger = ledger or MemoryLedger()
        self._ledger_given = ledger is not None
        self._throttle_retries = throttle_retries
        self._throttle_backoff = throttle_backoff
        self._throttle_window = throttle_window
        self._scan_pages = scan_pages
        self._conversations: dict[tuple[str, str, str | None], int] = {}
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(
            base_url=self.base_url, timeout=timeout, follow_redirects=False
        )
        # Chatwoot reads the token from this header; it is not a bearer token.
        self._auth = {"api_access_token": token.get_secret_value()}

    def attach_store(self, store: Store) -> None:
        if not self._ledger_given:
            self._ledger = StoreLedger(store.engine, self.name)

    def describe(self) -> str:
        return f"chatwoot {self.name} -> {mask_url(self.base_url)} inbox {self.inbox_id}"

    def _text(self, key: str, **values: object) -> str:
        return CATALOG_CRM[key][self.language].format(**values)

    # -- HTTP -------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one application API request; repeat it with backoff while throttled."""
        url = f"/api/v1/accounts/{self.account_id}{path}"
        retrying = tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception_type(_Throttled),
            stop=tenacity.stop_after_attempt(self._throttle_retries + 1),
            wait=tenacity.wait_exponential(multiplier=self._throttle_backoff),
            before_sleep=self._log_throttled,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                response = await self._client.request(
                    method, url, json=json, params=params, headers=self._auth
                )
                if response.status_code == 429:
                    raise _Throttled(429, _describe_error(response), path)
        status = response.status_code
        logger.debug("chatwoot %s: %s %s -> %d", self.name, method, path, status)
        if status >= 400:
            raise _ChatwootError(status, _describe_error(response), path)
        return response.json()

    def _log_throttled(self, state: tenacity.RetryCallState) -> None:
        logger.warning(
            "chatwoot %s: throttled (HTTP 429), repeat %d after backoff",
            self.name,
            state.attempt_number,
        )

    # -- delivery ---------------------------------------------------------------------

    async def deliver_one(self, event: OutboxEvent) -> DeliveryResult:
        try:
            return await self._deliver(event)
        except _Throttled:
            return DeliveryResult.retry(
                "Chatwoot is throttling requests (HTTP 429)",
                retry_after=self._throttle_window,
                throttled=True,
            )
        except _ChatwootError as error:
            return self._result_for(event, error)
        except httpx.TimeoutException as error:
            return DeliveryResult.retry(f"Chatwoot request timed out ({type(error).__name__})")
        except httpx.TransportError as error:
            return DeliveryResult.retry(f"Chatwoot request failed: {type(error).__name__}: {error}")
        except ValueError as error:
            return DeliveryResult.retry(f"Chatwoot sent an unreadable answer: {error}")

    def _result_for(self, event: OutboxEvent, error: _ChatwootError) -> DeliveryResult:
        if error.status == 404:
            # The conversation or contact may have been deleted in Chatwoot; look it up again.
            self._conversations.pop(event.ordering_key, None)
            return DeliveryResult.retry(str(error))
        if error.status in (401, 403):
            return DeliveryResult.retry(
                f"{error}; check the sink's api_token, account_id and inbox_id"
            )
        if error.status == 422 and "too many messages" in error.description.lower():
            return DeliveryResult.retry(str(error), retry_after=FLOOD_WAIT)
        if error.status in (400, 413, 422):
            return DeliveryResult.failed(str(error))
        return DeliveryResult.retry(str(error))

    async def _deliver(self, event: OutboxEvent) -> DeliveryResult:
        body = self._message_body(event)
        if body is None:
            logger.debug(
                "chatwoot %s: outbox %d (%s) needs no request", self.name, event.id, event.kind
            )
            return DeliveryResult.delivered()

        entry = await self._ledger.get(event)
        if entry is not None and entry.message_id is not None:
            return DeliveryResult.delivered(entry.encode())
        if entry is not None:
            found = await self._find_posted(entry.conversation_id, body["source_id"])
            if found is not None:
                done = LedgerEntry(entry.conversation_id, found)
                await self._ledger.record(event, done)
                logger.info(
                    "chatwoot %s: outbox %d was already posted as message %d",
                    self.name,
                    event.id,
                    found,
                )
                return DeliveryResult.delivered(done.encode())

        conversation_id = await self._conversation(event)
        await self._ledger.record(event, LedgerEntry(conversation_id))
        message = await self._call("POST", f"/conversations/{conversation_id}/messages", json=body)
        done = LedgerEntry(conversation_id, int(message["id"]))
        await self._ledger.record(event, done)
        return DeliveryResult.delivered(done.encode())

    def _message_body(self, event: OutboxEvent) -> dict[str, Any] | None:
        """Return the message request body for ``event``, or ``None`` when it needs none."""
        if event.chat_id is None:
            return None
        marker: dict[str, dict[str, Any]] = {
            MARKER: {"event_key": event.event_key, "kind": event.kind}
        }
        source_id = SOURCE_ID_PREFIX + event.event_key
        message = event.message
        if event.kind == "message.created" and message is not None:
            marker[MARKER]["message_id"] = message["key"]["message_id"]
            marker[MARKER]["attachments"] = message.get("attachments") or []
            return {
                "content": self._message_content(message),
                "message_type": "incoming" if message["direction"] == "inbound" else "outgoing",
                "private": False,
                "content_type": "text",
                "source_id": source_id,
                "content_attributes": marker,
            }
        note = self._note(event.event or {})
        if note is None:
            return None
        return {
            "content": note,
            "message_type": "outgoing",
            "private": True,
            "content_type": "text",
            "source_id": source_id,
            "content_attributes": marker,
        }

    def _message_content(self, message: Mapping[str, Any]) -> str:
        if message.get("deleted"):
            return self._text("chatwoot.deleted_message")
        lines = [message["text"]] if message.get("text") else []
        for attachment in message.get("attachments") or []:
            label = f"[{attachment.get('type', 'other')}]"
            detail = attachment.get("file_name") or attachment.get("title") or attachment.get("url")
            lines.append(f"{label} {detail}" if detail else label)
        return "\n".join(lines) or self._text("chatwoot.no_text")

    def _note(self, event: Mapping[str, Any]) -> str | None:
        kind = event.get("type")
        target = event.get("target") or {}
        message_id = target.get("message_id", "?")
        if kind == "edit":
            if event.get("text") is None:
                return self._text("chatwoot.note.edit_erased", message_id=message_id)
            return self._text("chatwoot.note.edit", message_id=message_id, text=event["text"])
        if kind == "delete":
            return self._text("chatwoot.note.delete", message_id=message_id)
        if kind == "reaction":
            actor = event.get("actor_id", "?")
            emojis = " ".join(event.get("emojis") or ())
            if not emojis:
                return self._text(
                    "chatwoot.note.reaction_removed", actor=actor, message_id=message_id
                )
            return self._text(
                "chatwoot.note.reaction", actor=actor, emojis=emojis, message_id=message_id
            )
        return None

    async def _find_posted(self, conversation_id: int, source_id: str) -> int | None:
        """Look through the conversation's latest messages for one with ``source_id``."""
        params: dict[str, Any] = {}
        for _ in range(self._scan_pages):
            try:
                page = await self._call(
                    "GET", f"/conversations/{conversation_id}/messages", params=params
                )
            except _ChatwootError as error:
                if error.status == 404:
                    return None
                raise
            messages = page.get("payload") or []
            for message in messages:
                if message.get("source_id") == source_id:
                    return int(message["id"])
            if not messages:
                return None
            params = {"before": min(int(message["id"]) for message in messages)}
        logger.warning(
            "chatwoot %s: %s not found in the last %d pages of conversation %d; posting again",
            self.name,
            source_id,
            self._scan_pages,
            conversation_id,
        )
        return None

    # -- contacts and conversations ------------------------------------------------------

    async def _conversation(self, event: OutboxEvent) -> int:
        key = event.ordering_key
        if key in self._conversations:
            return self._conversations[key]
        known = await self._ledger.conversation_for(event)
        if known is not None:
            self._conversations[key] = known
            return known

        conversation = event.conversation
        if conversation is None:
            raise ValueError(f"outbox {event.id} has no chat to deliver to")
        identifier = contact_identifier(conversation)
        contact_id = await self._find_contact(identifier)
        if contact_id is None:
            contact_id = await self._create_contact(identifier, self._contact_name(event))
        await self._call(
            "POST",
            f"/contacts/{contact_id}/contact_inboxes",
            json={"inbox_id": self.inbox_id, "source_id": identifier},
        )

        listing = await self._call("GET", f"/contacts/{contact_id}/conversations")
        ours = [
            item for item in listing.get("payload") or [] if item.get("inbox_id") == self.inbox_id
        ]
        if ours:
            conversation_id = max(int(item["id"]) for item in ours)
        else:
            created = await self._call(
                "POST",
                "/conversations",
                json={
                    "source_id": identifier,
                    "inbox_id": self.inbox_id,
                    "contact_id": contact_id,
                    "additional_attributes": {MARKER: identifier},
                },
            )
            conversation_id = int(created["id"])
            logger.info(
                "chatwoot %s: created conversation %d for %s",
                self.name,
                conversation_id,
                identifier,
            )
        self._conversations[key] = conversation_id
        return conversation_id

    async def _find_contact(self, identifier: str) -> int | None:
        """Search contacts by ``identifier`` and return the exact match.

        Chatwoot matches substrings, so ``x:1:12`` also finds ``x:1:123``.
        """
        for page in range(1, MAX_SEARCH_PAGES + 1):
            found = await self._call(
                "GET", "/contacts/search", params={"q": identifier, "page": page}
            )
            contacts = found.get("payload") or []
            for contact in contacts:
                if contact.get("identifier") == identifier:
                    return int(contact["id"])
            meta = found.get("meta") or {}
            if len(contacts) < SEARCH_PAGE_SIZE or meta.get("has_more") is False:
                return None
        return None

    async def _create_contact(self, identifier: str, name: str) -> int:
        body = {
            "inbox_id": self.inbox_id,
            "name": name,
            "identifier": identifier,
            "source_id": identifier,
        }
        try:
            created = await self._call("POST", "/contacts", json=body)
        except _ChatwootError as error:
            if error.status != 422:
                raise
            # Created meanwhile by another worker or an earlier attempt; search again.
            existing = await self._find_contact(identifier)
            if existing is None:
                raise
            return existing
        payload = created.get("payload", created)
        contact = payload.get("contact", payload)
        return int(contact["id"])

    @staticmethod
    def _contact_name(event: OutboxEvent) -> str:
        message = event.message or {}
        sender = message.get("sender") or {}
        if message.get("direction") == "inbound":
            for field in ("display_name", "username", "user_id"):
                if sender.get(field):
                    return str(sender[field])
        if message.get("chat_title"):
            return str(message["chat_title"])
        return f"{event.platform.value} {event.chat_id}"

    async def close(self) -> None:
        if self._own_client:
            await self._client.aclose()


def create_chatwoot_sink(url: str, *, name: str, **options: Any) -> ChatwootSink:
    """Build a :class:`ChatwootSink` from ``chatwoot+https://HOST/?account_id=1&inbox_id=2``.

    The token is passed as the ``api_token`` option, never in the URL. Other
    options are the keyword arguments of :class:`ChatwootSink`.
    """
    target = url.split("+", 1)[1] if url.lower().startswith("chatwoot+") else ""
    parts = urlsplit(target)
    if not target or not parts.netloc:
        raise ConfigError(
            f"invalid Chatwoot sink URL {mask_url(url)!r}: "
            "expected chatwoot+https://HOST/?account_id=N&inbox_id=N"
        )
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    settings: dict[str, Any] = {}
    for field in ("account_id", "inbox_id"):
        value = options.pop(field, query.get(field))
        if value is None or not str(value).isdigit():
            raise ConfigError(f"Chatwoot sink {name!r} needs a numeric {field}")
        settings[field] = int(value)
    if "api_token" not in options:
        raise ConfigError(f"Chatwoot sink {name!r} needs the api_token option")
    base_url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    return ChatwootSink(base_url, name=name, **settings, **options)


# -- webhooks Chatwoot sends back -----------------------------------------------------


class ChatwootWebhookEvent(BaseModel):
    """The parts of a Chatwoot webhook delivery that socialinbox acts on."""

    model_config = ConfigDict(frozen=True)

    event: str
    """Chatwoot's event name: ``message_created``, ``contact_updated``, ..."""
    message_id: int | None = None
    message_type: str | None = None
    """``incoming``, ``outgoing``, ``activity`` or ``template``."""
    private: bool = False
    content: str | None = None
    source_id: str | None = None
    chatwoot_conversation_id: int | None = None
    """The conversation's display id, as used in Chatwoot URLs."""
    inbox_id: int | None = None
    contact_id: int | None = None
    contact_identifier: str | None = None
    contact_name: str | None = None
    contact_source_id: str | None = None
    changed_attributes: tuple[str, ...] = ()
    """For ``contact_updated`` and ``conversation_updated``: the names of the changed fields."""
    created_by_socialinbox: bool = False

    @property
    def conversation(self) -> ConversationKey | None:
        """The socialinbox conversation, when the contact was created by the sink."""
        return _conversation_from_identifier(
            self.contact_source_id
        ) or _conversation_from_identifier(self.contact_identifier)

    @property
    def is_agent_reply(self) -> bool:
        """True for a public reply an agent wrote in Chatwoot: the one thing to send out.

        False for the sink's own posts coming back, private notes, incoming
        messages and every non-message event.
        """
        return (
            self.event == "message_created"
            and self.message_type == "outgoing"
            and not self.private
            and not self.created_by_socialinbox
        )


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _message_type(value: Any) -> str | None:
    # The webhook sends names; the REST API sends 0 (incoming), 1 (outgoing), 2, 3.
    names = {0: "incoming", 1: "outgoing", 2: "activity", 3: "template"}
    if isinstance(value, int):
        return names.get(value)
    return _string(value)


def parse_chatwoot_webhook(payload: Mapping[str, Any]) -> ChatwootWebhookEvent:
    """Read a Chatwoot webhook body (account or API-inbox webhook).

    Fields that are missing or of an unexpected type are left unset, so an
    unknown shape gives an event with only ``event`` set instead of an error.
    """
    event = _string(payload.get("event")) or ""
    if event.startswith("contact_"):
        return ChatwootWebhookEvent(
            event=event,
            contact_id=_int_or_none(payload.get("id")),
            contact_identifier=_string(payload.get("identifier")),
            contact_name=_string(payload.get("name")),
            changed_attributes=_changed_attributes(payload.get("changed_attributes")),
        )
    if not event.startswith("message_"):
        conversation_id = (
            _int_or_none(payload.get("id")) if event.startswith("conversation_") else None
        )
        return ChatwootWebhookEvent(
            event=event,
            chatwoot_conversation_id=conversation_id,
            changed_attributes=_changed_attributes(payload.get("changed_attributes")),
        )

    attributes = payload.get("content_attributes")
    source_id = _string(payload.get("source_id"))
    conversation = _mapping(payload.get("conversation"))
    contact_inbox = _mapping(conversation.get("contact_inbox"))
    meta_sender = _mapping(_mapping(conversation.get("meta")).get("sender"))
    sender = _mapping(payload.get("sender"))
    contact = meta_sender or (sender if sender.get("type") == "contact" else {})
    ours = (source_id is not None and source_id.startswith(SOURCE_ID_PREFIX)) or (
        isinstance(attributes, Mapping) and MARKER in attributes
    )
    return ChatwootWebhookEvent(
        event=event,
        message_id=_int_or_none(payload.get("id")),
        message_type=_message_type(payload.get("message_type")),
        private=payload.get("private") is True,
        content=_string(payload.get("content")),
        source_id=source_id,
        chatwoot_conversation_id=_int_or_none(
            conversation.get("display_id") or conversation.get("id")
        ),
        inbox_id=_int_or_none(
            _mapping(payload.get("inbox")).get("id") or conversation.get("inbox_id")
        ),
        contact_id=_int_or_none(contact.get("id")),
        contact_identifier=_string(contact.get("identifier")),
        contact_name=_string(contact.get("name")),
        contact_source_id=_string(contact_inbox.get("source_id")),
        created_by_socialinbox=ours,
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _changed_attributes(value: Any) -> tuple[str, ...]:
    # Chatwoot sends a list of one-key objects: [{"name": {"previous_value": ..., ...}}, ...].
    if not isinstance(value, list):
        return ()
    names: list[str] = []
    for item in value:
        if isinstance(item, Mapping):
            names.extend(str(key) for key in item)
    return tuple(names)


def verify_chatwoot_signature(
    secret: str | SecretStr,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: timedelta = DEFAULT_TOLERANCE,
    now: datetime | None = None,
) -> None:
    """Check ``X-Chatwoot-Signature`` (``sha256=<hex HMAC of "{timestamp}.{body}">``).

    Chatwoot releases from before per-webhook secrets were added (February
    2026) send no signature at all.

    Raises:
        WebhookVerificationError: the headers are missing, the timestamp is
            outside ``tolerance``, or the signature does not match.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    timestamp = lowered.get("x-chatwoot-timestamp", "")
    signature = lowered.get("x-chatwoot-signature", "")
    if not timestamp.isdigit() or not signature.startswith("sha256="):
        raise WebhookVerificationError(
            "missing or invalid X-Chatwoot-Timestamp or X-Chatwoot-Signature header"
        )
    current = (now or utc_now()).timestamp()
    if abs(current - int(timestamp)) > tolerance.total_seconds():
        raise WebhookVerificationError(
            f"X-Chatwoot-Timestamp {timestamp} is more than {tolerance} away from the current time"
        )
    key = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    expected = hmac.new(key.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature.removeprefix("sha256="), expected):
        raise WebhookVerificationError("X-Chatwoot-Signature does not match the body")
