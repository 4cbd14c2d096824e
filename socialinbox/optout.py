"""Opt-out and opt-in keywords in inbound direct messages.

A contact who writes only ``DURDUR``, ``STOP`` or a similar keyword (case and
trailing punctuation ignored) is marked ``opted_out`` and gets no more
announcements; ``BAŞLA`` or ``START`` marks them ``active`` again. Only a
message that is the keyword alone counts, so "stop sending me the invoice
twice" in a support conversation changes nothing.

Case folding is Turkish-aware: ``İ`` folds to ``i`` and ``I`` to ``ı``, so
``İPTAL`` and ``iptal`` are the same word. Because a person on a non-Turkish
keyboard writes ``UNSUBSCRIBE`` with a dotted ``i``, both the Turkish and the
default Unicode folding are tried.
"""

from __future__ import annotations

from socialinbox.model import (
    Contact,
    ContactStatus,
    ContactStatusEvent,
    Direction,
    Message,
)

__all__ = ["OPT_IN_KEYWORDS", "OPT_OUT_KEYWORDS", "detect_opt_out", "turkish_casefold"]

OPT_OUT_KEYWORDS = frozenset(
    {
        "durdur",
        "abonelikten çık",
        "abonelikten çıkar",
        "abonelik iptal",
        "mesaj istemiyorum",
        "stop",
        "stopall",
        "unsubscribe",
        "opt out",
        "opt-out",
    }
)
OPT_IN_KEYWORDS = frozenset({"başla", "basla", "start", "subscribe"})

_TRAILING = " \t\r\n.!?,;:…"


def turkish_casefold(text: str) -> str:
    """Lower-case ``text`` by Turkish rules (``İ`` -> ``i``, ``I`` -> ``ı``)."""
    return text.replace("İ", "i").replace("I", "ı").casefold()


def _forms(text: str) -> set[str]:
    stripped = " ".join(text.strip(_TRAILING).split())
    return {turkish_casefold(stripped), stripped.casefold()}


_OUT = {form for keyword in OPT_OUT_KEYWORDS for form in _forms(keyword)}
_IN = {form for keyword in OPT_IN_KEYWORDS for form in _forms(keyword)}


def detect_opt_out(message: Message) -> ContactStatusEvent | None:
    """Return the contact status change an inbound one-to-one message requests, if any.

    The event marks the sender ``opted_out`` for an opt-out keyword and
    ``active`` for an opt-in keyword; ingest it with the message. Group
    messages, outbound messages and messages without a sender return ``None``.
    """
    if message.direction is not Direction.INBOUND or message.is_group:
        return None
    if message.sender is None or not message.text:
        return None
    forms = _forms(message.text)
    if forms & _OUT:
        status = ContactStatus.OPTED_OUT
    elif forms & _IN:
        status = ContactStatus.ACTIVE
    else:
        return None
    keyword = " ".join(message.text.strip(_TRAILING).split())
    return ContactStatusEvent(
        account_id=message.key.account_id,
        contact=Contact(platform=message.key.platform, user_id=message.sender.user_id),
        status=status,
        reason=f"keyword {keyword!r} in message {message.key.message_id}",
        occurred_at=message.sent_at,
        received_at=message.received_at,
    )
