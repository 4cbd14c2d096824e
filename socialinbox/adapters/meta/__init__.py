"""Messenger and Instagram through the Graph API: codecs, client, adapters, webhook receiver.

Importing this package loads only the codecs and the Graph client; the
webhook receiver needs the ``server`` extra (Starlette) and is imported from
:mod:`socialinbox.adapters.meta.webhook`.
"""

from socialinbox.adapters.meta.adapter import InstagramAdapter, MessengerAdapter
from socialinbox.adapters.meta.codec import INSTAGRAM_CODEC, MESSENGER_CODEC, MetaCodec
from socialinbox.adapters.meta.eligibility import POLICIES, SendDecision, check_send
from socialinbox.adapters.meta.graph import GraphClient, Health, classify_error, health_of

__all__ = [
    "INSTAGRAM_CODEC",
    "MESSENGER_CODEC",
    "POLICIES",
    "GraphClient",
    "Health",
    "InstagramAdapter",
    "MessengerAdapter",
    "MetaCodec",
    "SendDecision",
    "check_send",
    "classify_error",
    "health_of",
]
