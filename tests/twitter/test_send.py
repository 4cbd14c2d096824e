"""Sending DMs and posts, and account-level failures, through tweepy against the emulator."""

from __future__ import annotations

import pytest

from socialinbox.adapters.base import OutboundMessage
from socialinbox.adapters.twitter.adapter import split_dm_text
from socialinbox.adapters.twitter.transport import DmAccessDenied, TwitterCredentials
from socialinbox.errors import AuthError, PermissionDenied, PlatformError, UsageError
from socialinbox.model import Attachment, AttachmentType, ConversationKey, Direction, Platform
from socialinbox.store import Store
from socialinbox.testing.twitter import Fault, TwitterEmulator
from tests.twitter.support import CONTACT_ID, OWN_ID, AdapterFactory

ONE_TO_ONE = ConversationKey(platform=Platform.X, account_id=OWN_ID, chat_id=f"{CONTACT_ID}-{OWN_ID}")


def outbound(chat_id: str, text: str | None = None, **kwargs: object) -> OutboundMessage:
    conversation = ConversationKey(platform=Platform.X, account_id=OWN_ID, chat_id=chat_id)
    return OutboundMessage(conversation=conversation, text=text, **kwargs)


async def test_send_by_participant_echo_is_outbound(
    emulator: TwitterEmulator, make_adapter: AdapterFactory, sqlite_url: str
) -> None:
    adapter = make_adapter()

    result = await adapter.send(outbound(ONE_TO_ONE.chat_id, "Merhaba, nasılsınız? 👋",
                                         client_ref="ref-1"))

    assert len(result.message_ids) == 1
    assert emulator.sent[0]["route"] == "participant"
    assert emulator.sent[0]["dm_conversation_id"] == ONE_TO_ONE.chat_id
    assert emulator.sent[0]["text"] == "Merhaba, nasılsınız? 👋"
    assert emulator.request_count("POST /2/dm_conversations/with/:participant_id/messages") == 1

    fetched = await adapter.fetch(None)
    echo = fetched.batch.messages[0]
    assert echo.key.message_id == result.message_ids[0]
    assert echo.key.chat_id == ONE_TO_ONE.chat_id
    assert echo.direction is Direction.OUTBOUND
    assert echo.client_ref == "ref-1"
    assert echo.sent_at == result.sent_at

    with Store.open(sqlite_url) as store:
        assert store.ingest(fetched.batch).messages_stored == 1
        assert store.ingest(fetched.batch).duplicates == 1
        assert len(store.list_messages(conversation=ONE_TO_ONE)) == 1


async def test_send_to_group_by_conversation(
    emulator: TwitterEmulator, make_adapter: AdapterFactory
) -> None:
    group_id = emulator.create_group([OWN_ID, CONTACT_ID, "135792468"])
    adapter = make_adapter()

    result = await adapter.send(outbound(group_id, "Grup duyurusu", client_ref="ref-2"))

    assert emulator.sent[-1]["route"] == "conversation"
    assert emulator.sent[-1]["dm_conversation_id"] == group_id
    fetched = await adapter.fetch(None)
    message = fetched.batch.messages[0]
    assert message.key.message_id == result.message_ids[0]
    assert message.is_group is True
    assert message.key.chat_id == group_id


async def test_send_to_foreign_group_is_refused(
    emulator: TwitterEmulator, make_adapter: AdapterFactory
) -> None:
    group_id = emulator.create_group([CONTACT_ID, "135792468"])
    adapter = make_adapter()

    with pytest.raises(PermissionDenied) as raised:
        await adapter.send(outbound(group_id, "hello", client_ref="ref-3"))

    assert not isinstance(raised.value, DmAccessDenied)
    assert raised.value.status == 403
    assert adapter.unavailable_reason is None


async def test_long_text_is_split(emulator: TwitterEmulator, make_adapter: AdapterFactory) -> None:
    text = ("kelime " * 1500) + "son"  # 10,503 characters
    adapter = make_adapter()

    result = await adapter.send(outbound(ONE_TO_ONE.chat_id, text, client_ref="ref-4"))

    assert len(result.message_ids) == 2
    parts = [sent["text"] for sent in emulator.sent]
    assert "".join(parts) == text
    assert all(len(part) <= 10_000 for part in parts)
    assert parts[0].endswith(" ")


def test_split_counts_utf16_units() -> None:
    text = "😀" * 5001  # 10,002 UTF-16 code units, 5,001 code points
    parts = split_dm_text(text)

    assert [len(part) for part in parts] == [5000, 1]
    assert split_dm_text("short") == ["short"]
    assert split_dm_text("a" * 10_000) == ["a" * 10_000]


async def test_send_media_attachment(
    emulator: TwitterEmulator, make_adapter: AdapterFactory
) -> None:
    adapter = make_adapter()
    photo = Attachment(type=AttachmentType.IMAGE, media_id="1455952740635586573")

    result = await adapter.send(
        outbound(ONE_TO_ONE.chat_id, "fotoğraf", attachments=(photo,), client_ref="ref-5")
    )

    assert len(result.message_ids) == 1
    assert emulator.sent[0]["media_ids"] == ["1455952740635586573"]
    assert emulator.sent[0]["text"] == "fotoğraf"
    fetched = await adapter.fetch(None)
    message = fetched.batch.messages[0]
    assert [attachment.media_id for attachment in message.attachments] == [
        "3_1455952740635586573"
    ]


