"""History import benchmark: time and peak memory of importing large generated exports.

For each format, the script generates an export of ``--messages`` messages in
a temporary folder and imports it into a fresh SQLite store with
``import_paths``, the function behind ``socialinbox import PATH`` (no
``--push``). The generated exports follow the layout of real ones:

* ``x``: an X archive folder with ``data/account.js``,
  ``data/direct-messages.js`` (one-to-one) and ``data/direct-messages-group.js``;
* ``telegram``: a Telegram Desktop whole-account ``result.json``;
* ``facebook``: a Messenger "Download your information" folder with the
  owner's profile file and one ``message_1.json`` per thread, its text
  double-encoded the way Meta writes it.

The messages are spread over several thousand conversations of uneven size
(one per 25 messages), with Turkish text and emoji, media entries, links,
reactions, edits and group membership events.

Generation and each import run in child processes. The peak RSS
(``ru_maxrss``) of an import child is therefore its own, because the parent
stays small: Linux carries ``ru_maxrss`` over ``execve`` from the process
that spawned the child.

Target: every import peaks under 300 MB RSS.

Usage::

    python benchmarks/import_export.py                         # 100,000 messages, every format
    python benchmarks/import_export.py --formats x,telegram --messages 20000
    python benchmarks/import_export.py --zip                   # import each export as a zip file

Exit status 0 when every import stored all messages, quarantined none and
peaked under 300 MB, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

FORMATS = ("x", "telegram", "facebook")
RSS_LIMIT_MB = 300
MESSAGES_PER_CONVERSATION = 25
GROUP_SHARE = 0.1
"""Share of the conversations that are groups (X group file, Telegram supergroups)."""
START = datetime(2021, 3, 1, tzinfo=UTC)

X_OWNER_ID = "3100000001"
X_OWNER_USERNAME = "destek_magaza"
TELEGRAM_OWNER_ID = 777000111
OWNER_NAME = "Mağaza Destek"

FIRST_NAMES = [
    "Ayşe", "Mehmet", "Elif", "Mustafa", "Zeynep", "Ahmet", "Şule", "Çağrı", "Gülşen",
    "İbrahim", "Özge", "Ümit", "Büşra", "Oğuz", "Merve", "Hüseyin", "Ece", "Barış",
]  # fmt: skip
LAST_NAMES = [
    "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Aydın", "Öztürk", "Arslan",
    "Doğan", "Kılıç", "Aslan", "Çetin", "Koç", "Kurt", "Özdemir", "Şimşek", "Güneş",
]  # fmt: skip
INBOUND_TEXTS = [
    "Merhaba, siparişim ne zaman kargoya verilir? 📦",
    "İade talebim 3 gündür beklemede, yardımcı olur musunuz? 🙏",
    "Ürün hasarlı geldi, fotoğrafını gönderiyorum 😞",
    "Fatura bilgilerimi güncellemem gerekiyor, nasıl yapabilirim?",
    "Kargo takip numarası çalışmıyor, kontrol eder misiniz?",
    "Bu ürünün XL bedeni tekrar stoklara girecek mi? 👕",
    "Ödeme yaptım ama sipariş ekranında görünmüyor 😕",
    "Teşekkürler, çok yardımcı oldunuz! 🙌",
    "Kapıda ödeme seçeneği var mı?",
    "Kampanya kodu sepette geçersiz diyor, neden acaba? 🤔",
    "Değişim için mağazaya mı gelmem lazım yoksa kargoyla mı göndereyim?",
    "Harika, görüşmek üzere 👋",
    "Siparişimi iptal etmek istiyorum, henüz kargoya verilmediyse.",
    "Dün gece saat 23:40'ta ödeme yaptım, onay e-postası gelmedi.",
]
OUTBOUND_TEXTS = [
    "Merhaba, sipariş numaranızı paylaşır mısınız? 😊",
    "Siparişiniz bugün kargoya verildi, takip numarası SMS ile iletilecek 🚚",
    "İade talebiniz onaylandı, tutar 3-5 iş günü içinde hesabınıza geçecek.",
    "Yaşadığınız sorun için özür dileriz, hemen ilgileniyoruz 🙏",
    "Kodun süresi dolmuş görünüyor, size yeni bir kod tanımladık: YAZ2024 🎁",
    "Değişimi kargoyla yapabilirsiniz, kargo ücreti bizden 👍",
    "Rica ederiz, iyi günler dileriz! 🌸",
    "Faturanız e-posta adresinize yeniden gönderildi.",
]
LINKS = [
    "https://example.com/siparis/takip?no=",
    "https://example.com/urun/kazak-",
    "https://example.org/yardim/iade-kosullari#",
]
REACTION_EMOJIS = ["❤️", "👍", "😂", "😮", "😢", "🔥", "🙏"]
X_REACTION_KEYS = ["like", "agree", "funny", "surprised", "sad", "excited"]

MEDIA_SHARE = 0.06
REACTION_SHARE = 0.08
LINK_SHARE = 0.05
EDIT_SHARE = 0.03
REPLY_SHARE = 0.1


class Population:
    """Deterministic conversation sizes, people and texts of one generated export."""

    def __init__(self, messages: int, seed: int) -> None:
        self.random = random.Random(seed)
        conversations = max(1, messages // MESSAGES_PER_CONVERSATION)
        self.sizes = self.split(messages, conversations)

    def split(self, messages: int, conversations: int) -> list[int]:
        """Return ``conversations`` sizes summing to ``messages``: a few long chats, many short."""
        weights = [1 / (rank + 1) ** 0.7 for rank in range(conversations)]
        self.random.shuffle(weights)
        total = sum(weights)
        sizes = [max(1, int(messages * weight / total)) for weight in weights]
        # Rounding leaves the sum off by a little: add or remove single messages.
        position = 0
        while sum(sizes) != messages:
            index = position % conversations
            if sum(sizes) < messages:
                sizes[index] += 1
            elif sizes[index] > 1:
                sizes[index] -= 1
            position += 1
        return sizes

    def is_group(self, conversation: int) -> bool:
        return conversation % round(1 / GROUP_SHARE) == 0

    def name(self, person: int) -> str:
        first = FIRST_NAMES[person % len(FIRST_NAMES)]
        last = LAST_NAMES[(person // len(FIRST_NAMES)) % len(LAST_NAMES)]
        return f"{first} {last}"

    def text(self, outbound: bool) -> str:
        texts = OUTBOUND_TEXTS if outbound else INBOUND_TEXTS
        text = self.random.choice(texts)
        if self.random.random() < 0.3:
            text += f" Sipariş no: TR{self.random.randint(100000, 999999)}"
        return text

    def chance(self, share: float) -> bool:
        return self.random.random() < share

    def times(self, count: int, conversation: int) -> list[datetime]:
        """Return ``count`` increasing message times within one conversation."""
        moment = START + timedelta(minutes=conversation * 37)
        result = []
        for _ in range(count):
            moment += timedelta(
                seconds=self.random.randint(20, 6 * 3600),
                milliseconds=self.random.randint(0, 999),
            )
            result.append(moment)
        return result


def write_element(
    handle: TextIO, value: Any, depth: int, indent: int, separators: tuple[str, str]
) -> None:
    """Write one array element pretty-printed at ``depth`` spaces, as the exporters write."""
    text = json.dumps(value, ensure_ascii=False, indent=indent, separators=separators)
    handle.write(" " * depth + text.replace("\n", "\n" + " " * depth))


# X archive ------------------------------------------------------------------


def x_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def x_message(
    population: Population, event_id: int, sender: str, recipient: str | None, moment: datetime
) -> dict[str, Any]:
    rng = population.random
    text = population.text(sender == X_OWNER_ID)
    urls: list[dict[str, str]] = []
    media: list[str] = []
    if population.chance(LINK_SHARE):
        short = f"https://t.co/{rng.randrange(36**10):010x}"
        urls.append(
            {
                "url": short,
                "expanded": rng.choice(LINKS) + str(rng.randint(1, 99999)),
                "display": "example.com/…",
            }
        )
        text += " " + short
    if population.chance(MEDIA_SHARE):
        short = f"https://t.co/{rng.randrange(36**10):010x}"
        kind = rng.choice(["dm", "dm_video", "dm_gif"])
        extension = "png" if kind == "dm" else "mp4"
        media.append(
            f"https://ton.twitter.com/{kind}/{event_id}/{event_id - 7}/AbCd{rng.randint(1, 9999)}.{extension}"
        )
        urls.append(
            {
                "url": short,
                "expanded": f"https://twitter.com/messages/media/{event_id}",
                "display": f"pic.twitter.com/{short[-10:]}",
            }
        )
        text += " " + short
    reactions = []
    if population.chance(REACTION_SHARE):
        reactor = recipient or X_OWNER_ID
        reactions.append(
            {
                "senderId": reactor,
                "reactionKey": rng.choice(X_REACTION_KEYS),
                "eventId": str(event_id + 3),
                "createdAt": x_time(moment + timedelta(minutes=2)),
            }
        )
    body: dict[str, Any] = {}
    if recipient is not None:
        body["recipientId"] = recipient
    body.update(
        {
            "reactions": reactions,
            "urls": urls,
            "text": text,
            "mediaUrls": media,
            "senderId": sender,
            "id": str(event_id),
            "createdAt": x_time(moment),
        }
    )
    return {"messageCreate": body}


def x_conversation(
    population: Population, conversation: int, size: int, first_event: int
) -> dict[str, Any]:
    """Return one ``dmConversation``, newest entry first as the archive writes it."""
    group = population.is_group(conversation)
    times = population.times(size, conversation)
    if group:
        members = [str(32_000_000 + conversation * 10 + offset) for offset in range(4)]
        conversation_id = str(1_500_000_000_000_000_000 + conversation)
    else:
        members = [str(32_000_000 + conversation)]
        conversation_id = f"{members[0]}-{X_OWNER_ID}"
    entries = []
    for position, moment in enumerate(times):
        event_id = first_event + position * 10
        outbound = population.chance(0.4)
        sender = X_OWNER_ID if outbound else population.random.choice(members)
        recipient: str | None = None
        if not group:
            recipient = members[0] if outbound else X_OWNER_ID
        entries.append(x_message(population, event_id, sender, recipient, moment))
    if group:
        entries.append(
            {
                "joinConversation": {
                    "initiatingUserId": members[0],
                    "participantsSnapshot": [*members, X_OWNER_ID],
                    "createdAt": x_time(times[0] - timedelta(seconds=1)),
                }
            }
        )
        entries.insert(
            len(entries) // 2,
            {
                "participantsLeave": {
                    "userIds": [members[-1]],
                    "createdAt": x_time(times[len(times) // 2]),
                }
            },
        )
    entries.reverse()
    return {"dmConversation": {"conversationId": conversation_id, "messages": entries}}


def write_x_file(path: Path, variable: str, conversations: Iterator[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write(f"window.YTD.{variable}.part0 = [\n")
        for index, conversation in enumerate(conversations):
            if index:
                handle.write(",\n")
            write_element(handle, conversation, 2, 2, (",", " : "))
        handle.write("\n]")


def generate_x(folder: Path, messages: int, seed: int) -> Path:
    population = Population(messages, seed)
    data = folder / "twitter-2024-05-01-abc123" / "data"
    data.mkdir(parents=True)
    account = [{"account": {"accountId": X_OWNER_ID, "username": X_OWNER_USERNAME}}]
    write_x_file(data / "account.js", "account", iter(account))
    first_events = []
    event = 1_400_000_000_000_000_000
    for size in population.sizes:
        first_events.append(event)
        event += size * 10 + 100

    def conversations(group: bool) -> Iterator[dict[str, Any]]:
        for index, size in enumerate(population.sizes):
            if population.is_group(index) == group:
                yield x_conversation(population, index, size, first_events[index])

    write_x_file(data / "direct-messages.js", "direct_messages", conversations(False))
    write_x_file(data / "direct-messages-group.js", "direct_messages_group", conversations(True))
    return data.parent


# Telegram Desktop -----------------------------------------------------------


def telegram_text(population: Population, outbound: bool) -> tuple[Any, list[dict[str, str]]]:
    """Return ``text`` and ``text_entities``: a plain string, or a list with a link entity."""
    text = population.text(outbound)
    if not population.chance(LINK_SHARE):
        return text, [{"type": "plain", "text": text}]
    link = population.random.choice(LINKS) + str(population.random.randint(1, 99999))
    entities = [{"type": "plain", "text": text + "\n"}, {"type": "link", "text": link}]
    return [text + "\n", {"type": "link", "text": link}], entities


def telegram_media(population: Population, message_id: int, moment: datetime) -> dict[str, Any]:
    rng = population.random
    stamp = moment.strftime("%d-%m-%Y_%H-%M-%S")
    choice = rng.randrange(4)
    if choice == 0:
        return {
            "photo": f"photos/photo_{message_id}@{stamp}.jpg",
            "photo_file_size": rng.randint(40_000, 400_000),
            "width": 1280,
            "height": rng.choice([720, 960, 1280]),
        }
    if choice == 1:
        return {
            "file": f"voice_messages/audio_{message_id}@{stamp}.ogg",
            "file_name": f"audio_{message_id}@{stamp}.ogg",
            "file_size": rng.randint(5_000, 90_000),
            "media_type": "voice_message",
            "mime_type": "audio/ogg",
            "duration_seconds": rng.randint(1, 60),
        }
    if choice == 2:
        return {
            "file": "(File not included. Change data exporting settings to download.)",
            "file_name": "sticker.webp",
            "file_size": rng.randint(10_000, 40_000),
            "thumbnail": "(File not included. Change data exporting settings to download.)",
            "media_type": "sticker",
            "sticker_emoji": rng.choice(REACTION_EMOJIS),
            "mime_type": "image/webp",
            "width": 512,
            "height": 512,
        }
    return {
        "file": f"files/fatura_{message_id}.pdf",
        "file_name": f"fatura_{message_id}.pdf",
        "file_size": rng.randint(50_000, 900_000),
        "mime_type": "application/pdf",
    }


def telegram_chat(
    population: Population, conversation: int, size: int, first_id: int
) -> dict[str, Any]:
    """Return one chat of a whole-account export, oldest message first."""
    rng = population.random
    group = population.is_group(conversation)
    people = [conversation * 7 + offset for offset in range(4 if group else 1)]
    user_ids = [5_500_000 + person for person in people]
    owner = {"from": OWNER_NAME, "from_id": f"user{TELEGRAM_OWNER_ID}"}
    messages: list[dict[str, Any]] = []
    message_id = first_id
    if group:
        messages.append(
            {
                "id": message_id,
                "type": "service",
                "date": START.strftime("%Y-%m-%dT%H:%M:%S"),
                "date_unixtime": str(int(START.timestamp())),
                "actor": population.name(people[0]),
                "actor_id": f"user{user_ids[0]}",
                "action": "join_group_by_link",
                "inviter": OWNER_NAME,
                "text": "",
                "text_entities": [],
            }
        )
        message_id += 1
    for moment in population.times(size, conversation):
        outbound = population.chance(0.4)
        index = rng.randrange(len(people))
        sender = (
            owner
            if outbound
            else {
                "from": population.name(people[index]),
                "from_id": f"user{user_ids[index]}",
            }
        )
        text, entities = telegram_text(population, outbound)
        message: dict[str, Any] = {
            "id": message_id,
            "type": "message",
            "date": moment.strftime("%Y-%m-%dT%H:%M:%S"),
            "date_unixtime": str(int(moment.timestamp())),
        }
        if population.chance(EDIT_SHARE):
            edited = moment + timedelta(minutes=rng.randint(1, 30))
            message["edited"] = edited.strftime("%Y-%m-%dT%H:%M:%S")
            message["edited_unixtime"] = str(int(edited.timestamp()))
        message.update(sender)
        if message_id > first_id and population.chance(REPLY_SHARE):
            message["reply_to_message_id"] = message_id - rng.randint(
                1, min(5, message_id - first_id)
            )
        if population.chance(MEDIA_SHARE):
            message.update(telegram_media(population, message_id, moment))
            if message.get("media_type") == "sticker":
                text, entities = "", []
        message["text"] = text
        message["text_entities"] = entities
        if population.chance(REACTION_SHARE):
            reactor = owner if not outbound else sender_of(population, people, user_ids)
            reacted = moment + timedelta(minutes=rng.randint(1, 90))
            message["reactions"] = [
                {
                    "type": "emoji",
                    "count": 1,
                    "emoji": rng.choice(REACTION_EMOJIS),
                    "recent": [
                        {
                            **reactor,
                            "date": reacted.strftime("%Y-%m-%dT%H:%M:%S"),
                            "date_unixtime": str(int(reacted.timestamp())),
                        }
                    ],
                }
            ]
        messages.append(message)
        message_id += 1
    if group:
        return {
            "name": f"Destek Grubu {conversation}",
            "type": "private_supergroup",
            "id": 1_900_000_000 + conversation,
            "messages": messages,
        }
    return {
        "name": population.name(people[0]),
        "type": "personal_chat",
        "id": user_ids[0],
        "messages": messages,
    }


def sender_of(population: Population, people: list[int], user_ids: list[int]) -> dict[str, str]:
    index = population.random.randrange(len(people))
    return {"from": population.name(people[index]), "from_id": f"user{user_ids[index]}"}


def generate_telegram(folder: Path, messages: int, seed: int) -> Path:
    population = Population(messages, seed)
    export = folder / "DataExport_2024-05-01"
    export.mkdir()
    path = export / "result.json"
    header = {
        "about": "Here is the data you requested. Remember: Telegram is ad free, it doesn't "
        "use your data for ad targeting and doesn't sell it to others.",
        "personal_information": {
            "user_id": TELEGRAM_OWNER_ID,
            "first_name": "Mağaza",
            "last_name": "Destek",
            "phone_number": "+90 555 000 0000",
            "username": "@magaza_destek",
            "bio": "",
        },
    }
    with path.open("w", encoding="utf-8") as handle:
        handle.write(json.dumps(header, ensure_ascii=False, indent=1)[:-2])
        handle.write(',\n "chats": {\n  "about": "This page lists all chats from this export.",\n')
        handle.write('  "list": [\n')
        message_id = 1
        for index, size in enumerate(population.sizes):
            if index:
                handle.write(",\n")
            chat = telegram_chat(population, index, size, message_id)
            write_element(handle, chat, 3, 1, (",", ": "))
            message_id += size + 1
        handle.write("\n  ]\n },\n")
        handle.write(' "left_chats": {\n  "about": "This page lists all supergroups and channels '
                     'the user has left.",\n  "list": []\n }\n}')  # fmt: skip
    return export


# Messenger ------------------------------------------------------------------


def mojibake(text: str) -> str:
    """Encode ``text`` the way Meta exports do: each UTF-8 byte becomes one code point."""
    return text.encode("utf-8").decode("latin-1")


def facebook_thread(
    population: Population, conversation: int, size: int, folder_name: str
) -> dict[str, Any]:
    """Return one ``message_1.json`` document, newest message first."""
    rng = population.random
    group = population.is_group(conversation)
    people = [population.name(conversation * 5 + offset) for offset in range(3 if group else 1)]
    messages: list[dict[str, Any]] = []
    for moment in population.times(size, conversation):
        outbound = population.chance(0.4)
        sender = OWNER_NAME if outbound else rng.choice(people)
        message: dict[str, Any] = {
            "sender_name": mojibake(sender),
            "timestamp_ms": int(moment.timestamp() * 1000) + rng.randint(0, 999),
        }
        if population.chance(MEDIA_SHARE):
            stamp = int(moment.timestamp())
            field = rng.choice(["photos", "videos", "audio_files"])
            extension = {"photos": "jpg", "videos": "mp4", "audio_files": "aac"}[field]
            uri = (
                f"messages/inbox/{folder_name}/{field}/{rng.randint(10**14, 10**15)}_n.{extension}"
            )
            message[field] = [{"uri": uri, "creation_timestamp": stamp}]
        else:
            message["content"] = mojibake(population.text(outbound))
        if population.chance(LINK_SHARE):
            message["share"] = {"link": rng.choice(LINKS) + str(rng.randint(1, 99999))}
        if population.chance(REACTION_SHARE):
            actor = rng.choice(people) if outbound else OWNER_NAME
            message["reactions"] = [
                {"reaction": mojibake(rng.choice(REACTION_EMOJIS)), "actor": mojibake(actor)}
            ]
        message["is_geoblocked_for_viewer"] = False
        messages.append(message)
    messages.reverse()
    title = f"Destek Grubu {conversation}" if group else people[0]
    return {
        "participants": [{"name": mojibake(name)} for name in [*people, OWNER_NAME]],
        "messages": messages,
        "title": mojibake(title),
        "is_still_participant": True,
        "thread_path": f"inbox/{folder_name}",
        "magic_words": [],
        "joinable_mode": {"mode": 1, "link": ""},
    }


def generate_facebook(folder: Path, messages: int, seed: int) -> Path:
    population = Population(messages, seed)
    export = folder / "facebook-magazadestek-2024-05-01-abc123"
    profile = export / "personal_information" / "profile_information" / "profile_information.json"
    profile.parent.mkdir(parents=True)
    profile.write_text(
        json.dumps({"profile_v2": {"name": {"full_name": mojibake(OWNER_NAME)}}}, indent=2)
    )
    inbox = export / "your_activity_across_facebook" / "messages" / "inbox"
    for index, size in enumerate(population.sizes):
        folder_name = f"thread{index}_{10**15 + index}"
        thread = inbox / folder_name
        thread.mkdir(parents=True)
        document = facebook_thread(population, index, size, folder_name)
        # Meta writes ASCII JSON with \\u escapes, so ensure_ascii stays on.
        (thread / "message_1.json").write_text(json.dumps(document, indent=2))
    return export


GENERATORS = {"x": generate_x, "telegram": generate_telegram, "facebook": generate_facebook}


# Child processes ------------------------------------------------------------


def generate(export_format: str, folder: Path, messages: int, seed: int, as_zip: bool) -> Path:
    """Write one export below ``folder`` and return the path to import (a folder or a zip)."""
    export = GENERATORS[export_format](folder, messages, seed)
    if not as_zip:
        return export
    archive = export.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
        for path in sorted(export.rglob("*")):
            if path.is_file():
                handle.write(path, path.relative_to(export).as_posix())
    return archive


def run_import(path: Path, database: Path) -> dict[str, Any]:
    """Import ``path`` into a new SQLite store at ``database``; return counts, time and memory."""
    from socialinbox.exports import import_paths
    from socialinbox.store import Store

    store = Store.open(f"sqlite:///{database}")
    rss_before = peak_rss_mb()
    began = time.perf_counter()
    report = import_paths(store, [path])
    seconds = time.perf_counter() - began
    store.close()
    total = report.total
    return {
        "messages_stored": total.messages_stored,
        "events": total.events,
        "ignored": total.ignored,
        "quarantined": total.quarantined,
        "files": len(report.files),
        "seconds": seconds,
        "peak_rss_mb": peak_rss_mb(),
        "peak_rss_before_import_mb": rss_before,
        "vm_hwm_mb": vm_hwm_mb(),
    }


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def vm_hwm_mb() -> float | None:
    """Return this process's own RSS high-water mark from /proc (Linux), which exec resets."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def child(arguments: list[str]) -> dict[str, Any]:
    command = [sys.executable, __file__, *arguments]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(output)
    return result


