"""Rules: validation errors with rule and line, matching table, and applying them at ingest."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from socialinbox.config import AccountConfig
from socialinbox.daemon.factory import build_adapter
from socialinbox.model import (
    Batch,
    Contact,
    ContactStatus,
    ContactStatusEvent,
    Direction,
    Message,
    MessageKey,
    Platform,
    utc_now,
)
from socialinbox.moderation import tables as mod
from socialinbox.moderation.rules import (
    Facts,
    RulesError,
    apply_rules,
    evaluate,
    example_rules_path,
    load_rules,
    parse_rules,
    run_rules_after_ingest,
)
from socialinbox.moderation.templates import TemplateLibrary
from socialinbox.store import AsyncStore, Store
from socialinbox.testing.telegram import TelegramEmulator

TOKEN = "7000000001:DEMO-socialinbox-emulator-token"
ACCOUNT = "7000000001"

RULES = """
[settings]
auto_reply_period = "24h"
auto_reply_max_age = "1h"

[[rules]]
name = "cekim"
language = "tr"
[rules.match]
keywords = ["çekim", "para çekme"]
exclude = ["iptal"]
[rules.actions]
tag = ["para-cekme"]
priority = 2
assign = "queue:finans"

[[rules]]
name = "ilk"
[rules.match]
first_message = true
[rules.actions]
auto_reply = "karsilama"

[[rules]]
name = "kapatma"
[rules.match]
phrases = ["hesabımı kapatacağım"]
platforms = ["telegram"]
[rules.actions]
escalate = true
escalate_to = "queue:kidemli"

[[rules]]
name = "reklam"
[rules.match]
regex = ['(?i)bit\\.ly/']
[rules.actions]
spam = true

