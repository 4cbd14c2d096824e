"""Every moderator command through click's CliRunner, in Turkish and English."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from socialinbox.cli.main import build_cli
from socialinbox.locale.catalog import CATALOG
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
from socialinbox.store import Store

ACCOUNT = "acct"
C1 = "telegram:acct:c1"
C2 = "telegram:acct:c2"
BASE = utc_now() - timedelta(hours=2)


def _message(
    message_id: str,
    chat: str,
    text: str,
    *,
    direction: Direction = Direction.INBOUND,
    minutes: int = 0,
    platform: Platform = Platform.TELEGRAM,
) -> Message:
    when = BASE + timedelta(minutes=minutes)
    return Message(
        key=MessageKey(platform=platform, account_id=ACCOUNT, chat_id=chat, message_id=message_id),
        direction=direction,
        text=text,
        sent_at=when,
        received_at=when,
        sender=Contact(
            platform=platform, user_id=chat, display_name=f"Kişi {chat}", language_code="tr"
        )
        if direction is Direction.INBOUND
        else None,
    )


@pytest.fixture
def database(sqlite_url: str) -> str:
    with Store.open(sqlite_url) as store:
        store.ingest(
            Batch(
                items=(
                    _message("1", "c1", "PARA ÇEKİM talebim nerede?"),
                    _message(
                        "2", "c1", "Yanıt veriyoruz", direction=Direction.OUTBOUND, minutes=30
                    ),
                    _message("3", "c2", "Çekim talebim hâlâ beklemede", minutes=5),
                    _message(
                        "4", "c3", "Uygulama çöküyor", minutes=10, platform=Platform.MESSENGER
                    ),
                )
            )
        )
    return sqlite_url


def run(language: str, database: str, *arguments: str) -> object:
    return CliRunner().invoke(
        build_cli(language),
        ["--database", database, *arguments],
        env={"SOCIALINBOX_MODERATOR": "elif"},
    )


def test_every_catalog_key_used_exists() -> None:
    source = (Path(__file__).parents[2] / "socialinbox" / "cli" / "moderation.py").read_text(
        encoding="utf-8"
    )
    keys = set(re.findall(r"""t\(["']([a-z_]+\.[a-z_.]+)["']""", source))

    assert keys
    assert sorted(key for key in keys if key not in CATALOG) == []


@pytest.mark.parametrize(("language", "heading"), [("tr", "Durum"), ("en", "Status")])
def test_inbox_lists_in_both_languages(database: str, language: str, heading: str) -> None:
    result = run(language, database, "inbox")

    assert result.exit_code == 0, result.output
    assert heading in result.output
    assert "Kişi c1" in result.output


def test_inbox_search_folds_turkish(database: str) -> None:
    result = run("en", database, "inbox", "--search", "cekim", "--format", "json")

    rows = json.loads(result.output)
    assert sorted(row["contact"] for row in rows) == ["Kişi c1", "Kişi c2"]


def test_inbox_filters_platform_and_tag(database: str) -> None:
    run("en", database, "tag", C1, "vip")

    tagged = json.loads(run("en", database, "inbox", "--tag", "vip", "--format", "json").output)
    messenger = json.loads(
        run("en", database, "inbox", "--platform", "messenger", "--format", "json").output
    )

    assert [row["conversation"] for row in tagged] == [C1]
    assert [row["platform"] for row in messenger] == ["messenger"]


@pytest.mark.parametrize(
    ("language", "text"),
    [("tr", "Bu filtrelere uyan konuşma yok"), ("en", "No conversation matches")],
)
def test_inbox_empty_filter_names_next_command(database: str, language: str, text: str) -> None:
    result = run(language, database, "inbox", "--search", "zzzz")

    assert text in result.output
    assert "socialinbox inbox --all" in result.output


@pytest.mark.parametrize(("language", "text"), [("tr", "numaralı konuşma"), ("en", "Conversation")])
def test_show_prints_thread(database: str, language: str, text: str) -> None:
    result = run(language, database, "show", C1)

    assert result.exit_code == 0, result.output
    assert text in result.output
    assert "PARA ÇEKİM talebim nerede?" in result.output
    assert "Yanıt veriyoruz" in result.output


def test_show_unknown_conversation_exit_code(database: str) -> None:
    result = run("tr", database, "show", "99")

    assert result.exit_code == 5
    assert "socialinbox inbox" in result.output


def test_reply_refused_until_viewed(database: str) -> None:
    result = run("en", database, "reply", C1, "Hello")

    assert result.exit_code == 7
    assert "socialinbox show" in result.output


def test_reply_needs_text_or_template(database: str) -> None:
    result = run("tr", database, "reply", C1)

    assert result.exit_code == 2
    assert "--template" in result.output


@pytest.mark.parametrize(
    ("language", "text"), [("tr", "engelledi"), ("en", "blocked this account")]
)
def test_reply_refused_for_blocked_contact(database: str, language: str, text: str) -> None:
    now = utc_now()
    with Store.open(database) as store:
        store.ingest(
            Batch(
                items=(
                    ContactStatusEvent(
                        occurred_at=now,
                        received_at=now,
                        account_id=ACCOUNT,
                        contact=Contact(platform=Platform.TELEGRAM, user_id="c2"),
                        status=ContactStatus.BLOCKED_US,
                    ),
                )
            )
        )
    run(language, database, "show", C2)

    result = run(language, database, "reply", C2, "Merhaba")

    assert result.exit_code == 6
    assert text in result.output


@pytest.mark.parametrize(("language", "text"), [("tr", "24 saat"), ("en", "24 hours")])
def test_reply_refused_outside_meta_window(sqlite_url: str, language: str, text: str) -> None:
    old = utc_now() - timedelta(days=2)
    with Store.open(sqlite_url) as store:
        store.ingest(
            Batch(
                items=(
                    Message(
                        key=MessageKey(
                            platform=Platform.MESSENGER,
                            account_id="page",
                            chat_id="p1",
                            message_id="m1",
                        ),
                        direction=Direction.INBOUND,
                        text="Merhaba",
                        sent_at=old,
                        received_at=old,
                        sender=Contact(platform=Platform.MESSENGER, user_id="p1"),
                    ),
                )
            )
        )
    run(language, sqlite_url, "show", "1")

    result = run(language, sqlite_url, "reply", "1", "Merhaba")

    assert result.exit_code == 6
    assert text in result.output
    assert "--human-agent" in result.output


@pytest.mark.parametrize("language", ["tr", "en"])
def test_assign_tag_close_reopen_note(database: str, language: str) -> None:
    assigned = run(language, database, "assign", C1, "queue:finans")
    tagged = run(language, database, "tag", C1, "acil", "vip")
    untagged = run(language, database, "tag", C1, "vip", "--remove")
    closed = run(language, database, "close", C1)
    noted = run(language, database, "note", C1, "Dekont istendi")
    shown_closed = json.loads(run(language, database, "show", C1, "--format", "json").output)
    reopened = run(language, database, "reopen", C1)
    cleared = run(language, database, "assign", C1, "--none")
    shown = json.loads(run(language, database, "show", C1, "--format", "json").output)

    for result in (assigned, tagged, untagged, closed, noted, reopened, cleared):
        assert result.exit_code == 0, result.output
    assert shown_closed["status"] == "closed"
    assert shown_closed["assignee"] == "queue:finans"
    assert shown["status"] == "open"
    assert shown["assignee"] is None
    assert shown["tags"] == ["acil"]
    assert [(note["author"], note["text"]) for note in shown["notes"]] == [
        ("elif", "Dekont istendi")
    ]


@pytest.mark.parametrize(
    ("language", "linked", "unlinked"),
    [("tr", "bağlandı", "kaldırıldı"), ("en", "Linked", "Unlinked")],
)
def test_contact_link_and_unlink(database: str, language: str, linked: str, unlinked: str) -> None:
    first, second = "telegram:acct:c1", "messenger:acct:c3"

    link = run(language, database, "contact", "link", first, second, "--reason", "same phone")
    shown = run(language, database, "contact", "show", first, "--format", "json")
    unlink = run(language, database, "contact", "unlink", first, second, "--reason", "mistake")
    again = run(language, database, "contact", "unlink", first, second, "--reason", "mistake")

    assert linked in link.output
    assert [row["contact"] for row in json.loads(shown.output)] == [second]
    assert unlinked in unlink.output
    assert again.exit_code == 5
    assert "socialinbox contact show" in again.output


def test_contact_link_unknown_contact(database: str) -> None:
    result = run(
        "tr", database, "contact", "link", "telegram:acct:c1", "x:acct:nobody", "--reason", "r"
    )

    assert result.exit_code == 5
    assert "bulunamadı" in result.output


@pytest.mark.parametrize(
    ("language", "title"),
    [("tr", "Para çekme talebi beklemede"), ("en", "Withdrawal request pending")],
)
def test_templates_list_and_show(language: str, title: str) -> None:
    listed = CliRunner().invoke(build_cli(language), ["templates", "list"])
    shown = CliRunner().invoke(
        build_cli(language),
        ["templates", "show", "para_cekme_beklemede", "--var", "first_name=Ayşe"],
    )

    assert title in listed.output
    assert "Ayşe" in shown.output
    assert title in shown.output


def test_templates_show_unknown_exit_code() -> None:
    result = CliRunner().invoke(build_cli("en"), ["templates", "show", "nope"])

    assert result.exit_code == 5
    assert "templates list" in result.output


@pytest.mark.parametrize(
    ("language", "reason"), [("tr", 'anahtar sözcük "para çekme"'), ("en", 'keyword "para çekme"')]
)
def test_rules_test_explains_match(language: str, reason: str) -> None:
    result = CliRunner().invoke(
        build_cli(language),
        ["rules", "test", "PARA ÇEKME talebim ÇK-20418"],
        env={"SOCIALINBOX_RULES": ""},
    )

    assert result.exit_code == 0, result.output
    assert "para-cekme" in result.output
    assert "talep-numarasi" in result.output
    assert reason in result.output


def test_rules_test_invalid_file(tmp_path: Path) -> None:
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "rules:\n  - name: a\n    match: {regex: ['(']}\n    actions: {tag: [x]}\n",
        encoding="utf-8",
    )

    result = CliRunner().invoke(build_cli("tr"), ["rules", "test", "x", "--rules", str(rules)])

    assert result.exit_code == 2
    assert "Geçersiz kurallar" in result.output
    assert "r.yaml:3: rule 'a'" in result.output


@pytest.mark.parametrize("language", ["tr", "en"])
def test_faq_suggest_groups_questions(database: str, language: str) -> None:
    result = run(language, database, "faq", "suggest", "--format", "json")

    groups = json.loads(result.output)
    assert groups[0]["count"] == 2
    assert groups[0]["template"] == "para_cekme_beklemede"


@pytest.mark.parametrize(
    ("language", "text"),
    [("tr", "İlk yanıt: 1 konuşma"), ("en", "First response: 1 conversations")],
)
def test_stats_reports_response_and_backlog(database: str, language: str, text: str) -> None:
    result = run(language, database, "stats")
    document = json.loads(run(language, database, "stats", "--format", "json").output)

    assert text in result.output
    assert document["first_response_seconds"]["median"] == 30 * 60
    assert document["open_backlog"] == 2
    rows = json.loads(run(language, database, "inbox", "--format", "json").output)
    assert document["oldest_waiting"]["conversation"] == next(
        row["id"] for row in rows if row["conversation"] == C2
    )


@pytest.mark.parametrize(("language", "text"), [("tr", "--yes"), ("en", "--yes")])
def test_erase_needs_confirmation_then_erases(database: str, language: str, text: str) -> None:
    unconfirmed = run(language, database, "erase", "telegram:acct:c1")
    erased = run(language, database, "erase", "telegram:acct:c1", "--yes")
    shown = json.loads(run(language, database, "show", C1, "--format", "json").output)

    assert unconfirmed.exit_code == 2
    assert text in unconfirmed.output
    assert erased.exit_code == 0, erased.output
    assert [message["text"] for message in shown["messages"]] == [None, None]
    assert shown["contact_name"] == "c1"
