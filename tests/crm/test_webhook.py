"""Standard Webhooks signing and verification, the webhook sink's answers, the schema, the registry.

Fixture notes: the signature scheme, header names, ``whsec_`` secrets and the
delivery etiquette (2xx success, 410 disables, Retry-After) follow the
Standard Webhooks specification 1.0.0 (standard-webhooks/standard-webhooks,
``spec/standard-webhooks.md``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from socialinbox.crm import base
from socialinbox.crm.base import (
    DeliveryOutcome,
    OutboxEvent,
    create_sink,
    mask_url,
    parse_retry_after,
    register_sink_factory,
    sink_schemes,
)
from socialinbox.crm.chatwoot import ChatwootSink
from socialinbox.crm.jsonl import JsonlSink
from socialinbox.crm.webhook import (
    WebhookPayload,
    WebhookSink,
    WebhookVerificationError,
    generate_webhook_secret,
    sign_webhook,
    verify_webhook,
    webhook_payload_schema,
)
from socialinbox.errors import ConfigError
from socialinbox.store import Store
from tests.crm.support import (
    Answer,
    WebhookReceiver,
    delete,
    edit,
    image,
    ingest,
    message,
    outbox_events,
    reaction,
    read,
)

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "webhook-payload.schema.json"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


def signed(body: bytes, *, secret: str = SECRET, at: datetime = NOW) -> dict[str, str]:
    timestamp = int(at.timestamp())
    return {
        "Webhook-Id": "evt_1",
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": sign_webhook(secret, "evt_1", timestamp, body),
    }


def test_signature_matches_specification() -> None:
    body = '{"text":"şikâyet, İade"}'.encode()
    expected = hmac.new(b"k" * 32, b"evt_1.1772366400." + body, hashlib.sha256).digest()

    assert sign_webhook(SECRET, "evt_1", 1772366400, body) == (
        "v1," + base64.b64encode(expected).decode()
    )


def test_verify_accepts_valid_request() -> None:
    body = '{"type":"message.created","data":{"text":"çekim"}}'.encode()
    assert verify_webhook(SECRET, signed(body), body, now=NOW) == {
        "type": "message.created",
        "data": {"text": "çekim"},
    }


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("tampered body", "no valid signature"),
        ("wrong secret", "no valid signature"),
        ("stale timestamp", "more than"),
        ("future timestamp", "more than"),
        ("missing header", "missing webhook-id"),
        ("bad timestamp", "invalid webhook-timestamp"),
    ],
)
def test_verify_rejects(case: str, expected: str) -> None:
    body = b'{"a":1}'
    headers = signed(body)
    if case == "tampered body":
        body = b'{"a":2}'
    elif case == "wrong secret":
        headers = signed(body, secret=generate_webhook_secret())
    elif case == "stale timestamp":
        headers = signed(body, at=NOW - timedelta(minutes=6))
    elif case == "future timestamp":
        headers = signed(body, at=NOW + timedelta(minutes=6))
    elif case == "missing header":
        del headers["Webhook-Signature"]
    else:
        headers["Webhook-Timestamp"] = "yesterday"

    with pytest.raises(WebhookVerificationError, match=expected):
        verify_webhook(SECRET, headers, body, now=NOW)


def test_verify_during_secret_rotation() -> None:
    new = generate_webhook_secret()
    body = b"{}"
    headers = signed(body)
    headers["Webhook-Signature"] = (
        f"{sign_webhook(new, 'evt_1', int(NOW.timestamp()), body)} {headers['Webhook-Signature']}"
    )

    assert verify_webhook(SECRET, headers, body, now=NOW) == {}
    assert verify_webhook([SecretStr(new)], headers, body, now=NOW) == {}


def test_sink_rejects_bad_configuration() -> None:
    with pytest.raises(ConfigError, match="expected whsec_"):
        WebhookSink("https://crm.example/hook", secret="whsec_not base64!")
    with pytest.raises(ConfigError, match="shorter than 24 bytes"):
        WebhookSink(
            "https://crm.example/hook", secret="whsec_" + base64.b64encode(b"short").decode()
        )
    with pytest.raises(ConfigError, match="expected http"):
        WebhookSink("ftp://crm.example/hook", secret=SECRET)
    with pytest.raises(ConfigError, match="invalid sink name"):
        WebhookSink("https://crm.example/hook", secret=SECRET, name="has space")


async def test_sink_signs_with_every_secret(
    sqlite_store: Store, receiver: tuple[WebhookReceiver, str], webhook_secret: str
) -> None:
    app, url = receiver
    ingest(sqlite_store, message("11", 1))
    [event] = outbox_events(sqlite_store)
    sink = WebhookSink(url, secret=[generate_webhook_secret(), SecretStr(webhook_secret)])

    [result] = await sink.deliver([event])
    await sink.close()

    assert result.ok
    assert app.rejected_signatures == 0
    body = app.bodies[event.event_key]
    assert body["type"] == "message.created"
    assert body["data"]["event_key"] == event.event_key
    assert body["data"]["message"]["text"] == "Merhaba, çekim talebim 1 ne durumda?"


@pytest.mark.parametrize(
    ("answer", "outcome", "error"),
    [
        (Answer(204), DeliveryOutcome.DELIVERED, None),
        (Answer(410), DeliveryOutcome.FAILED, "410 Gone"),
        (Answer(422), DeliveryOutcome.FAILED, "HTTP 422"),
        (Answer(302, headers={"Location": "/elsewhere"}), DeliveryOutcome.RETRY, "redirects"),
        (Answer(500), DeliveryOutcome.RETRY, "HTTP 500"),
        (Answer(401), DeliveryOutcome.RETRY, "HTTP 401"),
    ],
)
async def test_sink_maps_answers(
    sqlite_store: Store,
    receiver: tuple[WebhookReceiver, str],
    webhook_secret: str,
    answer: Answer,
    outcome: DeliveryOutcome,
    error: str | None,
) -> None:
    app, url = receiver
    app.answers.append(answer)
    ingest(sqlite_store, message("12", 1))
    sink = WebhookSink(url, secret=webhook_secret)

    [result] = await sink.deliver(outbox_events(sqlite_store))
    await sink.close()

    assert result.outcome is outcome
    if error is None:
        assert result.error is None
    else:
        assert result.error is not None
        assert error in result.error


async def test_sink_throttled_defers_rest_of_batch(
    sqlite_store: Store, receiver: tuple[WebhookReceiver, str], webhook_secret: str
) -> None:
    app, url = receiver
    retry_at = format_datetime(datetime.now(UTC) + timedelta(minutes=10), usegmt=True)
    app.answers.append(Answer(503, headers={"Retry-After": retry_at}))
    app.answers.append(Answer(429, headers={"Retry-After": "30"}))
    ingest(sqlite_store, message("13", 1), message("14", 2), message("15", 3))
    sink = WebhookSink(url, secret=webhook_secret)

    results = await sink.deliver(outbox_events(sqlite_store))
    await sink.close()

    assert [result.outcome for result in results] == [
        DeliveryOutcome.RETRY,
        DeliveryOutcome.RETRY,
        DeliveryOutcome.DEFERRED,
    ]
    assert results[0].retry_after is not None
    assert timedelta(minutes=9) < results[0].retry_after <= timedelta(minutes=10)
    assert not results[0].throttled
    assert results[1].retry_after == timedelta(seconds=30)
    assert results[1].throttled
    assert results[2].retry_after == timedelta(seconds=30)


def test_parse_retry_after() -> None:
    assert parse_retry_after("120", NOW) == timedelta(seconds=120)
    assert parse_retry_after("Sun, 01 Mar 2026 12:01:00 GMT", NOW) == timedelta(minutes=1)
    assert parse_retry_after("Sun, 01 Mar 2026 11:00:00 GMT", NOW) == timedelta(0)
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_schema_file_is_current() -> None:
    published = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert published == webhook_payload_schema()


def test_payloads_match_schema(sqlite_store: Store) -> None:
    first = message("21", 1, attachments=(image(),))
    second = message("21", 2)
    ingest(
        sqlite_store,
        first,
        second,
        edit(first, "Dekontu ekledim"),
        reaction(first, "👍"),
        read(second),
        delete(second),
    )
    events = outbox_events(sqlite_store)

    kinds = [event.kind for event in events]
    assert kinds == [
        "message.created",
        "message.created",
        "event.edit",
        "event.reaction",
        "event.read",
        "event.delete",
    ]
    for event in events:
        payload = WebhookPayload.model_validate(event.document())
        assert payload.type == event.kind
        assert payload.data.event_key == event.event_key
        assert (payload.data.message is None) == (event.kind != "message.created")
    # The deletion erased the stored message content, in the outbox too.
    deleted = WebhookPayload.model_validate(events[1].document())
    assert deleted.data.message is not None
    assert deleted.data.message.deleted
    assert deleted.data.message.text is None


def test_outbox_event_roundtrip(sqlite_store: Store) -> None:
    ingest(sqlite_store, message("22", 1))
    [event] = outbox_events(sqlite_store)
    assert OutboxEvent.model_validate_json(event.model_dump_json()) == event
    assert event.conversation is not None
    assert str(event.conversation) == f"telegram:{event.account_id}:22"


def test_create_sink_from_urls(tmp_path: Path) -> None:
    webhook = create_sink("webhook+https://crm.example/hooks?token=abc", secret=SECRET)
    jsonl = create_sink(f"jsonl://{tmp_path}/out.jsonl", name="pipe")
    chatwoot = create_sink(
        "chatwoot+https://chat.example.com/?account_id=3&inbox_id=9", api_token="t0ken"
    )

    assert isinstance(webhook, WebhookSink)
    assert webhook.name == "webhook"
    assert webhook.describe() == "webhook webhook -> https://crm.example/hooks?token=***"
    assert isinstance(jsonl, JsonlSink)
    assert jsonl.describe() == f"jsonl pipe -> {tmp_path}/out.jsonl"
    assert isinstance(chatwoot, ChatwootSink)
    assert (chatwoot.account_id, chatwoot.inbox_id) == (3, 9)
    assert "t0ken" not in chatwoot.describe()


def test_create_sink_rejects_bad_input() -> None:
    with pytest.raises(ConfigError, match="unknown sink scheme 'smtp'"):
        create_sink("smtp://mail.example")
    with pytest.raises(ConfigError, match="needs a secret"):
        create_sink("webhook+https://crm.example/hooks")
    with pytest.raises(ConfigError, match="numeric inbox_id"):
        create_sink("chatwoot+https://chat.example.com/?account_id=1", api_token="x")
    with pytest.raises(ConfigError, match="already registered"):
        register_sink_factory("webhook", create_sink)


def test_register_sink_factory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "_FACTORIES", {})

    def build(url: str, *, name: str, **options: object) -> JsonlSink:
        return JsonlSink(url.partition(":")[2], name=name)

    register_sink_factory("testpipe", build)
    assert "testpipe" in sink_schemes()
    sink = create_sink("testpipe:-")
    assert isinstance(sink, JsonlSink)
    assert sink.name == "testpipe"
    with pytest.raises(ConfigError, match="already registered"):
        register_sink_factory("testpipe", build)


def test_mask_url_hides_secrets() -> None:
    assert mask_url("https://user:pw@crm.example/x?secret=s&page=2") == (
        "https://user:***@crm.example/x?secret=***&page=2"
    )