[[rules]]
name = "vip"
[rules.match]
contact_tags = ["vip"]
languages = ["en"]
[rules.actions]
hide = true
"""


@pytest.fixture(scope="module")
def ruleset():  # type: ignore[no-untyped-def]
    return parse_rules(RULES, source="rules.toml", templates=TemplateLibrary())


@pytest.mark.parametrize(
    ("text", "facts", "expected"),
    [
        ("PARA ÇEKİM talebim", {}, ["cekim"]),
        ("para cekimim nerede", {}, ["cekim"]),
        ("ÇEKİM iptal edildi", {}, []),
        ("Merhaba", {"first_message": True}, ["ilk"]),
        ("Merhaba", {"first_message": False}, []),
        ("HESABIMI KAPATACAĞIM", {"platform": Platform.TELEGRAM}, ["kapatma"]),
        ("HESABIMI KAPATACAĞIM", {"platform": Platform.X}, []),
        ("hesabımı kapatacağımdır", {"platform": Platform.TELEGRAM}, []),
        ("kazan: BIT.LY/abc", {}, ["reklam"]),
        ("Where is my money", {"contact_tags": frozenset({"vip"})}, ["vip"]),
        ("Param nerede", {"contact_tags": frozenset({"vip"})}, []),
    ],
)
def test_evaluate_table(ruleset, text: str, facts: dict[str, object], expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    matches = evaluate(ruleset, Facts(text=text, **facts))  # type: ignore[arg-type]

    assert [found.rule.name for found in matches] == expected


def test_reasons_name_the_keyword(ruleset) -> None:  # type: ignore[no-untyped-def]
    [found] = evaluate(ruleset, Facts(text="ÇEKİM"))

    assert [(reason.kind, reason.value) for reason in found.reasons] == [("keyword", "çekim")]


def test_example_rules_file_is_valid() -> None:
    ruleset = load_rules(example_rules_path(), templates=TemplateLibrary())

    assert len(ruleset.rules) >= 5


def test_toml_error_names_rule_and_line() -> None:
    text = '[[rules]]\nname = "ok"\n[rules.match]\nkeywords = ["a"]\n[rules.actions]\ntag = ["a"]\n\n[[rules]]\nname = "bozuk"\n[rules.match]\nregex = ["("]\n[rules.actions]\ntag = ["b"]\n'

    with pytest.raises(RulesError) as raised:
        parse_rules(text, source="kurallar.toml")

    assert "kurallar.toml:11: rule 'bozuk', match.regex" in str(raised.value)
    assert "invalid regular expression" in str(raised.value)


def test_yaml_error_names_rule_and_line() -> None:
    text = (
        "rules:\n  - name: a\n    match:\n      keywords: [x]\n    actions:\n      priority: 12\n"
    )

    with pytest.raises(RulesError) as raised:
        parse_rules(text, source="kurallar.yaml")

    assert "kurallar.yaml:6: rule 'a', actions.priority" in str(raised.value)


def test_unknown_template_is_an_error() -> None:
    text = '[[rules]]\nname = "x"\n[rules.match]\nkeywords = ["a"]\n[rules.actions]\nauto_reply = "yok"\n'

    with pytest.raises(RulesError, match=r"r.toml:6: rule 'x': auto_reply template yok not found"):
        parse_rules(text, source="r.toml", templates=TemplateLibrary())


def test_rule_without_condition_is_an_error() -> None:
    with pytest.raises(RulesError, match=r"rule 'bos'.*no condition"):
        parse_rules(
            '[[rules]]\nname = "bos"\n[rules.match]\n[rules.actions]\ntag = ["a"]\n',
            source="r.toml",
        )


def _inbound(
    message_id: str, text: str, *, chat: str = "501", age: timedelta = timedelta()
) -> Message:
    now = utc_now()
    return Message(
        key=MessageKey(
            platform=Platform.TELEGRAM, account_id=ACCOUNT, chat_id=chat, message_id=message_id
        ),
        direction=Direction.INBOUND,
        text=text,
        sent_at=now - age,
        received_at=now,
        sender=Contact(
            platform=Platform.TELEGRAM, user_id=chat, display_name="Ayşe Yılmaz", language_code="tr"
        ),
    )


@pytest.fixture
def telegram() -> Iterator[TelegramEmulator]:
    emulator = TelegramEmulator(TOKEN, username="destek_bot", first_name="Destek")
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


async def test_rules_at_ingest_tag_and_auto_reply_once(
    ruleset, telegram: TelegramEmulator, sqlite_url: str
) -> None:  # type: ignore[no-untyped-def]
    telegram.add_chat(501, type="private", first_name="Ayşe")
    async_store = AsyncStore(Store.open(sqlite_url))
    adapter = build_adapter(
        AccountConfig(
            name="t", platform=Platform.TELEGRAM, token=TOKEN, base_url=telegram.base_url
        ),
        async_store,
    )
    try:
        first = await async_store.ingest(
            Batch(items=(_inbound("1", "Para çekim talebim bekliyor"),))
        )
        outcomes = await run_rules_after_ingest(async_store, adapter, first.stored, ruleset)
        again = await run_rules_after_ingest(async_store, adapter, first.stored, ruleset)
        second = await async_store.ingest(Batch(items=(_inbound("2", "Merhaba?"),)))
        later = await run_rules_after_ingest(async_store, adapter, second.stored, ruleset)
        conversation = await async_store.get_conversation(first.stored[0].conversation)
        sends = async_store.sync.list_sends()
    finally:
        await adapter.close()
        await async_store.close()

    expected = TemplateLibrary().get("karsilama").render("tr", {"first_name": "Ayşe"})
    assert [found.rule.name for found in outcomes[0].matches] == ["cekim", "ilk"]
    assert [message.source for message in telegram.sent] == [expected]
    assert [(send.status, send.author) for send in sends] == [("sent", "rule:ilk")]
    assert again[0].reply is None
    assert later[0].matches == []
    assert conversation is not None
    assert conversation.tags == ("para-cekme",)
    assert conversation.priority == 2
    assert conversation.assignee == "queue:finans"


def test_auto_reply_period_allows_one_per_conversation(ruleset, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    store = Store.open(sqlite_url)
    first = store.ingest(Batch(items=(_inbound("1", "Merhaba"),)))
    # A second conversation's first message and a later message in the first.
    other = store.ingest(Batch(items=(_inbound("9", "Selam", chat="502"),)))

    replies = apply_rules(store, first.stored, ruleset)
    with store.engine.begin() as connection:
        connection.execute(mod.rule_firings.delete())
    repeated = apply_rules(store, first.stored, ruleset)
    elsewhere = apply_rules(store, other.stored, ruleset)
    store.close()

    assert replies[0].reply is not None
    assert repeated[0].reply is None
    assert (
        repeated[0].reply_skipped is not None and "within the period" in repeated[0].reply_skipped
    )
    assert elsewhere[0].reply is not None


def test_no_auto_reply_for_history_or_blocked(ruleset, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    store = Store.open(sqlite_url)
    old = store.ingest(Batch(items=(_inbound("1", "Merhaba", age=timedelta(days=3)),)))
    now = utc_now()
    store.ingest(
        Batch(
            items=(
                ContactStatusEvent(
                    occurred_at=now,
                    received_at=now,
                    account_id=ACCOUNT,
                    contact=Contact(platform=Platform.TELEGRAM, user_id="502"),
                    status=ContactStatus.BLOCKED_US,
                ),
            )
        )
    )
    blocked = store.ingest(Batch(items=(_inbound("2", "Merhaba", chat="502"),)))

    history = apply_rules(store, old.stored, ruleset)
    refused = apply_rules(store, blocked.stored, ruleset)
    imported = apply_rules(
        store,
        store.ingest(Batch(items=(_inbound("3", "Selam", chat="503"),))).stored,
        ruleset,
        auto_reply=False,
    )
    with store.engine.connect() as connection:
        pending = connection.execute(sa.text("select count(*) from sends")).scalar_one()
    store.close()

    assert history[0].reply is None and "history" in (history[0].reply_skipped or "")
    assert refused[0].reply is None and "blocked_us" in (refused[0].reply_skipped or "")
    assert imported[0].reply is None and "off" in (imported[0].reply_skipped or "")
    assert pending == 0


def test_spam_rule_closes_conversation(ruleset, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    store = Store.open(sqlite_url)
    result = store.ingest(Batch(items=(_inbound("1", "kazan bit.ly/x", chat="777"),)))

    outcomes = apply_rules(store, result.stored, ruleset, auto_reply=False)
    conversation = store.get_conversation(result.stored[0].conversation)
    store.close()

    assert [found.rule.name for found in outcomes[0].matches] == ["ilk", "reklam"]
    assert conversation is not None
    assert conversation.status == "closed"
    assert "spam" in conversation.tags
