"""``socialinbox demo``: the main job end to end on embedded sample data.

The demo starts the Telegram, X and Graph (Messenger and Instagram) emulators
and a Chatwoot emulator on free 127.0.0.1 ports, loads the sample Turkish
support conversations into them, runs the real daemon against them (SQLite,
the ``jsonl`` and ``chatwoot`` sinks, Meta webhooks signed and delivered to
the daemon's HTTP server), and stops once every account is drained and every
outbox event is delivered. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from socialinbox.config import AccountConfig, DaemonConfig, Settings, SinkConfig
from socialinbox.daemon.app import Daemon
from socialinbox.daemon.server import outbox_counts
from socialinbox.demo.loaders import DemoScript, load_meta, load_script, load_telegram, load_x
from socialinbox.model import Conversation, Platform
from socialinbox.replay import _platform_hint, read_payloads
from socialinbox.store import Store
from socialinbox.testing.chatwoot import ChatwootEmulator
from socialinbox.testing.meta import MetaEmulator
from socialinbox.testing.telegram import TelegramEmulator
from socialinbox.testing.twitter import TwitterEmulator

__all__ = ["DemoResult", "PlatformSummary", "run_demo"]

logger = logging.getLogger(__name__)

# Fixed, obviously fake credentials: the emulators accept exactly these.
TELEGRAM_TOKEN = "7000000001:DEMO-socialinbox-emulator-token"  # noqa: S105
X_ACCOUNT_ID = "1598800000000000001"
X_TOKEN = "demo-x-user-token"  # noqa: S105
PAGE_ID = "1067280970047460"
INSTAGRAM_ID = "17841400000000001"
PAGE_TOKEN = "demo-page-access-token"  # noqa: S105
APP_SECRET = "demo-app-secret"  # noqa: S105
VERIFY_TOKEN = "demo-verify-token"  # noqa: S105
CHATWOOT_TOKEN = "demo-chatwoot-token"  # noqa: S105

ACCOUNT_NAMES = {
    Platform.TELEGRAM: "destek-telegram",
    Platform.X: "destek-x",
    Platform.MESSENGER: "destek-messenger",
    Platform.INSTAGRAM: "destek-instagram",
}


@dataclass
class PlatformSummary:
    """What the demo did on one platform."""

    platform: Platform
    expected: int
    """Distinct messages in the loaded sample (unknown for ``--load`` files, so a minimum)."""
    stored: int
    conversations: int
    duplicates: int
    events: int
    ignored: int
    quarantined: int


@dataclass
class DemoResult:
    """Everything ``socialinbox demo`` reports."""

    database_url: str
    folder: Path
    jsonl_path: Path
    platforms: list[PlatformSummary] = field(default_factory=list)
    conversations: list[Conversation] = field(default_factory=list)
    last_texts: dict[str, str] = field(default_factory=dict)
    contact_names: dict[str, str] = field(default_factory=dict)
    message_counts: dict[str, int] = field(default_factory=dict)
    chatwoot_contacts: int = 0
    chatwoot_conversations: int = 0
    chatwoot_messages: int = 0
    chatwoot_notes: int = 0
    jsonl_lines: int = 0
    drained: bool = False
    skipped_loads: list[tuple[str, str]] = field(default_factory=list)
    loaded: bool = False
    """Whether recorded payload files were preloaded with ``--load``."""

    @property
    def stored_total(self) -> int:
        return sum(summary.stored for summary in self.platforms)

    @property
    def complete(self) -> bool:
        """Whether every sample message is stored once and Chatwoot holds the same."""
        # Loaded recordings add messages the sample does not count, so with
        # --load the sample count is a minimum; without it, an exact match.
        exact = not self.loaded
        return (
            self.drained
            and all(
                summary.stored == summary.expected if exact else summary.stored >= summary.expected
                for summary in self.platforms
            )
            and self.chatwoot_messages == self.stored_total
        )


@contextlib.contextmanager
def _emulators() -> Iterator[
    tuple[TelegramEmulator, TwitterEmulator, MetaEmulator, ChatwootEmulator]
]:
    telegram = TelegramEmulator(TELEGRAM_TOKEN, username="destek_demo_bot", first_name="Destek")
    twitter = TwitterEmulator(X_ACCOUNT_ID, username="destek_demo")
    meta = MetaEmulator(app_secret=APP_SECRET)
    chatwoot = ChatwootEmulator(api_token=CHATWOOT_TOKEN)
    meta_server = meta.serve()
    started: list[Any] = []
    try:
        for server in (telegram, twitter, meta_server, chatwoot):
            server.start()
            started.append(server)
        yield telegram, twitter, meta, chatwoot
    finally:
        for server in reversed(started):
            server.stop()


def _settings(
    database_url: str,
    jsonl_path: Path,
    telegram: TelegramEmulator,
    twitter: TwitterEmulator,
    meta: MetaEmulator,
    chatwoot: ChatwootEmulator,
    inbox_id: int,
) -> Settings:
    quick = {"poll_interval": 0.3, "jitter": 0.1, "max_backoff": 2.0}
    return Settings(
        database=database_url,
        daemon=DaemonConfig(port=0, shutdown_timeout=5.0, delivery_interval=0.2, stall_after=120.0),
        accounts=[
            AccountConfig(
                name=ACCOUNT_NAMES[Platform.TELEGRAM],
                platform=Platform.TELEGRAM,
                token=TELEGRAM_TOKEN,
                base_url=telegram.base_url,
                options={"poll_timeout": 0, "album_grace": 0.5},
                **quick,
            ),
            AccountConfig(
                name=ACCOUNT_NAMES[Platform.X],
                platform=Platform.X,
                account_id=X_ACCOUNT_ID,
                token=X_TOKEN,
                base_url=twitter.base_url,
                **quick,
            ),
            AccountConfig(
                name=ACCOUNT_NAMES[Platform.MESSENGER],
                platform=Platform.MESSENGER,
                account_id=PAGE_ID,
                token=PAGE_TOKEN,
                app_secret=APP_SECRET,
                verify_token=VERIFY_TOKEN,
                base_url=meta.base_url,
                **quick,
            ),
            AccountConfig(
                name=ACCOUNT_NAMES[Platform.INSTAGRAM],
                platform=Platform.INSTAGRAM,
                account_id=INSTAGRAM_ID,
                token=PAGE_TOKEN,
                app_secret=APP_SECRET,
                verify_token=VERIFY_TOKEN,
                base_url=meta.base_url,
                options={"page_id": PAGE_ID},
                **quick,
            ),
        ],
        sinks=[
            SinkConfig(name="jsonl", type="jsonl", path=str(jsonl_path)),
            SinkConfig(
                name="chatwoot",
                type="chatwoot",
                url=chatwoot.base_url,
                token=CHATWOOT_TOKEN,
                options={"account_id": chatwoot.account_id, "inbox_id": inbox_id},
            ),
        ],
    )


def _load_recorded(
    paths: Sequence[Path],
    telegram: TelegramEmulator,
    twitter: TwitterEmulator,
    script: DemoScript,
    skipped: list[tuple[str, str]],
) -> None:
    """Preload the emulators with recorded payload files (``--load``)."""
    for path in paths:
        platform = _platform_hint(path)
        try:
            if platform is Platform.TELEGRAM:
                telegram.add_updates(path)
            elif platform is Platform.X and path.suffix.lower() in {".yaml", ".yml"}:
                twitter.load_cassette(path)
            elif platform is Platform.X:
                for raw in read_payloads(path):
                    document = json.loads(raw.data)
                    if isinstance(document, dict) and "data" in document:
                        twitter.add_dm_events(document)
                    else:
                        skipped.append((str(path), "not a v2 dm_events response"))
            elif platform in {Platform.MESSENGER, Platform.INSTAGRAM}:
                for raw in read_payloads(path):
                    document = json.loads(raw.data)
                    if isinstance(document, dict) and "entry" in document:
                        script.webhook_bodies.append((platform, document))
                    else:
                        skipped.append((raw.location, "not a webhook envelope with entry"))
            else:
                skipped.append(
                    (str(path), "platform unknown: put the file in a folder named after it")
                )
        except (ValueError, OSError, KeyError, TypeError) as error:
            skipped.append((str(path), f"could not be loaded: {type(error).__name__}: {error}"))


async def _deliver_webhooks(daemon: Daemon, meta: MetaEmulator, script: DemoScript) -> None:
    assert daemon.http_port is not None
    for platform, body in script.webhook_bodies:
        name = ACCOUNT_NAMES[platform]
        url = f"http://127.0.0.1:{daemon.http_port}/webhooks/meta/{name}/"
        delivery = await meta.deliver(body, url=url)
        if not delivery.delivered:
            logger.warning("demo webhook to %s not accepted: %s", name, delivery.statuses)


async def _wait_until_drained(daemon: Daemon, limit: float) -> bool:
    """Wait until every account polled idle twice after loading and the outbox is empty."""
    assert daemon.store is not None
    baseline = {name: runner.polls for name, runner in daemon.runners.items()}
    sinks = [sink.name for sink in daemon.sinks]
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        active = {
            name: runner
            for name, runner in daemon.runners.items()
            if not runner.health.polling_stopped
        }
        if not all(
            runner.polls >= baseline[name] + 2 and runner.idle for name, runner in active.items()
        ):
            continue
        counts = await daemon.store.run(outbox_counts, daemon.store.sync, sinks)
        if all(pending == dead == 0 for pending, dead in counts.values()):
            return True
    return False


async def run_demo(
    *,
    database: str | None = None,
    follow: bool = False,
    load: Sequence[Path] = (),
    drain_timeout: float = 120.0,
) -> DemoResult:
    """Run the demo and return what it stored and delivered.

    Args:
        database: store URL; a fresh SQLite file in a new temporary folder when omitted.
        follow: keep the daemon running until SIGINT or SIGTERM instead of
            stopping once the sample is drained.
        load: recorded payload files to preload into the emulators as well.
        drain_timeout: seconds to wait for the backlog to drain.
    """
    folder = Path(tempfile.mkdtemp(prefix="socialinbox-demo-"))
    database_url = database or f"sqlite:///{folder / 'demo.db'}"
    jsonl_path = folder / "crm-events.jsonl"
    result = DemoResult(
        database_url=database_url, folder=folder, jsonl_path=jsonl_path, loaded=bool(load)
    )

    with _emulators() as (telegram, twitter, meta, chatwoot):
        twitter.add_account(X_ACCOUNT_ID, X_TOKEN, username="destek_demo")
        meta.add_page(PAGE_ID, access_token=PAGE_TOKEN, name="Destek", instagram_id=INSTAGRAM_ID)
        inbox_id = chatwoot.add_inbox("socialinbox demo")

        script = load_script()
        load_telegram(telegram, script)
        load_x(twitter, script)
        load_meta(meta, script, page_id=PAGE_ID, instagram_id=INSTAGRAM_ID)
        _load_recorded(load, telegram, twitter, script, result.skipped_loads)

        settings = _settings(database_url, jsonl_path, telegram, twitter, meta, chatwoot, inbox_id)
        daemon = Daemon(settings)
        await daemon.start()
        running = asyncio.create_task(daemon.run(handle_signals=True))
        while daemon.http_port is None and not running.done():  # noqa: ASYNC110 - set by the server task
            await asyncio.sleep(0.02)
        await _deliver_webhooks(daemon, meta, script)

        if follow:
            await running
            result.drained = True
        else:
            result.drained = await _wait_until_drained(daemon, drain_timeout)
            summary = _counters(daemon)
            daemon.stop()
            await running
        if follow:
            summary = _counters(daemon)

        _collect(result, script, summary)
        chatwoot_messages = chatwoot.messages()
        result.chatwoot_contacts = len(chatwoot.contacts())
        result.chatwoot_conversations = len(chatwoot.conversations())
        result.chatwoot_messages = sum(
            1 for message in chatwoot_messages if not message.get("private")
        )
        result.chatwoot_notes = sum(1 for message in chatwoot_messages if message.get("private"))
    if jsonl_path.exists():
        with jsonl_path.open(encoding="utf-8") as handle:
            result.jsonl_lines = sum(1 for line in handle if line.strip())
    return result


def _counters(daemon: Daemon) -> dict[str, dict[str, float]]:
    """Read the per-account counters from the daemon's metrics."""
    registry = daemon.metrics.registry
    found: dict[str, dict[str, float]] = {}
    for name, runner in daemon.runners.items():
        labels = {"account": name, "platform": runner.config.platform.value}
        found[runner.config.platform.value] = {
            metric: registry.get_sample_value(f"socialinbox_{metric}_total", labels) or 0.0
            for metric in ("duplicates", "events_ingested", "ignored", "quarantined")
        }
    return found


