"""A Chatwoot emulator: the application API subset the ``chatwoot`` sink uses, on 127.0.0.1.

It follows Chatwoot's own behaviour where the sink depends on it:

* authentication by the ``api_access_token`` header (the hyphenated
  ``api-access-token`` spelling is accepted too), with Chatwoot's three 401
  bodies;
* contacts with unique ``identifier``, ``email`` and ``phone_number`` (E.164),
  422 ``{"message", "attributes"}`` on a duplicate, and a substring search
  15 per page;
* contact inboxes found or created by ``(inbox, source_id)``;
* conversations addressed by per-account display ids, optionally locked to
  one conversation per contact inbox;
* messages with **no deduplication** (the same ``source_id`` can be posted
  twice), ``incoming`` only in API inboxes, integer ``message_type`` in
  responses, a per-conversation flood limit, JSON or multipart bodies, and
  ``before``/``after`` paging;
* rack-attack's throttle response: 429, ``text/plain``, body ``Retry later``,
  no ``Retry-After``;
* 404 ``{"error": "Resource could not be found"}``;
* ``message_created`` webhooks to the inbox's ``webhook_url``, signed with
  ``X-Chatwoot-Signature`` when a secret is set.

Faults are injected with :meth:`ChatwootEmulator.throttle` and
:meth:`ChatwootEmulator.fail_next`, including failures after the request
took effect, which is how a lost response looks to a client.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import itertools
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from socialinbox.testing._server import BackgroundServer

__all__ = ["ChatwootEmulator"]

logger = logging.getLogger(__name__)

_PHONE = re.compile(r"^\+[1-9]\d{1,14}$")
_SEARCH_PAGE_SIZE = 15
_CONVERSATION_PAGE_SIZE = 25
_MAX_CONTENT = 150_000
_MESSAGE_TYPES = {"incoming": 0, "outgoing": 1, "activity": 2, "template": 3}
_NOT_FOUND = {"error": "Resource could not be found"}

Handler = Callable[[Request], Awaitable[Response]]


@dataclass
class _Fault:
    remaining: int
    status: int
    after_commit: bool
    method: str | None
    path_contains: str | None

    def matches(self, request: Request) -> bool:
        if self.method is not None and request.method != self.method.upper():
            return False
        return self.path_contains is None or self.path_contains in request.url.path


@dataclass
class _State:
    contacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    contact_inboxes: dict[tuple[int, str], int] = field(default_factory=dict)
    """(inbox id, source id) -> contact id."""
    conversations: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Display id -> conversation."""
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    inboxes: dict[int, dict[str, Any]] = field(default_factory=dict)


