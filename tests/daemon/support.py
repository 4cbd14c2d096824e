"""Helpers for the daemon tests: emulators, a webhook receiver, TOML configs and daemon processes.

Every server here listens on 127.0.0.1 only. The credentials are fake but
distinctive, so the secret-scan test can search logs for them.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from socialinbox.crm.webhook import WebhookVerificationError, verify_webhook
from socialinbox.model import Platform
from socialinbox.testing._server import BackgroundServer
from socialinbox.testing.meta import MetaEmulator
from socialinbox.testing.telegram import TelegramEmulator
from socialinbox.testing.twitter import TwitterEmulator

BOT_TOKEN = "7100000001:tg-bot-token-Sx9qLm2V"
BOT_ID = "7100000001"
X_ACCOUNT = "1598800000000000777"
X_TOKEN = "x-user-token-Qw7Rt5Yp"
X_CONSUMER_KEY = "x-consumer-key-Hn4Jk8Lz"
X_CONSUMER_SECRET = "x-consumer-secret-Bv3Nc6Mx"
X_ACCESS_SECRET = "x-access-secret-Dg2Fh5Kw"
PAGE_ID = "1067280970049999"
PAGE_TOKEN = "page-token-Ul8Op3Ia"
APP_SECRET = "app-secret-Ze6Xc1Vb"
VERIFY_TOKEN = "verify-token-Rt4Ey7Wq"
TELEGRAM_WEBHOOK_SECRET = "tg-hook-secret-Mn5Bv2Cx"
CHATWOOT_TOKEN = "chatwoot-token-Po9Iu8Yt"

TELEGRAM_CHATS = (424201, 424202, 424203, 424204)
X_CONTACTS = ("1600000000000000101", "1600000000000000102", "1600000000000000103")
META_CONTACTS = ("7400000000000101", "7400000000000102")

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def until(condition: Callable[[], bool], limit: float = 20.0) -> None:
    """Wait for ``condition``; ``limit`` seconds only keep a broken daemon from hanging the suite."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {limit} s")
        await asyncio.sleep(0.05)


# -- emulators ------------------------------------------------------------------------


class Emulators:
    """Telegram, X and Graph emulators with one account each; every added message gets a unique text."""

    def __init__(self) -> None:
        self.telegram = TelegramEmulator(BOT_TOKEN, limits=False)
        # The emulator enforces X's per-user window; a crash run polls far more often.
        self.twitter = TwitterEmulator(
            X_ACCOUNT,
            username="destek_crash",
            limits={"GET /2/dm_events": (1_000_000, 900)},
        )
        self.twitter.add_account(X_ACCOUNT, X_TOKEN, username="destek_crash")
        self.meta = MetaEmulator(app_secret=APP_SECRET, webhook_retry_delays=(0.05, 0.1))
        self.meta.add_page(PAGE_ID, access_token=PAGE_TOKEN, name="Destek")
        self._meta_server = self.meta.serve()
        self.texts: dict[Platform, list[str]] = {
            Platform.TELEGRAM: [],
            Platform.X: [],
            Platform.MESSENGER: [],
        }
        self._counter = 0
        self._lock = threading.Lock()

    def start(self) -> Emulators:
        self.telegram.start()
        self.twitter.start()
        self._meta_server.start()
        return self

    def stop(self) -> None:
        self._meta_server.stop()
        self.twitter.stop()
        self.telegram.stop()

    def __enter__(self) -> Emulators:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next_text(self, platform: Platform) -> str:
        with self._lock:
            self._counter += 1
            text = f"{platform.value} mesaj {self._counter:05d}: çekim talebim ne durumda?"
            self.texts[platform].append(text)
        return text

    def add_telegram(self, count: int) -> None:
        for index in range(count):
            chat = TELEGRAM_CHATS[index % len(TELEGRAM_CHATS)]
            user = {"id": chat, "is_bot": False, "first_name": f"Müşteri {chat}"}
            self.telegram.add_message(chat, self._next_text(Platform.TELEGRAM), from_user=user)

    def add_x(self, count: int) -> None:
        for index in range(count):
            sender = X_CONTACTS[index % len(X_CONTACTS)]
            self.twitter.add_message(sender_id=sender, text=self._next_text(Platform.X))

    def meta_envelopes(self, count: int) -> list[dict[str, Any]]:
        """Record ``count`` Messenger messages in the Graph emulator; return their webhook bodies."""
        envelopes = []
        for index in range(count):
            contact = META_CONTACTS[index % len(META_CONTACTS)]
            text = self._next_text(Platform.MESSENGER)
            envelopes.append(self.meta.inbound(Platform.MESSENGER, PAGE_ID, contact, text=text))
        return envelopes

    @property
    def all_texts(self) -> list[str]:
        return [text for texts in self.texts.values() for text in texts]

    def account_sections(self, *, poll_interval: float = 0.05) -> list[dict[str, Any]]:
        """Return ``[[accounts]]`` TOML sections for the three emulated accounts."""
        quick = {"poll_interval": poll_interval, "jitter": 0.2, "max_backoff": 0.5}
        return [
            {
                "name": "tg",
                "platform": "telegram",
                "token": BOT_TOKEN,
                "webhook_secret": TELEGRAM_WEBHOOK_SECRET,
                "base_url": self.telegram.base_url,
                "options": {"poll_timeout": 0, "limit": 20, "album_grace": 0, "pace": False},
                **quick,
            },
            {
                "name": "x",
                "platform": "x",
                "account_id": X_ACCOUNT,
                "token": X_TOKEN,
                "base_url": self.twitter.base_url,
                "options": {"page_size": 20, "rate_limits": {"dm_events": [[1_000_000, 900]]}},
                **quick,
            },
            {
                "name": "fb",
                "platform": "messenger",
                "account_id": PAGE_ID,
                "token": PAGE_TOKEN,
                "app_secret": APP_SECRET,
                "verify_token": VERIFY_TOKEN,
                "base_url": self.meta.base_url,
                **{**quick, "poll_interval": max(poll_interval, 0.3)},
            },
        ]


