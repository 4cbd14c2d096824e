"""A Graph API emulator for Messenger and Instagram, served on 127.0.0.1.

One Starlette app plays both platforms for any number of Pages:

* ``GET /{version}/{page-id}/conversations?platform=messenger|instagram``
  with nested ``messages.limit(N){...}`` and cursor paging, newest first;
* ``GET /{version}/{conversation-id}/messages`` with cursor paging;
* ``GET /{version}/me``: the Page that owns the token;
* ``POST /{version}/{page-id}/messages``: the Send API with the 24-hour and
  ``HUMAN_AGENT`` windows and the text limits enforced, echoing every sent
  message to the webhook like Meta does;
* ``POST /{version}/{page-id}/feed``: Page feed posts.

Tokens are read from ``Authorization: Bearer|OAuth`` or the ``access_token``
query parameter; ``appsecret_proof`` is checked when sent (or required).
Every response carries ``x-app-usage`` and ``x-business-use-case-usage``.
:meth:`MetaEmulator.inject_error` makes the next matching calls fail with a
real Graph error body.

The webhook sender signs bodies as Meta does: ASCII-escaped JSON, signed
with ``X-Hub-Signature-256``, and delivered again after any non-200 response.
Its retry delays are short and configurable; Meta's own schedule spreads
retries over hours.

Usage::

    emulator = MetaEmulator()
    emulator.add_page("111", access_token="page-token", instagram_id="178")
    with emulator.serve() as server:
        ...  # point GraphClient(base_url=server.base_url) at it
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import logging
import re
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from socialinbox.model import Platform, utc_now
from socialinbox.testing._server import BackgroundServer

__all__ = [
    "DEFAULT_APP_ID",
    "Delivery",
    "EmulatedConversation",
    "EmulatedMessage",
    "EmulatedPage",
    "MetaEmulator",
    "RecordedRequest",
    "encode_webhook_body",
]

logger = logging.getLogger(__name__)

DEFAULT_APP_ID = 184719329217930001
"""An app id above 2**53, as real Meta app ids are, to catch float parsing."""

_STANDARD_WINDOW = timedelta(hours=24)
_HUMAN_AGENT_WINDOW = timedelta(days=7)
_MESSENGER_TAGS = {
    "HUMAN_AGENT",
    "CONFIRMED_EVENT_UPDATE",
    "POST_PURCHASE_UPDATE",
    "ACCOUNT_UPDATE",
}
_INSTAGRAM_TAGS = {"HUMAN_AGENT"}
_NESTED_LIMIT = re.compile(r"messages\.limit\((\d+)\)")

_MIME_TYPES = {"image": "image/jpeg", "video": "video/mp4", "audio": "audio/mpeg", "file": None}


def encode_webhook_body(payload: Mapping[str, Any]) -> bytes:
    """Encode ``payload`` as Meta does: compact JSON with non-ASCII escaped as ``\\uXXXX``."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _graph_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _cursor(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def _uncursor(value: str) -> tuple[str, str] | None:
    try:
        padded = value + "=" * (-len(value) % 4)
        first, second = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError):
        return None
    return str(first), str(second)


@dataclass
class EmulatedPage:
    """A Facebook Page, optionally linked to an Instagram professional account."""

    page_id: str
    access_token: str
    name: str
    instagram_id: str | None = None
    instagram_username: str | None = None
    revoked: bool = False


@dataclass
class EmulatedMessage:
    """One message in an emulated conversation."""

    mid: str
    created: datetime
    from_id: str
    to_id: str
    inbound: bool
    text: str | None = None
    attachments: tuple[tuple[str, str], ...] = ()
    """``(type, url)`` pairs: image, video, audio or file."""
    metadata: str | None = None


