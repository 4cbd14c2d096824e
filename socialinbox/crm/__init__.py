"""CRM sinks and outbox delivery.

Sinks push outbox events (stored messages and events) into external systems;
:class:`~socialinbox.crm.delivery.DeliveryWorker` feeds them with retries,
per-conversation ordering and a dead-letter list.
"""

from socialinbox.crm.base import (
    DeliveryOutcome,
    DeliveryResult,
    OutboxEvent,
    Sink,
    SinkFactory,
    create_sink,
    register_sink_factory,
    sink_schemes,
)
from socialinbox.crm.callback import CallbackSink
from socialinbox.crm.delivery import (
    DeliveryRecord,
    DeliveryStatus,
    DeliveryWorker,
    RetryPolicy,
    SinkRunReport,
    delivery_counts,
    list_deliveries,
    release_in_flight,
    retry_dead_letters,
    unassigned_count,
)
from socialinbox.crm.jsonl import JsonlSink
from socialinbox.crm.webhook import WebhookSink, generate_webhook_secret, verify_webhook

__all__ = [
    "CallbackSink",
    "DeliveryOutcome",
    "DeliveryRecord",
    "DeliveryResult",
    "DeliveryStatus",
    "DeliveryWorker",
    "JsonlSink",
    "OutboxEvent",
    "RetryPolicy",
    "Sink",
    "SinkFactory",
    "SinkRunReport",
    "WebhookSink",
    "create_sink",
    "delivery_counts",
    "generate_webhook_secret",
    "list_deliveries",
    "register_sink_factory",
    "release_in_flight",
    "retry_dead_letters",
    "sink_schemes",
    "unassigned_count",
    "verify_webhook",
]