async def deliver_until_accepted(
    meta: MetaEmulator, envelope: Mapping[str, Any], url: str, *, attempts: int = 200
) -> int:
    """Deliver a signed webhook body until the daemon accepts it, as Meta retries for hours.

    Returns how many deliveries it took.
    """
    for attempt in range(1, attempts + 1):
        delivery = await meta.deliver(envelope, url=url)
        if delivery.delivered:
            return attempt
        await asyncio.sleep(0.05)
    raise AssertionError(f"webhook to {url} not accepted after {attempts} deliveries")


# -- webhook receiver -------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedHook:
    webhook_id: str
    type: str
    event_key: str
    text: str | None


@dataclass
class WebhookReceiver:
    """A Standard Webhooks receiver on 127.0.0.1 that records every verified delivery."""

    secret: str
    delay: float = 0.0
    """Seconds each request takes, so that deliveries are in flight long enough to be killed."""
    received: list[ReceivedHook] = field(default_factory=list)
    rejected: int = 0
    _server: BackgroundServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = await request.body()
            try:
                document = verify_webhook(self.secret, request.headers, body)
            except WebhookVerificationError:
                with self._lock:
                    self.rejected += 1
                return PlainTextResponse("invalid signature", status_code=401)
            if self.delay:
                await asyncio.sleep(self.delay)
            message = document["data"].get("message") or {}
            with self._lock:
                self.received.append(
                    ReceivedHook(
                        webhook_id=request.headers["webhook-id"],
                        type=document["type"],
                        event_key=document["data"]["event_key"],
                        text=message.get("text"),
                    )
                )
            return PlainTextResponse("ok")

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"{self._server.base_url}/hook"

    def start(self) -> WebhookReceiver:
        self._server = BackgroundServer(self._app(), name="webhook-receiver").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def snapshot(self) -> list[ReceivedHook]:
        with self._lock:
            return list(self.received)


# -- configuration files ------------------------------------------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, Mapping):
        inner = ", ".join(f"{key} = {_toml_value(item)}" for key, item in value.items())
        return "{" + inner + "}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def write_config(path: Path, settings: Mapping[str, Any]) -> Path:
    """Write ``settings`` as TOML: scalars, ``[tables]`` and ``[[arrays of tables]]``."""
    lines: list[str] = []
    tables: list[tuple[str, Mapping[str, Any]]] = []
    arrays: list[tuple[str, Sequence[Mapping[str, Any]]]] = []
    for key, value in settings.items():
        if value is None:
            continue  # TOML has no null: an unset setting is left out
        if isinstance(value, Mapping):
            tables.append((key, value))
        elif isinstance(value, list) and value and isinstance(value[0], Mapping):
            arrays.append((key, value))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, table in tables:
        lines.append(f"\n[{key}]")
        lines.extend(
            f"{name} = {_toml_value(item)}" for name, item in table.items() if item is not None
        )
    for key, items in arrays:
        for item in items:
            lines.append(f"\n[[{key}]]")
            lines.extend(f"{name} = {_toml_value(value)}" for name, value in item.items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- daemon processes ---------------------------------------------------------------------


def daemon_environment() -> dict[str, str]:
    """The test process's environment without settings that would change the daemon's."""
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("SOCIALINBOX_")
    }
    environment["PYTHONUNBUFFERED"] = "1"
    return environment


