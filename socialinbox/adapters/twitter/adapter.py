"""The X (Twitter) DM adapter: polls ``GET /2/dm_events`` and sends DMs and posts."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping
from datetime import datetime
from itertools import zip_longest
from typing import Any

from twitter_text import parse_tweet

from socialinbox.adapters.base import (
    Adapter,
    DecodeContext,
    FetchResult,
    OutboundMessage,
    SendResult,
)
from socialinbox.adapters.twitter.codec import CODEC, snowflake_time
from socialinbox.adapters.twitter.limits import DM_TEXT_LIMIT, POST_WEIGHTED_LIMIT
from socialinbox.adapters.twitter.transport import (
    DEFAULT_BASE_URL,
    DmAccessDenied,
    EndpointLimit,
    TwitterCredentials,
    TwitterTransport,
)
from socialinbox.errors import PlatformError, UsageError
from socialinbox.model import Batch, Platform, utc_now

__all__ = ["DM_TEXT_LIMIT", "POST_WEIGHTED_LIMIT", "TwitterAdapter", "split_dm_text"]

logger = logging.getLogger(__name__)

_SENT_REFS_KEPT = 10_000


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_dm_text(text: str, limit: int = DM_TEXT_LIMIT) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` UTF-16 code units.

    Parts break after the last whitespace inside the limit when there is one,
    and never inside a surrogate pair. Joining the parts gives ``text`` back.
    """
    if limit < 2:
        raise UsageError(f"limit must be at least 2 UTF-16 code units, got {limit}")
    parts: list[str] = []
    rest = text
    while _utf16_length(rest) > limit:
        # Take the longest prefix of at most ``limit`` UTF-16 units.
        units = 0
        end = 0
        for index, character in enumerate(rest):
            width = 2 if ord(character) > 0xFFFF else 1
            if units + width > limit:
                break
            units += width
            end = index + 1
        cut = max(rest.rfind(" ", 0, end), rest.rfind("\n", 0, end))
        cut = cut + 1 if cut > 0 else end
        parts.append(rest[:cut])
        rest = rest[cut:]
    if rest or not parts:
        parts.append(rest)
    return parts


