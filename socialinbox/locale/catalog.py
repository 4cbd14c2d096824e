"""Message catalog: every user-facing string, in English and Turkish side by side.

A test checks that every entry has both languages and the same placeholders.
"""

from __future__ import annotations

CATALOG: dict[str, dict[str, str]] = {
    # -- the command group ----------------------------------------------------
    "cli.help": {
        "en": "Direct messages from X, Messenger, Instagram and Telegram in one inbox.",
        "tr": "X, Messenger, Instagram ve Telegram'dan gelen doğrudan mesajlar tek bir gelen kutusunda.",
    },
    "opt.lang": {
        "en": "Language of the output: en or tr (default: SOCIALINBOX_LANG, then LANG).",
        "tr": "Çıktının dili: en veya tr (varsayılan: SOCIALINBOX_LANG, sonra LANG).",
    },
    "opt.database": {
        "en": "Database URL (default: SOCIALINBOX_DATABASE, else sqlite:///socialinbox.db).",
        "tr": "Veritabanı adresi (varsayılan: SOCIALINBOX_DATABASE, yoksa sqlite:///socialinbox.db).",
    },
    "opt.format": {
        "en": "Output format: text, json or csv.",
        "tr": "Çıktı biçimi: text, json veya csv.",
    },
    "opt.verbose": {
        "en": "Log progress to stderr (repeat for debug detail).",
        "tr": "İlerleme kayıtlarını stderr'e yaz (ayrıntı için tekrarlayın).",
    },
    # -- db -------------------------------------------------------------------
    "db.help": {"en": "Manage the database schema.", "tr": "Veritabanı şemasını yönet."},
    "db.upgrade.help": {
        "en": "Apply pending database migrations.",
        "tr": "Bekleyen veritabanı geçişlerini uygula.",
    },
    "db.upgrade.done": {
        "en": "Database at revision {after} (was {before}).",
        "tr": "Veritabanı {after} sürümünde (önceki: {before}).",
    },
    "db.upgrade.current": {
        "en": "Database already at the latest revision {revision}.",
        "tr": "Veritabanı zaten en son sürümde: {revision}.",
    },
    # -- replay ---------------------------------------------------------------
    "replay.help": {
        "en": (
            "Normalize recorded platform payloads (webhook bodies, API responses, "
            "JSON lines, vcr cassettes) and store them. Quarantined and ignored "
            "payloads are counted with their reasons."
        ),
        "tr": (
            "Kaydedilmiş platform verilerini (webhook gövdeleri, API yanıtları, "
            "JSON satırları, vcr kayıtları) normalleştirip kaydet. Karantinaya "
            "alınan ve yok sayılan veriler nedenleriyle sayılır."
        ),
    },
    "replay.opt.platform": {
        "en": "Platform of every file (default: the folder name, else the payload's shape).",
        "tr": "Tüm dosyaların platformu (varsayılan: klasör adı, yoksa verinin yapısı).",
    },
    "replay.opt.account": {
        "en": "Our account id for payloads that do not name it.",
        "tr": "Hesabı belirtmeyen veriler için kendi hesap kimliğimiz.",
    },
    "replay.none": {
        "en": "No readable payload files were given.",
        "tr": "Okunabilir veri dosyası verilmedi.",
    },
    "col.file": {"en": "File", "tr": "Dosya"},
    "col.platform": {"en": "Platform", "tr": "Platform"},
    "col.stored": {"en": "Stored", "tr": "Kaydedilen"},
    "col.duplicates": {"en": "Duplicates", "tr": "Yinelenen"},
    "col.events": {"en": "Events", "tr": "Olaylar"},
    "col.ignored": {"en": "Ignored", "tr": "Yok sayılan"},
    "col.quarantined": {"en": "Quarantined", "tr": "Karantinada"},
    "col.reasons": {"en": "Reasons", "tr": "Nedenler"},
    "col.total": {"en": "Total", "tr": "Toplam"},
    "col.id": {"en": "ID", "tr": "No"},
    "col.reason": {"en": "Reason", "tr": "Neden"},
    "col.location": {"en": "Source", "tr": "Kaynak"},
    "col.received": {"en": "Received", "tr": "Alındı"},
    "col.conversation": {"en": "Conversation", "tr": "Konuşma"},
    "col.contact": {"en": "Contact", "tr": "Kişi"},
    "col.last": {"en": "Last message", "tr": "Son mesaj"},
    "col.status": {"en": "Status", "tr": "Durum"},
    "col.text": {"en": "Text", "tr": "Metin"},
    "col.time": {"en": "Time", "tr": "Zaman"},
    "col.direction": {"en": "Direction", "tr": "Yön"},
    "unknown": {"en": "unknown", "tr": "bilinmiyor"},
    # -- quarantine -----------------------------------------------------------
    "quarantine.help": {
        "en": "Inspect payloads that could not be normalized.",
        "tr": "Normalleştirilemeyen verileri incele.",
    },
    "quarantine.list.help": {
        "en": "List quarantined payloads with their reasons.",
        "tr": "Karantinadaki verileri nedenleriyle listele.",
    },
    "quarantine.show.help": {
        "en": "Show one quarantined payload, raw bytes included.",
        "tr": "Karantinadaki bir veriyi ham baytlarıyla birlikte göster.",
    },
    "quarantine.empty": {"en": "The quarantine is empty.", "tr": "Karantina boş."},
    "quarantine.not_found": {
        "en": "No quarantined payload with id {entry_id}. Run `socialinbox quarantine list` to see the ids.",
        "tr": "{entry_id} numaralı karantina kaydı yok. Numaraları görmek için `socialinbox quarantine list` çalıştırın.",
    },
    # -- inbox (minimal until the moderator CLI lands) ------------------------
    "inbox.help": {
        "en": "List conversations, most recent first.",
        "tr": "Konuşmaları en yeniden başlayarak listele.",
    },
    "inbox.empty": {
        "en": "No conversations yet. Run `socialinbox demo` or `socialinbox replay FILE...` first.",
        "tr": "Henüz konuşma yok. Önce `socialinbox demo` veya `socialinbox replay DOSYA...` çalıştırın.",
    },
    "status.open": {"en": "open", "tr": "açık"},
    "status.closed": {"en": "closed", "tr": "kapalı"},
    "direction.inbound": {"en": "in", "tr": "gelen"},
    "direction.outbound": {"en": "out", "tr": "giden"},
    # -- errors ---------------------------------------------------------------
    "error.prefix": {"en": "Error: {message}", "tr": "Hata: {message}"},
    "error.config": {
        "en": "Invalid configuration: {detail}. Check --database or SOCIALINBOX_DATABASE.",
        "tr": "Geçersiz yapılandırma: {detail}. --database veya SOCIALINBOX_DATABASE değerini kontrol edin.",
    },
    "error.store": {
        "en": "The database could not be used: {detail}. Run `socialinbox db upgrade` or check the URL.",
        "tr": "Veritabanı kullanılamadı: {detail}. `socialinbox db upgrade` çalıştırın veya adresi kontrol edin.",
    },
    "error.usage": {
        "en": "{detail}. Run `socialinbox --help` for usage.",
        "tr": "{detail}. Kullanım için `socialinbox --help` çalıştırın.",
    },
}
