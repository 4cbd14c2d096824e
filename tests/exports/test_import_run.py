"""Whole import runs: zip archives, folders, outbox rows, bad files and format detection."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from socialinbox.errors import UsageError
from socialinbox.exports import ExportFormat, ImportProgress, import_paths
from socialinbox.exports.sources import detect_format, find_sources
from socialinbox.model import ConversationKey, Platform
from socialinbox.store import Store

ACCOUNT_JS = (
    'window.YTD.account.part0 = [{"account": {"accountId": "3100000001", '
    '"username": "demo_shop", "createdVia": "web"}}]'
)


def write_archive_zip(exports: Path, path: Path) -> Path:
    """Zip the export corpus files under the folder names the platforms use."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data/account.js", ACCOUNT_JS)
        archive.write(exports / "twitter_archive_direct-messages.js", "data/direct-messages.js")
        archive.write(
            exports / "twitter_archive_direct-messages-group.js", "data/direct-messages-group.js"
        )
        archive.writestr("data/direct_messages_media/1508726300420280332-AbCdEf12.png", b"\x89PNG")
        archive.write(
            exports / "facebook_message_1_mojibake.json",
            "messages/inbox/OdonKertesz_q8x2mv91ab/message_1.json",
        )
        archive.write(
            exports / "telegram_desktop_channel_messages_fragment.json",
            "ChatExport_2023-01-08/result.json",
        )
        archive.writestr("data/tweets.js", "window.YTD.tweets.part0 = []")
    return path


def test_zip_imports_every_format(store: Store, exports: Path, tmp_path: Path) -> None:
    archive = write_archive_zip(exports, tmp_path / "export.zip")

    report = import_paths(store, [archive])

    locations = [item.location for item in report.files]
    assert locations == [
        f"{archive}!data/direct-messages.js",
        f"{archive}!data/direct-messages-group.js",
        f"{archive}!messages/inbox/OdonKertesz_q8x2mv91ab/message_1.json",
        f"{archive}!ChatExport_2023-01-08/result.json",
    ]
    assert [item.result.messages_stored for item in report.files] == [9, 1, 23, 8]
    assert report.total.quarantined == 0
    # account.js names the owner, so even the group chat is keyed by the owner's id.
    group = ConversationKey(
        platform=Platform.X, account_id="3100000001", chat_id="1592446877601247234"
    )
    assert len(store.list_messages(group)) == 1
    assert store.counts()["outbox"] == 0

    again = import_paths(store, [archive])
    assert again.total.messages_stored == 0
    assert again.total.duplicates == 41


def test_push_writes_outbox_rows(store: Store, exports: Path) -> None:
    report = import_paths(store, [exports / "twitter_archive_direct-messages.js"], push=True)

    assert report.total.outbox == 10  # nine messages and one reaction
    assert store.counts()["outbox"] == 10


def test_corrupt_file_in_folder_is_quarantined(store: Store, exports: Path, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    thread = folder / "messages" / "inbox" / "broken_1" / "message_1.json"
    thread.parent.mkdir(parents=True)
    thread.write_text('{"participants": [], "messages": [')
    (folder / "direct-messages.js").write_bytes(
        (exports / "twitter_archive_direct-messages.js").read_bytes()
    )

    report = import_paths(store, [folder])

    assert report.total.messages_stored == 9
    assert report.total.quarantined == 1
    (entry,) = store.list_quarantine()
    assert entry.location == str(thread)
    assert entry.reason == "invalid JSON at line 1 column 35: Expecting value"
    assert entry.raw == b'{"participants": [], "messages": ['


def test_platform_option_filters_files(store: Store, exports: Path) -> None:
    report = import_paths(store, [exports], platform=Platform.TELEGRAM)

    assert [item.platform for item in report.files] == [Platform.TELEGRAM]
    assert report.total.messages_stored == 8


def test_platform_option_marks_instagram(store: Store, exports: Path) -> None:
    report = import_paths(
        store, [exports / "facebook_message_1_mojibake.json"], platform=Platform.INSTAGRAM
    )

    assert report.files[0].platform is Platform.INSTAGRAM
    assert store.list_messages(platform=Platform.INSTAGRAM)[0].key.chat_id == (
        "export:OdonKertesz_q8x2mv91ab"
    )


def test_progress_reports_every_file(store: Store, exports: Path) -> None:
    steps: list[ImportProgress] = []

    import_paths(store, [exports], progress=steps.append, chunk_size=5)

    assert steps[-1].files_done == steps[-1].files_total == 4
    assert steps[-1].total.messages_stored == 41
    # Chunks of five parts mean several transactions per file.
    assert len(steps) > 10


def test_non_export_file_is_rejected(store: Store, tmp_path: Path) -> None:
    odd = tmp_path / "notes.json"
    odd.write_text(json.dumps({"hello": "world"}))

    with pytest.raises(UsageError, match=r"notes\.json is not a known export file"):
        import_paths(store, [odd])
    assert store.counts()["messages"] == 0


def test_folder_without_exports_is_rejected(store: Store, tmp_path: Path) -> None:
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8")

    with pytest.raises(UsageError, match="no export files found"):
        import_paths(store, [tmp_path])


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        (
            "data/direct-messages.js",
            b"window.YTD.direct_messages.part0 = [",
            ExportFormat.X_DIRECT_MESSAGES,
        ),
        (
            "data/direct-messages-group.js",
            b"window.YTD.direct_messages_group.part0 = [",
            ExportFormat.X_DIRECT_MESSAGES,
        ),
        ("data/account.js", b"window.YTD.account.part0 = [", ExportFormat.X_ACCOUNT),
        ("data/tweets.js", b"window.YTD.tweets.part0 = [", None),
        ("inbox/a_1/message_2.json", b"{", ExportFormat.META_THREAD),
        (
            "x/result.json",
            b'{"name": "A", "type": "personal_chat", "id": 1, "messages": []}',
            ExportFormat.TELEGRAM_DESKTOP,
        ),
        ("other.json", b'{"hello": 1}', None),
    ],
)
def test_detect_format(name: str, head: bytes, expected: ExportFormat | None) -> None:
    assert detect_format(name, head) is expected


def test_find_sources_skips_media_in_zip(exports: Path, tmp_path: Path) -> None:
    archive = write_archive_zip(exports, tmp_path / "export.zip")

    names = [source.name for source in find_sources([archive])]

    assert names[0] == "data/account.js"
    assert "data/direct_messages_media/1508726300420280332-AbCdEf12.png" not in names
    assert "data/tweets.js" not in names


def test_rules_tag_history_without_auto_reply(store: Store, exports: Path, tmp_path: Path) -> None:
    from socialinbox.moderation.rules import parse_rules
    from socialinbox.moderation.templates import TemplateLibrary

    rules = parse_rules(
        """
[[rules]]
name = "gecmis-x"
[rules.match]
platforms = ["x"]
[rules.actions]
tag = ["gecmis"]
auto_reply = "karsilama"
""",
        templates=TemplateLibrary(),
    )
    archive = write_archive_zip(exports, tmp_path / "export.zip")

    import_paths(store, [archive], rules=rules)

    tagged = store.list_conversations(tag="gecmis")
    assert tagged
    assert {conversation.key.platform for conversation in tagged} == {Platform.X}
    assert store.list_sends() == []
