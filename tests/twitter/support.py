"""Ids, tokens and limits shared by the X tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from socialinbox.adapters.twitter.adapter import TwitterAdapter
from socialinbox.adapters.twitter.transport import EndpointLimit

OWN_ID = "1044444444444444444"
CONTACT_ID = "731111111111111111"
TOKEN = "emulator-user-token-0001"

GENEROUS_LIMITS = {
    "dm_events": (EndpointLimit(300, timedelta(minutes=15)),),
    "dm_send": (EndpointLimit(200, timedelta(minutes=15)),),
    "post_create": (EndpointLimit(100, timedelta(minutes=15)),),
}
"""The 2022 recorded limits, so that tests are not throttled by the strict defaults."""

AdapterFactory = Callable[..., TwitterAdapter]
"""Builds a ``TwitterAdapter`` for the emulator; keyword arguments override the defaults."""
