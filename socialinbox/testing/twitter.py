"""An X API v2 emulator: a real HTTP server on 127.0.0.1 for the DM routes socialinbox calls.

Routes (response shapes as X documents and as recorded from the live API):

* ``GET /2/dm_events``, ``GET /2/dm_conversations/{id}/dm_events``,
  ``GET /2/dm_conversations/with/{participant_id}/dm_events``: newest first,
  ``next_token`` pagination, ``dm_event.fields`` / ``expansions`` /
  ``user.fields`` / ``media.fields`` / ``tweet.fields`` selection. Both the
  2025 names and the 2026 names (``referenced_posts``, ``post.fields``) are
  accepted; unknown values get the 400 ``invalid-request`` problem.
* ``POST /2/dm_conversations/with/{participant_id}/messages``,
  ``POST /2/dm_conversations/{id}/messages``, ``POST /2/dm_conversations``
  (create a group), ``POST /2/tweets``, ``GET /2/users/me``.

Every response carries ``x-rate-limit-limit``, ``x-rate-limit-remaining`` and
``x-rate-limit-reset``. Over the limit the server responds with 429 and the v1
body ``{"errors":[{"code":88,...}]}`` or with problem JSON. A request without
an ``Authorization`` header gets 401. :meth:`TwitterEmulator.inject` queues
faults, and :meth:`TwitterEmulator.load_cassette` queues recorded responses
from a vcrpy cassette, served before the emulated state.

Usage::

    with TwitterEmulator(user_id="1044444444444444444") as x:
        x.add_message(sender_id="731111111111111111", text="merhaba")
        adapter = TwitterAdapter(..., base_url=x.base_url)
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from twitter_text import parse_tweet

from socialinbox.testing._server import BackgroundServer

__all__ = ["Fault", "RecordedResponse", "RequestRecord", "TwitterEmulator"]

logger = logging.getLogger(__name__)

SNOWFLAKE_EPOCH_MS = 1288834974657
DM_TEXT_LIMIT = 10_000
"""Characters per DM (tweepy docstring, older X API reference); counted here in code points."""

ErrorStyle = Literal["v1", "problem"]

_DM_EVENT_FIELDS = frozenset({
    "attachments", "created_at", "dm_conversation_id", "entities", "event_type", "id",
    "participant_ids", "referenced_tweets", "sender_id", "text",
})
_EXPANSIONS = frozenset({
    "attachments.media_keys", "participant_ids", "referenced_tweets.id", "referenced_posts",
    "sender_id",
})
_USER_FIELDS = frozenset({
    "created_at", "description", "id", "location", "name", "profile_image_url", "protected",
    "url", "username", "verified",
})
_MEDIA_FIELDS = frozenset({
    "alt_text", "duration_ms", "height", "media_key", "preview_image_url", "public_metrics",
    "type", "url", "variants", "width",
})
_TWEET_FIELDS = frozenset({
    "attachments", "author_id", "conversation_id", "created_at", "edit_history_tweet_ids",
    "entities", "id", "lang", "referenced_tweets", "text",
})
_EVENT_TYPES = ("MessageCreate", "ParticipantsJoin", "ParticipantsLeave")
_START_TOKEN_ID = 2**64 - 1
_DROPPED_RECORDED_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "date", "server"}
)

DEFAULT_LIMITS: Mapping[str, tuple[int, int]] = {
    "GET /2/dm_events": (300, 900),
    "GET /2/dm_conversations/:id/dm_events": (300, 900),
    "GET /2/dm_conversations/with/:participant_id/dm_events": (300, 900),
    "POST /2/dm_conversations/with/:participant_id/messages": (200, 900),
    "POST /2/dm_conversations/:id/messages": (200, 900),
    "POST /2/dm_conversations": (200, 900),
    "POST /2/tweets": (100, 900),
    "GET /2/users/me": (75, 900),
}
"""Requests per window (seconds) per user and endpoint.

