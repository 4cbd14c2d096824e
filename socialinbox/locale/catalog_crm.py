"""Catalog entries of the CRM sinks and the ``outbox`` commands, in English and Turkish.

Merged into :data:`socialinbox.locale.catalog.CATALOG`; the structure is the same.
"""

from __future__ import annotations

CATALOG_CRM: dict[str, dict[str, str]] = {
    # -- outbox ---------------------------------------------------------------
    "outbox.help": {
        "en": "Inspect and re-drive the delivery of stored events to the CRM sinks.",
        "tr": "Kaydedilen olayların CRM hedeflerine iletimini incele ve yeniden başlat.",
    },
    "outbox.list.help": {
        "en": (
            "List deliveries per sink. Without --status, every delivery that is not "
            "delivered yet is listed."
        ),
        "tr": (
            "Hedef başına iletimleri listele. --status verilmezse henüz iletilmemiş "
            "tüm iletimler listelenir."
        ),
    },
    "outbox.opt.status": {
        "en": "Only deliveries in this state.",
        "tr": "Yalnızca bu durumdaki iletimler.",
    },
    "outbox.opt.sink": {
        "en": "Only deliveries to the sink with this name.",
        "tr": "Yalnızca bu adlı hedefe yapılan iletimler.",
    },
    "outbox.opt.limit": {
        "en": "Maximum number of rows to list.",
        "tr": "Listelenecek en fazla satır sayısı.",
    },
    "outbox.retry.help": {
        "en": (
            "Move dead letters back to pending, so the running daemon delivers them again "
            "with a fresh attempt count. Give outbox ids to retry only those."
        ),
        "tr": (
            "Teslim edilemeyenleri bekleyenlere geri taşı; çalışan servis bunları deneme "
            "sayacı sıfırlanmış olarak yeniden iletir. Yalnızca bazılarını denemek için "
            "outbox numaralarını verin."
        ),
    },
    "outbox.empty": {
        "en": "No deliveries match.",
        "tr": "Eşleşen iletim yok.",
    },
    "outbox.unassigned": {
        "en": "{count} stored events have not been picked up by any sink yet.",
        "tr": "Kaydedilen {count} olay henüz hiçbir hedef tarafından alınmadı.",
    },
    "outbox.retried": {
        "en": "{count} dead letters moved back to pending. The daemon delivers them on its next round.",
        "tr": "{count} teslim edilemeyen kayıt bekleyenlere geri taşındı. Servis bunları bir sonraki turda iletir.",
    },
    "outbox.retry.none": {
        "en": "No dead letters match. Run `socialinbox outbox list --status dead` to see them.",
        "tr": "Eşleşen teslim edilemeyen kayıt yok. Görmek için `socialinbox outbox list --status dead` çalıştırın.",
    },
    "col.outbox_id": {"en": "Outbox", "tr": "Outbox"},
    "col.sink": {"en": "Sink", "tr": "Hedef"},
    "col.kind": {"en": "Event", "tr": "Olay"},
    "col.attempts": {"en": "Attempts", "tr": "Deneme"},
    "col.next_attempt": {"en": "Next attempt", "tr": "Sonraki deneme"},
    "col.last_error": {"en": "Last error", "tr": "Son hata"},
    "delivery.pending": {"en": "pending", "tr": "bekliyor"},
    "delivery.in_flight": {"en": "in flight", "tr": "iletiliyor"},
    "delivery.failed": {"en": "failed, will retry", "tr": "başarısız, yeniden denenecek"},
    "delivery.dead": {"en": "dead letter", "tr": "teslim edilemedi"},
    "delivery.delivered": {"en": "delivered", "tr": "iletildi"},
    # -- notes the Chatwoot sink posts ------------------------------------------
    "chatwoot.note.edit": {
        "en": "Message {message_id} was edited. New text: {text}",
        "tr": "{message_id} numaralı mesaj düzenlendi. Yeni metin: {text}",
    },
    "chatwoot.note.edit_erased": {
        "en": "Message {message_id} was edited; its text is not kept because it was deleted.",
        "tr": "{message_id} numaralı mesaj düzenlendi; metni silindiği için saklanmadı.",
    },
    "chatwoot.note.delete": {
        "en": "Message {message_id} was deleted by its sender.",
        "tr": "{message_id} numaralı mesaj gönderen tarafından silindi.",
    },
    "chatwoot.note.reaction": {
        "en": "{actor} reacted {emojis} to message {message_id}.",
        "tr": "{actor}, {message_id} numaralı mesaja {emojis} tepkisi verdi.",
    },
    "chatwoot.note.reaction_removed": {
        "en": "{actor} removed their reaction to message {message_id}.",
        "tr": "{actor}, {message_id} numaralı mesajdaki tepkisini kaldırdı.",
    },
    "chatwoot.deleted_message": {
        "en": "(deleted message)",
        "tr": "(silinmiş mesaj)",
    },
    "chatwoot.no_text": {
        "en": "(message without text)",
        "tr": "(metinsiz mesaj)",
    },
}