class ChatwootEmulator:
    """A Chatwoot installation with one account, served from a background thread.

    Args:
        account_id: the account every route is under.
        api_token: the user access token the account accepts.
        lock_to_single_conversation: the default inbox reuses one conversation per contact.
        webhook_url: where the default inbox sends ``message_created`` webhooks.
        webhook_secret: when set, webhooks carry ``X-Chatwoot-Signature``.
        requests_per_minute: the rack-attack style global limit (default: none).
        messages_per_minute: messages per conversation per minute before
            Chatwoot's "Too many messages" refusal (Chatwoot's default is 200).
        clock: monotonic seconds, for the rate limits.
    """

    def __init__(
        self,
        *,
        account_id: int = 1,
        api_token: str = "chatwoot-emulator-token",  # noqa: S107 - a test fixture token
        lock_to_single_conversation: bool = False,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        requests_per_minute: int | None = None,
        messages_per_minute: int = 200,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.account_id = account_id
        self.api_token = api_token
        self.webhook_secret = webhook_secret
        self.requests_per_minute = requests_per_minute
        self.messages_per_minute = messages_per_minute
        self._clock = clock
        self._lock = threading.RLock()
        self._state = _State()
        self._ids = itertools.count(1)
        self._display_ids = itertools.count(1)
        self._faults: list[_Fault] = []
        self._request_times: list[float] = []
        self._server: BackgroundServer | None = None
        self.request_log: list[tuple[str, str, int]] = []
        """(method, path, status) of every API request, in order."""
        self.webhook_deliveries = 0
        self.webhook_failures = 0
        self.inbox_id = self.add_inbox(
            "socialinbox",
            webhook_url=webhook_url,
            lock_to_single_conversation=lock_to_single_conversation,
        )
        self.app = self._build_app()

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> ChatwootEmulator:
        self._server = BackgroundServer(self.app, name="chatwoot-emulator").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Chatwoot emulator is not running; call start() first")
        return self._server.base_url

    def __enter__(self) -> ChatwootEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- setup, faults and inspection ---------------------------------------------------

    def add_inbox(
        self,
        name: str,
        *,
        channel_type: str = "Channel::Api",
        webhook_url: str | None = None,
        lock_to_single_conversation: bool = False,
    ) -> int:
        """Create an inbox and return its id; ``channel_type`` other than API refuses incoming."""
        with self._lock:
            inbox_id = len(self._state.inboxes) + 1
            self._state.inboxes[inbox_id] = {
                "id": inbox_id,
                "name": name,
                "channel_type": channel_type,
                "webhook_url": webhook_url,
                "lock_to_single_conversation": lock_to_single_conversation,
                "inbox_identifier": uuid.uuid4().hex,
            }
        return inbox_id

    def set_webhook_url(self, url: str | None, inbox_id: int | None = None) -> None:
        with self._lock:
            self._state.inboxes[inbox_id or self.inbox_id]["webhook_url"] = url

    def throttle(self, count: int = 1) -> None:
        """Reject the next ``count`` API requests with rack-attack's plain-text 429."""
        self.fail_next(count, status=429)

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 503,
        after_commit: bool = False,
        method: str | None = None,
        path_contains: str | None = None,
    ) -> None:
        """Fail the next ``count`` matching requests with ``status``.

        With ``after_commit`` the request takes effect first and only the
        response is replaced, as when a proxy times out after Chatwoot wrote.
        """
        with self._lock:
            self._faults.append(_Fault(count, status, after_commit, method, path_contains))

    def clear_faults(self) -> None:
        """Drop every injected fault that has not fired yet."""
        with self._lock:
            self._faults.clear()

    def contacts(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(contact) for contact in self._state.contacts.values()]

    def conversations(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._conversation_json(item) for item in self._state.conversations.values()]

    def messages(self, conversation_id: int | None = None) -> list[dict[str, Any]]:
        """Return stored messages in creation order, optionally of one conversation."""
        with self._lock:
            return [
                _public(message)
                for message in self._state.messages.values()
                if conversation_id is None or message["conversation_id"] == conversation_id
            ]

    def contact_inbox_sources(self) -> dict[str, int]:
        """Return source id -> contact id for the default inbox."""
        with self._lock:
            return {
                source: contact
                for (inbox, source), contact in self._state.contact_inboxes.items()
                if inbox == self.inbox_id
            }

    # -- the app ------------------------------------------------------------------------

    def _build_app(self) -> Starlette:
        prefix = "/api/v1/accounts/{account_id:int}"
        routes = [
            Route(f"{prefix}/inboxes", self._guard(self._list_inboxes), methods=["GET"]),
            Route(f"{prefix}/inboxes", self._guard(self._create_inbox), methods=["POST"]),
            Route(f"{prefix}/contacts", self._guard(self._create_contact), methods=["POST"]),
            Route(f"{prefix}/contacts/search", self._guard(self._search_contacts), methods=["GET"]),
            Route(
                f"{prefix}/contacts/{{contact_id:int}}",
                self._guard(self._show_contact),
                methods=["GET"],
            ),
            Route(
                f"{prefix}/contacts/{{contact_id:int}}/conversations",
                self._guard(self._contact_conversations),
                methods=["GET"],
            ),
            Route(
                f"{prefix}/contacts/{{contact_id:int}}/contact_inboxes",
                self._guard(self._create_contact_inbox),
                methods=["POST"],
            ),
            Route(
                f"{prefix}/conversations", self._guard(self._list_conversations), methods=["GET"]
            ),
            Route(
                f"{prefix}/conversations",
                self._guard(self._create_conversation),
                methods=["POST"],
            ),
            Route(
                f"{prefix}/conversations/{{conversation_id:int}}",
                self._guard(self._show_conversation),
                methods=["GET"],
            ),
            Route(
                f"{prefix}/conversations/{{conversation_id:int}}/messages",
                self._guard(self._list_messages),
                methods=["GET"],
            ),
            Route(
                f"{prefix}/conversations/{{conversation_id:int}}/messages",
                self._guard(self._create_message),
                methods=["POST"],
            ),
        ]
        return Starlette(routes=routes)

    def _guard(self, handler: Handler) -> Handler:
        """Wrap a route with rate limits, fault injection, authentication and the request log."""

        async def guarded(request: Request) -> Response:
            response = self._before(request)
            if response is None:
                response = await handler(request)
                response = self._after(request, response)
            with self._lock:
                self.request_log.append((request.method, request.url.path, response.status_code))
            return response

        return guarded

    def _before(self, request: Request) -> Response | None:
        with self._lock:
            if self.requests_per_minute is not None:
                now = self._clock()
                self._request_times = [t for t in self._request_times if now - t < 60]
                if len(self._request_times) >= self.requests_per_minute:
                    return _throttled()
                self._request_times.append(now)
            fault = self._take_fault(request, after_commit=False)
            if fault is not None:
                return _fault_response(fault.status)

        token = request.headers.get("api_access_token") or request.headers.get("api-access-token")
        if token is None:
            return JSONResponse(
                {"errors": ["You need to sign in or sign up before continuing."]}, status_code=401
            )
        if not hmac.compare_digest(token, self.api_token):
            return JSONResponse({"error": "Invalid Access Token"}, status_code=401)
        if request.path_params.get("account_id") != self.account_id:
            return JSONResponse(
                {"error": "You are not authorized to access this account"}, status_code=401
            )
        return None

    def _after(self, request: Request, response: Response) -> Response:
        with self._lock:
            fault = self._take_fault(request, after_commit=True)
        return _fault_response(fault.status) if fault is not None else response

    def _take_fault(self, request: Request, *, after_commit: bool) -> _Fault | None:
        for fault in self._faults:
            if (
                fault.after_commit == after_commit
                and fault.remaining > 0
                and fault.matches(request)
            ):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    # -- inboxes ------------------------------------------------------------------------

    async def _list_inboxes(self, request: Request) -> Response:
        with self._lock:
            return JSONResponse({"payload": list(self._state.inboxes.values())})

    async def _create_inbox(self, request: Request) -> Response:
        body = await _json_body(request)
        if body is None or not body.get("name"):
            return JSONResponse({"error": "name is required"}, status_code=422)
        channel = body.get("channel") or {}
        channel_type = "Channel::Api" if channel.get("type") == "api" else "Channel::WebWidget"
        inbox_id = self.add_inbox(
            str(body["name"]),
            channel_type=channel_type,
            webhook_url=channel.get("webhook_url"),
            lock_to_single_conversation=bool(body.get("lock_to_single_conversation")),
        )
        with self._lock:
            return JSONResponse(self._state.inboxes[inbox_id])

    # -- contacts -----------------------------------------------------------------------

    async def _create_contact(self, request: Request) -> Response:
        body = await _json_body(request)
        if body is None:
            return JSONResponse({"error": "invalid JSON body"}, status_code=422)
        with self._lock:
            invalid = self._validate_contact(body)
            if invalid is not None:
                return invalid
            inbox_id = body.get("inbox_id")
            if inbox_id is not None and inbox_id not in self._state.inboxes:
                return JSONResponse(_NOT_FOUND, status_code=404)
            source_id = str(body.get("source_id") or uuid.uuid4())
            if inbox_id is not None and (inbox_id, source_id) in self._state.contact_inboxes:
                return JSONResponse(
                    {"message": "Source has already been taken", "attributes": ["source_id"]},
                    status_code=422,
                )

            contact_id = next(self._ids)
            contact = {
                "id": contact_id,
                "name": body.get("name") or "",
                "email": body.get("email"),
                "phone_number": body.get("phone_number"),
                "identifier": body.get("identifier"),
                "thumbnail": "",
                "blocked": bool(body.get("blocked", False)),
                "additional_attributes": body.get("additional_attributes") or {},
                "custom_attributes": body.get("custom_attributes") or {},
                "availability_status": "offline",
                "created_at": int(time.time()),
                "last_activity_at": None,
            }
            self._state.contacts[contact_id] = contact
            contact_inbox = None
            if inbox_id is not None:
                self._state.contact_inboxes[(inbox_id, source_id)] = contact_id
                contact_inbox = {"inbox": self._state.inboxes[inbox_id], "source_id": source_id}
            return JSONResponse({"payload": {"contact": contact, "contact_inbox": contact_inbox}})

    def _validate_contact(self, body: dict[str, Any]) -> Response | None:
        phone = body.get("phone_number")
        if phone and not _PHONE.match(str(phone)):
            return _validation_error("Phone number should be in e164 format", "phone_number")
        for existing in self._state.contacts.values():
            if body.get("identifier") and existing["identifier"] == body["identifier"]:
                return _validation_error("Identifier has already been taken", "identifier")
            email_address = body.get("email")
            if (
                email_address
                and existing["email"]
                and str(existing["email"]).lower() == str(email_address).lower()
            ):
                return _validation_error("Email has already been taken", "email")
            if phone and existing["phone_number"] == phone:
                return _validation_error("Phone number has already been taken", "phone_number")
        return None

    async def _search_contacts(self, request: Request) -> Response:
        query = request.query_params.get("q", "")
        if not query:
            return JSONResponse(
                {"error": "Specify search string with parameter q"}, status_code=422
            )
        page = max(1, int(request.query_params.get("page", "1") or 1))
        folded = query.lower()
        with self._lock:
            found = [
                contact
                for contact in self._state.contacts.values()
                if any(
                    folded in str(contact[key] or "").lower()
                    for key in ("name", "email", "phone_number")
                )
                or query in str(contact["identifier"] or "")
            ]
        start = (page - 1) * _SEARCH_PAGE_SIZE
        # Like recent Chatwoot, read one extra row to tell whether another page exists.
        window = found[start : start + _SEARCH_PAGE_SIZE + 1]
        items = window[:_SEARCH_PAGE_SIZE]
        meta = {
            "count": len(items),
            "current_page": page,
            "has_more": len(window) > _SEARCH_PAGE_SIZE,
        }
        return JSONResponse({"meta": meta, "payload": items})

    async def _show_contact(self, request: Request) -> Response:
        with self._lock:
            contact = self._state.contacts.get(request.path_params["contact_id"])
            if contact is None:
                return JSONResponse(_NOT_FOUND, status_code=404)
            return JSONResponse({"payload": contact})

    async def _contact_conversations(self, request: Request) -> Response:
        contact_id = request.path_params["contact_id"]
        with self._lock:
            if contact_id not in self._state.contacts:
                return JSONResponse(_NOT_FOUND, status_code=404)
            found = [
                self._conversation_json(item)
                for item in self._state.conversations.values()
                if item["contact_id"] == contact_id
            ]
        return JSONResponse({"payload": found})

    async def _create_contact_inbox(self, request: Request) -> Response:
        contact_id = request.path_params["contact_id"]
        body = await _json_body(request) or {}
        with self._lock:
            inbox_id = body.get("inbox_id")
            if contact_id not in self._state.contacts or inbox_id not in self._state.inboxes:
                return JSONResponse(_NOT_FOUND, status_code=404)
            source_id = str(body.get("source_id") or uuid.uuid4())
            owner = self._state.contact_inboxes.get((inbox_id, source_id))
            if owner is not None and owner != contact_id:
                # Chatwoot re-raises the uniqueness error on this path; its HTTP
                # status there is not documented, so the emulator returns 422.
                return JSONResponse({"error": "source_id should be unique"}, status_code=422)
            self._state.contact_inboxes[(inbox_id, source_id)] = contact_id
            return JSONResponse({"source_id": source_id, "inbox": self._state.inboxes[inbox_id]})

    # -- conversations ------------------------------------------------------------------

    def _conversation_json(self, conversation: dict[str, Any]) -> dict[str, Any]:
        contact = self._state.contacts.get(conversation["contact_id"], {})
        return {
            "id": conversation["display_id"],
            "account_id": self.account_id,
            "inbox_id": conversation["inbox_id"],
            "status": conversation["status"],
            "contact_inbox": {"source_id": conversation["source_id"]},
            "meta": {"sender": contact, "assignee": None},
            "additional_attributes": conversation["additional_attributes"],
            "custom_attributes": conversation["custom_attributes"],
            "created_at": conversation["created_at"],
            "timestamp": conversation["created_at"],
            "unread_count": 0,
            "labels": [],
            "messages": [],
        }

    async def _list_conversations(self, request: Request) -> Response:
        status = request.query_params.get("status", "open")
        inbox = request.query_params.get("inbox_id")
        page = max(1, int(request.query_params.get("page", "1") or 1))
        with self._lock:
            found = [
                self._conversation_json(item)
                for item in self._state.conversations.values()
                if (status == "all" or item["status"] == status)
                and (inbox is None or str(item["inbox_id"]) == inbox)
            ]
        start = (page - 1) * _CONVERSATION_PAGE_SIZE
        meta = {
            "mine_count": 0,
            "assigned_count": 0,
            "unassigned_count": len(found),
            "all_count": len(found),
        }
        return JSONResponse(
            {"data": {"meta": meta, "payload": found[start : start + _CONVERSATION_PAGE_SIZE]}}
        )

    async def _show_conversation(self, request: Request) -> Response:
        with self._lock:
            conversation = self._state.conversations.get(request.path_params["conversation_id"])
            if conversation is None:
                return JSONResponse(_NOT_FOUND, status_code=404)
            return JSONResponse(self._conversation_json(conversation))

    async def _create_conversation(self, request: Request) -> Response:
        body = await _json_body(request)
        if body is None:
            return JSONResponse({"error": "invalid JSON body"}, status_code=422)
        with self._lock:
            inbox_id = body.get("inbox_id")
            contact_id = body.get("contact_id")
            source_id = body.get("source_id")
            if inbox_id is not None and contact_id is not None:
                if inbox_id not in self._state.inboxes or contact_id not in self._state.contacts:
                    return JSONResponse(_NOT_FOUND, status_code=404)
                source_id = str(source_id or uuid.uuid4())
                owner = self._state.contact_inboxes.get((inbox_id, source_id))
                if owner is not None and owner != contact_id:
                    return JSONResponse({"error": "source_id should be unique"}, status_code=422)
                self._state.contact_inboxes[(inbox_id, source_id)] = contact_id
            else:
                matches = [
                    (inbox, owner)
                    for (inbox, source), owner in self._state.contact_inboxes.items()
                    if source == source_id
                ]
                if not source_id or not matches:
                    return JSONResponse(_NOT_FOUND, status_code=404)
                inbox_id, contact_id = matches[0]

            inbox = self._state.inboxes[inbox_id]
            if inbox["lock_to_single_conversation"]:
                existing = [
                    item
                    for item in self._state.conversations.values()
                    if item["inbox_id"] == inbox_id and item["source_id"] == source_id
                ]
                if existing:
                    return JSONResponse(self._conversation_json(existing[-1]))

            display_id = next(self._display_ids)
            conversation = {
                "display_id": display_id,
                "inbox_id": inbox_id,
                "contact_id": contact_id,
                "source_id": source_id,
                "status": body.get("status") or "open",
                "additional_attributes": body.get("additional_attributes") or {},
                "custom_attributes": body.get("custom_attributes") or {},
                "created_at": int(time.time()),
            }
            self._state.conversations[display_id] = conversation
            first = body.get("message") or {}
            if first.get("content"):
                self._store_message(conversation, {"content": first["content"]}, [])
            return JSONResponse(self._conversation_json(conversation))

    # -- messages -----------------------------------------------------------------------

    async def _list_messages(self, request: Request) -> Response:
        with self._lock:
            conversation = self._state.conversations.get(request.path_params["conversation_id"])
            if conversation is None:
                return JSONResponse(_NOT_FOUND, status_code=404)
            found = [
                message
                for message in self._state.messages.values()
                if message["conversation_id"] == conversation["display_id"]
            ]
            contact = self._state.contacts.get(conversation["contact_id"], {})
        before = _int_param(request, "before")
        after = _int_param(request, "after")
        if before is not None and after is not None:
            page = [m for m in found if after < m["id"] < before][:1000]
        elif before is not None:
            page = [m for m in found if m["id"] < before][-20:]
        elif after is not None:
            page = [m for m in found if m["id"] > after][:100]
        else:
            page = found[-20:]
        meta: dict[str, Any] = {"contact": contact, "labels": [], "assignee": None}
        return JSONResponse({"meta": meta, "payload": [_public(message) for message in page]})

    async def _create_message(self, request: Request) -> Response:
        content_type = request.headers.get("content-type", "")
        files: list[dict[str, Any]] = []
        if content_type.startswith("multipart/form-data"):
            body, files = _parse_multipart(content_type, await request.body())
        else:
            parsed = await _json_body(request)
            if parsed is None:
                return JSONResponse({"error": "invalid JSON body"}, status_code=422)
            body = parsed

        with self._lock:
            conversation = self._state.conversations.get(request.path_params["conversation_id"])
            if conversation is None:
                return JSONResponse(_NOT_FOUND, status_code=404)
            inbox = self._state.inboxes[conversation["inbox_id"]]
            message_type = str(body.get("message_type") or "outgoing")
            if message_type not in ("incoming", "outgoing"):
                return JSONResponse(
                    {"error": f"'{message_type}' is not a valid message_type"}, status_code=422
                )
            if message_type == "incoming" and inbox["channel_type"] != "Channel::Api":
                return JSONResponse(
                    {"error": "Incoming messages are only allowed in Api inboxes"},
                    status_code=422,
                )
            if len(str(body.get("content") or "")) > _MAX_CONTENT:
                return JSONResponse(
                    {
                        "error": "Validation failed: Content is too long (maximum is 150000 characters)"
                    },
                    status_code=422,
                )
            if self._flooded(conversation["display_id"]):
                return JSONResponse(
                    {"error": "Validation failed: Too many messages"}, status_code=422
                )
            message = self._store_message(conversation, body, files)
            webhook = self._webhook_task(inbox, conversation, message)
        return JSONResponse(message, background=webhook)

    def _flooded(self, conversation_id: int) -> bool:
        now = self._clock()
        recent = [
            message
            for message in self._state.messages.values()
            if message["conversation_id"] == conversation_id and now - message["_clock"] < 60
        ]
        return len(recent) >= self.messages_per_minute

    def _store_message(
        self, conversation: dict[str, Any], body: dict[str, Any], files: list[dict[str, Any]]
    ) -> dict[str, Any]:
        message_type = str(body.get("message_type") or "outgoing")
        attributes = body.get("content_attributes") or {}
        if isinstance(attributes, str):
            attributes = json.loads(attributes or "{}")
        incoming = message_type == "incoming"
        message_id = next(self._ids)
        message = {
            "id": message_id,
            "content": body.get("content"),
            "account_id": self.account_id,
            "inbox_id": conversation["inbox_id"],
            "conversation_id": conversation["display_id"],
            "message_type": _MESSAGE_TYPES[message_type],
            "created_at": int(time.time()),
            "private": _truthy(body.get("private")),
            "status": "sent",
            "source_id": body.get("source_id"),
            "content_type": body.get("content_type") or "text",
            "content_attributes": attributes,
            "sender_type": "Contact" if incoming else "User",
            "sender_id": conversation["contact_id"] if incoming else 1,
            "attachments": [
                {"id": next(self._ids), "message_id": message_id, **item} for item in files
            ],
            "_clock": self._clock(),
        }
        self._state.messages[message_id] = message
        return _public(message)

    # -- webhooks -----------------------------------------------------------------------

    def _webhook_task(
        self, inbox: dict[str, Any], conversation: dict[str, Any], message: dict[str, Any]
    ) -> BackgroundTask | None:
        url = inbox.get("webhook_url")
        if not url:
            return None
        contact = self._state.contacts.get(conversation["contact_id"], {})
        names = {number: name for name, number in _MESSAGE_TYPES.items()}
        incoming = message["message_type"] == 0
        payload = {
            "event": "message_created",
            "id": message["id"],
            "content": message["content"],
            "created_at": message["created_at"],
            "message_type": names[message["message_type"]],
            "content_type": message["content_type"],
            "content_attributes": message["content_attributes"],
            "source_id": message["source_id"],
            "private": message["private"],
            "additional_attributes": {},
            "sender": (
                {"id": contact.get("id"), "name": contact.get("name"), "type": "contact"}
                if incoming
                else {"id": 1, "name": "Agent", "type": "user"}
            ),
            "inbox": {"id": inbox["id"], "name": inbox["name"]},
            "conversation": self._conversation_json(conversation),
            "account": {"id": self.account_id, "name": "socialinbox emulator"},
        }
        body = json.dumps(payload, ensure_ascii=False).encode()
        return BackgroundTask(self._send_webhook, str(url), body)

    async def _send_webhook(self, url: str, body: bytes) -> None:
        headers = {
            "content-type": "application/json",
            "accept": "application/json",
            "x-chatwoot-delivery": str(uuid.uuid4()),
        }
        if self.webhook_secret:
            timestamp = str(int(time.time()))
            digest = hmac.new(
                self.webhook_secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
            ).hexdigest()
            headers["x-chatwoot-timestamp"] = timestamp
            headers["x-chatwoot-signature"] = f"sha256={digest}"
        try:
            # Chatwoot sends each webhook once, with a 5 s timeout, and never retries.
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.post(url, content=body, headers=headers)
            ok = response.status_code < 400
        except httpx.HTTPError as error:
            logger.warning("chatwoot emulator: webhook delivery failed: %s", type(error).__name__)
            ok = False
        with self._lock:
            if ok:
                self.webhook_deliveries += 1
            else:
                self.webhook_failures += 1