The DM values are those in the headers of responses recorded from the live
API in 2022; X's current rate-limit page lists a stricter 15 per 15 minutes.
"""


@dataclass(frozen=True)
class RequestRecord:
    """One request the emulator received."""

    method: str
    path: str
    endpoint: str
    query: Mapping[str, str]
    user_id: str | None
    status: int


@dataclass
class Fault:
    """A response to return instead of the emulated one.

    ``kind`` selects the response:

    * ``"error"``: ``status`` with ``body``.
    * ``"rate_limit"``: 429 in ``style``, with a reset ``reset_in`` seconds
      from now. The rate-limit headers are left out when
      ``rate_limit_headers`` is false.
    * ``"dm_access_denied"``: the 403 "access level lacks DMs" error in ``style``.
    * ``"empty_page"``: 200 with no events but a ``next_token`` that continues
      where the request stood.
    """

    kind: Literal["error", "rate_limit", "dm_access_denied", "empty_page"] = "error"
    status: int = 500
    body: Any = None
    style: ErrorStyle = "v1"
    reset_in: float = 0.0
    rate_limit_headers: bool = True
    method: str | None = None
    endpoint: str | None = None
    """Endpoint template such as ``"GET /2/dm_events"``; ``None`` matches every request."""
    times: int = 1
    """How many matching requests get the fault."""
    after: int = 0
    """How many matching requests pass untouched before the fault applies."""

    def matches(self, method: str, endpoint: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.endpoint is None or self.endpoint == endpoint


@dataclass
class RecordedResponse:
    """A response recorded in a cassette, served once to a matching request."""

    method: str
    path: str
    status: int
    headers: dict[str, str]
    body: bytes
    used: bool = False


@dataclass
class _Window:
    start: float
    count: int = 0


@dataclass
class _State:
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    tweets: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, set[str]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    denied: dict[str, ErrorStyle] = field(default_factory=dict)
    faults: deque[Fault] = field(default_factory=deque)
    recorded: list[RecordedResponse] = field(default_factory=list)
    windows: dict[tuple[str, str], _Window] = field(default_factory=dict)
    requests: list[RequestRecord] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    last_id: int = 0


class _HttpError(Exception):
    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def _problem(status: int, title: str, detail: str, problem: str = "about:blank") -> dict[str, Any]:
    problem_type = problem if problem == "about:blank" else f"https://api.x.com/2/problems/{problem}"
    return {"title": title, "detail": detail, "type": problem_type, "status": status}


def _invalid_request(parameter: str, values: list[str], allowed: Iterable[str]) -> _HttpError:
    message = (
        f"The `{parameter}` query parameter value [{','.join(values)}] is not one of "
        f"[{','.join(sorted(allowed))}]"
    )
    return _HttpError(
        400,
        {
            "errors": [{"parameters": {parameter: values}, "message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.x.com/2/problems/invalid-request",
        },
    )


def _encode_token(before_id: int) -> str:
    """Return a ``next_token``: base32hex of the last id served, 16 characters."""
    return base64.b32hexencode(before_id.to_bytes(10, "big")).decode()


def _decode_token(token: str) -> int:
    try:
        return int.from_bytes(base64.b32hexdecode(token), "big")
    except (binascii.Error, ValueError) as error:
        raise _HttpError(
            400,
            {
                "errors": [{"parameters": {"pagination_token": [token]},
                            "message": "The `pagination_token` query parameter value is invalid"}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.x.com/2/problems/invalid-request",
            },
        ) from error


def _pair_id(user_a: str, user_b: str) -> str:
    low, high = sorted((user_a, user_b), key=lambda user: (len(user), user))
    return f"{low}-{high}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _snowflake_time(snowflake: int) -> datetime:
    return datetime.fromtimestamp(((snowflake >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, UTC)


def _csv(query: Mapping[str, str], *names: str) -> list[str]:
    values: list[str] = []
    for name in names:
        raw = query.get(name)
        if raw:
            values.extend(value for value in raw.split(",") if value)
    return values


class TwitterEmulator:
    """The emulated X API for one or more user accounts.

    Args:
        user_id: the user every valid token belongs to, unless
            :meth:`add_account` maps tokens to users.
        limits: requests per window (seconds) per endpoint template;
            missing endpoints use :data:`DEFAULT_LIMITS`.
        rate_limit_style: body of 429 responses, ``"v1"`` or ``"problem"``.
    """

    def __init__(
        self,
        user_id: str = "1044444444444444444",
        *,
        username: str = "inbox_account",
        limits: Mapping[str, tuple[int, int]] | None = None,
        rate_limit_style: ErrorStyle = "v1",
    ) -> None:
        self.user_id = user_id
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self.rate_limit_style: ErrorStyle = rate_limit_style
        self._state = _State()
        self._lock = threading.RLock()
        self.add_user(user_id, username=username, name="Inbox Account")
        self._server = BackgroundServer(self.app(), name="x-emulator")

    # -- lifecycle -----------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._server.base_url

    def start(self) -> TwitterEmulator:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> TwitterEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- Python API: state ---------------------------------------------------

    def add_user(self, user_id: str, *, username: str | None = None, name: str | None = None) -> None:
        with self._lock:
            self._state.users[user_id] = {
                "id": user_id,
                "username": username or f"user{user_id[-6:]}",
                "name": name or f"User {user_id[-6:]}",
            }

    def add_account(self, user_id: str, token: str, *, username: str | None = None) -> None:
        """Map ``token`` (a bearer token or an OAuth 1.0a ``oauth_token``) to ``user_id``.

        Once any token is mapped, requests with unknown tokens get 401.
        """
        with self._lock:
            self._state.tokens[token] = user_id
            if user_id not in self._state.users:
                self.add_user(user_id, username=username)

    def add_media(self, media: Mapping[str, Any]) -> None:
        with self._lock:
            self._state.media[str(media["media_key"])] = dict(media)

    def add_tweet(self, tweet: Mapping[str, Any]) -> None:
        with self._lock:
            self._state.tweets[str(tweet["id"])] = dict(tweet)

    def create_group(self, participant_ids: Iterable[str], *, conversation_id: str | None = None) -> str:
        """Create a group conversation and return its id."""
        with self._lock:
            group_id = conversation_id or str(self._next_id())
            self._state.groups[group_id] = {str(user) for user in participant_ids}
            return group_id

    def add_dm_events(self, events: Iterable[Mapping[str, Any]] | Mapping[str, Any]) -> list[str]:
        """Add v2 DM events; return their ids.

        ``events`` is a list of event objects or a whole v2 response body, in
        which case its ``includes`` are loaded too. Events need ``id``,
        ``event_type`` and ``dm_conversation_id``; ``created_at`` defaults to
        the time in the snowflake id.
        """
        if isinstance(events, Mapping):
            includes = events.get("includes") or {}
            for user in includes.get("users", []):
                self.add_user(str(user["id"]), username=user.get("username"), name=user.get("name"))
            for media in includes.get("media", []):
                self.add_media(media)
            for tweet in includes.get("tweets", []):
                self.add_tweet(tweet)
            events = events.get("data") or []
        added = []
        with self._lock:
            for event in events:
                stored = dict(event)
                event_id = int(stored["id"])
                stored["id"] = str(event_id)
                stored.setdefault("created_at", _iso(_snowflake_time(event_id)))
                self._state.events[stored["id"]] = stored
                self._state.last_id = max(self._state.last_id, event_id)
                conversation = str(stored["dm_conversation_id"])
                if "-" not in conversation:
                    members = self._state.groups.setdefault(conversation, set())
                    members.update(str(user) for user in stored.get("participant_ids", []))
                    if "sender_id" in stored:
                        members.add(str(stored["sender_id"]))
                added.append(stored["id"])
        return added

    def add_message(
        self,
        *,
        sender_id: str,
        text: str | None = None,
        recipient_id: str | None = None,
        conversation_id: str | None = None,
        media_keys: Iterable[str] = (),
        referenced_tweet_ids: Iterable[str] = (),
        created_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Add a ``MessageCreate`` event and return it.

        Without ``conversation_id`` the message goes to the one-to-one
        conversation of ``sender_id`` and ``recipient_id`` (default: the
        emulator's user).
        """
        with self._lock:
            event_id = self._next_id(created_at)
            if conversation_id is None:
                conversation_id = _pair_id(sender_id, recipient_id or self.user_id)
            if sender_id not in self._state.users:
                self.add_user(sender_id)
            event: dict[str, Any] = {
                "id": str(event_id),
                "event_type": "MessageCreate",
                "text": text or "",
                "sender_id": sender_id,
                "dm_conversation_id": conversation_id,
                "created_at": _iso(created_at or _snowflake_time(event_id)),
            }
            keys = list(media_keys)
            if keys:
                event["attachments"] = {"media_keys": keys}
            references = list(referenced_tweet_ids)
            if references:
                event["referenced_tweets"] = [{"id": post_id} for post_id in references]
            self.add_dm_events([event])
            return event

    def add_participants_event(
        self,
        conversation_id: str,
        *,
        action: Literal["join", "leave"],
        participant_ids: Iterable[str],
        sender_id: str | None = None,
    ) -> dict[str, Any]:
        """Add a ``ParticipantsJoin`` or ``ParticipantsLeave`` event and return it."""
        with self._lock:
            event_id = self._next_id()
            event: dict[str, Any] = {
                "id": str(event_id),
                "event_type": "ParticipantsJoin" if action == "join" else "ParticipantsLeave",
                "dm_conversation_id": conversation_id,
                "participant_ids": list(participant_ids),
                "created_at": _iso(_snowflake_time(event_id)),
            }
            if sender_id is not None:
                event["sender_id"] = sender_id
            self.add_dm_events([event])
            return event

    def deny_dm_access(self, user_id: str, *, style: ErrorStyle = "problem") -> None:
        """Reject every DM request of ``user_id`` with the 403 "access level lacks DMs" error."""
        with self._lock:
            self._state.denied[user_id] = style

    def inject(self, fault: Fault | None = None, /, **kwargs: Any) -> Fault:
        """Queue a fault for the next matching request(s); see :class:`Fault`."""
        fault = fault or Fault(**kwargs)
        with self._lock:
            self._state.faults.append(fault)
        return fault

    def load_cassette(self, cassette: str | Path | Mapping[str, Any]) -> int:
        """Queue the responses of a vcrpy cassette; return how many were loaded.

        A recorded response is served once, to the first request with the same
        method and path (host and query are not compared), before the emulated
        state is consulted. The recorded body and headers are sent unchanged,
        so a gzip body keeps its ``content-encoding: gzip``.
        """
        if not isinstance(cassette, Mapping):
            cassette = yaml.safe_load(Path(cassette).read_bytes())
        interactions = cassette.get("interactions") if isinstance(cassette, Mapping) else None
        if not isinstance(interactions, list):
            raise TypeError("cassette has no interactions list")
        loaded = 0
        with self._lock:
            for interaction in interactions:
                request = interaction["request"]
                response = interaction["response"]
                body = response.get("body", {}).get("string", b"")
                if isinstance(body, str):
                    body = body.encode()
                headers = {
                    name.lower(): ", ".join(values) if isinstance(values, list) else str(values)
                    for name, values in (response.get("headers") or {}).items()
                    if name.lower() not in _DROPPED_RECORDED_HEADERS
                }
                self._state.recorded.append(
                    RecordedResponse(
                        method=str(request["method"]).upper(),
                        path=urlsplit(request["uri"]).path,
                        status=int(response["status"]["code"]),
                        headers=headers,
                        body=bytes(body),
                    )
                )
                loaded += 1
        return loaded

    # -- Python API: observation ---------------------------------------------

    @property
    def sent(self) -> list[dict[str, Any]]:
        """DMs sent through the API: route, conversation, text, media ids, event id, user."""
        with self._lock:
            return list(self._state.sent)

    @property
    def posts(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._state.posts)

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._state.requests)

    def request_count(self, endpoint: str | None = None, *, user_id: str | None = None) -> int:
        """Count requests received, optionally for one endpoint template or user."""
        return sum(
            1
            for record in self.requests
            if (endpoint is None or record.endpoint == endpoint)
            and (user_id is None or record.user_id == user_id)
        )

    def reset_requests(self) -> None:
        with self._lock:
            self._state.requests.clear()

    @property
    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return sorted(self._state.events.values(), key=lambda event: -int(event["id"]))

    # -- internals -------------------------------------------------------------

    def _next_id(self, moment: datetime | None = None) -> int:
        milliseconds = int((moment.timestamp() if moment else time.time()) * 1000)
        candidate = (milliseconds - SNOWFLAKE_EPOCH_MS) << 22
        if moment is None and candidate <= self._state.last_id:
            candidate = self._state.last_id + 1
        self._state.last_id = max(self._state.last_id, candidate)
        return candidate

    def app(self) -> Starlette:
        """Build the Starlette application (also usable without the server thread)."""
        endpoints = [
            ("GET", "/2/dm_events", "GET /2/dm_events"),
            ("GET", "/2/dm_conversations/with/{participant_id}/dm_events",
             "GET /2/dm_conversations/with/:participant_id/dm_events"),
            ("GET", "/2/dm_conversations/{conversation_id}/dm_events",
             "GET /2/dm_conversations/:id/dm_events"),
            ("POST", "/2/dm_conversations/with/{participant_id}/messages",
             "POST /2/dm_conversations/with/:participant_id/messages"),
            ("POST", "/2/dm_conversations/{conversation_id}/messages",
             "POST /2/dm_conversations/:id/messages"),
            ("POST", "/2/dm_conversations", "POST /2/dm_conversations"),
            ("POST", "/2/tweets", "POST /2/tweets"),
            ("GET", "/2/users/me", "GET /2/users/me"),
        ]
        routes = [
            Route(path, self._handler(endpoint), methods=[method], name=endpoint)
            for method, path, endpoint in endpoints
        ]
        return Starlette(routes=routes)

    def _handler(self, endpoint: str) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            return await self._handle(request, endpoint)

        return handle

    async def _handle(self, request: Request, endpoint: str) -> Response:
        body = await request.body()
        with self._lock:
            user_id: str | None = None
            try:
                user_id = self._authenticate(request)
                response = self._respond(request, endpoint, user_id, body)
            except _HttpError as error:
                response = JSONResponse(error.body, status_code=error.status, headers=error.headers)
            self._state.requests.append(
                RequestRecord(
                    method=request.method,
                    path=request.url.path,
                    endpoint=endpoint,
                    query=dict(request.query_params),
                    user_id=user_id,
                    status=response.status_code,
                )
            )
        logger.debug("x-emulator %s %s -> %d", request.method, request.url.path,
                     response.status_code)
        return response

    def _authenticate(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        token: str | None = None
        if header.startswith("Bearer "):
            token = header[len("Bearer "):].strip() or None
        elif header.startswith("OAuth "):
            fields = dict(re.findall(r'(\w+)="([^"]*)"', header))
            if {"oauth_consumer_key", "oauth_signature", "oauth_token"} <= fields.keys():
                token = unquote(fields["oauth_token"])
        if token is None:
            raise _HttpError(401, _problem(401, "Unauthorized", "Unauthorized"))
        if self._state.tokens:
            user_id = self._state.tokens.get(token)
            if user_id is None:
                raise _HttpError(401, _problem(401, "Unauthorized", "Unauthorized"))
            return user_id
        return self.user_id

    def _respond(self, request: Request, endpoint: str, user_id: str, body: bytes) -> Response:
        recorded = self._take_recorded(request.method, request.url.path)
        if recorded is not None:
            return Response(recorded.body, status_code=recorded.status, headers=recorded.headers)
        fault = self._take_fault(request.method, endpoint)
        if fault is not None and fault.kind != "empty_page":
            return self._fault_response(fault, endpoint)
        if user_id in self._state.denied and "/dm_" in endpoint:
            raise _HttpError(403, self._dm_denied_body(self._state.denied[user_id]))
        headers = self._count_rate_limit(endpoint, user_id)
        if fault is not None:
            result: tuple[int, Any, dict[str, str]] = (
                200, self._empty_page(request), {}
            )
        else:
            result = self._dispatch(request, endpoint, user_id, body)
        status, payload, extra_headers = result
        return JSONResponse(payload, status_code=status, headers={**headers, **extra_headers})

    def _take_recorded(self, method: str, path: str) -> RecordedResponse | None:
        for recorded in self._state.recorded:
            if not recorded.used and recorded.method == method and recorded.path == path:
                recorded.used = True
                return recorded
        return None

    def _take_fault(self, method: str, endpoint: str) -> Fault | None:
        for fault in self._state.faults:
            if fault.matches(method, endpoint):
                if fault.after > 0:
                    fault.after -= 1
                    continue
                fault.times -= 1
                if fault.times <= 0:
                    self._state.faults.remove(fault)
                return fault
        return None

    def _fault_response(self, fault: Fault, endpoint: str) -> Response:
        if fault.kind == "rate_limit":
            limit = self.limits.get(endpoint, (300, 900))[0]
            headers = {}
            if fault.rate_limit_headers:
                headers = {
                    "x-rate-limit-limit": str(limit),
                    "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": str(int(time.time() + fault.reset_in)),
                }
            return JSONResponse(self._rate_limit_body(fault.style), status_code=429,
                                headers=headers)
        if fault.kind == "dm_access_denied":
            return JSONResponse(self._dm_denied_body(fault.style), status_code=403)
        body = fault.body
        if body is None:
            body = _problem(fault.status, "Service Unavailable", "Injected fault")
        return JSONResponse(body, status_code=fault.status)

    @staticmethod
    def _rate_limit_body(style: ErrorStyle) -> dict[str, Any]:
        if style == "v1":
            return {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
        return _problem(429, "Too Many Requests", "Too Many Requests")

    @staticmethod
    def _dm_denied_body(style: ErrorStyle) -> dict[str, Any]:
        if style == "v1":
            return {"errors": [{
                "message": "You currently have access to a subset of X API V2 endpoints and "
                "limited v1.1 endpoints (e.g. media post, oauth) only. If you need access to "
                "this endpoint, you may need a different access level. You can learn more "
                "here: https://developer.x.com/en/portal/product",
                "code": 453,
            }]}
        return {
            **_problem(
                403,
                "Client Forbidden",
                "This request must be made using an approved developer account that is "
                "enrolled in the requested endpoint.",
                "client-forbidden",
            ),
            "reason": "client-not-enrolled",
            "registration_url": "https://developer.x.com/en/portal/product",
            "required_enrollment": "Appropriate Level of API Access",
        }

    def _count_rate_limit(self, endpoint: str, user_id: str) -> dict[str, str]:
        limit, window = self.limits.get(endpoint, (300, 900))
        now = time.time()
        state = self._state.windows.get((user_id, endpoint))
        if state is None or now >= state.start + window:
            state = _Window(start=now)
            self._state.windows[(user_id, endpoint)] = state
        reset = str(int(state.start + window))
        if state.count >= limit:
            raise _HttpError(
                429,
                self._rate_limit_body(self.rate_limit_style),
                {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": "0",
                 "x-rate-limit-reset": reset},
            )
        state.count += 1
        return {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(limit - state.count),
            "x-rate-limit-reset": reset,
        }

    def _dispatch(
        self, request: Request, endpoint: str, user_id: str, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        params = request.path_params
        if endpoint.startswith("GET /2/dm_"):
            conversation: str | None = None
            if "participant_id" in params:
                conversation = _pair_id(user_id, params["participant_id"])
            elif "conversation_id" in params:
                conversation = params["conversation_id"]
            return 200, self._list_events(request, user_id, conversation), {}
        if endpoint == "GET /2/users/me":
            return 200, {"data": self._state.users[user_id]}, {}
        payload = self._json_body(body)
        if endpoint == "POST /2/tweets":
            return self._create_post(user_id, payload)
        if endpoint == "POST /2/dm_conversations":
            return self._create_group(request, user_id, payload)
        if "participant_id" in params:
            conversation = _pair_id(user_id, params["participant_id"])
            route = "participant"
        else:
            conversation = params["conversation_id"]
            route = "conversation"
            self._check_member(user_id, conversation)
        return self._create_message(request, user_id, conversation, payload, route)

    @staticmethod
    def _json_body(body: bytes) -> Mapping[str, Any]:
        try:
            payload = json.loads(body or b"{}")
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise _HttpError(400, _problem(400, "Invalid Request", "Request body is not JSON",
                                           "invalid-request")) from error
        if not isinstance(payload, Mapping):
            raise _HttpError(400, _problem(400, "Invalid Request", "Request body is not an object",
                                           "invalid-request"))
        return payload

    def _members(self, conversation: str) -> set[str]:
        if "-" in conversation:
            return set(conversation.split("-"))
        return self._state.groups.get(conversation, set())

    def _check_member(self, user_id: str, conversation: str) -> None:
        if user_id not in self._members(conversation):
            raise _HttpError(403, _problem(
                403, "Forbidden",
                "You are not permitted to send Direct Messages to this conversation.",
            ))

    # -- GET dm_events ---------------------------------------------------------

    def _list_events(
        self, request: Request, user_id: str, conversation: str | None
    ) -> dict[str, Any]:
        query = request.query_params
        fields = set(_csv(query, "dm_event.fields"))
        expansions = set(_csv(query, "expansions"))
        user_fields = set(_csv(query, "user.fields"))
        media_fields = set(_csv(query, "media.fields"))
        tweet_fields = set(_csv(query, "tweet.fields", "post.fields"))
        event_types = set(_csv(query, "event_types")) or set(_EVENT_TYPES)
        for name, values, allowed in (
            ("dm_event.fields", fields, _DM_EVENT_FIELDS),
            ("expansions", expansions, _EXPANSIONS),
            ("user.fields", user_fields, _USER_FIELDS),
            ("media.fields", media_fields, _MEDIA_FIELDS),
            ("tweet.fields", tweet_fields, _TWEET_FIELDS),
            ("event_types", event_types, set(_EVENT_TYPES)),
        ):
            unknown = sorted(values - allowed)
            if unknown:
                raise _invalid_request(name, unknown, allowed)
        max_results = self._max_results(query.get("max_results"))
        token = query.get("pagination_token")
        before = _decode_token(token) if token else _START_TOKEN_ID

        visible = [
            event
            for event in self.events
            if user_id in self._members(str(event["dm_conversation_id"]))
            and (conversation is None or event["dm_conversation_id"] == conversation)
            and event["event_type"] in event_types
        ]
        remaining = [event for event in visible if int(event["id"]) < before]
        page = remaining[:max_results]
        result: dict[str, Any] = {}
        if page:
            result["data"] = [
                self._render_event(event, fields, expansions) for event in page
            ]
            includes = self._includes(page, expansions, user_fields, media_fields, tweet_fields)
            if includes:
                result["includes"] = includes
        meta: dict[str, Any] = {"result_count": len(page)}
        if len(remaining) > len(page):
            meta["next_token"] = _encode_token(int(page[-1]["id"]))
        result["meta"] = meta
        return result

    @staticmethod
    def _max_results(value: str | None) -> int:
        if value is None:
            return 100
        if not value.isdigit() or not 1 <= int(value) <= 100:
            raise _HttpError(400, {
                "errors": [{"parameters": {"max_results": [value]},
                            "message": "The `max_results` query parameter value "
                            f"[{value}] is not between 1 and 100"}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.x.com/2/problems/invalid-request",
            })
        return int(value)

    def _empty_page(self, request: Request) -> dict[str, Any]:
        token = request.query_params.get("pagination_token") or _encode_token(_START_TOKEN_ID)
        return {"meta": {"result_count": 0, "next_token": token}}

    @staticmethod
    def _render_event(
        event: Mapping[str, Any], fields: set[str], expansions: set[str]
    ) -> dict[str, Any]:
        # X returns id, event_type and (for messages) text unless more is requested.
        wanted = {"id", "event_type", "text"} | fields
        if "sender_id" in expansions:
            wanted.add("sender_id")
        if "participant_ids" in expansions:
            wanted.add("participant_ids")
        if expansions & {"referenced_tweets.id", "referenced_posts"}:
            wanted.add("referenced_tweets")
        if "attachments.media_keys" in expansions:
            wanted.add("attachments")
        rendered: dict[str, Any] = {}
        for key in ("id", "event_type", "text", "sender_id", "participant_ids",
                    "dm_conversation_id", "created_at", "attachments", "referenced_tweets",
                    "entities"):
            if key in wanted and key in event:
                if key == "text" and event["event_type"] != "MessageCreate":
                    continue
                rendered[key] = event[key]
        return rendered

    def _includes(
        self,
        page: list[dict[str, Any]],
        expansions: set[str],
        user_fields: set[str],
        media_fields: set[str],
        tweet_fields: set[str],
    ) -> dict[str, Any]:
        user_ids: list[str] = []
        media_keys: list[str] = []
        tweet_ids: list[str] = []

        for event in page:
            if "sender_id" in expansions and "sender_id" in event:
                user_ids.append(str(event["sender_id"]))
            if "participant_ids" in expansions:
                user_ids.extend(str(user) for user in event.get("participant_ids", []))
            if "attachments.media_keys" in expansions:
                media_keys.extend(event.get("attachments", {}).get("media_keys", []))
            if expansions & {"referenced_tweets.id", "referenced_posts"}:
                tweet_ids.extend(str(ref["id"]) for ref in event.get("referenced_tweets", []))

        includes: dict[str, Any] = {}
        users = [
            self._select(self._state.users[user], user_fields | {"id", "name", "username"})
            for user in dict.fromkeys(user_ids)
            if user in self._state.users
        ]
        if users:
            includes["users"] = users
        media = [
            self._select(self._state.media[key], media_fields | {"media_key", "type"})
            for key in dict.fromkeys(media_keys)
            if key in self._state.media
        ]
        if media:
            includes["media"] = media
        tweets = [
            self._select(self._state.tweets[tweet], tweet_fields | {"id", "text", "edit_history_tweet_ids"})
            for tweet in dict.fromkeys(tweet_ids)
            if tweet in self._state.tweets
        ]
        if tweets:
            includes["tweets"] = tweets
        return includes

    @staticmethod
    def _select(item: Mapping[str, Any], keys: set[str]) -> dict[str, Any]:
        return {key: value for key, value in item.items() if key in keys}

    # -- POST routes -------------------------------------------------------------

    def _message_content(self, payload: Mapping[str, Any]) -> tuple[str | None, list[str]]:
        text = payload.get("text")
        attachments = payload.get("attachments") or []
        if text is not None and not isinstance(text, str):
            raise _HttpError(400, _problem(400, "Invalid Request", "text must be a string",
                                           "invalid-request"))
        if not text and not attachments:
            raise _HttpError(400, _problem(400, "Invalid Request",
                                           "One of text or attachments is required",
                                           "invalid-request"))
        if text is not None and len(text) > DM_TEXT_LIMIT:
            raise _HttpError(400, _problem(
                400, "Invalid Request",
                f"text is {len(text)} characters; the maximum is {DM_TEXT_LIMIT}",
                "invalid-request",
            ))
        if not isinstance(attachments, list) or len(attachments) > 1:
            raise _HttpError(400, _problem(400, "Invalid Request",
                                           "attachments must be a list of at most one media",
                                           "invalid-request"))
        media_ids = [str(attachment.get("media_id")) for attachment in attachments]
        return text, media_ids

    def _store_sent(
        self,
        request: Request,
        user_id: str,
        conversation: str,
        text: str | None,
        media_ids: list[str],
        route: str,
    ) -> tuple[int, Any, dict[str, str]]:
        event_id = self._next_id()
        media_keys = []
        for media_id in media_ids:
            media_key = f"3_{media_id}"
            self._state.media.setdefault(media_key, {"media_key": media_key, "type": "photo"})
            media_keys.append(media_key)
        event: dict[str, Any] = {
            "id": str(event_id),
            "event_type": "MessageCreate",
            "text": text or "",
            "sender_id": user_id,
            "dm_conversation_id": conversation,
            "created_at": _iso(_snowflake_time(event_id)),
        }
        if media_keys:
            event["attachments"] = {"media_keys": media_keys}
        self._state.events[str(event_id)] = event
        self._state.sent.append({
            "route": route,
            "user_id": user_id,
            "dm_conversation_id": conversation,
            "dm_event_id": str(event_id),
            "text": text,
            "media_ids": media_ids,
        })
        location = f'{str(request.base_url).rstrip("/")}/2/dm_events/"{event_id}"'
        return (
            201,
            {"data": {"dm_conversation_id": conversation, "dm_event_id": str(event_id)}},
            {"location": location},
        )

    def _create_message(
        self, request: Request, user_id: str, conversation: str,
        payload: Mapping[str, Any], route: str,
    ) -> tuple[int, Any, dict[str, str]]:
        text, media_ids = self._message_content(payload)
        return self._store_sent(request, user_id, conversation, text, media_ids, route)

    def _create_group(
        self, request: Request, user_id: str, payload: Mapping[str, Any]
    ) -> tuple[int, Any, dict[str, str]]:
        participants = payload.get("participant_ids")
        message = payload.get("message")
        if payload.get("conversation_type") != "Group" or not isinstance(participants, list) \
                or not participants or not isinstance(message, Mapping):
            raise _HttpError(400, _problem(
                400, "Invalid Request",
                "conversation_type Group, participant_ids and message are required",
                "invalid-request",
            ))
        text, media_ids = self._message_content(message)
        group_id = self.create_group([user_id, *(str(user) for user in participants)])
        return self._store_sent(request, user_id, group_id, text, media_ids, "group")

    def _create_post(
        self, user_id: str, payload: Mapping[str, Any]
    ) -> tuple[int, Any, dict[str, str]]:
        text = payload.get("text")
        if not isinstance(text, str) or not text:
            raise _HttpError(400, _problem(400, "Invalid Request", "text is required",
                                           "invalid-request"))
        parsed = parse_tweet(text)
        if not parsed.valid:
            # NOTE: X's exact status and body for an over-long post are not
            # confirmed; this answers like its other invalid requests.
            raise _HttpError(400, _problem(
                400, "Invalid Request",
                f"text has weighted length {parsed.weightedLength}; the maximum is 280",
                "invalid-request",
            ))
        post_id = str(self._next_id())
        post = {"id": post_id, "text": text, "edit_history_tweet_ids": [post_id]}
        self._state.posts.append({**post, "user_id": user_id, "request": dict(payload)})
        self._state.tweets[post_id] = {**post, "author_id": user_id}
        return 201, {"data": post}, {}