async def test_send_rejects_bad_input(
    emulator: TwitterEmulator, make_adapter: AdapterFactory
) -> None:
    adapter = make_adapter()

    with pytest.raises(UsageError, match="upload the file to X first"):
        await adapter.send(outbound(ONE_TO_ONE.chat_id, "x",
                                    attachments=(Attachment(type=AttachmentType.IMAGE),),
                                    client_ref="ref-6"))
    with pytest.raises(UsageError, match="needs text or an attachment"):
        await adapter.send(outbound(ONE_TO_ONE.chat_id, None, client_ref="ref-7"))
    with pytest.raises(UsageError, match="containing our user id"):
        await adapter.send(outbound("1-2", "x", client_ref="ref-8"))
    assert emulator.requests == []


async def test_send_retries_after_429(
    emulator: TwitterEmulator, make_adapter: AdapterFactory
) -> None:
    emulator.inject(Fault(kind="rate_limit", method="POST", reset_in=0))
    adapter = make_adapter()

    result = await adapter.send(outbound(ONE_TO_ONE.chat_id, "tekrar", client_ref="ref-9"))

    assert len(result.message_ids) == 1
    assert len(emulator.sent) == 1
    assert [request.status for request in emulator.requests] == [429, 201]


async def test_send_is_not_retried_after_server_error(
    emulator: TwitterEmulator, make_adapter: AdapterFactory
) -> None:
    emulator.inject(Fault(kind="error", status=503, method="POST"))
    adapter = make_adapter()

    with pytest.raises(PlatformError, match="server error") as raised:
        await adapter.send(outbound(ONE_TO_ONE.chat_id, "belki", client_ref="ref-10"))

    assert raised.value.transient is True
    assert len(emulator.requests) == 1


async def test_post_counts_weighted_length(
    emulator: TwitterEmulator, make_adapter: AdapterFactory
) -> None:
    adapter = make_adapter()
    cjk = "漢" * 140  # weight 2 each: exactly 280
    url_post = "Duyuru: " + "https://example.com/" + "a" * 300  # the URL counts 23

    first = await adapter.post(cjk)
    second = await adapter.post(url_post)

    assert [post["text"] for post in emulator.posts] == [cjk, url_post]
    assert first.message_ids[0] == emulator.posts[0]["id"]
    assert second.message_ids[0] == emulator.posts[1]["id"]
    with pytest.raises(UsageError, match="weighted length 282"):
        await adapter.post("漢" * 141)
    with pytest.raises(UsageError, match="weighted length 0"):
        await adapter.post("")
    assert emulator.request_count("POST /2/tweets") == 2


@pytest.mark.parametrize("style", ["problem", "v1"])
async def test_tier_without_dm_access_marks_account_unavailable(
    emulator: TwitterEmulator, make_adapter: AdapterFactory, style: str
) -> None:
    other_id = "2900000042"
    emulator.add_account(OWN_ID, "token-denied")
    emulator.add_account(other_id, "token-ok")
    emulator.add_message(sender_id=CONTACT_ID, text="for the other account",
                         recipient_id=other_id)
    emulator.deny_dm_access(OWN_ID, style=style)  # type: ignore[arg-type]
    denied = make_adapter(credentials=TwitterCredentials(bearer_token="token-denied"))
    healthy = make_adapter(account_id=other_id,
                           credentials=TwitterCredentials(bearer_token="token-ok"))

    with pytest.raises(DmAccessDenied) as raised:
        await denied.fetch(None)
    assert raised.value.status == 403
    assert denied.unavailable_reason is not None
    assert "lacks direct messages" in denied.unavailable_reason
    assert ("453" if style == "v1" else "client-not-enrolled") in denied.unavailable_reason

    # Further calls fail at once, without a request.
    requests_before = len(emulator.requests)
    with pytest.raises(DmAccessDenied):
        await denied.fetch(None)
    with pytest.raises(DmAccessDenied):
        await denied.send(outbound(ONE_TO_ONE.chat_id, "x", client_ref="ref-11"))
    assert len(emulator.requests) == requests_before

    result = await healthy.fetch(None)
    assert [m.text for m in result.batch.messages] == ["for the other account"]
    assert result.batch.messages[0].key.account_id == other_id


async def test_unknown_token_is_auth_error(
    emulator: TwitterEmulator, make_adapter: AdapterFactory
) -> None:
    emulator.add_account(OWN_ID, "the-right-token")
    adapter = make_adapter(credentials=TwitterCredentials(bearer_token="a-wrong-token"))

    with pytest.raises(AuthError) as raised:
        await adapter.fetch(None)

    assert raised.value.status == 401
    assert "a-wrong-token" not in str(raised.value)


async def test_oauth1_user_context(
    emulator: TwitterEmulator, make_adapter: AdapterFactory
) -> None:
    emulator.add_account(OWN_ID, "oauth1-access-token")
    emulator.add_message(sender_id=CONTACT_ID, text="imzalı istek")
    credentials = TwitterCredentials(
        consumer_key="consumer-key",
        consumer_secret="consumer-secret",
        access_token="oauth1-access-token",
        access_token_secret="access-secret",
    )
    adapter = make_adapter(credentials=credentials)

    result = await adapter.fetch(None)

    assert [m.text for m in result.batch.messages] == ["imzalı istek"]
    assert emulator.requests[0].user_id == OWN_ID


def test_credentials_validation() -> None:
    with pytest.raises(ValueError, match=r"OAuth 1\.0a needs all of"):
        TwitterCredentials(consumer_key="k")
    with pytest.raises(ValueError, match="bearer_token"):
        TwitterCredentials()
    credentials = TwitterCredentials(bearer_token="very-secret")
    assert "very-secret" not in repr(credentials)
