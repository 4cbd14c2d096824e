"""Announcement broadcasts: one announcement to every channel, on time, once per person.

The pieces, in the order a broadcast uses them:

* :mod:`~socialinbox.broadcast.model`: the announcement, its targets and audience;
* :mod:`~socialinbox.broadcast.render`: the text per platform, in its units and limits;
* :mod:`~socialinbox.broadcast.audience`: recipients and eligibility;
* :mod:`~socialinbox.broadcast.planner`: the dry run and the ledger rows;
* :mod:`~socialinbox.broadcast.ledger`: announcements and the workflow;
* :mod:`~socialinbox.broadcast.ratelimit`: token buckets shared through the database;
* :mod:`~socialinbox.broadcast.sender`: sending, crash resume and reconciliation;
* :mod:`~socialinbox.broadcast.optout`: opt-out keywords such as ``DURDUR`` and ``STOP``.
"""

from socialinbox.broadcast.ledger import (
    Broadcast,
    BroadcastError,
    Delivery,
    approve_broadcast,
    cancel_broadcast,
    create_broadcast,
    get_broadcast,
    list_broadcasts,
    list_deliveries,
)
from socialinbox.broadcast.model import (
    Audience,
    BroadcastStatus,
    DeliveryStatus,
    Draft,
    Target,
)
from socialinbox.broadcast.optout import detect_opt_out
from socialinbox.broadcast.planner import Plan, plan_broadcast
from socialinbox.broadcast.sender import Sender, SendReport, reconcile

__all__ = [
    "Audience",
    "Broadcast",
    "BroadcastError",
    "BroadcastStatus",
    "Delivery",
    "DeliveryStatus",
    "Draft",
    "Plan",
    "SendReport",
    "Sender",
    "Target",
    "approve_broadcast",
    "cancel_broadcast",
    "create_broadcast",
    "detect_opt_out",
    "get_broadcast",
    "list_broadcasts",
    "list_deliveries",
    "plan_broadcast",
    "reconcile",
]
