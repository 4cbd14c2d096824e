"""The polling daemon: per-account loops, health, delivery and the HTTP server."""

from socialinbox.daemon.app import Daemon
from socialinbox.daemon.health import AccountHealth, HealthState

__all__ = ["AccountHealth", "Daemon", "HealthState"]
