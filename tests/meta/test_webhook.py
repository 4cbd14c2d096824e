"""The webhook receiver: handshake, signatures over raw bytes, and delivery responses."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from socialinbox.adapters.meta.webhook import create_webhook_app, signature_header
from socialinbox.errors import ConfigError
from socialinbox.model import Batch, Platform
from socialinbox.testing._server import BackgroundServer
from socialinbox.testing.meta import MetaEmulator, encode_webhook_body

SECRET = "uygulama-gizli-anahtari"
VERIFY_TOKEN = "doğrulama-İşareti"
PAGE = "1234567890"
PSID = "24000000000000001"


class Recorder:
    """Collects what the receiver hands on; fails on demand to test redelivery."""

    def __init__(self) -> None:
        self.payloads: list[tuple[Platform, bytes]] = []
        self.batches: list[Batch] = []
        self.failures_left = 0

    def on_payload(self, platform: Platform, body: bytes) -> None:
        if self.failures_left > 0:
            self.failures_left -= 1
            raise RuntimeError("database is locked")
        self.payloads.append((platform, body))

    async def on_batch(self, batch: Batch) -> None:
        self.batches.append(batch)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def receiver(recorder: Recorder) -> Iterator[BackgroundServer]:
    app = create_webhook_app(
        app_secret=SECRET, verify_token=VERIFY_TOKEN, on_payload=recorder.on_payload
    )
    with BackgroundServer(app, name="meta-webhook") as server:
        yield server


@pytest.fixture
def batch_receiver(recorder: Recorder) -> Iterator[BackgroundServer]:
    app = create_webhook_app(
        app_secret=SECRET, verify_token=VERIFY_TOKEN, on_batch=recorder.on_batch
    )
    with BackgroundServer(app, name="meta-webhook-batch") as server:
        yield server


def text_envelope(text: str) -> dict[str, Any]:
    return {
        "object": "page",
        "entry": [
            {
                "id": PAGE,
                "time": 1777000000000,
                "messaging": [
                    {
                        "sender": {"id": PSID},
                        "recipient": {"id": PAGE},
                        "timestamp": 1777000000000,
                        "message": {"mid": "m_tr", "text": text},
                    }
                ],
            }
        ],
    }


def test_handshake_echoes_challenge(receiver: BackgroundServer) -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    response = httpx.get(receiver.base_url + "/", params=params)
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")


def test_handshake_wrong_token_is_403(receiver: BackgroundServer) -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": "doğrulama-isareti",
        "hub.challenge": "1",
    }
    response = httpx.get(receiver.base_url + "/messenger", params=params)
    assert response.status_code == 403
    assert "1" != response.text


def test_handshake_without_mode_is_400(receiver: BackgroundServer) -> None:
    response = httpx.get(receiver.base_url + "/", params={"hub.challenge": "1"})
    assert response.status_code == 400


def test_missing_signature_is_401(receiver: BackgroundServer, recorder: Recorder) -> None:
    body = encode_webhook_body(text_envelope("sahte"))
    response = httpx.post(receiver.base_url + "/", content=body)
    assert response.status_code == 401
    assert "missing" in response.text
    assert recorder.payloads == []


def test_forged_signature_is_401(receiver: BackgroundServer, recorder: Recorder) -> None:
    body = encode_webhook_body(text_envelope("sahte mesaj"))
    forged = signature_header(body, "someone-elses-secret")
    response = httpx.post(
        receiver.base_url + "/", content=body, headers={"X-Hub-Signature-256": forged}
    )
    assert response.status_code == 401
    assert "invalid" in response.text
    response = httpx.post(
        receiver.base_url + "/", content=body, headers={"X-Hub-Signature-256": "sha256=zz"}
    )
    assert response.status_code == 401
    assert recorder.payloads == []


def test_signature_over_reserialized_body_is_401(
    receiver: BackgroundServer, recorder: Recorder
) -> None:
    # Meta signs the ASCII-escaped bytes it sends. A signature computed over a
    # re-serialized copy (UTF-8, other spacing) must not validate those bytes.
    sent = encode_webhook_body(text_envelope("şikâyet, İade"))
    reserialized = json.dumps(json.loads(sent), ensure_ascii=False).encode("utf-8")
    assert sent != reserialized
    response = httpx.post(
        receiver.base_url + "/",
        content=sent,
        headers={"X-Hub-Signature-256": signature_header(reserialized, SECRET)},
    )
    assert response.status_code == 401
    assert recorder.payloads == []


async def test_turkish_and_emoji_body_is_accepted(
    receiver: BackgroundServer, recorder: Recorder
) -> None:
    emulator = MetaEmulator(app_secret=SECRET)
    text = "şikâyet, İade 🙂 ıIiİ"
    delivery = await emulator.deliver(text_envelope(text), url=receiver.base_url + "/")
    assert delivery.statuses == [200]
    assert b"\\u015f" in delivery.body  # "ş" travels escaped, as Meta sends it
    assert len(recorder.payloads) == 1
    platform, body = recorder.payloads[0]
    assert platform is Platform.MESSENGER
    assert body == delivery.body
    assert json.loads(body)["entry"][0]["messaging"][0]["message"]["text"] == text


def test_uppercase_hex_signature_is_accepted(
    receiver: BackgroundServer, recorder: Recorder
) -> None:
    body = encode_webhook_body(text_envelope("büyük harf"))
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest().upper()
    response = httpx.post(
        receiver.base_url + "/", content=body, headers={"X-Hub-Signature-256": f"sha256={digest}"}
    )
    assert response.status_code == 200
    assert len(recorder.payloads) == 1


async def test_callback_failure_gets_503_and_redelivery(
    receiver: BackgroundServer, recorder: Recorder
) -> None:
    recorder.failures_left = 1
    emulator = MetaEmulator(app_secret=SECRET, webhook_retry_delays=(0.01, 0.01))
    delivery = await emulator.deliver(text_envelope("tekrar"), url=receiver.base_url + "/")
    assert delivery.statuses == [503, 200]
    assert delivery.delivered
    assert len(recorder.payloads) == 1


async def test_instagram_route_and_object(receiver: BackgroundServer, recorder: Recorder) -> None:
    emulator = MetaEmulator(app_secret=SECRET)
    instagram = text_envelope("selam")
    instagram["object"] = "instagram"
    await emulator.deliver(instagram, url=receiver.base_url + "/")
    # A body without "object" takes the platform from the route.
    bare = {"entry": text_envelope("rota")["entry"]}
    await emulator.deliver(bare, url=receiver.base_url + "/instagram")
    assert [platform for platform, _ in recorder.payloads] == [Platform.INSTAGRAM] * 2


async def test_unknown_shape_and_non_json_get_200(
    batch_receiver: BackgroundServer, recorder: Recorder
) -> None:
    emulator = MetaEmulator(app_secret=SECRET)
    unknown = await emulator.deliver(
        {"object": "page", "entry": [{"id": PAGE, "weird": [1]}]}, url=batch_receiver.base_url + "/"
    )
    broken = await emulator.deliver(
        b'{"object": "page", "entry": [', url=batch_receiver.base_url + "/"
    )
    assert unknown.statuses == [200]
    assert broken.statuses == [200]
    ignored_batch, quarantined_batch = recorder.batches
    assert ignored_batch.ignored[0].kind == "entry"
    assert "not valid JSON" in quarantined_batch.quarantined[0].reason
    assert quarantined_batch.quarantined[0].raw == b'{"object": "page", "entry": ['
    assert quarantined_batch.quarantined[0].location == "webhook:messenger"


async def test_batch_callback_decodes_message(
    batch_receiver: BackgroundServer, recorder: Recorder
) -> None:
    emulator = MetaEmulator(app_secret=SECRET)
    await emulator.deliver(text_envelope("Sipariş 🛒"), url=batch_receiver.base_url + "/")
    message = recorder.batches[0].messages[0]
    assert message.text == "Sipariş 🛒"
    assert message.key.message_id == "m_tr"
    assert message.key.account_id == PAGE


def test_exactly_one_callback_required() -> None:
    with pytest.raises(ConfigError, match="exactly one"):
        create_webhook_app(app_secret=SECRET, verify_token=VERIFY_TOKEN)
    with pytest.raises(ConfigError, match="empty"):
        create_webhook_app(
            app_secret="", verify_token=VERIFY_TOKEN, on_payload=Recorder().on_payload
        )