def _collect(result: DemoResult, script: DemoScript, counters: dict[str, dict[str, float]]) -> None:
    with Store.open(result.database_url) as store:
        conversations = store.list_conversations()
        result.conversations = conversations
        for conversation in conversations:
            messages = store.list_messages(conversation.key)
            result.message_counts[str(conversation.key)] = len(messages)
            result.contact_names[str(conversation.key)] = _contact_name(store, conversation)
            visible = [message for message in messages if not message.deleted]
            last = visible[-1] if visible else None
            if last is not None:
                text = (
                    last.text
                    or f"[{', '.join(item.type.value for item in last.attachments) or last.kind.value}]"
                )
                result.last_texts[str(conversation.key)] = text
        for platform in (Platform.TELEGRAM, Platform.X, Platform.MESSENGER, Platform.INSTAGRAM):
            own = [
                conversation
                for conversation in conversations
                if conversation.key.platform is platform
            ]
            stored = len(store.list_messages(platform=platform))
            numbers = counters.get(platform.value, {})
            result.platforms.append(
                PlatformSummary(
                    platform=platform,
                    expected=script.expected_messages.get(platform, 0),
                    stored=stored,
                    conversations=len(own),
                    duplicates=int(numbers.get("duplicates", 0)),
                    events=int(numbers.get("events_ingested", 0)),
                    ignored=int(numbers.get("ignored", 0)),
                    quarantined=int(numbers.get("quarantined", 0)),
                )
            )


def _contact_name(store: Store, conversation: Conversation) -> str:
    if conversation.title:
        return conversation.title
    user_id = conversation.contact_user_id or conversation.key.chat_id
    contact = store.get_contact(conversation.key.platform, conversation.key.account_id, user_id)
    if contact is not None and (contact.display_name or contact.username):
        return contact.display_name or f"@{contact.username}"
    return user_id
