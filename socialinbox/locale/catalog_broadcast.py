"""Catalog entries of the ``broadcast`` commands, in English and Turkish.

Merged into :data:`socialinbox.locale.catalog.CATALOG`; the structure is the same.
"""

from __future__ import annotations

CATALOG_BROADCAST: dict[str, dict[str, str]] = {
    "broadcast.help": {
        "en": "Create, check, approve and send announcements to every channel.",
        "tr": "Duyuruları oluştur, incele, onayla ve tüm kanallara gönder.",
    },
    "broadcast.create.help": {
        "en": "Store a new announcement. Without --two-person it is approved at once.",
        "tr": "Yeni bir duyuru kaydet. --two-person verilmezse hemen onaylanmış olur.",
    },
    "broadcast.preview.help": {
        "en": "Dry run: show the text per platform, how many recipients each target reaches, and who is excluded and why. Nothing is sent.",
        "tr": "Deneme: platform başına metni, her hedefin kaç alıcıya ulaştığını, kimlerin neden dışarıda kaldığını göster. Hiçbir şey gönderilmez.",
    },
    "broadcast.approve.help": {
        "en": "Approve a draft. The person who created it cannot approve it.",
        "tr": "Taslağı onayla. Duyuruyu oluşturan kişi onaylayamaz.",
    },
    "broadcast.send.help": {
        "en": "Send an approved announcement that is due, or resume an interrupted send. Nothing is sent twice.",
        "tr": "Zamanı gelmiş onaylı bir duyuruyu gönder veya yarıda kalan gönderime devam et. Hiçbir şey iki kez gönderilmez.",
    },
    "broadcast.status.help": {
        "en": "List announcements, or show the ledger of one announcement.",
        "tr": "Duyuruları listele veya bir duyurunun gönderim kayıtlarını göster.",
    },
    "broadcast.cancel.help": {
        "en": "Cancel an announcement. Messages not yet sent are skipped.",
        "tr": "Duyuruyu iptal et. Henüz gönderilmemiş mesajlar atlanır.",
    },
    "broadcast.opt.title": {"en": "Short title for lists and reports.", "tr": "Listeler ve raporlar için kısa başlık."},
    "broadcast.opt.body": {
        "en": "Announcement text in Markdown (bold, italic, code, links, lists).",
        "tr": "Markdown biçiminde duyuru metni (kalın, italik, kod, bağlantı, liste).",
    },
    "broadcast.opt.body_file": {
        "en": "Read the announcement text from this file.",
        "tr": "Duyuru metnini bu dosyadan oku.",
    },
    "broadcast.opt.override": {
        "en": "Text for one platform instead of the body, as PLATFORM=TEXT (x, telegram, messenger, instagram). Repeatable.",
        "tr": "Bir platform için gövde yerine kullanılacak metin, PLATFORM=METİN biçiminde (x, telegram, messenger, instagram). Tekrarlanabilir.",
    },
    "broadcast.opt.image": {"en": "URL of an image to attach.", "tr": "Eklenecek görselin adresi."},
    "broadcast.opt.channel": {
        "en": "Telegram channel or group to post in (@username or numeric id). Repeatable.",
        "tr": "Paylaşım yapılacak Telegram kanalı veya grubu (@kullanıcıadı ya da sayısal kimlik). Tekrarlanabilir.",
    },
    "broadcast.opt.post": {
        "en": "Publish a post on x, facebook (the Page feed) or instagram (needs --image). Repeatable.",
        "tr": "x, facebook (Sayfa akışı) veya instagram'da (--image gerekir) gönderi paylaş. Tekrarlanabilir.",
    },
    "broadcast.opt.dm": {
        "en": "Send direct messages to contacts on this platform, or on all. Repeatable.",
        "tr": "Bu platformdaki veya tüm platformlardaki kişilere doğrudan mesaj gönder. Tekrarlanabilir.",
    },
    "broadcast.opt.tag": {
        "en": "Only contacts or conversations with this tag receive direct messages. Repeatable.",
        "tr": "Doğrudan mesajı yalnızca bu etikete sahip kişiler veya konuşmalar alır. Tekrarlanabilir.",
    },
    "broadcast.opt.segment": {
        "en": "Only contacts in this segment: recent:<days>d or language:<code>.",
        "tr": "Yalnızca bu kesimdeki kişiler: recent:<gün>d veya language:<kod>.",
    },
    "broadcast.opt.at": {
        "en": "When to send, as an ISO date and time; read in --tz unless it has an offset (default: now).",
        "tr": "Gönderim zamanı, ISO tarih ve saat olarak; farkı belirtilmezse --tz ile okunur (varsayılan: şimdi).",
    },
    "broadcast.opt.tz": {
        "en": "Time zone for --at, --expires and the times shown.",
        "tr": "--at, --expires ve gösterilen saatler için saat dilimi.",
    },
    "broadcast.opt.expires": {
        "en": "Never start sending after this time (default: 24 hours after --at).",
        "tr": "Bu saatten sonra gönderime hiç başlama (varsayılan: --at'ten 24 saat sonra).",
    },
    "broadcast.opt.expires_after": {
        "en": "Expiry as a duration after --at, like 90m, 6h or 2d.",
        "tr": "--at'ten sonraki süre olarak son geçerlilik, örneğin 90m, 6h veya 2d.",
    },
    "broadcast.opt.two_person": {
        "en": "Require approval by a second person before sending.",
        "tr": "Göndermeden önce ikinci bir kişinin onayını iste.",
    },
    "broadcast.opt.meta_tag": {
        "en": "Meta message tag for direct messages outside the 24-hour window, such as ACCOUNT_UPDATE.",
        "tr": "24 saatlik pencere dışındaki doğrudan mesajlar için Meta mesaj etiketi, örneğin ACCOUNT_UPDATE.",
    },
    "broadcast.opt.user": {
        "en": "Your name for the audit trail (default: SOCIALINBOX_USER, else the login name).",
        "tr": "Denetim kaydı için adınız (varsayılan: SOCIALINBOX_USER, yoksa oturum adı).",
    },
    "broadcast.opt.config": {
        "en": "Configuration file with the accounts to send through.",
        "tr": "Gönderimde kullanılacak hesapların bulunduğu yapılandırma dosyası.",
    },
    "broadcast.opt.wait": {
        "en": "Wait until the scheduled time instead of stopping.",
        "tr": "Durmak yerine planlanan zamana kadar bekle.",
    },
    "broadcast.opt.resend_unknown": {
        "en": "Send again the messages whose delivery is unknown after an interruption. Check those chats first.",
        "tr": "Kesinti sonrası iletimi bilinmeyen mesajları yeniden gönder. Önce bu sohbetleri kontrol edin.",
    },
    "broadcast.opt.retry_failed": {
        "en": "Send again the messages that failed.",
        "tr": "Başarısız olan mesajları yeniden gönder.",
    },
    "broadcast.opt.progress": {
        "en": "Show a progress bar on the terminal.",
        "tr": "Terminalde ilerleme çubuğu göster.",
    },
    "broadcast.opt.excluded": {
        "en": "List every excluded recipient with the reason.",
        "tr": "Dışarıda kalan her alıcıyı nedeniyle listele.",
    },
    "broadcast.created": {
        "en": "Announcement {id} created ({status}); scheduled for {at}, expires {expires}.",
        "tr": "{id} numaralı duyuru oluşturuldu ({status}); planlanan zaman {at}, son geçerlilik {expires}.",
    },
    "broadcast.needs_approval": {
        "en": "Another person must approve it: socialinbox broadcast approve {id}",
        "tr": "Başka bir kişinin onaylaması gerekiyor: socialinbox broadcast approve {id}",
    },
    "broadcast.approved": {
        "en": "Announcement {id} approved by {user}.",
        "tr": "{id} numaralı duyuru {user} tarafından onaylandı.",
    },
    "broadcast.cancelled": {
        "en": "Announcement {id} cancelled; {count} messages not sent.",
        "tr": "{id} numaralı duyuru iptal edildi; {count} mesaj gönderilmedi.",
    },
    "broadcast.no_targets": {
        "en": "no target given: use --channel, --post or --dm",
        "tr": "hedef verilmedi: --channel, --post veya --dm kullanın",
    },
    "broadcast.no_body": {
        "en": "no text given: use --body or --body-file",
        "tr": "metin verilmedi: --body veya --body-file kullanın",
    },
    "broadcast.bad_override": {
        "en": "invalid --override {value!r}: expected PLATFORM=TEXT with PLATFORM one of {platforms}",
        "tr": "geçersiz --override {value!r}: PLATFORM=METİN bekleniyor; PLATFORM şunlardan biri: {platforms}",
    },
    "broadcast.bad_time": {
        "en": "invalid time {value!r}: {detail}",
        "tr": "geçersiz zaman {value!r}: {detail}",
    },
    "broadcast.no_accounts": {
        "en": "no enabled account in the configuration; add [[accounts]] entries",
        "tr": "yapılandırmada etkin hesap yok; [[accounts]] kayıtları ekleyin",
    },
    "broadcast.waiting": {
        "en": "Waiting until {at} to send announcement {id}.",
        "tr": "{id} numaralı duyuruyu göndermek için {at} bekleniyor.",
    },
    "broadcast.progress": {"en": "Sending announcement {id}", "tr": "{id} numaralı duyuru gönderiliyor"},
    "broadcast.report": {
        "en": "Announcement {id}: {status}. Sent {sent}, failed {failed}, skipped {skipped}, unknown {unknown}, pending {pending}; {attempted} platform calls, {rate_limited} answered 429, {elapsed} s.",
        "tr": "{id} numaralı duyuru: {status}. Gönderilen {sent}, başarısız {failed}, atlanan {skipped}, bilinmeyen {unknown}, bekleyen {pending}; {attempted} platform çağrısı, {rate_limited} tanesi 429 yanıtı aldı, {elapsed} sn.",
    },
    "broadcast.unknown_hint": {
        "en": "{count} messages may or may not have been delivered. Check those chats, then run: socialinbox broadcast send {id} --resend-unknown",
        "tr": "{count} mesajın iletilip iletilmediği bilinmiyor. Bu sohbetleri kontrol edin, ardından çalıştırın: socialinbox broadcast send {id} --resend-unknown",
    },
    "broadcast.reconciled": {
        "en": "{count} messages interrupted by an earlier run were reconciled: {detail}.",
        "tr": "Önceki bir çalışmada yarıda kalan {count} mesaj uzlaştırıldı: {detail}.",
    },
    "broadcast.empty": {"en": "No announcements yet.", "tr": "Henüz duyuru yok."},
    "broadcast.errors": {
        "en": "The text cannot be sent as it is:",
        "tr": "Metin bu hâliyle gönderilemez:",
    },
    "broadcast.rendered": {
        "en": "{kind} on {platform}: {parts} message(s), {size} of {limit} {unit}",
        "tr": "{platform} üzerinde {kind}: {parts} mesaj, {size} / {limit} {unit}",
    },
    "broadcast.schedule": {
        "en": "Announcement {id} ({status}), scheduled for {at}, expires {expires}.",
        "tr": "{id} numaralı duyuru ({status}), planlanan zaman {at}, son geçerlilik {expires}.",
    },
    "broadcast.status.draft": {"en": "draft", "tr": "taslak"},
    "broadcast.status.approved": {"en": "approved", "tr": "onaylandı"},
    "broadcast.status.sending": {"en": "sending", "tr": "gönderiliyor"},
    "broadcast.status.done": {"en": "done", "tr": "tamamlandı"},
    "broadcast.status.cancelled": {"en": "cancelled", "tr": "iptal edildi"},
    "broadcast.status.expired": {"en": "expired", "tr": "süresi doldu"},
    "broadcast.col.target": {"en": "Target", "tr": "Hedef"},
    "broadcast.col.recipients": {"en": "Recipients", "tr": "Alıcılar"},
    "broadcast.col.excluded": {"en": "Excluded", "tr": "Dışarıda kalan"},
    "broadcast.col.title": {"en": "Title", "tr": "Başlık"},
    "broadcast.col.scheduled": {"en": "Scheduled", "tr": "Planlanan"},
    "broadcast.col.created_by": {"en": "Created by", "tr": "Oluşturan"},
    "broadcast.col.chat": {"en": "Chat", "tr": "Sohbet"},
    "broadcast.col.sent": {"en": "Sent", "tr": "Gönderilen"},
    "broadcast.col.failed": {"en": "Failed", "tr": "Başarısız"},
    "broadcast.col.skipped": {"en": "Skipped", "tr": "Atlanan"},
    "broadcast.col.unknown": {"en": "Unknown", "tr": "Bilinmeyen"},
    "broadcast.col.pending": {"en": "Pending", "tr": "Bekleyen"},
}