class TwitterAdapter(Adapter):
    """One X account: DM polling, DM sending and posting.

    Args:
        account_id: our X user id; it is the account id of every stored key and
            marks DMs from it as outbound.
        credentials: OAuth 1.0a keys or an OAuth 2.0 user token with DM scopes.
        base_url: API host; keep the default outside tests.
        rate_limits: per-endpoint limits (``"dm_events"``, ``"dm_send"``,
            ``"post_create"``); the defaults are the strict documented ones.
        max_wait: maximum wait in seconds that a rate limit or retry may take
            inside one call; longer waits raise :class:`~socialinbox.errors.RateLimited`.
        max_attempts: attempts per API call, the first one included.
        page_size: events per ``dm_events`` request (1 to 100).
        max_pages: request budget of one :meth:`fetch`; ``None`` pages until
            the newest stored event. When the budget runs out first, the next
            fetch continues from the same page and the cursor waits until the
            whole gap is covered.
    """

    platform = Platform.X

    def __init__(
        self,
        *,
        account_id: str,
        credentials: TwitterCredentials,
        base_url: str = DEFAULT_BASE_URL,
        rate_limits: Mapping[str, tuple[EndpointLimit, ...]] | None = None,
        max_wait: float = 60.0,
        max_attempts: int = 4,
        page_size: int = 100,
        max_pages: int | None = None,
        timeout: float = 30.0,
    ) -> None:
        if not 1 <= page_size <= 100:
            raise UsageError(f"page_size must be between 1 and 100, got {page_size}")
        if max_pages is not None and max_pages < 1:
            raise UsageError(f"max_pages must be at least 1 or None, got {max_pages}")
        self._account_id = account_id
        self.transport = TwitterTransport(
            credentials,
            base_url=base_url,
            rate_limits=rate_limits,
            max_wait=max_wait,
            max_attempts=max_attempts,
            timeout=timeout,
        )
        self.page_size = page_size
        self.max_pages = max_pages
        self.unavailable_reason: str | None = None
        """Set when X refused DM access for this account's API tier; calls then fail at once."""
        self._unavailable_error: DmAccessDenied | None = None
        self._sent_refs: OrderedDict[str, str] = OrderedDict()
        # Continuation of a fetch that ran out of pages: (next_token, newest id seen).
        self._resume: tuple[str, int] | None = None

    def __repr__(self) -> str:
        return f"TwitterAdapter(account_id={self._account_id!r})"

    @property
    def account_id(self) -> str:
        return self._account_id

    # -- fetch -------------------------------------------------------------------

    async def fetch(self, cursor: str | None) -> FetchResult:
        """Fetch DM events newer than ``cursor``, the newest event id already stored.

        Pages (newest first) are requested until one reaches ``cursor`` or X
        returns no ``next_token``. An empty page that still has a
        ``next_token`` does not end the walk. The returned cursor is the
        newest event id seen, to be stored with the batch.

        A rate limit beyond ``max_wait`` raises
        :class:`~socialinbox.errors.RateLimited` and drops the pages fetched so
        far, so the next fetch starts again from the newest page.
        """
        self._check_available()
        stored = _event_number(cursor)
        requests_before = self.transport.request_count
        token, newest = self._resume if self._resume is not None else (None, stored or 0)
        self._resume = None
        batch = Batch()
        pages = 0
        complete = False
        try:
            while True:
                body = await self.transport.list_dm_events(
                    pagination_token=token, max_results=self.page_size
                )
                pages += 1
                page_batch, page_newest, reached = self._decode_page(body, stored, pages)
                batch += page_batch
                newest = max(newest, page_newest)
                token = _next_token(body)
                if reached or token is None:
                    complete = True
                    break
                if self.max_pages is not None and pages >= self.max_pages:
                    self._resume = (token, newest)
                    break
        except DmAccessDenied as error:
            self._mark_unavailable(error)
            raise
        requests = self.transport.request_count - requests_before
        logger.info(
            "fetched X DMs for account %s: %d items, %d requests, complete=%s",
            self._account_id, len(batch.items), requests, complete,
        )
        new_cursor = str(newest) if complete and newest and newest != stored else None
        return FetchResult(batch=batch, cursor=new_cursor, requests=requests, more=not complete)

    def _decode_page(
        self, body: dict[str, Any], stored: int | None, page: int
    ) -> tuple[Batch, int, bool]:
        """Decode the events newer than ``stored``; return the batch, newest id and whether
        the page reached ``stored``."""
        data = body.get("data")
        newest = 0
        reached = False
        if isinstance(data, list):
            fresh = []
            for event in data:
                number = _event_number(event.get("id")) if isinstance(event, dict) else None
                if number is not None:
                    newest = max(newest, number)
                    if stored is not None and number <= stored:
                        reached = True
                        continue
                fresh.append(event)
            body = {**body, "data": fresh}
        context = DecodeContext(
            account_id=self._account_id,
            own_user_ids=frozenset({self._account_id}),
            location=f"GET /2/dm_events page {page}",
            options={"client_refs": dict(self._sent_refs)},
        )
        return CODEC.decode(body, context), newest, reached

    # -- send ----------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send ``message`` as one or more DMs.

        A one-to-one chat id (``A-B``) is sent by participant, so the
        conversation need not exist yet; a group id is sent by conversation.
        Text longer than 10,000 characters becomes several DMs. Each DM carries
        at most one attachment, which must already be uploaded to X
        (``Attachment.media_id`` is the X media id). ``reply_to`` is ignored
        because X DMs have no replies.
        """
        self._check_available()
        if message.conversation.platform is not Platform.X:
            raise UsageError(f"conversation {message.conversation} is not an X conversation")
        route = self._send_route(message.conversation.chat_id)
        media_ids = []
        for attachment in message.attachments:
            if not attachment.media_id:
                # NOTE: uploading files is not implemented; tweepy.Client 4.17 has
                # no media upload, so attachments must be uploaded beforehand.
                raise UsageError(
                    "attachment has no X media id; upload the file to X first "
                    "and set Attachment.media_id"
                )
            media_ids.append(attachment.media_id)
        texts = split_dm_text(message.text) if message.text else []
        if not texts and not media_ids:
            raise UsageError("an X DM needs text or an attachment")

        event_ids: list[str] = []
        try:
            for text, media_id in zip_longest(texts, media_ids):
                body = await self.transport.create_direct_message(
                    text=text, media_id=media_id, **route
                )
                event_id = _created_event_id(body)
                event_ids.append(event_id)
                self._remember_send(event_id, message.client_ref)
        except DmAccessDenied as error:
            self._mark_unavailable(error)
            raise
        except PlatformError:
            if event_ids:
                # The parts already sent come back with the next fetch as outbound
                # messages matched by client_ref.
                logger.warning(
                    "X send %s failed after %d of %d parts",
                    message.client_ref, len(event_ids), max(len(texts), len(media_ids)),
                )
            raise
        return SendResult(message_ids=tuple(event_ids), sent_at=_sent_at(event_ids[0]))

    def _send_route(self, chat_id: str) -> dict[str, str]:
        parts = chat_id.split("-")
        if len(parts) == 1:
            return {"dm_conversation_id": chat_id}
        if len(parts) != 2 or self._account_id not in parts:
            raise UsageError(
                f"chat id {chat_id!r} is neither a group id nor a one-to-one id "
                f"containing our user id {self._account_id}"
            )
        other = parts[1] if parts[0] == self._account_id else parts[0]
        return {"participant_id": other}

    def _remember_send(self, event_id: str, client_ref: str) -> None:
        self._sent_refs[event_id] = client_ref
        while len(self._sent_refs) > _SENT_REFS_KEPT:
            self._sent_refs.popitem(last=False)

    # -- post --------------------------------------------------------------------------

    async def post(
        self, text: str, *, media_ids: tuple[str, ...] = (), reply_to: str | None = None
    ) -> SendResult:
        """Publish a post (for announcements) after checking its weighted length.

        Raises:
            UsageError: the text is empty or over 280 weighted characters
                (URLs count 23, emoji and CJK characters 2).
        """
        self._check_available()
        parsed = parse_tweet(text)
        if not text or not parsed.valid:
            raise UsageError(
                f"post text has weighted length {parsed.weightedLength}; X allows 1 to "
                f"{POST_WEIGHTED_LIMIT}"
            )
        body = await self.transport.create_post(
            text=text, media_ids=list(media_ids), reply_to=reply_to
        )
        data = body.get("data")
        post_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(post_id, str):
            raise PlatformError("X post response has no data.id", platform=Platform.X.value)
        return SendResult(message_ids=(post_id,), sent_at=_sent_at(post_id))

    # -- lifecycle -------------------------------------------------------------------

    async def close(self) -> None:
        self.transport.close()

    def _check_available(self) -> None:
        if self._unavailable_error is not None:
            raise self._unavailable_error

    def _mark_unavailable(self, error: DmAccessDenied) -> None:
        logger.error(
            "X account %s is unavailable: %s", self._account_id, error.unavailable_reason
        )
        self.unavailable_reason = error.unavailable_reason
        self._unavailable_error = error


def _event_number(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _next_token(body: Mapping[str, Any]) -> str | None:
    meta = body.get("meta")
    token = meta.get("next_token") if isinstance(meta, Mapping) else None
    return token if isinstance(token, str) and token else None


def _created_event_id(body: Mapping[str, Any]) -> str:
    data = body.get("data")
    event_id = data.get("dm_event_id") if isinstance(data, Mapping) else None
    if not isinstance(event_id, str | int):
        raise PlatformError("X send response has no data.dm_event_id", platform=Platform.X.value)
    return str(event_id)


def _sent_at(snowflake: str) -> datetime:
    try:
        return snowflake_time(snowflake)
    except ValueError:
        return utc_now()
