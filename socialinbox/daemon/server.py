"""The daemon's HTTP app: platform webhooks, ``/healthz`` and ``/metrics``.

Routes:

* ``GET /healthz``: JSON with the overall status and each account's health;
* ``GET /metrics``: Prometheus text format;
* ``/webhooks/meta/{account}``: Meta's verification handshake and signed
  webhook deliveries for a Messenger or Instagram account;
* ``POST /webhooks/telegram/{account}``: Telegram webhook updates, checked
  against the account's ``webhook_secret`` (``X-Telegram-Bot-Api-Secret-Token``).

A webhook returns 200 for anything it stored or quarantined, and a payload
never causes a 500 because of its shape.
"""

from __future__ import annotations

import hmac
import logging
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route

from socialinbox.model import Batch, Platform, Quarantined
from socialinbox.replay import normalize
from socialinbox.store import Store
from socialinbox.store.tables import DeliveryRow, OutboxRow, table_of

if TYPE_CHECKING:
    from socialinbox.daemon.app import Daemon

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

_MAX_TELEGRAM_BODY = 1 << 20


def create_app(daemon: Daemon) -> Starlette:
    """Build the HTTP app for ``daemon``."""

    async def healthz(request: Request) -> Response:
        return JSONResponse(daemon.health())

    async def metrics(request: Request) -> Response:
        await _refresh_outbox_gauges(daemon)
        return Response(daemon.metrics.render(), media_type="text/plain; version=0.0.4")

    async def ingest(batch: Batch, account: str) -> None:
        assert daemon.store is not None
        result = await daemon.store.ingest(batch)
        runner = daemon.runners.get(account)
        if runner is not None:
            labels = (account, runner.config.platform.value)
            daemon.metrics.ingested.labels(*labels).inc(result.messages_stored)
            daemon.metrics.duplicates.labels(*labels).inc(result.duplicates)
            daemon.metrics.events.labels(*labels).inc(result.events)
            daemon.metrics.ignored.labels(*labels).inc(result.ignored)
            daemon.metrics.quarantined.labels(*labels).inc(result.quarantined)
        if runner is not None and runner.rules is not None and result.stored:
            await runner.run_rules(result)
        if daemon.worker is not None:
            daemon.worker.wake()

    def telegram_endpoint(account: str, secret: str | None, account_id: str) -> Any:
        async def endpoint(request: Request) -> Response:
            if secret is not None:
                given = request.headers.get("x-telegram-bot-api-secret-token", "")
                if not hmac.compare_digest(given.encode(), secret.encode()):
                    logger.warning(
                        "telegram webhook for %s: wrong or missing secret token", account
                    )
                    return PlainTextResponse("forbidden", status_code=403)
            body = await request.body()
            if len(body) > _MAX_TELEGRAM_BODY:
                return PlainTextResponse("payload too large", status_code=413)
            try:
                batch = normalize(
                    body, Platform.TELEGRAM, account_id=account_id, location=f"webhook:{account}"
                )
            except Exception:
                logger.exception(
                    "telegram webhook for %s: codec failed; payload quarantined", account
                )
                batch = Batch(
                    quarantined=(
                        Quarantined(
                            platform=Platform.TELEGRAM,
                            account_id=account_id,
                            reason="codec error while decoding the webhook body",
                            raw=body,
                            location=f"webhook:{account}",
                        ),
                    )
                )
            await ingest(batch, account)
            return PlainTextResponse("ok")

        return endpoint

    routes: list[Any] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    for name, runner in daemon.runners.items():
        config = runner.config
        if config.platform is Platform.TELEGRAM:
            secret = config.webhook_secret.get_secret_value() if config.webhook_secret else None
            routes.append(
                Route(
                    f"/webhooks/telegram/{name}",
                    telegram_endpoint(name, secret, runner.adapter.account_id),
                    methods=["POST"],
                )
            )
        elif config.platform in {Platform.MESSENGER, Platform.INSTAGRAM}:
            if config.app_secret is None or config.verify_token is None:
                logger.info(
                    "account %s: no app_secret/verify_token, webhook route not mounted", name
                )
                continue
            from socialinbox.adapters.meta.webhook import create_webhook_app

            async def on_batch(batch: Batch, account: str = name) -> None:
                await ingest(batch, account)

            routes.append(
                Mount(
                    f"/webhooks/meta/{name}",
                    app=create_webhook_app(
                        app_secret=config.app_secret,
                        verify_token=config.verify_token,
                        on_batch=on_batch,
                        default_platform=config.platform,
                    ),
                )
            )
    return Starlette(routes=routes)


async def _refresh_outbox_gauges(daemon: Daemon) -> None:
    """Update the outbox depth and dead-letter gauges from the store."""
    if daemon.store is None:
        return
    names = [sink.name for sink in daemon.sinks]
    counts = await daemon.store.run(outbox_counts, daemon.store.sync, names)
    for sink, (pending, dead) in counts.items():
        daemon.metrics.outbox_depth.labels(sink).set(pending)
        daemon.metrics.dead_letters.labels(sink).set(dead)


def outbox_counts(store: Store, sinks: list[str]) -> dict[str, tuple[int, int]]:
    """Return (not yet delivered, dead letters) per sink."""
    outbox = table_of(OutboxRow)
    deliveries = table_of(DeliveryRow)
    counts: dict[str, tuple[int, int]] = {}
    with store.engine.connect() as connection:
        total = connection.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one()
        for sink in sinks:
            by_status: dict[str, int] = dict(
                connection.execute(
                    sa.select(deliveries.c.status, sa.func.count())
                    .where(deliveries.c.sink == sink)
                    .group_by(deliveries.c.status)
                ).all()
            )
            finished = by_status.get("delivered", 0) + by_status.get("dead", 0)
            counts[sink] = (total - finished, by_status.get("dead", 0))
    return counts