# -- helpers -------------------------------------------------------------------------------


def _public(message: dict[str, Any]) -> dict[str, Any]:
    """Return a stored message without the emulator's private bookkeeping keys."""
    return {key: value for key, value in message.items() if not key.startswith("_")}


def _throttled() -> Response:
    return PlainTextResponse("Retry later\n", status_code=429)


def _fault_response(status: int) -> Response:
    if status == 429:
        return _throttled()
    return JSONResponse({"error": "injected failure"}, status_code=status)


def _validation_error(message: str, attribute: str) -> Response:
    return JSONResponse({"message": message, "attributes": [attribute]}, status_code=422)


async def _json_body(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _int_param(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    return int(value) if value is not None and value.isdigit() else None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in {"1", "true", "yes"}
    return bool(value)


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Split a ``multipart/form-data`` body into form fields and file descriptions."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.message_from_bytes(head + body, policy=email.policy.HTTP)
    fields: dict[str, Any] = {}
    files: list[dict[str, Any]] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True)
        payload = data if isinstance(data, bytes) else b""
        filename = part.get_filename()
        if filename:
            files.append(
                {
                    "file_type": part.get_content_maintype(),
                    "file_name": filename,
                    "file_size": len(payload),
                    "content_type": part.get_content_type(),
                }
            )
        elif isinstance(name, str):
            fields[name] = payload.decode("utf-8", errors="replace")
    return fields, files