class DaemonProcess:
    """``socialinbox daemon --config FILE`` in a child process, stdout and stderr appended to a file.

    With a :class:`Zygote` the child is forked from a process that already
    imported socialinbox; otherwise it is a new interpreter.
    """

    def __init__(
        self,
        config: Path,
        log: Path,
        *,
        port: int,
        verbosity: int = 0,
        zygote: Zygote | None = None,
    ) -> None:
        self.config = config
        self.log = log
        self.port = port
        self.verbosity = verbosity
        self.zygote = zygote
        self.process: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None
        self.returncode: int | None = None
        self._log_file: IO[bytes] | None = None

    def arguments(self) -> list[str]:
        arguments = ["-" + "v" * self.verbosity] if self.verbosity else []
        return [*arguments, "daemon", "--config", str(self.config)]

    def start(self) -> DaemonProcess:
        self.returncode = None
        if self.zygote is not None:
            self.process = None
            self.pid = self.zygote.spawn(self.arguments(), self.log, self.config.parent)
            return self
        command = [sys.executable, "-c", "from socialinbox.cli import main; main()"]
        self._log_file = self.log.open("ab")
        self.process = subprocess.Popen(
            [*command, *self.arguments()],
            stdout=self._log_file,
            stderr=self._log_file,
            env=daemon_environment(),
            cwd=self.config.parent,
        )
        self.pid = self.process.pid
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def exited(self) -> bool:
        if self.process is not None:
            return self.process.poll() is not None
        assert self.pid is not None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        # A zombie still answers signal 0; /proc tells whether it exited.
        stat = Path(f"/proc/{self.pid}/stat")
        return not stat.exists() or stat.read_text().split(") ", 1)[1].startswith("Z")

    def wait_ready(self, timeout: float = 30.0) -> dict[str, Any]:
        """Wait until ``/healthz`` answers and return its JSON."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exited():
                raise AssertionError(f"daemon exited before serving:\n{self.tail()}")
            try:
                response = httpx.get(f"{self.base_url}/healthz", timeout=1.0)
                document: dict[str, Any] = response.json()
                return document
            except httpx.HTTPError:
                time.sleep(0.02)
        raise AssertionError(f"daemon did not serve /healthz within {timeout} s:\n{self.tail()}")

    def metrics(self) -> str:
        return httpx.get(f"{self.base_url}/metrics", timeout=5.0).text

    def wait(self, timeout: float | None = None) -> int:
        """Reap the child and return its exit code (negative: killed by that signal)."""
        if self.returncode is not None:
            return self.returncode
        if self.process is not None:
            code = self.process.wait(timeout=timeout)
        else:
            assert self.zygote is not None and self.pid is not None
            if timeout is not None:
                deadline = time.monotonic() + timeout
                while not self.exited():
                    if time.monotonic() > deadline:
                        raise subprocess.TimeoutExpired("socialinbox daemon", timeout)
                    time.sleep(0.01)
            code = self.zygote.wait(self.pid)
        self.returncode = code
        self._close_log()
        return code

    def kill(self) -> None:
        """SIGKILL the daemon and reap it."""
        assert self.pid is not None
        os.kill(self.pid, signal.SIGKILL)
        self.wait()

    def terminate(self, timeout: float) -> int:
        """Send SIGTERM and return the exit code; raise if it takes longer than ``timeout``."""
        assert self.pid is not None
        os.kill(self.pid, signal.SIGTERM)
        return self.wait(timeout)

    def ensure_stopped(self) -> None:
        if self.pid is not None and self.returncode is None:
            if not self.exited():
                os.kill(self.pid, signal.SIGKILL)
            self.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 60) -> str:
        """The last ``lines`` lines of the log, for failure messages."""
        return "\n".join(self.output().splitlines()[-lines:])


class Zygote:
    """Client of ``tests/daemon/zygote.py``, which forks pre-imported daemon processes."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("zygote.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=daemon_environment(),
        )

    def _call(self, request: Mapping[str, Any]) -> dict[str, Any]:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(request).encode() + b"\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise AssertionError(f"the zygote exited with {self._process.wait()}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def spawn(self, arguments: Sequence[str], log: Path, cwd: Path) -> int:
        pid: int = self._call(
            {"op": "spawn", "args": list(arguments), "log": str(log), "cwd": str(cwd)}
        )["pid"]
        return pid

    def wait(self, pid: int) -> int:
        status: int = self._call({"op": "wait", "pid": pid})["status"]
        return status

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=10)

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def running_daemon(
    config: Path, log: Path, *, port: int, verbosity: int = 0
) -> Iterator[DaemonProcess]:
    """Start a daemon process, wait for its HTTP server, and make sure it is gone afterwards."""
    process = DaemonProcess(config, log, port=port, verbosity=verbosity).start()
    try:
        process.wait_ready()
        yield process
    finally:
        process.ensure_stopped()


def metric_value(text: str, name: str, **labels: str) -> float | None:
    """Return the value of one sample in Prometheus text, or ``None`` when it is absent."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        sample_name, _, label_text = head.partition("{")
        if sample_name != name:
            continue
        found = dict(
            part.split("=", 1) for part in label_text.rstrip("}").split(",") if "=" in part
        )
        found = {key: item.strip('"') for key, item in found.items()}
        if all(found.get(key) == item for key, item in labels.items()):
            return float(value)
    return None
