"""The Chatwoot emulator, the chatwoot sink against it, and the webhook loop guard.

Fixture notes: the routes, bodies, status codes, the plain-text 429 and the
webhook payload follow Chatwoot's source (chatwoot/chatwoot: the contacts,
conversations and messages controllers, ``message_builder.rb``,
``request_exception_handler.rb``, ``webhook_listener.rb``, ``lib/webhooks/trigger.rb``)
and rack-attack's default throttled responder (rack/rack-attack:
``lib/rack/attack/configuration.rb``). The contact_updated payload in the
corpus comes from LSoledade/NextCRM ``test-chatwoot-real-payload.ps1``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from socialinbox.crm.base import DeliveryOutcome
from socialinbox.crm.chatwoot import (
    ChatwootSink,
    LedgerEntry,
    contact_identifier,
    parse_chatwoot_webhook,
    verify_chatwoot_signature,
)
from socialinbox.crm.webhook import WebhookVerificationError
from socialinbox.model import ConversationKey, Direction, Platform
from socialinbox.store import Store
from socialinbox.testing._server import BackgroundServer
from socialinbox.testing.chatwoot import ChatwootEmulator
from tests.crm.support import (
    ACCOUNT,
    delete,
    edit,
    image,
    ingest,
    message,
    outbox_events,
    reaction,
    read,
)


def api(emulator: ChatwootEmulator, token: str | None = None) -> httpx.Client:
    headers = {"api_access_token": token or emulator.api_token}
    return httpx.Client(
        base_url=f"{emulator.base_url}/api/v1/accounts/{emulator.account_id}", headers=headers
    )


def sink_for(emulator: ChatwootEmulator, **options: Any) -> ChatwootSink:
    options.setdefault("throttle_backoff", 0.01)
    return ChatwootSink(
        emulator.base_url,
        account_id=emulator.account_id,
        inbox_id=emulator.inbox_id,
        api_token=emulator.api_token,
        **options,
    )


# -- the emulator -----------------------------------------------------------------------


def test_emulator_authentication(chatwoot: ChatwootEmulator) -> None:
    base = f"{chatwoot.base_url}/api/v1/accounts/{chatwoot.account_id}/contacts/search?q=a"
    missing = httpx.get(base)
    wrong = httpx.get(base, headers={"api_access_token": "nope"})
    hyphen = httpx.get(base, headers={"api-access-token": chatwoot.api_token})
    other_account = httpx.get(
        base.replace("/accounts/1/", "/accounts/2/"),
        headers={"api_access_token": chatwoot.api_token},
    )

    assert missing.status_code == 401
    assert missing.json() == {"errors": ["You need to sign in or sign up before continuing."]}
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "Invalid Access Token"}
    assert hyphen.status_code == 200
    assert other_account.json() == {"error": "You are not authorized to access this account"}


def test_emulator_contacts(chatwoot: ChatwootEmulator) -> None:
    with api(chatwoot) as client:
        created = client.post(
            "/contacts",
            json={
                "inbox_id": chatwoot.inbox_id,
                "name": "Ayşe",
                "identifier": "x:1:12",
                "source_id": "x:1:12",
            },
        )
        duplicate = client.post("/contacts", json={"name": "Ayşe 2", "identifier": "x:1:12"})
        bad_phone = client.post("/contacts", json={"name": "B", "phone_number": "0555"})
        client.post("/contacts", json={"name": "Other", "identifier": "x:1:123"})
        for number in range(20):
            client.post("/contacts", json={"name": f"Kişi {number}", "identifier": f"tg:{number}"})
        search = client.get("/contacts/search", params={"q": "x:1:12"})
        page_one = client.get("/contacts/search", params={"q": "Kişi"})
        page_two = client.get("/contacts/search", params={"q": "kişi", "page": 2})
        blank = client.get("/contacts/search", params={"q": ""})
        missing = client.get("/contacts/999")

    assert created.status_code == 200
    payload = created.json()["payload"]
    assert payload["contact"]["identifier"] == "x:1:12"
    assert payload["contact_inbox"]["source_id"] == "x:1:12"
    assert duplicate.status_code == 422
    assert duplicate.json() == {
        "message": "Identifier has already been taken",
        "attributes": ["identifier"],
    }
    assert bad_phone.json()["attributes"] == ["phone_number"]
    assert [item["identifier"] for item in search.json()["payload"]] == ["x:1:12", "x:1:123"]
    assert page_one.json()["meta"] == {"count": 15, "current_page": 1, "has_more": True}
    assert page_two.json()["meta"] == {"count": 5, "current_page": 2, "has_more": False}
    assert blank.json() == {"error": "Specify search string with parameter q"}
    assert missing.status_code == 404
    assert missing.json() == {"error": "Resource could not be found"}


def test_emulator_messages_are_not_deduplicated(chatwoot: ChatwootEmulator) -> None:
    web_inbox = chatwoot.add_inbox("site", channel_type="Channel::WebWidget")
    with api(chatwoot) as client:
        contact = client.post("/contacts", json={"name": "C", "identifier": "c"}).json()
        contact_id = contact["payload"]["contact"]["id"]
        conversation = client.post(
            "/conversations",
            json={"source_id": "c", "inbox_id": chatwoot.inbox_id, "contact_id": contact_id},
        ).json()
        other = client.post(
            "/conversations",
            json={"source_id": "c-web", "inbox_id": web_inbox, "contact_id": contact_id},
        ).json()
        path = f"/conversations/{conversation['id']}/messages"
        body = {"content": "Merhaba", "message_type": "incoming", "source_id": "m-1"}
        first = client.post(path, json=body)
        second = client.post(path, json=body)
        refused = client.post(f"/conversations/{other['id']}/messages", json=body)
        multipart = client.post(
            path,
            data={"content": "Ekran görüntüsü", "message_type": "outgoing", "private": "false"},
            files=[("attachments[]", ("crash.png", b"\x89PNG...", "image/png"))],
        )
        for number in range(25):
            client.post(path, json={"content": f"n{number}", "message_type": "outgoing"})
        latest = client.get(path).json()["payload"]
        older = client.get(path, params={"before": latest[0]["id"]}).json()["payload"]
        newer = client.get(path, params={"after": first.json()["id"]}).json()["payload"]

    assert (conversation["id"], other["id"]) == (1, 2)
    assert first.json()["message_type"] == 0
    assert second.json()["id"] != first.json()["id"]
    assert [item["source_id"] for item in chatwoot.messages()].count("m-1") == 2
    assert refused.status_code == 422
    assert refused.json() == {"error": "Incoming messages are only allowed in Api inboxes"}
    assert multipart.json()["message_type"] == 1
    assert multipart.json()["attachments"][0]["file_name"] == "crash.png"
    assert len(latest) == 20
    assert latest[-1]["content"] == "n24"
    assert [item["content"] for item in older] == [
        "Merhaba",
        "Merhaba",
        "Ekran görüntüsü",
        "n0",
        "n1",
        "n2",
        "n3",
        "n4",
    ]
    assert len(newer) == 27


def test_emulator_throttle_and_flood_limit(chatwoot: ChatwootEmulator) -> None:
    chatwoot.messages_per_minute = 2
    with api(chatwoot) as client:
        contact = client.post("/contacts", json={"name": "F", "identifier": "f"}).json()
        conversation = client.post(
            "/conversations",
            json={
                "source_id": "f",
                "inbox_id": chatwoot.inbox_id,
                "contact_id": contact["payload"]["contact"]["id"],
            },
        ).json()
        chatwoot.throttle()
        throttled = client.get("/contacts/search", params={"q": "f"})
        path = f"/conversations/{conversation['id']}/messages"
        answers = [client.post(path, json={"content": str(n)}) for n in range(3)]

    assert throttled.status_code == 429
    assert throttled.headers["content-type"].startswith("text/plain")
    assert throttled.text == "Retry later\n"
    assert "retry-after" not in throttled.headers
    assert [answer.status_code for answer in answers] == [200, 200, 422]
    assert answers[2].json() == {"error": "Validation failed: Too many messages"}


# -- the sink ---------------------------------------------------------------------------


async def test_sink_creates_contact_and_conversation(
    sqlite_store: Store, chatwoot: ChatwootEmulator
) -> None:
    ingest(
        sqlite_store,
        message("31", 1),
        message("31", 2, "Kimliğinizi doğruladık", direction=Direction.OUTBOUND),
        message("31", 3, "", attachments=(image(),)),
        message("32", 4, "Para yatırdım ama bakiye görünmüyor"),
    )
    events = outbox_events(sqlite_store)
    sink = sink_for(chatwoot)

    results = await sink.deliver(events)
    await sink.close()

    assert all(result.ok for result in results)
    contacts = {contact["identifier"]: contact for contact in chatwoot.contacts()}
    assert sorted(contacts) == [f"telegram:{ACCOUNT}:31", f"telegram:{ACCOUNT}:32"]
    assert contacts[f"telegram:{ACCOUNT}:31"]["name"] == "Müşteri 31"
    assert chatwoot.contact_inbox_sources() == {
        identifier: contact["id"] for identifier, contact in contacts.items()
    }
    conversations = chatwoot.conversations()
    assert len(conversations) == 2
    stored = chatwoot.messages(conversations[0]["id"])
    assert [item["message_type"] for item in stored] == [0, 1, 0]
    assert [item["content"] for item in stored] == [
        "Merhaba, çekim talebim 1 ne durumda?",
        "Kimliğinizi doğruladık",
        "[image] dekont.jpg",
    ]
    assert stored[2]["content_attributes"]["socialinbox"]["attachments"][0]["media_id"] == "AgAD-1"
    assert results[0].remote_id == f"conversation/1/message/{stored[0]['id']}"


async def test_sink_matches_identifier_exactly(
    sqlite_store: Store, chatwoot: ChatwootEmulator
) -> None:
    with api(chatwoot) as client:
        for chat in ("3123", "31234"):
            client.post(
                "/contacts", json={"name": chat, "identifier": f"telegram:{ACCOUNT}:{chat}"}
            )
    ingest(sqlite_store, message("312", 1))
    sink = sink_for(chatwoot)

    [result] = await sink.deliver(outbox_events(sqlite_store))
    await sink.close()

    assert result.ok
    identifiers = sorted(contact["identifier"] for contact in chatwoot.contacts())
    assert identifiers == [f"telegram:{ACCOUNT}:{chat}" for chat in ("312", "3123", "31234")]


async def test_sink_reuses_existing_conversation(
    sqlite_store: Store, chatwoot: ChatwootEmulator
) -> None:
    ingest(sqlite_store, message("33", 1), message("33", 2))
    first, second = outbox_events(sqlite_store)
    await (sink := sink_for(chatwoot)).deliver([first])
    await sink.close()

    # A new process finds the contact and its conversation again.
    fresh = sink_for(chatwoot)
    [result] = await fresh.deliver([second])
    await fresh.close()

    assert result.ok
    assert len(chatwoot.contacts()) == 1
    assert len(chatwoot.conversations()) == 1
    assert len(chatwoot.messages()) == 2


async def test_sink_notes_for_events(sqlite_store: Store, chatwoot: ChatwootEmulator) -> None:
    first = message("34", 1)
    ingest(
        sqlite_store,
        first,
        edit(first, "Çekim talebim iptal edildi mi?"),
        reaction(first, "🙏"),
        read(first),
    )
    sink = sink_for(chatwoot, language="tr")
    results = await sink.deliver(outbox_events(sqlite_store))
    # A deletion erases the text of earlier edits, in undelivered outbox rows too.
    second = message("34", 2)
    ingest(sqlite_store, second, edit(second, "yanlış yazdım"), delete(second))
    later = await sink.deliver(outbox_events(sqlite_store)[4:])
    await sink.close()

    assert all(result.ok for result in results + later)
    assert results[3].remote_id is None
    notes = [item for item in chatwoot.messages() if item["private"]]
    assert [note["content"] for note in notes] == [
        "1 numaralı mesaj düzenlendi. Yeni metin: Çekim talebim iptal edildi mi?",
        "34, 1 numaralı mesaja 🙏 tepkisi verdi.",
        "2 numaralı mesaj düzenlendi; metni silindiği için saklanmadı.",
        "2 numaralı mesaj gönderen tarafından silindi.",
    ]
    public = [item["content"] for item in chatwoot.messages() if not item["private"]]
    assert public == ["Merhaba, çekim talebim 1 ne durumda?", "(silinmiş mesaj)"]


async def test_sink_backs_off_on_plain_429(sqlite_store: Store, chatwoot: ChatwootEmulator) -> None:
    ingest(sqlite_store, message("35", 1), message("36", 2), message("37", 3))
    events = outbox_events(sqlite_store)
    sink = sink_for(chatwoot, throttle_retries=2, throttle_window=timedelta(seconds=90))

    chatwoot.throttle(2)
    recovered = await sink.deliver(events[:1])
    chatwoot.throttle(3)
    throttled = await sink.deliver(events[1:])
    await sink.close()

    assert recovered[0].ok
    assert [result.outcome for result in throttled] == [
        DeliveryOutcome.RETRY,
        DeliveryOutcome.DEFERRED,
    ]
    assert throttled[0].throttled
    assert throttled[0].retry_after == timedelta(seconds=90)
    assert throttled[1].retry_after == timedelta(seconds=90)
    assert [status for _, _, status in chatwoot.request_log].count(429) == 5
    assert len(chatwoot.messages()) == 1


async def test_sink_maps_chatwoot_errors(sqlite_store: Store, chatwoot: ChatwootEmulator) -> None:
    chatwoot.messages_per_minute = 1
    ingest(sqlite_store, message("38", 1), message("38", 2))
    first, second = outbox_events(sqlite_store)
    sink = sink_for(chatwoot)
    await sink.deliver([first])

    [flooded] = await sink.deliver([second])
    chatwoot.messages_per_minute = 200
    chatwoot.fail_next(1, status=404, method="POST", path_contains="/messages")
    [missing] = await sink.deliver([second])
    [retried] = await sink.deliver([second])
    await sink.close()

    assert flooded.outcome is DeliveryOutcome.RETRY
    assert flooded.retry_after == timedelta(minutes=1)
    assert flooded.error is not None
    assert "Too many messages" in flooded.error
    assert missing.outcome is DeliveryOutcome.RETRY
    assert retried.ok
    assert len(chatwoot.messages()) == 2

    bad_token = ChatwootSink(
        chatwoot.base_url, account_id=1, inbox_id=chatwoot.inbox_id, api_token="wrong"
    )
    [refused] = await bad_token.deliver([second])
    await bad_token.close()
    assert refused.outcome is DeliveryOutcome.RETRY
    assert refused.error is not None
    assert "Invalid Access Token" in refused.error
    assert "check the sink's api_token" in refused.error


def test_ledger_entry_encoding() -> None:
    assert LedgerEntry(4).encode() == "conversation/4/posting"
    assert LedgerEntry.decode("conversation/4/message/17") == LedgerEntry(4, 17)
    assert LedgerEntry.decode("conversation/x/posting") is None
    assert LedgerEntry.decode(None) is None


# -- the loop guard -----------------------------------------------------------------------


class Collector:
    """Receives Chatwoot webhooks, keeping each body and its headers."""

    def __init__(self) -> None:
        self.bodies: list[tuple[dict[str, str], bytes]] = []
        self.arrived = threading.Condition()
        self.app = Starlette(routes=[Route("/chatwoot", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        with self.arrived:
            self.bodies.append((dict(request.headers), body))
            self.arrived.notify_all()
        return JSONResponse({})

    def wait_for(self, count: int) -> None:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.bodies) >= count, timeout=10)


@pytest.fixture
def collector() -> Iterator[tuple[Collector, str]]:
    app = Collector()
    with BackgroundServer(app.app, name="chatwoot-webhooks") as server:
        yield app, f"{server.base_url}/chatwoot"


async def test_loop_guard_passes_only_agent_replies(
    sqlite_store: Store, chatwoot: ChatwootEmulator, collector: tuple[Collector, str]
) -> None:
    app, url = collector
    chatwoot.set_webhook_url(url)
    chatwoot.webhook_secret = "chatwoot-inbox-secret"
    first = message("41", 1)
    ingest(
        sqlite_store,
        first,
        message("41", 2, "Belgeleriniz inceleniyor", direction=Direction.OUTBOUND),
        edit(first, "Merhaba, çekim talebim ne oldu?"),
    )
    sink = sink_for(chatwoot)
    assert all(result.ok for result in await sink.deliver(outbox_events(sqlite_store)))
    await sink.close()
    conversation_id = chatwoot.conversations()[0]["id"]
    with api(chatwoot) as client:
        path = f"/conversations/{conversation_id}/messages"
        client.post(path, json={"content": "Talebiniz onaylandı.", "message_type": "outgoing"})
        client.post(path, json={"content": "iç not", "private": True})

    app.wait_for(5)
    parsed = []
    for headers, body in app.bodies:
        verify_chatwoot_signature("chatwoot-inbox-secret", headers, body)
        parsed.append(parse_chatwoot_webhook(json.loads(body)))

    assert [event.message_type for event in parsed] == [
        "incoming",
        "outgoing",
        "outgoing",
        "outgoing",
        "outgoing",
    ]
    assert [event.created_by_socialinbox for event in parsed] == [True, True, True, False, False]
    replies = [event for event in parsed if event.is_agent_reply]
    assert [reply.content for reply in replies] == ["Talebiniz onaylandı."]
    assert replies[0].conversation == ConversationKey(
        platform=Platform.TELEGRAM, account_id=ACCOUNT, chat_id="41"
    )
    assert replies[0].chatwoot_conversation_id == conversation_id
    assert chatwoot.webhook_failures == 0
    with pytest.raises(WebhookVerificationError):
        verify_chatwoot_signature("other-secret", app.bodies[0][0], app.bodies[0][1])


def test_corpus_contact_updated_is_not_a_reply(corpus: Path) -> None:
    path = corpus / "crm" / "chatwoot_contact_updated_whatsapp_name_change.json"
    event = parse_chatwoot_webhook(json.loads(path.read_text(encoding="utf-8")))

    assert event.event == "contact_updated"
    assert not event.is_agent_reply
    assert not event.created_by_socialinbox
    assert event.contact_id == 2
    assert event.contact_name == "Ivo 🛼"
    assert event.contact_identifier == "5511900000000@s.whatsapp.net"
    assert event.changed_attributes == ("name", "updated_at")
    assert event.message_id is None
    # A WhatsApp identifier is not one of ours, so it maps to no conversation.
    assert event.conversation is None


def test_parse_webhook_tolerates_odd_shapes() -> None:
    assert parse_chatwoot_webhook({}).event == ""
    typing = parse_chatwoot_webhook({"event": "conversation_typing_on", "id": "x"})
    assert typing.chatwoot_conversation_id is None
    assert not typing.is_agent_reply
    odd = parse_chatwoot_webhook(
        {
            "event": "message_created",
            "message_type": 1,
            "conversation": "42",
            "sender": None,
            "inbox": [],
            "content": {"text": "not a string"},
            "private": "yes",
        }
    )
    assert odd.is_agent_reply
    assert odd.conversation is None
    assert odd.content is None
    assert odd.chatwoot_conversation_id is None
    key = ConversationKey(platform=Platform.X, account_id="9", chat_id="1-9")
    assert contact_identifier(key) == "x:9:1-9"
