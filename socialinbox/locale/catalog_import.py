"""Catalog entries of the ``import`` command, in English and Turkish.

Merged into :data:`socialinbox.locale.catalog.CATALOG`; the structure is the same.
"""

from __future__ import annotations

CATALOG_IMPORT: dict[str, dict[str, str]] = {
    "import.help": {
        "en": (
            "Import message history from platform data exports: an X archive "
            '(direct-messages.js), Messenger or Instagram "Download your information" '
            "files (message_1.json, ...) and Telegram Desktop exports (result.json). "
            "PATH may be a file, a folder or a zip file. Importing the same export "
            "again stores nothing new."
        ),
        "tr": (
            "Platformların veri dışa aktarımlarından mesaj geçmişini içe aktar: X arşivi "
            '(direct-messages.js), Messenger veya Instagram "Bilgilerini indir" '
            "dosyaları (message_1.json, ...) ve Telegram Desktop dışa aktarımları "
            "(result.json). PATH bir dosya, klasör veya zip dosyası olabilir. Aynı dışa "
            "aktarımı yeniden içe aktarmak yeni bir şey kaydetmez."
        ),
    },
    "import.opt.account": {
        "en": (
            "Our account id for the imported keys (default: the X archive owner's "
            'user id, else "default"). Use the id the live adapter uses, so the '
            "same message is not stored twice."
        ),
        "tr": (
            "İçe aktarılan anahtarlar için kendi hesap kimliğimiz (varsayılan: X arşivi "
            'sahibinin kullanıcı kimliği, yoksa "default"). Aynı mesajın iki kez '
            "kaydedilmemesi için canlı bağdaştırıcının kullandığı kimliği verin."
        ),
    },
    "import.opt.platform": {
        "en": (
            "Import only files of this platform. Also marks Meta thread files as "
            "messenger or instagram when their path does not tell."
        ),
        "tr": (
            "Yalnızca bu platformun dosyalarını içe aktar. Yolu belli etmeyen Meta "
            "konuşma dosyalarını da messenger veya instagram olarak işaretler."
        ),
    },
    "import.opt.owner": {
        "en": (
            "Your display name in Messenger and Instagram exports, so your messages "
            "are outbound (default: the profile file of the export, else the other "
            "name in a one-to-one thread's title)."
        ),
        "tr": (
            "Messenger ve Instagram dışa aktarımlarındaki görünen adınız; mesajlarınız "
            "giden olarak işaretlenir (varsayılan: dışa aktarımın profil dosyası, yoksa "
            "bire bir konuşma başlığındaki diğer ad)."
        ),
    },
    "import.opt.push": {
        "en": (
            "Also send the imported messages and events to the CRM sinks. Without it "
            "the history is only stored."
        ),
        "tr": (
            "İçe aktarılan mesaj ve olayları CRM hedeflerine de gönder. Bu seçenek "
            "olmadan geçmiş yalnızca kaydedilir."
        ),
    },
    "import.reading": {"en": "Importing", "tr": "İçe aktarılıyor"},
    "import.progress": {
        "en": "{stored} stored, {duplicates} duplicates, {quarantined} quarantined",
        "tr": "{stored} kaydedildi, {duplicates} yinelenen, {quarantined} karantinada",
    },
    "import.summary": {
        "en": (
            "Imported {files} files: {stored} new messages, {duplicates} already stored, "
            "{events} new events."
        ),
        "tr": (
            "{files} dosya içe aktarıldı: {stored} yeni mesaj, {duplicates} zaten kayıtlı, "
            "{events} yeni olay."
        ),
    },
    "import.quarantined": {
        "en": (
            "{count} parts could not be read and are in quarantine. Run "
            "`socialinbox quarantine list` to see the file and position of each."
        ),
        "tr": (
            "{count} parça okunamadı ve karantinada. Her birinin dosyasını ve konumunu "
            "görmek için `socialinbox quarantine list` çalıştırın."
        ),
    },
    "import.not_pushed": {
        "en": "Nothing was sent to the CRM sinks; use --push to send the history too.",
        "tr": "CRM hedeflerine hiçbir şey gönderilmedi; geçmişi de göndermek için --push kullanın.",
    },
    "import.pushed": {
        "en": "{count} new messages and events are queued for the CRM sinks.",
        "tr": "{count} yeni mesaj ve olay CRM hedefleri için sıraya alındı.",
    },
    "col.format": {"en": "Format", "tr": "Biçim"},
}
