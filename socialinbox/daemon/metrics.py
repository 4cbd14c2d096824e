"""Prometheus metrics of one daemon, on a registry of its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from socialinbox.daemon.health import HealthState

__all__ = ["Metrics"]


class Metrics:
    """The counters and gauges ``/metrics`` exposes."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ["account", "platform"]
        self.ingested = Counter(
            "socialinbox_messages_ingested",
            "Messages stored for the first time.",
            labels,
            registry=self.registry,
        )
        self.duplicates = Counter(
            "socialinbox_duplicates",
            "Messages received again and not stored twice.",
            labels,
            registry=self.registry,
        )
        self.events = Counter(
            "socialinbox_events_ingested",
            "Edits, deletions, reactions and other events stored.",
            labels,
            registry=self.registry,
        )
        self.quarantined = Counter(
            "socialinbox_quarantined",
            "Payloads that could not be normalized.",
            labels,
            registry=self.registry,
        )
        self.ignored = Counter(
            "socialinbox_ignored",
            "Payloads deliberately not ingested.",
            labels,
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "socialinbox_rate_limited",
            "Platform answers that throttled us (HTTP 429 and equivalents).",
            labels,
            registry=self.registry,
        )
        self.poll_errors = Counter(
            "socialinbox_poll_errors", "Polls that failed.", labels, registry=self.registry
        )
        self.health = Gauge(
            "socialinbox_account_health",
            "1 for the account's current health state, 0 for the others.",
            [*labels, "state"],
            registry=self.registry,
        )
        self.ingest_lag = Gauge(
            "socialinbox_ingest_lag_seconds",
            "Seconds between the newest stored message's platform time and its storage.",
            labels,
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "socialinbox_outbox_pending",
            "Outbox deliveries not yet done, per sink.",
            ["sink"],
            registry=self.registry,
        )
        self.dead_letters = Gauge(
            "socialinbox_dead_letters",
            "Outbox deliveries parked after repeated failures, per sink.",
            ["sink"],
            registry=self.registry,
        )

    def set_health(self, account: str, platform: str, state: HealthState) -> None:
        for candidate in HealthState:
            self.health.labels(account, platform, candidate.value).set(
                1 if candidate is state else 0
            )

    def render(self) -> bytes:
        return generate_latest(self.registry)
