"""The daemon: account poll loops, outbox delivery, the HTTP server and shutdown.

One asyncio task per account polls and ingests; one delivery worker pushes
the outbox to every sink; uvicorn serves webhooks, ``/healthz`` and
``/metrics`` in the same event loop. The first SIGTERM or SIGINT stops
polling, lets the in-flight transaction and deliveries finish (at most
``daemon.shutdown_timeout`` seconds) and exits 0; a second signal exits at
once. Nothing is lost either way: cursors only move with stored data and
deliveries are retried by idempotency key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from socialinbox.adapters.base import Adapter
from socialinbox.config import AccountConfig, Settings
from socialinbox.crm.base import Sink
from socialinbox.crm.delivery import DeliveryWorker, RetryPolicy
from socialinbox.daemon.factory import build_adapter, build_sink
from socialinbox.daemon.metrics import Metrics
from socialinbox.daemon.runner import AccountRunner
from socialinbox.errors import SocialInboxError
from socialinbox.store import AsyncStore, Store

if TYPE_CHECKING:
    from socialinbox.moderation.rules import RuleSet

__all__ = ["Daemon"]

logger = logging.getLogger(__name__)


class Daemon:
    """Runs every configured account and sink until stopped.

    Args:
        settings: the loaded configuration.
        adapters: ready adapters by account name, replacing those the
            configuration would build (tests and embedding services).
        sinks: ready sinks, replacing the configured ones.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        adapters: Mapping[str, Adapter] | None = None,
        sinks: Sequence[Sink] | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.runners: dict[str, AccountRunner] = {}
        self.stop_event = asyncio.Event()
        self._given_adapters = dict(adapters or {})
        self._given_sinks = list(sinks) if sinks is not None else None
        self.store: AsyncStore | None = None
        self.worker: DeliveryWorker | None = None
        self.sinks: list[Sink] = []
        self.http_port: int | None = None
        self.rules: RuleSet | None = None
        self._server: Any = None

    async def start(self) -> None:
        """Open the store (migrating it), build adapters and sinks."""
        loop = asyncio.get_running_loop()
        sync_store = await loop.run_in_executor(None, lambda: Store.open(self.settings.database))
        self.store = AsyncStore(sync_store)
        self.rules = self._load_rules()
        for account in self.settings.accounts:
            if not account.enabled:
                logger.info("account %s is disabled in the configuration", account.name)
                continue
            adapter = self._given_adapters.get(account.name) or build_adapter(account, self.store)
            self.runners[account.name] = AccountRunner(
                account, adapter, self.store, self.metrics, rules=self.rules
            )
        for name, adapter in self._given_adapters.items():
            if name not in self.runners:
                config = AccountConfig(
                    name=name, platform=adapter.platform, account_id=adapter.account_id
                )
                self.runners[name] = AccountRunner(config, adapter, self.store, self.metrics)
        self.sinks = (
            self._given_sinks
            if self._given_sinks is not None
            else [build_sink(sink) for sink in self.settings.sinks]
        )
        # NOTE: the worker has one retry policy for all sinks, so the smallest
        # configured max_attempts applies to every sink.
        attempts = [sink.max_attempts for sink in self.settings.sinks]
        self.worker = DeliveryWorker(
            sync_store,
            self.sinks,
            retry=RetryPolicy(max_attempts=min(attempts)) if attempts else None,
            poll_interval=self.settings.daemon.delivery_interval,
        )
        # This daemon is the only worker on an SQLite file, so rows a killed
        # predecessor had claimed can be released now instead of after their lease.
        if sync_store.engine.dialect.name == "sqlite":
            released = await self.worker.release_in_flight()
            if released:
                logger.info(
                    "released %d outbox deliveries left in flight by a previous run", released
                )
        logger.info(
            "daemon started: %d account(s), %d sink(s), database %s",
            len(self.runners),
            len(self.sinks),
            sync_store.engine.url.render_as_string(hide_password=True),
        )

    def _load_rules(self) -> RuleSet | None:
        """Load the moderation rules file named in the settings, if any."""
        if self.settings.rules is None:
            return None
        from socialinbox.moderation.rules import load_rules
        from socialinbox.moderation.templates import TemplateLibrary

        rules = load_rules(self.settings.rules, templates=TemplateLibrary())
        logger.info("moderation rules loaded from %s", self.settings.rules)
        return rules

    async def run(self, *, until_idle: bool = False, handle_signals: bool = True) -> int:
        """Run until stopped; with ``until_idle``, stop once every account is drained.

        Returns the process exit code.
        """
        if self.store is None:
            await self.start()
        assert self.store is not None and self.worker is not None
        if handle_signals:
            self._install_signal_handlers()

        tasks = [
            asyncio.create_task(runner.run(self.stop_event), name=f"poll:{name}")
            for name, runner in self.runners.items()
        ]
        delivery = asyncio.create_task(self.worker.run_forever(self.stop_event), name="delivery")
        watchdog = asyncio.create_task(self._watchdog(), name="watchdog")
        announcer = None
        if self.settings.daemon.announcements:
            announcer = asyncio.create_task(self._announcements(), name="announcements")
        server = None
        if self.settings.daemon.http:
            server = asyncio.create_task(self._serve_http(), name="http")
        if until_idle:
            asyncio.create_task(self._stop_when_idle(), name="idle-check")  # noqa: RUF006

        await self.stop_event.wait()
        logger.info("daemon stopping: finishing in-flight work")
        pending = [*tasks, delivery, *([announcer] if announcer is not None else [])]
        done, still_running = await asyncio.wait(
            pending, timeout=self.settings.daemon.shutdown_timeout
        )
        for task in still_running:
            task.cancel()
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                logger.error(
                    "task %s ended with %s", task.get_name(), type(task.exception()).__name__
                )
        watchdog.cancel()
        if server is not None and self._server is not None:
            self._server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(server, timeout=5)
        await self.close()
        logger.info("daemon stopped")
        return 0

    def stop(self) -> None:
        self.stop_event.set()

    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()

        def first_signal(signum: int) -> None:
            if self.stop_event.is_set():
                logger.warning("second signal %d: exiting at once", signum)
                os._exit(1)
            logger.info("signal %d received: stopping", signum)
            self.stop_event.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, first_signal, signum)

    async def _stop_when_idle(self) -> None:
        """Stop once every account has polled at least twice, the last time idle, and the outbox is drained."""
        assert self.worker is not None
        while not self.stop_event.is_set():
            await asyncio.sleep(0.2)
            runners = [
                runner for runner in self.runners.values() if not runner.health.polling_stopped
            ]
            if not all(runner.polls >= 2 and runner.idle for runner in runners):
                continue
            reports = await self.worker.drain()
            if all(report.claimed == 0 for report in reports.values()):
                self.stop_event.set()

    async def _announcements(self) -> None:
        """Send approved announcements whose scheduled time has come, until stopped.

        The broadcast ledger marks each recipient ``sending`` before its call,
        so a run this stop interrupts resumes in the next without sending twice.
        """
        from socialinbox.broadcast import ledger
        from socialinbox.broadcast.accounts import build_send_accounts
        from socialinbox.broadcast.model import BroadcastStatus
        from socialinbox.broadcast.sender import Sender
        from socialinbox.model import utc_now

        assert self.store is not None
        interval = self.settings.daemon.announcement_interval
        while not self.stop_event.is_set():
            engine = self.store.sync.engine
            broadcasts = await self.store.run(ledger.list_broadcasts, engine, limit=200)
            now = utc_now()
            due = [
                item.id
                for item in broadcasts
                if item.status in (BroadcastStatus.APPROVED, BroadcastStatus.SENDING)
                and item.scheduled_at <= now
            ]
            accounts = build_send_accounts(self.settings, self.store) if due else []
            if due and not accounts:
                logger.warning("%d announcement(s) due but no account can send them", len(due))
            if accounts:
                try:
                    for broadcast_id in due:
                        if self.stop_event.is_set():
                            break
                        try:
                            report = await Sender(self.store.sync, accounts).run(broadcast_id)
                        except SocialInboxError as error:
                            logger.warning(
                                "announcement %d not sent: %s", broadcast_id, type(error).__name__
                            )
                            continue
                        # A run with nothing left to send only repeats the status.
                        log = logger.info if report.attempted else logger.debug
                        log("announcement %d: %s", broadcast_id, report.status.value)
                finally:
                    for account in accounts:
                        await account.adapter.close()
            try:
                await asyncio.wait_for(self.stop_event.wait(), timeout=interval)
            except TimeoutError:
                continue

    async def _watchdog(self) -> None:
        """Mark accounts degraded when no poll succeeded for ``daemon.stall_after`` seconds."""
        limit = self.settings.daemon.stall_after
        while True:
            await asyncio.sleep(min(limit / 4, 30.0))
            for runner in self.runners.values():
                stalled = runner.stalled_for()
                if stalled is not None and stalled > limit:
                    runner.health.mark_stalled(stalled)
                    self.metrics.set_health(
                        runner.config.name, runner.config.platform.value, runner.health.state
                    )

    async def _serve_http(self) -> None:
        import uvicorn

        from socialinbox.daemon.server import create_app

        app = create_app(self)
        config = uvicorn.Config(
            app,
            host=self.settings.daemon.host,
            port=self.settings.daemon.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        # uvicorn captures SIGINT and SIGTERM itself and raises them again when it
        # exits, which would look like a second signal; the daemon owns signals.
        self._server.capture_signals = contextlib.nullcontext
        serve = asyncio.create_task(self._server.serve())
        while not self._server.started and not serve.done():  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
            await asyncio.sleep(0.01)
        if self._server.started:
            sockets = [socket for server in self._server.servers for socket in server.sockets]
            self.http_port = sockets[0].getsockname()[1] if sockets else None
            logger.info("HTTP server listening on %s:%s", self.settings.daemon.host, self.http_port)
        await serve

    def health(self) -> dict[str, Any]:
        accounts = {name: runner.health.as_dict() for name, runner in self.runners.items()}
        states = {runner.health.state.value for runner in self.runners.values()}
        return {"status": "ok" if states <= {"ok"} else "degraded", "accounts": accounts}

    async def close(self) -> None:
        for runner in self.runners.values():
            try:
                await runner.adapter.close()
            except (SocialInboxError, OSError) as error:
                logger.warning(
                    "closing account %s failed: %s", runner.config.name, type(error).__name__
                )
        if self.worker is not None:
            await self.worker.close()
        if self.store is not None:
            await self.store.close()
            self.store = None
