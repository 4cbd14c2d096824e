"""Messenger and Instagram adapters: poll conversations, send messages, post to the Page feed.

Polling reads ``GET /{page-id}/conversations?platform=...`` newest first, with
the messages nested in the same call, and follows ``paging.cursors.after``.
The adapter cursor is a small JSON object:

* ``since`` is the newest conversation ``updated_time`` that a finished
  sweep covered. The next sweep stops at the first conversation older than
  it and skips older messages.
* ``after`` and ``top`` are the Graph cursor and the newest time seen while a
  sweep is still paging, so a crash resumes the sweep instead of skipping it.

Graph times have one-second precision, so messages from the same second as
``since`` are fetched again; the store's unique message key drops them.

Adapters never touch the store. The caller ingests ``fetch`` results and
stores the cursor in the same transaction. Send eligibility needs the
contact's last inbound time, which the caller passes in as a
``last_inbound`` callable.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
from pydantic import SecretStr

from socialinbox.adapters.base import (
    Adapter,
    DecodeContext,
    FetchResult,
    OutboundMessage,
    SendResult,
)
from socialinbox.adapters.meta.codec import (
    INSTAGRAM_CODEC,
    MESSENGER_CODEC,
    MetaCodec,
    build_send_bodies,
    parse_timestamp,
)
from socialinbox.adapters.meta.eligibility import SendDecision, check_send, check_text
from socialinbox.adapters.meta.graph import (
    DEFAULT_BASE_URL,
    DEFAULT_GRAPH_VERSION,
    GraphClient,
    Health,
    health_of,
)
from socialinbox.errors import PlatformError, SocialInboxError, UsageError
from socialinbox.model import Batch, ConversationKey, Platform, utc_now

__all__ = ["InstagramAdapter", "LastInbound", "MessengerAdapter", "PollCursor"]

logger = logging.getLogger(__name__)

LastInbound = Callable[[ConversationKey], "datetime | Awaitable[datetime | None] | None"]
"""Return the contact's last window-opening activity, sync or async."""

_T = TypeVar("_T")


