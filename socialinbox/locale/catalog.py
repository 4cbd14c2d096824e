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
    "status.open": {"en": "open", "tr": "açık"},
    "status.closed": {"en": "closed", "tr": "kapalı"},
    "direction.inbound": {"en": "in", "tr": "gelen"},
    "direction.outbound": {"en": "out", "tr": "giden"},
    # -- demo -----------------------------------------------------------------
    "demo.help": {
        "en": (
            "Run the main job on embedded sample data: platform emulators and a Chatwoot "
            "emulator on 127.0.0.1, the daemon, SQLite and the CRM sinks. Prints the inbox "
            "and a summary. Reaches no address but 127.0.0.1."
        ),
        "tr": (
            "Ana işi gömülü örnek verilerle çalıştır: 127.0.0.1 üzerinde platform ve Chatwoot "
            "öykünücüleri, servis, SQLite ve CRM hedefleri. Gelen kutusunu ve bir özet yazdırır. "
            "127.0.0.1 dışında hiçbir adrese bağlanmaz."
        ),
    },
    "demo.opt.follow": {
        "en": "Keep running after the sample is processed, until Ctrl-C.",
        "tr": "Örnek işlendikten sonra Ctrl-C'ye kadar çalışmaya devam et.",
    },
    "demo.opt.load": {
        "en": "Also preload the emulators with a recorded payload file (repeatable); the folder name tells the platform.",
        "tr": "Öykünücülere kaydedilmiş bir veri dosyasını da yükle (tekrarlanabilir); platformu klasör adı belirler.",
    },
    "demo.opt.timeout": {
        "en": "Seconds to wait for the backlog to be processed.",
        "tr": "Birikmiş işlerin işlenmesi için beklenecek saniye.",
    },
    "demo.starting": {
        "en": "Starting the Telegram, X, Messenger/Instagram and Chatwoot emulators on 127.0.0.1 and the daemon...",
        "tr": "Telegram, X, Messenger/Instagram ve Chatwoot öykünücüleri 127.0.0.1 üzerinde, ardından servis başlatılıyor...",
    },
    "demo.following": {
        "en": "Running until Ctrl-C.",
        "tr": "Ctrl-C'ye basılana kadar çalışıyor.",
    },
    "demo.inbox_title": {"en": "Inbox", "tr": "Gelen kutusu"},
    "demo.summary_title": {"en": "Summary per platform", "tr": "Platform özeti"},
    "demo.chatwoot": {
        "en": "Chatwoot emulator: {contacts} contacts, {conversations} conversations, {messages} messages (store: {stored}), {notes} notes for edits, deletions and reactions.",
        "tr": "Chatwoot öykünücüsü: {contacts} kişi, {conversations} konuşma, {messages} mesaj (veritabanında: {stored}), düzenleme, silme ve tepkiler için {notes} not.",
    },
    "demo.jsonl": {
        "en": "JSON lines sink: {lines} events in {path}",
        "tr": "JSON satırları hedefi: {path} dosyasında {lines} olay",
    },
    "demo.skipped": {
        "en": "Not loaded: {location}: {reason}",
        "tr": "Yüklenmedi: {location}: {reason}",
    },
    "demo.database": {
        "en": "Database: {url}\nExplore it with: socialinbox --database {url} inbox",
        "tr": "Veritabanı: {url}\nİncelemek için: socialinbox --database {url} inbox",
    },
    "demo.ok": {
        "en": "OK: every sample message is stored once ({stored} messages) and Chatwoot holds the same.",
        "tr": "Tamam: her örnek mesaj bir kez kaydedildi ({stored} mesaj) ve Chatwoot'ta da aynısı var.",
    },
    "demo.incomplete": {
        "en": "Incomplete: not every sample message was stored and delivered in time. Run with -v to see the log, or raise --timeout.",
        "tr": "Eksik: her örnek mesaj zamanında kaydedilip iletilemedi. Kayıtları görmek için -v ile çalıştırın veya --timeout değerini artırın.",
    },
    "col.messages": {"en": "Messages", "tr": "Mesaj"},
    "col.last_text": {"en": "Last message", "tr": "Son mesaj"},
    "col.expected": {"en": "In sample", "tr": "Örnekte"},
    "col.conversations": {"en": "Conversations", "tr": "Konuşma"},
    # -- daemon and accounts -------------------------------------------------------
    "opt.config": {
        "en": "Settings file (default: SOCIALINBOX_CONFIG, else ./socialinbox.toml when present).",
        "tr": "Ayar dosyası (varsayılan: SOCIALINBOX_CONFIG, yoksa varsa ./socialinbox.toml).",
    },
    "daemon.help": {
        "en": (
            "Run the polling daemon: one loop per account, outbox delivery to the sinks, and an "
            "HTTP server for webhooks, /healthz and /metrics. Stops cleanly on SIGTERM or Ctrl-C."
        ),
        "tr": (
            "Sorgulama servisini çalıştır: her hesap için bir döngü, CRM hedeflerine iletim ve "
            "webhook, /healthz ile /metrics için bir HTTP sunucusu. SIGTERM veya Ctrl-C ile düzgünce durur."
        ),
    },
    "daemon.opt.log_format": {
        "en": "Log line format: text or json (default: daemon.log_format in the settings).",
        "tr": "Kayıt satırı biçimi: text veya json (varsayılan: ayarlardaki daemon.log_format).",
    },
    "accounts.help": {
        "en": "List the configured accounts.",
        "tr": "Yapılandırılmış hesapları listele.",
    },
    "accounts.check.help": {
        "en": "Validate the settings and probe each account once, without storing anything. Exits 1 when an account is not ok.",
        "tr": "Ayarları doğrula ve her hesabı hiçbir şey kaydetmeden bir kez dene. Sorunlu hesap varsa 1 ile çıkar.",
    },
    "accounts.none": {
        "en": "No accounts are configured. Write socialinbox.toml (see docs/configuration.md) or pass --config FILE.",
        "tr": "Yapılandırılmış hesap yok. socialinbox.toml dosyasını yazın (bkz. docs/configuration.md) veya --config DOSYA verin.",
    },
    "kind.text": {"en": "text", "tr": "metin"},
    "kind.media": {"en": "media", "tr": "medya"},
    "kind.sticker": {"en": "sticker", "tr": "çıkartma"},
    "kind.share": {"en": "shared post", "tr": "paylaşılan gönderi"},
    "kind.story_mention": {"en": "story mention", "tr": "hikâyede bahsetme"},
    "kind.location": {"en": "location", "tr": "konum"},
    "kind.contact_card": {"en": "contact card", "tr": "kişi kartı"},
    "kind.poll": {"en": "poll", "tr": "anket"},
    "kind.service": {"en": "service message", "tr": "hizmet mesajı"},
    "kind.unsupported": {
        "en": "content the platform does not deliver to the API",
        "tr": "platformun API'ye iletmediği içerik",
    },
    "col.account": {"en": "Account", "tr": "Hesap"},
    "col.enabled": {"en": "Enabled", "tr": "Etkin"},
    "col.poll_interval": {"en": "Poll interval (s)", "tr": "Sorgulama aralığı (sn)"},
    "col.health": {"en": "Health", "tr": "Durum"},
    "col.detail": {"en": "Detail", "tr": "Ayrıntı"},
    "yes": {"en": "yes", "tr": "evet"},
    "no": {"en": "no", "tr": "hayır"},
    # -- errors ---------------------------------------------------------------
    "error.prefix": {"en": "Error: {message}", "tr": "Hata: {message}"},
    "error.config": {
        "en": "Invalid configuration: {detail}. Fix the settings file (socialinbox.toml or --config), the SOCIALINBOX_* variables or --database.",
        "tr": "Geçersiz yapılandırma: {detail}. Ayar dosyasını (socialinbox.toml veya --config), SOCIALINBOX_* değişkenlerini ya da --database değerini düzeltin.",
    },
    "error.store": {
        "en": "The database could not be used: {detail}. Check --database, SOCIALINBOX_DATABASE or the settings file, or run `socialinbox db upgrade` to create or migrate it.",
        "tr": "Veritabanı kullanılamadı: {detail}. --database, SOCIALINBOX_DATABASE veya ayar dosyasını kontrol edin ya da oluşturmak veya güncellemek için `socialinbox db upgrade` çalıştırın.",
    },
    "error.usage": {
        "en": "{detail}. Run `socialinbox --help` for usage.",
        "tr": "{detail}. Kullanım için `socialinbox --help` çalıştırın.",
    },
}


# Feature catalogs that live next to their feature, merged below so that a
# lookup never depends on which module was imported first.
_PARTS = ("catalog_crm", "catalog_moderation", "catalog_broadcast", "catalog_import")


def _merge() -> None:
    import importlib

    for name in _PARTS:
        try:
            module = importlib.import_module(f"socialinbox.locale.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"socialinbox.locale.{name}":
                raise
            continue
        part: dict[str, dict[str, str]] = next(
            value for key, value in vars(module).items() if key.startswith("CATALOG_")
        )
        overlap = set(CATALOG) & set(part)
        if overlap:
            raise RuntimeError(f"catalog keys defined twice: {sorted(overlap)}")
        CATALOG.update(part)


_merge()
