"""The Bot API emulator at the wire level, through plain HTTP."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from socialinbox.testing.telegram import Limits, TelegramEmulator
from tests.telegram.conftest import GROUP, PERSON, TOKEN

CLIENT = httpx.Client(timeout=10)
"""One client for the module: a new one per request would load the CA bundle each time."""


def call(
    emulator: TelegramEmulator, method: str, token: str = TOKEN, **params: Any
) -> httpx.Response:
    """POST as PTB does: form fields, non-strings as JSON strings."""
    data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    return CLIENT.post(f"{emulator.base_url}/bot{token}/{method}", data=data)


def result(response: httpx.Response) -> Any:
    body = response.json()
    assert body["ok"] is True, body
    return body["result"]


def error(response: httpx.Response) -> tuple[int, str, dict[str, Any] | None]:
    body = response.json()
    assert body["ok"] is False and body["error_code"] == response.status_code
    return response.status_code, body["description"], body.get("parameters")


def test_offset_semantics(emulator: TelegramEmulator) -> None:
    ids = [emulator.add_message(PERSON, f"m{n}")["update_id"] for n in range(5)]
    assert [u["update_id"] for u in result(call(emulator, "getUpdates"))] == ids
    # reading does not confirm
    assert len(result(call(emulator, "getUpdates", limit=2))) == 2
    assert len(emulator.pending_updates) == 5
    # an offset confirms everything below it, on the server
    assert [u["update_id"] for u in result(call(emulator, "getUpdates", offset=ids[2]))] == ids[2:]
    assert [u["update_id"] for u in emulator.pending_updates] == ids[2:]
    assert [u["update_id"] for u in result(call(emulator, "getUpdates", offset=ids[0]))] == ids[2:]
    # a negative offset keeps only the last ones
    assert [u["update_id"] for u in result(call(emulator, "getUpdates", offset=-1))] == ids[-1:]
    assert result(call(emulator, "getUpdates", offset=ids[-1] + 1)) == []
    assert emulator.pending_updates == []


def test_long_polling_waits_and_wakes_up(emulator: TelegramEmulator) -> None:
    started = time.monotonic()
    assert result(call(emulator, "getUpdates", timeout=1)) == []
    assert 0.9 <= time.monotonic() - started < 3
    timer = threading.Timer(0.3, lambda: emulator.add_message(PERSON, "geldi"))
    timer.start()
    started = time.monotonic()
    updates = result(call(emulator, "getUpdates", timeout=5))
    assert [u["message"]["text"] for u in updates] == ["geldi"]
    assert time.monotonic() - started < 3


def test_allowed_updates_persist_and_default(emulator: TelegramEmulator) -> None:
    emulator.add_updates(
        {
            "message_reaction": {
                "chat": {"id": PERSON},
                "message_id": 1,
                "date": 1,
                "new_reaction": [],
            }
        }
    )
    emulator.add_message(PERSON, "metin")
    kinds = [next(k for k in u if k != "update_id") for u in result(call(emulator, "getUpdates"))]
    assert kinds == ["message"]  # reactions only when asked for
    asked = result(call(emulator, "getUpdates", allowed_updates=["message_reaction"]))
    assert [next(k for k in u if k != "update_id") for u in asked] == ["message_reaction"]
    kept = result(call(emulator, "getUpdates"))  # the setting stays
    assert [next(k for k in u if k != "update_id") for u in kept] == ["message_reaction"]


def test_request_encodings(emulator: TelegramEmulator) -> None:
    url = f"{emulator.base_url}/bot{TOKEN}/sendMessage"
    as_json = CLIENT.post(url, json={"chat_id": PERSON, "text": "json gövde"})
    assert result(as_json)["text"] == "json gövde"
    as_query = CLIENT.get(url, params={"chat_id": str(PERSON), "text": "123"})
    assert result(as_query)["text"] == "123"  # text stays a string
    photo = CLIENT.post(
        f"{emulator.base_url}/bot{TOKEN}/sendPhoto",
        data={"chat_id": str(PERSON), "caption": "çok parçalı"},
        files={"photo": ("a.jpg", b"\xff\xd8\xff", "image/jpeg")},
    )
    message = result(photo)
    assert message["caption"] == "çok parçalı"
    sent = emulator.sent[-1]
    assert sent.files == {"photo": b"\xff\xd8\xff"}
    file_id = message["photo"][-1]["file_id"]
    info = result(call(emulator, "getFile", file_id=file_id))
    download = CLIENT.get(f"{emulator.file_base_url}{TOKEN}/{info['file_path']}")
    assert download.content == b"\xff\xd8\xff"


def test_envelope_errors(emulator: TelegramEmulator) -> None:
    assert error(call(emulator, "getMe", token="1:wrong")) == (401, "Unauthorized", None)
    assert error(call(emulator, "noSuchMethod"))[:2] == (404, "Not Found")
    assert result(call(emulator, "GETME"))["id"] == 123456789  # method names ignore case
    assert (
        error(call(emulator, "sendMessage", chat_id=1, text="x"))[1]
        == "Bad Request: chat not found"
    )
    assert error(call(emulator, "sendMessage", chat_id=PERSON, text="  "))[1] == (
        "Bad Request: message text is empty"
    )
    assert error(call(emulator, "sendMessage", chat_id=PERSON, text="😀" * 2049))[1] == (
        "Bad Request: message is too long"
    )
    assert result(call(emulator, "sendMessage", chat_id=PERSON, text="😀" * 2048))
    assert error(call(emulator, "sendMessage", chat_id=PERSON, text="<b>x", parse_mode="HTML"))[
        1
    ].startswith("Bad Request: can't parse entities")
    reply = error(
        call(
            emulator, "sendMessage", chat_id=PERSON, text="x", reply_parameters={"message_id": 999}
        )
    )
    assert reply[1] == "Bad Request: message to be replied not found"
    assert error(call(emulator, "sendPhoto", chat_id=PERSON, photo="nope"))[0] == 400
    long_caption = call(
        emulator, "sendPhoto", chat_id=PERSON, photo="https://e.com/p.jpg", caption="c" * 1025
    )
    assert error(long_caption)[1] == "Bad Request: message caption is too long"
    assert result(call(emulator, "setWebhook", url="https://example.com/hook")) is True
    assert error(call(emulator, "getUpdates"))[0] == 409
    assert result(call(emulator, "deleteWebhook")) is True
    assert result(call(emulator, "getUpdates")) == []


def test_blocked_and_migrated_chats(emulator: TelegramEmulator) -> None:
    emulator.add_updates(
        json.loads(
            (
                Path(__file__).resolve().parents[2].parent
                / "shared"
                / "corpus"
                / "telegram"
                / "my_chat_member_bot_kicked_by_user.json"
            ).read_text("utf-8")
        )
    )
    assert error(call(emulator, "sendMessage", chat_id=111111, text="x")) == (
        403,
        "Forbidden: bot was blocked by the user",
        None,
    )
    emulator.migrate(GROUP, -1007777)
    status, description, parameters = error(call(emulator, "sendMessage", chat_id=GROUP, text="x"))
    assert (status, parameters) == (400, {"migrate_to_chat_id": -1007777})
    assert "upgraded to a supergroup" in description


def test_flood_limits() -> None:
    now = [1000.0]
    with TelegramEmulator(
        TOKEN, limits=Limits(), strict_chats=False, clock=lambda: now[0]
    ) as server:
        assert result(call(server, "sendMessage", chat_id=1, text="a"))
        status, description, parameters = error(call(server, "sendMessage", chat_id=1, text="b"))
        assert (status, parameters) == (429, {"retry_after": 1})
        assert description == "Too Many Requests: retry after 1"
        now[0] += 1.0
        assert call(server, "sendMessage", chat_id=1, text="b").status_code == 200
        for chat in range(2, 31):  # 30 per second overall
            assert call(server, "sendMessage", chat_id=chat, text="x").status_code == 200
        assert error(call(server, "sendMessage", chat_id=99, text="x"))[0] == 429
        now[0] += 1.0
        assert call(server, "sendMessage", chat_id=99, text="x").status_code == 200
    many = Limits(per_chat_per_second=100, overall_per_second=1000, per_group_per_minute=20)
    with TelegramEmulator(TOKEN, limits=many, clock=lambda: now[0]) as server:
        server.add_chat(GROUP, type="supergroup", title="g")
        for second in range(20):
            now[0] += 2.0
            assert call(server, "sendMessage", chat_id=GROUP, text="x").status_code == 200, second
        status, _, parameters = error(call(server, "sendMessage", chat_id=GROUP, text="x"))
        assert (status, parameters) == (429, {"retry_after": 22})  # the oldest of 20 leaves in 22s
    with TelegramEmulator(TOKEN, limits=False, strict_chats=False) as server:
        for _ in range(40):
            assert call(server, "sendMessage", chat_id=5, text="x").status_code == 200


@pytest.mark.parametrize(
    ("kind", "options", "status"),
    [
        ("rate_limit", {"retry_after": 7}, 429),
        ("server_error", {"status": 502}, 502),
        ("unauthorized", {}, 401),
        ("forbidden", {}, 403),
        ("migrated", {"migrate_to_chat_id": -100555}, 400),
        ("bad_request", {"description": "Bad Request: özel"}, 400),
        ("conflict", {}, 409),
    ],
)
def test_fault_injection(
    emulator: TelegramEmulator, kind: Any, options: dict[str, Any], status: int
) -> None:
    emulator.inject(kind, method="getMe", **options)
    assert call(emulator, "getUpdates").status_code == 200  # other methods are untouched
    response = call(emulator, "getMe")
    assert response.status_code == status
    assert call(emulator, "getMe").status_code == 200  # once by default
    if kind == "rate_limit":
        assert response.json()["parameters"] == {"retry_after": 7}
    if kind == "migrated":
        assert response.json()["parameters"] == {"migrate_to_chat_id": -100555}


def test_malformed_and_slow_faults(emulator: TelegramEmulator) -> None:
    emulator.inject("malformed", times=2)
    for _ in range(2):
        response = call(emulator, "getMe")
        assert response.status_code == 200
        with pytest.raises(ValueError):
            response.json()
    emulator.inject("timeout", delay=0.5)
    started = time.monotonic()
    assert call(emulator, "getMe").status_code == 200
    assert time.monotonic() - started >= 0.45
    emulator.inject("server_error", times=5)
    emulator.clear_faults()
    assert call(emulator, "getMe").status_code == 200


def test_loading_corpus_files_and_ids(emulator: TelegramEmulator, corpus: Path) -> None:
    folder = corpus / "telegram"
    ids = emulator.add_updates(
        folder / "webhook_dumps_supergroup_text_voice_photos_document_album.jsonl",
        folder / "getupdates_update_with_unparseable_message.json",
        {"message_id": 5, "date": 1, "chat": {"id": PERSON, "type": "private"}, "text": "bare"},
    )
    assert ids[:6] == list(range(449012333, 449012339))
    assert ids[6] == 1  # "1" (a string) is delivered as it is, ordered as 1
    assert emulator.pending_updates[0]["update_id"] == "1"
    assert ids[7] == 449012339
    with pytest.raises(ValueError):
        emulator.add_updates({"neither": "update nor message"})