def measure(export_format: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Generate one export and import it, each step in its own child process."""
    workspace = folder / export_format
    workspace.mkdir()
    began = time.perf_counter()
    generated = child(
        ["--phase", "generate", "--formats", export_format, "--folder", str(workspace),
         "--messages", str(args.messages), "--seed", str(args.seed)]
        + (["--zip"] if args.zip else [])
    )  # fmt: skip
    generate_seconds = time.perf_counter() - began
    path = Path(generated["path"])
    size = sum(item.stat().st_size for item in [path, *path.rglob("*")] if item.is_file())
    result = child(
        ["--phase", "import", "--folder", str(path), "--database", str(workspace / "store.db")]
    )
    result.update(
        {
            "format": export_format,
            "messages": args.messages,
            "export_mb": size / 1024 / 1024,
            "generate_seconds": generate_seconds,
            "messages_per_second": result["messages_stored"] / result["seconds"],
        }
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--messages", type=int, default=100_000, help="messages per export (default 100000)"
    )
    parser.add_argument(
        "--formats",
        default=",".join(FORMATS),
        help=f"comma-separated export formats to measure, from {', '.join(FORMATS)} (default all)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the generated exports")
    parser.add_argument("--zip", action="store_true", help="pack each export into a zip file")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument("--phase", choices=["generate", "import"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase == "generate":
        path = generate(args.formats, Path(args.folder), args.messages, args.seed, args.zip)
        print(json.dumps({"path": str(path)}))
        return
    if args.phase == "import":
        print(json.dumps(run_import(Path(args.folder), Path(args.database))))
        return

    formats = [name.strip() for name in args.formats.split(",") if name.strip()]
    unknown = [name for name in formats if name not in FORMATS]
    if unknown or not formats:
        parser.error(f"invalid --formats {args.formats!r}; choose from {', '.join(FORMATS)}")
    if args.messages < 1:
        parser.error(f"invalid --messages {args.messages}; expected a positive number")

    results = []
    with tempfile.TemporaryDirectory(prefix="socialinbox-import-bench-") as folder:
        for export_format in formats:
            results.append(measure(export_format, args, Path(folder)))

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(
            f"{args.messages:,} messages per export, SQLite store, {'zip' if args.zip else 'folder'} input"
        )
        print(
            f"{'format':<10}{'export MB':>10}{'stored':>10}{'events':>8}{'seconds':>9}{'msg/s':>8}{'peak RSS MB':>13}"
        )
        for result in results:
            print(
                f"{result['format']:<10}{result['export_mb']:>10.1f}{result['messages_stored']:>10}"
                f"{result['events']:>8}{result['seconds']:>9.1f}{result['messages_per_second']:>8.0f}"
                f"{result['peak_rss_mb']:>13.0f}"
            )  # fmt: skip
        print(f"target: every peak RSS < {RSS_LIMIT_MB} MB")

    failed = [
        result
        for result in results
        if result["peak_rss_mb"] >= RSS_LIMIT_MB
        or result["messages_stored"] != result["messages"]
        or result["quarantined"]
    ]
    for result in failed:
        print(
            f"FAILED {result['format']}: stored {result['messages_stored']} of "
            f"{result['messages']} messages, {result['quarantined']} quarantined, "
            f"peak RSS {result['peak_rss_mb']:.0f} MB",
            file=sys.stderr,
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