@dataclass(frozen=True)
class PollCursor:
    """The adapter's polling position (see the module docstring)."""

    since: datetime | None = None
    top: datetime | None = None
    after: str | None = None

    @classmethod
    def parse(cls, value: str | None) -> PollCursor:
        """Parse a stored cursor; an unreadable value starts a full sweep."""
        if not value:
            return cls()
        try:
            data = json.loads(value)
            return cls(
                since=parse_timestamp(data["since"]) if data.get("since") else None,
                top=parse_timestamp(data["top"]) if data.get("top") else None,
                after=str(data["after"]) if data.get("after") else None,
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            logger.warning("unreadable Meta poll cursor; starting a full sweep")
            return cls()

    def dump(self) -> str:
        """Serialize the cursor for the store."""
        return json.dumps(
            {
                "since": self.since.isoformat() if self.since else None,
                "top": self.top.isoformat() if self.top else None,
                "after": self.after,
            },
            sort_keys=True,
        )


def _after_cursor(paging: Any) -> str | None:
    """Return ``paging.cursors.after``, or the ``after`` parameter of ``paging.next``."""
    if not isinstance(paging, Mapping) or not paging.get("next"):
        return None
    cursors = paging.get("cursors")
    if isinstance(cursors, Mapping) and isinstance(cursors.get("after"), str):
        return str(cursors["after"])
    values = parse_qs(urlsplit(str(paging["next"])).query).get("after")
    return values[0] if values else None


def _time_or_none(value: Any) -> datetime | None:
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


class _MetaAdapter(Adapter):
    """Shared behaviour of the Messenger and Instagram adapters."""

    platform: Platform
    codec: ClassVar[MetaCodec]
    message_fields: ClassVar[str]

    def __init__(
        self,
        *,
        page_id: str,
        access_token: str | SecretStr,
        account_id: str | None = None,
        app_secret: str | SecretStr | None = None,
        version: str = DEFAULT_GRAPH_VERSION,
        base_url: str = DEFAULT_BASE_URL,
        last_inbound: LastInbound | None = None,
        clock: Callable[[], datetime] = utc_now,
        page_size: int = 25,
        message_page_size: int = 25,
        max_message_pages: int = 5,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.page_id = str(page_id)
        self._account_id = str(account_id or page_id)
        self._last_inbound = last_inbound
        self._clock = clock
        self._page_size = page_size
        self._message_page_size = message_page_size
        self._max_message_pages = max_message_pages
        self.health = Health.OK
        self.last_error: SocialInboxError | None = None
        self.client = GraphClient(
            access_token,
            platform=self.platform,
            app_secret=app_secret,
            version=version,
            base_url=base_url,
            timeout=timeout,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(account_id={self._account_id!r})"

    @property
    def account_id(self) -> str:
        return self._account_id

    @property
    def own_user_ids(self) -> frozenset[str]:
        """Ids that belong to us: the account and the Page it is reached through."""
        return frozenset({self._account_id, self.page_id})

    async def _call(self, request: Awaitable[_T]) -> _T:
        """Await a Graph call and record the account health it implies."""
        try:
            result = await request
        except SocialInboxError as error:
            self.health = health_of(error)
            self.last_error = error
            raise
        self.health = Health.OK
        return result

    # ------------------------------------------------------------------ polling

    def _conversation_fields(self) -> str:
        return (
            f"id,updated_time,participants,"
            f"messages.limit({self._message_page_size}){{{self.message_fields}}}"
        )

    async def fetch(self, cursor: str | None) -> FetchResult:
        """Fetch one page of conversations updated since the cursor, with their new messages."""
        state = PollCursor.parse(cursor)
        params = {
            "platform": self.platform.value,
            "fields": self._conversation_fields(),
            "limit": str(self._page_size),
        }
        if state.after:
            params["after"] = state.after
        page = await self._call(self.client.get(f"{self.page_id}/conversations", params))
        requests = 1

        conversations = page.get("data")
        if not isinstance(conversations, list):
            conversations = []
        new_conversations: list[Any] = []
        reached_covered = False
        top = state.top
        for conversation in conversations:
            updated = (
                _time_or_none(conversation.get("updated_time"))
                if isinstance(conversation, Mapping)
                else None
            )
            if state.since is not None and updated is not None and updated < state.since:
                reached_covered = True
                break
            if updated is not None and (top is None or updated > top):
                top = updated
            if isinstance(conversation, Mapping):
                conversation, used = await self._complete_messages(conversation, state.since)
                requests += used
            new_conversations.append(conversation)

        batch = self._decode(new_conversations)
        after = _after_cursor(page.get("paging"))
        if after and not reached_covered:
            next_state = PollCursor(since=state.since, top=top, after=after)
            return FetchResult(batch=batch, cursor=next_state.dump(), requests=requests, more=True)
        done = PollCursor(since=top or state.since)
        return FetchResult(batch=batch, cursor=done.dump(), requests=requests, more=False)

    async def _complete_messages(
        self, conversation: Mapping[str, Any], since: datetime | None
    ) -> tuple[dict[str, Any], int]:
        """Drop messages older than ``since`` and page through the rest of the new ones."""
        result = dict(conversation)
        container = conversation.get("messages")
        if not isinstance(container, Mapping) or not isinstance(container.get("data"), list):
            return result, 0
        messages = list(container["data"])
        paging = container.get("paging")
        requests = 0
        while True:
            fresh = [m for m in messages if not _is_older(m, since)]
            if len(fresh) < len(messages):
                messages = fresh
                break
            after = _after_cursor(paging)
            if not after or requests >= self._max_message_pages:
                if after:
                    logger.warning(
                        "%s conversation has more than %d message pages; older ones skipped",
                        self.platform.value,
                        requests + 1,
                    )
                break
            more = await self._call(
                self.client.get(
                    f"{conversation.get('id')}/messages",
                    {
                        "fields": self.message_fields,
                        "limit": str(self._message_page_size),
                        "after": after,
                    },
                )
            )
            requests += 1
            data = more.get("data")
            if not isinstance(data, list) or not data:
                break
            messages.extend(data)
            paging = more.get("paging")
        result["messages"] = {"data": messages}
        return result, requests

    def _decode(self, conversations: list[Any]) -> Batch:
        if not conversations:
            return Batch()
        context = DecodeContext(
            account_id=self._account_id,
            received_at=self._clock(),
            location=f"poll:{self.platform.value}:{self.page_id}/conversations",
            own_user_ids=self.own_user_ids,
        )
        return self.codec.decode({"data": conversations, "paging": {}}, context)

    # ------------------------------------------------------------------ sending

    async def _decide(self, message: OutboundMessage, now: datetime) -> SendDecision:
        if self._last_inbound is None:
            check_text(self.platform, message.text)
            return SendDecision(
                messaging_type="MESSAGE_TAG" if message.tag else "RESPONSE",
                tag=message.tag,
                window_closes_at=None,
            )
        last = self._last_inbound(message.conversation)
        if inspect.isawaitable(last):
            last = await last
        return check_send(
            self.platform,
            last_inbound_at=last,
            now=now,
            text=message.text,
            tag=message.tag,
        )

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send text and attachments as one Send API call each; return every message id.

        Raises:
            NotEligible: the messaging window or the text limit forbids it,
                locally or as reported by Meta.
            PlatformError: Meta refused the call (a classified subclass).
            TransportError: the call timed out or failed to connect.
        """
        conversation = message.conversation
        if conversation.platform is not self.platform or conversation.account_id != self.account_id:
            raise UsageError(f"{self!r} cannot send to conversation {conversation}")
        now = self._clock()
        decision = await self._decide(message, now)
        bodies = build_send_bodies(
            self.platform,
            message,
            messaging_type=decision.messaging_type,
            tag=decision.tag,
        )
        message_ids: list[str] = []
        for body in bodies:
            try:
                response = await self._call(self.client.post(f"{self.page_id}/messages", body))
            except SocialInboxError:
                if message_ids:
                    # NOTE: the parts already sent are not returned to the
                    # caller; on Messenger their echoes carry the client_ref.
                    logger.warning(
                        "%s send %s failed after %d of %d parts; sent ids: %s",
                        self.platform.value,
                        message.client_ref,
                        len(message_ids),
                        len(bodies),
                        ", ".join(message_ids),
                    )
                raise
            message_id = response.get("message_id")
            if not isinstance(message_id, str | int) or isinstance(message_id, bool):
                raise PlatformError(
                    f"{self.platform.value} Send API response has no message_id",
                    platform=self.platform.value,
                )
            message_ids.append(str(message_id))
        logger.info(
            "%s sent %s as %d message(s) with messaging_type %s",
            self.platform.value,
            message.client_ref,
            len(message_ids),
            decision.messaging_type,
        )
        return SendResult(message_ids=tuple(message_ids), sent_at=now)

    async def close(self) -> None:
        """Close the Graph client."""
        await self.client.aclose()


def _is_older(node: Any, since: datetime | None) -> bool:
    if since is None or not isinstance(node, Mapping):
        return False
    created = _time_or_none(node.get("created_time"))
    return created is not None and created < since


class MessengerAdapter(_MetaAdapter):
    """A Facebook Page's Messenger inbox. The account id is the Page id."""

    platform = Platform.MESSENGER
    codec = MESSENGER_CODEC
    message_fields = "id,created_time,from,to,message,attachments,sticker,shares,tags"

    async def post_to_feed(
        self, text: str, *, link: str | None = None, published: bool = True
    ) -> str:
        """Publish ``text`` on the Page feed and return the post id (``{page}_{post}``)."""
        body: dict[str, Any] = {"message": text, "published": published}
        if link is not None:
            body["link"] = link
        response = await self._call(self.client.post(f"{self.page_id}/feed", body))
        post_id = response.get("id")
        if not isinstance(post_id, str) or not post_id:
            raise PlatformError(
                "messenger feed post response has no id", platform=self.platform.value
            )
        logger.info("messenger posted %s to the Page feed", post_id)
        return post_id


class InstagramAdapter(_MetaAdapter):
    """An Instagram professional account reached through its linked Page.

    ``account_id`` is the Instagram account id, which webhooks use as the
    entry id. ``page_id`` is the node the Graph calls are made on: the Page,
    or the Instagram account itself with Instagram Login on
    ``graph.instagram.com``.
    """

    platform = Platform.INSTAGRAM
    codec = INSTAGRAM_CODEC
    message_fields = "id,created_time,from,to,message,attachments,shares,story,is_unsupported"