@dataclass
class EmulatedConversation:
    """One conversation between an account (Page or Instagram account) and a contact."""

    conversation_id: str
    platform: Platform
    account_id: str
    contact_id: str
    messages: list[EmulatedMessage] = field(default_factory=list)
    last_inbound: datetime | None = None
    """The contact's last window-opening activity (message or postback)."""

    @property
    def updated(self) -> datetime:
        times = [m.created for m in self.messages]
        if self.last_inbound is not None:
            times.append(self.last_inbound)
        return max(times)


@dataclass(frozen=True)
class RecordedRequest:
    """A request the emulator served, for assertions."""

    method: str
    path: str
    query: Mapping[str, str]
    authorization: str | None
    body: Any


@dataclass
class Delivery:
    """One webhook body and the HTTP status of each delivery attempt (None: no connection)."""

    body: bytes
    statuses: list[int | None] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        return bool(self.statuses) and self.statuses[-1] == 200


@dataclass
class _InjectedError:
    status: int
    body: bytes
    content_type: str
    headers: Mapping[str, str]
    method: str | None
    path_contains: str | None
    remaining: int

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path_contains is None or self.path_contains in path


class MetaEmulator:
    """The emulated Graph API and webhook sender (see the module docstring).

    Args:
        app_secret: signs webhook bodies and checks ``appsecret_proof``.
        app_id: the ``app_id`` in Messenger echoes.
        require_appsecret_proof: reject calls without ``appsecret_proof``.
        clock: the emulator's notion of now; tests move it to cross windows.
        webhook_retry_delays: seconds to wait before each re-delivery.
    """

    def __init__(
        self,
        *,
        app_secret: str = "emulator-app-secret",  # noqa: S107 - a test fixture value
        app_id: int = DEFAULT_APP_ID,
        require_appsecret_proof: bool = False,
        clock: Callable[[], datetime] = utc_now,
        webhook_retry_delays: Sequence[float] = (0.05, 0.1, 0.2),
    ) -> None:
        self.app_secret = app_secret
        self.app_id = app_id
        self.require_appsecret_proof = require_appsecret_proof
        self.clock = clock
        self.webhook_retry_delays = tuple(webhook_retry_delays)
        self.webhook_url: str | None = None
        self.pages: dict[str, EmulatedPage] = {}
        self.contact_names: dict[str, str] = {}
        """Names (Messenger) or usernames (Instagram) the Graph API reports for contacts."""
        self.conversations: dict[str, EmulatedConversation] = {}
        self.requests: list[RecordedRequest] = []
        self.sent: list[dict[str, Any]] = []
        self.feed: list[dict[str, Any]] = []
        self.deliveries: list[Delivery] = []
        self.app_usage: dict[str, int] = {"call_count": 1, "total_cputime": 1, "total_time": 1}
        self.business_usage: dict[str, int] = {
            "call_count": 1,
            "total_cputime": 1,
            "total_time": 1,
            "estimated_time_to_regain_access": 0,
        }
        self._errors: list[_InjectedError] = []
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self.base_url = "http://127.0.0.1"
        self.app = self._build_app()

    # ------------------------------------------------------------------ setup

    def add_page(
        self,
        page_id: str,
        *,
        access_token: str,
        name: str = "Emulated Page",
        instagram_id: str | None = None,
        instagram_username: str = "emulated.shop",
    ) -> EmulatedPage:
        """Register a Page (and its linked Instagram account, if ``instagram_id`` is given)."""
        page = EmulatedPage(
            page_id=page_id,
            access_token=access_token,
            name=name,
            instagram_id=instagram_id,
            instagram_username=instagram_username if instagram_id else None,
        )
        self.pages[page_id] = page
        return page

    def revoke(self, page_id: str) -> None:
        """Make the Page's token invalid, as a password change or removed app does."""
        self.pages[page_id].revoked = True

    def serve(self) -> BackgroundServer:
        """Return a :class:`BackgroundServer` for this app; use it as a context manager."""
        emulator = self

        class _Server(BackgroundServer):
            def start(self, timeout: float = 10.0) -> BackgroundServer:
                started = super().start(timeout)
                emulator.base_url = self.base_url
                return started

        return _Server(self.app, name="meta-emulator")

    def inject_error(
        self,
        code: int | None,
        message: str = "An unknown error occurred",
        *,
        status: int = 400,
        subcode: int | None = None,
        error_type: str = "OAuthException",
        is_transient: bool | None = None,
        method: str | None = None,
        path_contains: str | None = None,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        raw_body: str | None = None,
    ) -> None:
        """Fail the next ``times`` matching calls with a Graph error body.

        ``code=None`` with ``raw_body`` sends a non-JSON body instead, as a
        proxy in front of the Graph API does on 502 or 503.
        """
        if code is None:
            body = (raw_body or "Bad Gateway").encode("utf-8")
            content_type = "text/html"
        else:
            error: dict[str, Any] = {"message": message, "type": error_type, "code": code}
            if subcode is not None:
                error["error_subcode"] = subcode
            if is_transient is not None:
                error["is_transient"] = is_transient
            error["fbtrace_id"] = secrets.token_urlsafe(8)
            body = json.dumps({"error": error}).encode("utf-8")
            content_type = "application/json"
        with self._lock:
            self._errors.append(
                _InjectedError(
                    status=status,
                    body=body,
                    content_type=content_type,
                    headers=dict(headers or {}),
                    method=method,
                    path_contains=path_contains,
                    remaining=times,
                )
            )

    # ------------------------------------------------------------------ state

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._counter)}{secrets.token_hex(6)}"

    def _page_for_account(self, platform: Platform, account_id: str) -> EmulatedPage:
        for page in self.pages.values():
            if platform is Platform.MESSENGER and page.page_id == account_id:
                return page
            if platform is Platform.INSTAGRAM and page.instagram_id == account_id:
                return page
        raise KeyError(f"no emulated {platform.value} account {account_id}")

    def conversation(
        self, platform: Platform, account_id: str, contact_id: str
    ) -> EmulatedConversation:
        """Return the conversation of ``contact_id`` with the account, creating it if needed."""
        with self._lock:
            for conversation in self.conversations.values():
                if (conversation.platform, conversation.account_id, conversation.contact_id) == (
                    platform,
                    account_id,
                    contact_id,
                ):
                    return conversation
            prefix = "t_" if platform is Platform.MESSENGER else "aWdfdGhyZWFk"
            conversation = EmulatedConversation(
                conversation_id=self._next_id(prefix),
                platform=platform,
                account_id=account_id,
                contact_id=contact_id,
            )
            self.conversations[conversation.conversation_id] = conversation
            return conversation

    def inbound(
        self,
        platform: Platform,
        account_id: str,
        contact_id: str,
        *,
        text: str | None = None,
        attachments: Sequence[tuple[str, str]] = (),
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Record a message from a contact and return its webhook envelope.

        ``account_id`` is the Page id (Messenger) or Instagram account id.
        """
        self._page_for_account(platform, account_id)
        created = at or self.clock()
        conversation = self.conversation(platform, account_id, contact_id)
        message = EmulatedMessage(
            mid=self._new_mid(platform),
            created=created,
            from_id=contact_id,
            to_id=account_id,
            inbound=True,
            text=text,
            attachments=tuple(attachments),
        )
        with self._lock:
            conversation.messages.append(message)
            if conversation.last_inbound is None or created > conversation.last_inbound:
                conversation.last_inbound = created
        return self.envelope(
            platform, account_id, [self._webhook_event(platform, conversation, message)]
        )

    def postback(
        self,
        platform: Platform,
        account_id: str,
        contact_id: str,
        *,
        payload: str,
        title: str,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Record a button press (it opens the window too) and return its envelope."""
        when = at or self.clock()
        conversation = self.conversation(platform, account_id, contact_id)
        with self._lock:
            if conversation.last_inbound is None or when > conversation.last_inbound:
                conversation.last_inbound = when
        event = {
            "sender": {"id": contact_id},
            "recipient": {"id": account_id},
            "timestamp": _ms(when),
            "postback": {"mid": self._new_mid(platform), "title": title, "payload": payload},
        }
        return self.envelope(platform, account_id, [event])

    def envelope(
        self, platform: Platform, account_id: str, events: Sequence[Mapping[str, Any]]
    ) -> dict[str, Any]:
        """Wrap messaging events in the webhook envelope of ``platform``."""
        return {
            "object": "page" if platform is Platform.MESSENGER else "instagram",
            "entry": [
                {
                    "id": account_id,
                    "time": _ms(self.clock()),
                    "messaging": [dict(e) for e in events],
                }
            ],
        }

    def _new_mid(self, platform: Platform) -> str:
        if platform is Platform.MESSENGER:
            return "m_" + secrets.token_urlsafe(30)
        return "aWdfZAG1faXRlbToxOklHTWVzc2FnZAU" + secrets.token_urlsafe(30)

    def _webhook_event(
        self, platform: Platform, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"mid": message.mid}
        if not message.inbound:
            body["is_echo"] = True
            if platform is Platform.MESSENGER:
                body["app_id"] = self.app_id
                if message.metadata is not None:
                    body["metadata"] = message.metadata
        if message.text is not None:
            body["text"] = message.text
        if message.attachments:
            body["attachments"] = [
                {"type": kind, "payload": {"url": url}} for kind, url in message.attachments
            ]
        return {
            "sender": {"id": message.from_id},
            "recipient": {"id": message.to_id},
            "timestamp": _ms(message.created),
            "message": body,
        }

    # ------------------------------------------------------------------ webhook sender

    async def deliver(
        self, payload: Mapping[str, Any] | bytes, *, url: str | None = None
    ) -> Delivery:
        """POST a signed webhook body, delivering it again after each non-200 response."""
        target = url or self.webhook_url
        if target is None:
            raise RuntimeError("MetaEmulator.deliver needs a url or webhook_url")
        body = payload if isinstance(payload, bytes) else encode_webhook_body(payload)
        signature = hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
        legacy = hmac.new(self.app_secret.encode(), body, hashlib.sha1).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": f"sha256={signature}",
            "X-Hub-Signature": f"sha1={legacy}",
        }
        delivery = Delivery(body=body)
        with self._lock:
            self.deliveries.append(delivery)
        delays = (0.0, *self.webhook_retry_delays)
        async with httpx.AsyncClient(timeout=10.0) as client:
            for delay in delays:
                if delay:
                    await asyncio.sleep(delay)
                try:
                    response = await client.post(target, content=body, headers=headers)
                except httpx.TransportError:
                    delivery.statuses.append(None)
                    continue
                delivery.statuses.append(response.status_code)
                if response.status_code == 200:
                    break
        if not delivery.delivered:
            logger.warning("emulated webhook not delivered after %d attempts", len(delays))
        return delivery

    # ------------------------------------------------------------------ HTTP app

    def _build_app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/{version}/{node}", self._node, methods=["GET"]),
                Route("/{version}/{node}/{edge}", self._edge, methods=["GET", "POST"]),
            ]
        )

    def _usage_headers(self, page: EmulatedPage | None) -> dict[str, str]:
        headers = {"x-app-usage": json.dumps(self.app_usage)}
        if page is not None:
            entry = {"type": "pages", **self.business_usage}
            headers["x-business-use-case-usage"] = json.dumps({page.page_id: [entry]})
        return headers

    def _error(
        self,
        status: int,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        error_type: str = "OAuthException",
        page: EmulatedPage | None = None,
    ) -> Response:
        error: dict[str, Any] = {"message": message, "type": error_type, "code": code}
        if subcode is not None:
            error["error_subcode"] = subcode
        error["fbtrace_id"] = secrets.token_urlsafe(8)
        return JSONResponse({"error": error}, status, headers=self._usage_headers(page))

    async def _prepare(self, request: Request) -> tuple[Response | None, EmulatedPage | None, Any]:
        """Record the request, apply injected errors, then check the token."""
        body: Any = None
        if request.method == "POST":
            body = await _read_body(request)
        authorization = request.headers.get("authorization")
        query = dict(request.query_params)
        with self._lock:
            self.requests.append(
                RecordedRequest(request.method, request.url.path, query, authorization, body)
            )
            injected = next(
                (e for e in self._errors if e.matches(request.method, request.url.path)), None
            )
            if injected is not None:
                injected.remaining -= 1
                if injected.remaining <= 0:
                    self._errors.remove(injected)
        if injected is not None:
            headers = {**self._usage_headers(None), **injected.headers}
            return (
                Response(injected.body, injected.status, headers, injected.content_type),
                None,
                body,
            )
        token = _token_of(authorization, query)
        if token is None:
            return (
                self._error(400, 104, "An access token is required to request this resource."),
                None,
                body,
            )
        page = next((p for p in self.pages.values() if p.access_token == token), None)
        if page is None:
            return (
                self._error(400, 190, "Invalid OAuth access token - Cannot parse access token"),
                None,
                body,
            )
        if page.revoked:
            message = "Error validating access token: The session has been invalidated."
            return self._error(400, 190, message, subcode=460), None, body
        proof = query.get("appsecret_proof")
        expected = hmac.new(self.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
        if proof is not None and not hmac.compare_digest(proof, expected):
            message = "Invalid appsecret_proof provided in the API argument"
            return self._error(400, 100, message, error_type="GraphMethodException"), None, body
        if proof is None and self.require_appsecret_proof:
            message = "API calls from the server require an appsecret_proof argument"
            return self._error(400, 100, message, error_type="GraphMethodException"), None, body
        return None, page, body

    async def _node(self, request: Request) -> Response:
        failure, page, _ = await self._prepare(request)
        if failure is not None:
            return failure
        assert page is not None
        node = request.path_params["node"]
        if node not in {"me", page.page_id}:
            return self._error(
                400,
                100,
                f"Unsupported get request. Object with ID '{node}' does not exist",
                subcode=33,
                error_type="GraphMethodException",
                page=page,
            )
        return JSONResponse(
            {"id": page.page_id, "name": page.name}, headers=self._usage_headers(page)
        )

    async def _edge(self, request: Request) -> Response:
        failure, page, body = await self._prepare(request)
        if failure is not None:
            return failure
        assert page is not None
        node = request.path_params["node"]
        edge = request.path_params["edge"]
        method = request.method
        if node == "me":
            node = page.page_id
        if method == "GET" and edge == "conversations" and node == page.page_id:
            return self._list_conversations(request, page)
        if method == "GET" and edge == "messages" and node in self.conversations:
            return self._list_messages(request, page, self.conversations[node])
        if method == "POST" and edge == "messages" and node == page.page_id:
            return self._send(page, body if isinstance(body, dict) else {})
        if method == "POST" and edge == "feed" and node == page.page_id:
            return self._post_feed(page, body if isinstance(body, dict) else {})
        return self._error(
            400,
            100,
            f"Unsupported {method.lower()} request. Object with ID '{node}' does not "
            "exist, cannot be loaded due to missing permissions, or does not support this "
            "operation",
            subcode=33,
            error_type="GraphMethodException",
            page=page,
        )

    # ------------------------------------------------------------------ reading

    def _account_of(self, page: EmulatedPage, platform: Platform) -> str | None:
        return page.page_id if platform is Platform.MESSENGER else page.instagram_id

    def _participant(self, page: EmulatedPage, platform: Platform, user_id: str) -> dict[str, str]:
        if user_id == self._account_of(page, platform):
            if platform is Platform.MESSENGER:
                return {"id": user_id, "name": page.name}
            return {"id": user_id, "username": page.instagram_username or ""}
        if platform is Platform.MESSENGER:
            return {"id": user_id, "name": self.contact_names.get(user_id, f"Contact {user_id[-4:]}")}
        return {"id": user_id, "username": self.contact_names.get(user_id, f"contact_{user_id[-4:]}")}

    def _message_node(
        self, page: EmulatedPage, platform: Platform, message: EmulatedMessage
    ) -> dict[str, Any]:
        node: dict[str, Any] = {
            "id": message.mid,
            "created_time": _graph_time(message.created),
            "from": self._participant(page, platform, message.from_id),
            "to": {"data": [self._participant(page, platform, message.to_id)]},
            "message": message.text or "",
        }
        if message.attachments:
            node["attachments"] = {
                "data": [
                    _graph_attachment(kind, url, index, message.mid)
                    for index, (kind, url) in enumerate(message.attachments)
                ]
            }
        return node

    def _list_conversations(self, request: Request, page: EmulatedPage) -> Response:
        raw_platform = request.query_params.get("platform", "messenger").lower()
        if raw_platform not in {"messenger", "instagram"}:
            return self._error(
                400, 100, "(#100) platform must be one of messenger, instagram", page=page
            )
        platform = Platform(raw_platform)
        account = self._account_of(page, platform)
        if account is None:
            return self._error(
                400, 100, "(#100) The Page has no linked Instagram account", page=page
            )
        limit = _limit(request.query_params.get("limit"), 25)
        fields = request.query_params.get("fields", "")
        match = _NESTED_LIMIT.search(fields)
        nested_limit = int(match.group(1)) if match else 25
        with self._lock:
            conversations = [
                c
                for c in self.conversations.values()
                if c.platform is platform and c.account_id == account and c.messages
            ]
            ordered = sorted(
                conversations,
                key=lambda c: (_graph_time(c.updated), c.conversation_id),
                reverse=True,
            )
            start = _page_start(
                ordered,
                request.query_params.get("after"),
                lambda c: (_graph_time(c.updated), c.conversation_id),
            )
            chunk = ordered[start : start + limit]
            data = []
            for conversation in chunk:
                item: dict[str, Any] = {
                    "id": conversation.conversation_id,
                    "updated_time": _graph_time(conversation.updated),
                    "participants": {
                        "data": [
                            self._participant(page, platform, conversation.contact_id),
                            self._participant(page, platform, account),
                        ]
                    },
                }
                if "messages" in fields:
                    item["messages"] = self._messages_page(
                        page, conversation, nested_limit, None, request
                    )
                data.append(item)
            has_more = start + limit < len(ordered)
        payload: dict[str, Any] = {"data": data}
        if chunk:
            first = (_graph_time(chunk[0].updated), chunk[0].conversation_id)
            last = (_graph_time(chunk[-1].updated), chunk[-1].conversation_id)
            payload["paging"] = {"cursors": {"before": _cursor(first), "after": _cursor(last)}}
            if has_more:
                payload["paging"]["next"] = self._next_url(
                    request, f"{page.page_id}/conversations", page, _cursor(last)
                )
        return JSONResponse(payload, headers=self._usage_headers(page))

    def _messages_page(
        self,
        page: EmulatedPage,
        conversation: EmulatedConversation,
        limit: int,
        after: str | None,
        request: Request,
    ) -> dict[str, Any]:
        ordered = sorted(
            conversation.messages, key=lambda m: (_graph_time(m.created), m.mid), reverse=True
        )
        start = _page_start(ordered, after, lambda m: (_graph_time(m.created), m.mid))
        chunk = ordered[start : start + limit]
        result: dict[str, Any] = {
            "data": [self._message_node(page, conversation.platform, m) for m in chunk]
        }
        if chunk:
            first = (_graph_time(chunk[0].created), chunk[0].mid)
            last = (_graph_time(chunk[-1].created), chunk[-1].mid)
            result["paging"] = {"cursors": {"before": _cursor(first), "after": _cursor(last)}}
            if start + limit < len(ordered):
                result["paging"]["next"] = self._next_url(
                    request, f"{conversation.conversation_id}/messages", page, _cursor(last)
                )
        return result

    def _list_messages(
        self, request: Request, page: EmulatedPage, conversation: EmulatedConversation
    ) -> Response:
        limit = _limit(request.query_params.get("limit"), 25)
        with self._lock:
            result = self._messages_page(
                page, conversation, limit, request.query_params.get("after"), request
            )
        return JSONResponse(result, headers=self._usage_headers(page))

    def _next_url(self, request: Request, path: str, page: EmulatedPage, after: str) -> str:
        # Real paging.next URLs embed the access token; clients must not log them.
        version = request.path_params["version"]
        query = httpx.QueryParams(
            {**dict(request.query_params), "after": after, "access_token": page.access_token}
        )
        return f"{self.base_url}/{version}/{path}?{query}"

    # ------------------------------------------------------------------ writing

    def _send(self, page: EmulatedPage, body: dict[str, Any]) -> Response:
        recipient = _json_field(body.get("recipient"))
        message = _json_field(body.get("message"))
        recipient_id = str(recipient.get("id")) if isinstance(recipient, dict) else None
        if recipient_id is None or not isinstance(message, dict):
            return self._error(400, 100, "(#100) The parameter recipient is required", page=page)
        conversation = self._find_contact(page, recipient_id)
        if conversation is None:
            return self._error(
                400, 100, "(#100) No matching user found", subcode=2018001, page=page
            )
        platform = conversation.platform
        refusal = self._check_window(page, conversation, body)
        if refusal is not None:
            return refusal
        text = message.get("text")
        attachment = message.get("attachment")
        if isinstance(text, str):
            limit_refusal = self._check_text(page, platform, text)
            if limit_refusal is not None:
                return limit_refusal
        attachments: tuple[tuple[str, str], ...] = ()
        if isinstance(attachment, dict):
            payload = attachment.get("payload") or {}
            url = payload.get("url") or f"https://cdn.example.com/{payload.get('attachment_id')}"
            attachments = ((str(attachment.get("type")), str(url)),)
        elif not isinstance(text, str):
            return self._error(
                400, 100, "(#100) Message must contain text or attachment", page=page
            )
        now = self.clock()
        sent = EmulatedMessage(
            mid=self._new_mid(platform),
            created=now,
            from_id=conversation.account_id,
            to_id=recipient_id,
            inbound=False,
            text=text if isinstance(text, str) else None,
            attachments=attachments,
            metadata=message.get("metadata") if platform is Platform.MESSENGER else None,
        )
        with self._lock:
            conversation.messages.append(sent)
            self.sent.append(body)
        task = None
        if self.webhook_url is not None:
            echo = self.envelope(
                platform,
                conversation.account_id,
                [self._webhook_event(platform, conversation, sent)],
            )
            task = BackgroundTask(self.deliver, echo)
        return JSONResponse(
            {"recipient_id": recipient_id, "message_id": sent.mid},
            headers=self._usage_headers(page),
            background=task,
        )

    def _find_contact(self, page: EmulatedPage, contact_id: str) -> EmulatedConversation | None:
        accounts = {page.page_id, page.instagram_id} - {None}
        with self._lock:
            for conversation in self.conversations.values():
                if conversation.contact_id == contact_id and conversation.account_id in accounts:
                    return conversation
        return None

    def _check_window(
        self, page: EmulatedPage, conversation: EmulatedConversation, body: dict[str, Any]
    ) -> Response | None:
        platform = conversation.platform
        messaging_type = body.get("messaging_type", "RESPONSE")
        tag = body.get("tag")
        allowed_tags = _MESSENGER_TAGS if platform is Platform.MESSENGER else _INSTAGRAM_TAGS
        if messaging_type == "MESSAGE_TAG" and tag not in allowed_tags:
            return self._error(
                400, 100, f"(#100) Param tag must be one of {sorted(allowed_tags)}", page=page
            )
        last = conversation.last_inbound
        now = self.clock()
        if messaging_type == "MESSAGE_TAG" and tag != "HUMAN_AGENT":
            return None
        window = _HUMAN_AGENT_WINDOW if messaging_type == "MESSAGE_TAG" else _STANDARD_WINDOW
        if last is not None and now - last <= window:
            return None
        if platform is Platform.MESSENGER:
            return self._error(
                400,
                10,
                "(#10) This message is sent outside of allowed window. Learn more about the "
                "new policy here: https://developers.facebook.com/docs/messenger-platform/"
                "policy-overview",
                subcode=2018278,
                page=page,
            )
        return self._error(
            403,
            10,
            "This message is sent outside of allowed window.",
            subcode=2534022,
            error_type="IGApiException",
            page=page,
        )

    def _check_text(self, page: EmulatedPage, platform: Platform, text: str) -> Response | None:
        # NOTE: the wording of these two refusals is modelled on Graph's
        # parameter-length errors; Meta's exact text for them is not confirmed.
        if platform is Platform.MESSENGER and len(text) > 2000:
            message = "(#100) Length of param message[text] must be less than or equal to 2000"
            return self._error(400, 100, message, page=page)
        if platform is Platform.INSTAGRAM and len(text.encode("utf-8")) > 1000:
            message = "(#100) Length of param message[text] must be less than or equal to 1000"
            return self._error(400, 100, message, error_type="IGApiException", page=page)
        return None

    def _post_feed(self, page: EmulatedPage, body: dict[str, Any]) -> Response:
        if not isinstance(body.get("message"), str) and not body.get("link"):
            return self._error(
                400, 100, "(#100) Posts where the message is empty are not allowed", page=page
            )
        post_id = f"{page.page_id}_{next(self._counter)}{secrets.randbelow(10**9)}"
        with self._lock:
            self.feed.append({"id": post_id, **body})
        return JSONResponse({"id": post_id}, headers=self._usage_headers(page))


# ---------------------------------------------------------------------- helpers


async def _read_body(request: Request) -> Any:
    """Read a JSON body, or form fields whose values may be JSON strings."""
    raw = await request.body()
    content_type = request.headers.get("content-type", "")
    if "json" in content_type:
        try:
            return json.loads(raw)
        except ValueError:
            return None
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _json_field(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _token_of(authorization: str | None, query: Mapping[str, str]) -> str | None:
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() in {"bearer", "oauth"} and value.strip():
            return value.strip()
    return query.get("access_token")


def _limit(value: str | None, default: int) -> int:
    if value is None or not value.isdigit():
        return default
    return max(1, min(int(value), 100))


def _page_start(
    items: Sequence[Any], after: str | None, key: Callable[[Any], tuple[str, str]]
) -> int:
    """Return the index of the first item after the cursor, in a newest-first list."""
    if not after:
        return 0
    position = _uncursor(after)
    if position is None:
        return len(items)
    for index, item in enumerate(items):
        if key(item) < position:
            return index
    return len(items)


def _graph_attachment(kind: str, url: str, index: int, mid: str) -> dict[str, Any]:
    node: dict[str, Any] = {"id": f"{mid[-10:]}{index}", "name": f"{kind}-{index}"}
    mime_type = _MIME_TYPES.get(kind)
    if mime_type is not None:
        node["mime_type"] = mime_type
    if kind == "image":
        node["image_data"] = {"url": url, "preview_url": url, "width": 640, "height": 480}
    elif kind == "video":
        node["video_data"] = {"url": url, "preview_url": url, "width": 640, "height": 360}
    else:
        node["file_url"] = url
    return node
