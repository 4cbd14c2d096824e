"""Messages of the moderator commands, in English and Turkish side by side."""

from __future__ import annotations

CATALOG_MODERATION: dict[str, dict[str, str]] = {
    # -- shared -----------------------------------------------------------------
    "mod.opt.moderator": {
        "en": "Your moderator name, recorded with views, replies, notes and links (default: SOCIALINBOX_MODERATOR, else the login name).",
        "tr": "Görüntüleme, yanıt, not ve bağlantılarla kaydedilen moderatör adınız (varsayılan: SOCIALINBOX_MODERATOR, yoksa oturum adı).",
    },
    "mod.opt.templates": {
        "en": "Folder of reply templates (default: SOCIALINBOX_TEMPLATES, else the starter set).",
        "tr": "Yanıt şablonlarının klasörü (varsayılan: SOCIALINBOX_TEMPLATES, yoksa başlangıç seti).",
    },
    "mod.conversation_not_found": {
        "en": "Conversation {conversation} not found. Run `socialinbox inbox` to see the numbers.",
        "tr": "{conversation} konuşması bulunamadı. Numaraları görmek için `socialinbox inbox` çalıştırın.",
    },
    "mod.bad_since": {
        "en": "Invalid time {value}: use a date such as 2026-05-04, or 30m, 12h or 7d.",
        "tr": "Geçersiz zaman {value}: 2026-05-04 gibi bir tarih ya da 30m, 12h veya 7d kullanın.",
    },
    "col.number": {"en": "No.", "tr": "No"},
    "col.last_at": {"en": "Last activity", "tr": "Son hareket"},
    "col.assignee": {"en": "Assignee", "tr": "Atanan"},
    "col.priority": {"en": "Priority", "tr": "Öncelik"},
    "col.tags": {"en": "Tags", "tr": "Etiketler"},
    "col.linked_by": {"en": "Linked by", "tr": "Bağlayan"},
    "col.name": {"en": "Name", "tr": "Ad"},
    "col.title": {"en": "Title", "tr": "Başlık"},
    "col.languages": {"en": "Languages", "tr": "Diller"},
    "col.variables": {"en": "Variables", "tr": "Değişkenler"},
    "col.rule": {"en": "Rule", "tr": "Kural"},
    "col.why": {"en": "Why", "tr": "Neden"},
    "col.actions": {"en": "Actions", "tr": "Eylemler"},
    "col.count": {"en": "Count", "tr": "Adet"},
    "col.examples": {"en": "Examples", "tr": "Örnekler"},
    "col.template": {"en": "Template", "tr": "Şablon"},
    "col.day": {"en": "Day", "tr": "Gün"},
    "col.inbound": {"en": "Inbound", "tr": "Gelen"},
    "col.outbound": {"en": "Outbound", "tr": "Giden"},
    "contact_status.active": {"en": "active", "tr": "etkin"},
    "contact_status.blocked_us": {
        "en": "the contact blocked this account",
        "tr": "kişi bu hesabı engelledi",
    },
    "contact_status.message_request": {
        "en": "message request not accepted yet",
        "tr": "mesaj isteği henüz kabul edilmedi",
    },
    "contact_status.opted_out": {
        "en": "the contact opted out of messages",
        "tr": "kişi mesaj almayı reddetti",
    },
    "unit.characters": {"en": "characters", "tr": "karakter"},
    "unit.bytes": {"en": "bytes", "tr": "bayt"},
    # -- inbox ------------------------------------------------------------------
    "inbox.help": {
        "en": "List conversations, highest priority and most recent first. Spam and hidden ones are left out unless --all or --tag names them.",
        "tr": "Konuşmaları önce en yüksek öncelikli ve en yeni olanlar gelecek şekilde listele. Spam ve gizlenenler, --all veya --tag ile istenmedikçe gösterilmez.",
    },
    "inbox.opt.platform": {"en": "Only this platform.", "tr": "Yalnızca bu platform."},
    "inbox.opt.status": {
        "en": "Only open or closed conversations.",
        "tr": "Yalnızca açık veya kapalı konuşmalar.",
    },
    "inbox.opt.tag": {
        "en": "Only conversations with this tag.",
        "tr": "Yalnızca bu etiketi taşıyan konuşmalar.",
    },
    "inbox.opt.assignee": {
        "en": "Only conversations assigned to this moderator or queue (queue:NAME).",
        "tr": "Yalnızca bu moderatöre veya kuyruğa (queue:AD) atanmış konuşmalar.",
    },
    "inbox.opt.since": {
        "en": "Only conversations active since this date, or within 30m, 12h, 7d.",
        "tr": "Yalnızca bu tarihten beri ya da son 30m, 12h, 7d içinde hareketli konuşmalar.",
    },
    "inbox.opt.search": {
        "en": "Only conversations with a message containing this text; case, Turkish I and diacritics are ignored (cekim finds ÇEKİM).",
        "tr": "Yalnızca bu metni içeren bir mesajı olan konuşmalar; büyük/küçük harf, Türkçe I ve aksanlar dikkate alınmaz (cekim, ÇEKİM'i bulur).",
    },
    "inbox.opt.all": {
        "en": "Include spam and hidden conversations.",
        "tr": "Spam ve gizlenen konuşmaları da göster.",
    },
    "inbox.opt.limit": {
        "en": "Maximum number of conversations to list.",
        "tr": "Listelenecek en fazla konuşma sayısı.",
    },
    "inbox.empty": {
        "en": "No conversations yet. Run `socialinbox demo` or `socialinbox replay FILE...` first.",
        "tr": "Henüz konuşma yok. Önce `socialinbox demo` veya `socialinbox replay DOSYA...` çalıştırın.",
    },
    "inbox.empty_filtered": {
        "en": "No conversation matches these filters. Run `socialinbox inbox --all` to see every conversation.",
        "tr": "Bu filtrelere uyan konuşma yok. Tüm konuşmaları görmek için `socialinbox inbox --all` çalıştırın.",
    },
    # -- show -------------------------------------------------------------------
    "show.help": {
        "en": "Show a conversation (by number or PLATFORM:ACCOUNT:CHAT) with attachments, edits, reactions and notes, and record that you saw it.",
        "tr": "Bir konuşmayı (numarası veya PLATFORM:HESAP:SOHBET ile) ekleri, düzenlemeleri, tepkileri ve notlarıyla göster ve gördüğünüzü kaydet.",
    },
    "show.header": {
        "en": "Conversation {number} ({conversation}) on {platform}",
        "tr": "{platform} üzerindeki {number} numaralı konuşma ({conversation})",
    },
    "show.contact": {"en": "Contact: {name} [{contact}]", "tr": "Kişi: {name} [{contact}]"},
    "show.state": {
        "en": "Status: {status} | Assignee: {assignee} | Priority: {priority} | Tags: {tags}",
        "tr": "Durum: {status} | Atanan: {assignee} | Öncelik: {priority} | Etiketler: {tags}",
    },
    "show.contact_status": {
        "en": "Warning: {status}; replies are refused.",
        "tr": "Uyarı: {status}; yanıtlar reddedilir.",
    },
    "show.deleted": {"en": "(deleted by the sender)", "tr": "(gönderen tarafından silindi)"},
    "show.attachment": {
        "en": "attachment: {type} {name} ({status})",
        "tr": "ek: {type} {name} ({status})",
    },
    "show.edited": {"en": "edited {count} time(s):", "tr": "{count} kez düzenlendi:"},
    "show.original": {"en": "original: {text}", "tr": "ilk hali: {text}"},
    "show.revision": {"en": "edit at {at}: {text}", "tr": "{at} düzenlemesi: {text}"},
    "show.reaction": {"en": "reaction by {actor}: {emojis}", "tr": "{actor} tepkisi: {emojis}"},
    "show.note": {"en": "Note by {author} at {at}: {text}", "tr": "{author} notu ({at}): {text}"},
    # -- reply ------------------------------------------------------------------
    "reply.help": {
        "en": "Send TEXT, or a template with --template, to a conversation. Refused when the contact cannot be messaged, or when a message or another reply arrived since you last ran `show` (unless --force).",
        "tr": "Bir konuşmaya METİN veya --template ile bir şablon gönder. Kişiye mesaj gönderilemiyorsa ya da son `show` komutunuzdan sonra yeni bir mesaj veya başka bir yanıt geldiyse reddedilir (--force verilmedikçe).",
    },
    "reply.opt.template": {
        "en": "Name of the template to send (see `socialinbox templates list`).",
        "tr": "Gönderilecek şablonun adı (bkz. `socialinbox templates list`).",
    },
    "reply.opt.var": {
        "en": "A template variable as NAME=VALUE (repeatable); first_name and name are filled in from the contact.",
        "tr": "AD=DEĞER biçiminde bir şablon değişkeni (tekrarlanabilir); first_name ve name kişiden doldurulur.",
    },
    "reply.opt.template_lang": {
        "en": "Language of the template text (default: the contact's language, else the conversation's).",
        "tr": "Şablon metninin dili (varsayılan: kişinin dili, yoksa konuşmanın dili).",
    },
    "reply.opt.force": {
        "en": "Send even if the conversation changed since you last looked at it.",
        "tr": "Konuşma son bakışınızdan sonra değişmiş olsa da gönder.",
    },
    "reply.opt.human_agent": {
        "en": "Messenger and Instagram: send with the HUMAN_AGENT tag, allowed up to 7 days after the contact's last message.",
        "tr": "Messenger ve Instagram: kişinin son mesajından sonraki 7 güne kadar izin verilen HUMAN_AGENT etiketiyle gönder.",
    },
    "reply.text_or_template": {
        "en": "Give either TEXT or --template NAME, not both and not neither. Run `socialinbox reply --help` for usage.",
        "tr": "Ya METİN ya da --template AD verin; ikisini birden veya hiçbirini değil. Kullanım için `socialinbox reply --help` çalıştırın.",
    },
    "reply.bad_var": {
        "en": "Invalid variable {value}: expected NAME=VALUE.",
        "tr": "Geçersiz değişken {value}: AD=DEĞER bekleniyordu.",
    },
    "reply.not_viewed": {
        "en": "You have not opened conversation {conversation} yet. Run `socialinbox show {conversation}` first, or add --force.",
        "tr": "{conversation} numaralı konuşmayı henüz açmadınız. Önce `socialinbox show {conversation}` çalıştırın veya --force ekleyin.",
    },
    "reply.changed": {
        "en": "Conversation {conversation} changed since you last looked: {inbound} new message(s) from the contact, {replies} other reply(ies). Run `socialinbox show {conversation}` to read them, or add --force.",
        "tr": "{conversation} numaralı konuşma son bakışınızdan sonra değişti: kişiden {inbound} yeni mesaj, {replies} başka yanıt. Okumak için `socialinbox show {conversation}` çalıştırın veya --force ekleyin.",
    },
    "reply.refused_blocked": {
        "en": "Not sent: the contact of conversation {conversation} blocked this account, so no message can reach them. Run `socialinbox note {conversation} TEXT` to record it, or `socialinbox close {conversation}`.",
        "tr": "Gönderilmedi: {conversation} numaralı konuşmadaki kişi bu hesabı engelledi, hiçbir mesaj ulaşamaz. Bunu kaydetmek için `socialinbox note {conversation} METİN` veya `socialinbox close {conversation}` çalıştırın.",
    },
    "reply.refused_opted_out": {
        "en": "Not sent: the contact of conversation {conversation} opted out of messages. Run `socialinbox close {conversation}` if nothing else is needed.",
        "tr": "Gönderilmedi: {conversation} numaralı konuşmadaki kişi mesaj almayı reddetti. Başka işlem gerekmiyorsa `socialinbox close {conversation}` çalıştırın.",
    },
    "reply.refused_window": {
        "en": "Not sent: {platform} allows free replies only within {hours} hours of the contact's last message, and that window has closed. Allowed instead: {allowed}.",
        "tr": "Gönderilmedi: {platform}, kişinin son mesajından sonraki {hours} saat içinde serbest yanıta izin verir ve bu süre doldu. Bunun yerine yapılabilecekler: {allowed}.",
    },
    "reply.allowed_human_agent": {
        "en": "a reply written by you with --human-agent until {until}",
        "tr": "{until} tarihine kadar --human-agent ile kendi yazdığınız bir yanıt",
    },
    "reply.allowed_wait": {
        "en": "waiting for the contact to write again",
        "tr": "kişinin yeniden yazmasını beklemek",
    },
    "reply.refused_length": {
        "en": "Not sent: the text is longer than the platform limit of {limit} {unit}. Shorten it or send it in parts.",
        "tr": "Gönderilmedi: metin platformun {limit} {unit} sınırından uzun. Kısaltın veya parçalara bölerek gönderin.",
    },
    "reply.refused_platform": {
        "en": "Not sent: the platform refused the message ({detail}). Allowed instead: {allowed}.",
        "tr": "Gönderilmedi: platform mesajı reddetti ({detail}). Bunun yerine yapılabilecek: {allowed}.",
    },
    "reply.failed": {
        "en": "Sending failed: {detail}. Nothing was sent; run `socialinbox show {conversation}` and try again.",
        "tr": "Gönderim başarısız: {detail}. Hiçbir şey gönderilmedi; `socialinbox show {conversation}` çalıştırıp yeniden deneyin.",
    },
    "reply.unknown": {
        "en": "The send did not complete ({detail}); the message may have gone out. Run `socialinbox show {conversation}` before trying again.",
        "tr": "Gönderim tamamlanamadı ({detail}); mesaj gitmiş olabilir. Yeniden denemeden önce `socialinbox show {conversation}` çalıştırın.",
    },
    "reply.no_account": {
        "en": "No enabled {platform} account {account} in the settings. Add it to socialinbox.toml or pass --config FILE.",
        "tr": "Ayarlarda etkin bir {platform} hesabı {account} yok. socialinbox.toml dosyasına ekleyin veya --config DOSYA verin.",
    },
    "reply.sent": {
        "en": "Sent to conversation {conversation} (platform message ids: {ids}).",
        "tr": "{conversation} numaralı konuşmaya gönderildi (platform mesaj kimlikleri: {ids}).",
    },
    # -- workflow state ---------------------------------------------------------
    "assign.help": {
        "en": "Assign a conversation to a moderator or a queue (queue:NAME), or clear it with --none.",
        "tr": "Bir konuşmayı bir moderatöre veya kuyruğa (queue:AD) ata ya da --none ile atamayı kaldır.",
    },
    "assign.opt.none": {"en": "Remove the assignment.", "tr": "Atamayı kaldır."},
    "assign.usage": {
        "en": "Give either an ASSIGNEE or --none. Run `socialinbox assign --help` for usage.",
        "tr": "Ya bir ATANAN ya da --none verin. Kullanım için `socialinbox assign --help` çalıştırın.",
    },
    "assign.done": {
        "en": "Conversation {conversation} assigned to {assignee}.",
        "tr": "{conversation} numaralı konuşma {assignee} adına atandı.",
    },
    "assign.cleared": {
        "en": "Conversation {conversation} is unassigned.",
        "tr": "{conversation} numaralı konuşmanın ataması kaldırıldı.",
    },
    "tag.help": {
        "en": "Add tags to a conversation, or remove them with --remove.",
        "tr": "Bir konuşmaya etiket ekle veya --remove ile kaldır.",
    },
    "tag.opt.remove": {
        "en": "Remove the given tags instead of adding them.",
        "tr": "Verilen etiketleri eklemek yerine kaldır.",
    },
    "tag.done": {
        "en": "Conversation {conversation} tags: {tags}",
        "tr": "{conversation} numaralı konuşmanın etiketleri: {tags}",
    },
    "close.help": {"en": "Close a conversation.", "tr": "Bir konuşmayı kapat."},
    "close.done": {
        "en": "Conversation {conversation} closed. Run `socialinbox reopen {conversation}` to undo.",
        "tr": "{conversation} numaralı konuşma kapatıldı. Geri almak için `socialinbox reopen {conversation}` çalıştırın.",
    },
    "reopen.help": {
        "en": "Reopen a closed conversation.",
        "tr": "Kapalı bir konuşmayı yeniden aç.",
    },
    "reopen.done": {
        "en": "Conversation {conversation} is open again.",
        "tr": "{conversation} numaralı konuşma yeniden açıldı.",
    },
    "note.help": {
        "en": "Add an internal note to a conversation; the contact never sees it.",
        "tr": "Bir konuşmaya iç not ekle; kişi bu notu hiçbir zaman görmez.",
    },
    "note.done": {
        "en": "Note added to conversation {conversation}.",
        "tr": "{conversation} numaralı konuşmaya not eklendi.",
    },
    # -- contacts ---------------------------------------------------------------
    "contact.help": {
        "en": "Link a person's contacts on different platforms, or undo a link; contacts are PLATFORM:ACCOUNT:USER.",
        "tr": "Bir kişinin farklı platformlardaki hesaplarını bağla veya bağlantıyı geri al; kişiler PLATFORM:HESAP:KULLANICI biçimindedir.",
    },
    "contact.link.help": {
        "en": "Record that two contacts are the same person, with who and why.",
        "tr": "İki hesabın aynı kişiye ait olduğunu, kimin ve neden bağladığıyla birlikte kaydet.",
    },
    "contact.unlink.help": {
        "en": "Undo a link; the link stays in the history with who and why.",
        "tr": "Bir bağlantıyı geri al; bağlantı, kimin ve neden kaldırdığıyla geçmişte kalır.",
    },
    "contact.show.help": {
        "en": "List the contacts linked to a contact.",
        "tr": "Bir kişiye bağlı hesapları listele.",
    },
    "contact.opt.reason": {
        "en": "Why, for the history (required).",
        "tr": "Geçmiş için neden (zorunlu).",
    },
    "contact.not_found": {
        "en": "Contact {contact} not found. Run `socialinbox show CONV` to see a conversation's contact.",
        "tr": "{contact} kişisi bulunamadı. Bir konuşmanın kişisini görmek için `socialinbox show KONUŞMA` çalıştırın.",
    },
    "contact.linked": {
        "en": "Linked {first} and {second}.",
        "tr": "{first} ile {second} bağlandı.",
    },
    "contact.already_linked": {
        "en": "{first} and {second} are already linked.",
        "tr": "{first} ile {second} zaten bağlı.",
    },
    "contact.unlinked": {
        "en": "Unlinked {first} and {second}.",
        "tr": "{first} ile {second} arasındaki bağlantı kaldırıldı.",
    },
    "contact.not_linked": {
        "en": "{first} and {second} are not linked. Run `socialinbox contact show {first}` to see its links.",
        "tr": "{first} ile {second} bağlı değil. Bağlantılarını görmek için `socialinbox contact show {first}` çalıştırın.",
    },
    "contact.no_links": {
        "en": "{contact} has no linked contacts.",
        "tr": "{contact} kişisine bağlı hesap yok.",
    },
    "erase.help": {
        "en": "Erase what the store holds about a contact (PLATFORM:ACCOUNT:USER): profile, message texts, attachments and raw payloads, edits, reactions, notes and links. Keys and times stay for statistics.",
        "tr": "Veritabanında bir kişiye (PLATFORM:HESAP:KULLANICI) ait bilgileri sil: profil, mesaj metinleri, ekler ve ham veriler, düzenlemeler, tepkiler, notlar ve bağlantılar. İstatistikler için anahtarlar ve zamanlar kalır.",
    },
    "erase.opt.yes": {
        "en": "Confirm the erasure; it cannot be undone.",
        "tr": "Silmeyi onayla; geri alınamaz.",
    },
    "erase.confirm": {
        "en": "Erasing {contact} cannot be undone. Run the command again with --yes to confirm.",
        "tr": "{contact} kişisinin silinmesi geri alınamaz. Onaylamak için komutu --yes ile yeniden çalıştırın.",
    },
    "erase.done": {
        "en": "Erased {contact}: {messages} messages, {revisions} edits, {events} events, {reactions} reactions, {notes} notes, {links} links.",
        "tr": "{contact} silindi: {messages} mesaj, {revisions} düzenleme, {events} olay, {reactions} tepki, {notes} not, {links} bağlantı.",
    },
    # -- templates --------------------------------------------------------------
    "templates.help": {
        "en": "Canned replies in Turkish and English.",
        "tr": "Türkçe ve İngilizce hazır yanıtlar.",
    },
    "templates.list.help": {"en": "List the reply templates.", "tr": "Yanıt şablonlarını listele."},
    "templates.show.help": {
        "en": "Show a template's text; variables without a --var value are shown as placeholders.",
        "tr": "Bir şablonun metnini göster; --var ile değer verilmeyen değişkenler yer tutucu olarak gösterilir.",
    },
    "templates.empty": {
        "en": "No templates found. Put NAME.toml files in the templates folder (see --templates).",
        "tr": "Şablon bulunamadı. Şablon klasörüne AD.toml dosyaları koyun (bkz. --templates).",
    },
    "templates.not_found": {"en": "{detail}", "tr": "Şablon hatası: {detail}"},
    "templates.heading": {
        "en": "{name} ({language}): {title}",
        "tr": "{name} ({language}): {title}",
    },
    # -- rules ------------------------------------------------------------------
    "rules.help": {
        "en": "Moderation rules applied to incoming messages.",
        "tr": "Gelen mesajlara uygulanan moderasyon kuralları.",
    },
    "rules.test.help": {
        "en": "Show which rules match TEXT and why.",
        "tr": "METİN ile hangi kuralların eşleştiğini ve nedenini göster.",
    },
    "rules.opt.rules": {
        "en": "Rules file, TOML or YAML (default: SOCIALINBOX_RULES, else the example rules).",
        "tr": "Kural dosyası, TOML veya YAML (varsayılan: SOCIALINBOX_RULES, yoksa örnek kurallar).",
    },
    "rules.opt.platform": {
        "en": "Platform the message came from.",
        "tr": "Mesajın geldiği platform.",
    },
    "rules.opt.language": {
        "en": "Language of the contact (default: guessed from the text).",
        "tr": "Kişinin dili (varsayılan: metinden tahmin edilir).",
    },
    "rules.opt.contact_tag": {
        "en": "A tag of the contact (repeatable).",
        "tr": "Kişinin bir etiketi (tekrarlanabilir).",
    },
    "rules.opt.first": {
        "en": "Whether it is the contact's first message.",
        "tr": "Kişinin ilk mesajı olup olmadığı.",
    },
    "rules.invalid": {
        "en": "Invalid rules: {detail}. Fix the file and run `socialinbox rules test TEXT` again.",
        "tr": "Geçersiz kurallar: {detail}. Dosyayı düzeltip `socialinbox rules test METİN` komutunu yeniden çalıştırın.",
    },
    "rules.source": {
        "en": "Rules: {path} ({count} rules)",
        "tr": "Kurallar: {path} ({count} kural)",
    },
    "rules.no_match": {"en": "No rule matches this text.", "tr": "Bu metinle eşleşen kural yok."},
    "rules.reason.keyword": {"en": 'keyword "{value}"', "tr": 'anahtar sözcük "{value}"'},
    "rules.reason.phrase": {"en": 'phrase "{value}"', "tr": 'ifade "{value}"'},
    "rules.reason.regex": {"en": "regular expression {value}", "tr": "düzenli ifade {value}"},
    "rules.reason.platform": {"en": "platform {value}", "tr": "platform {value}"},
    "rules.reason.language": {"en": "language {value}", "tr": "dil {value}"},
    "rules.reason.contact_tag": {"en": "contact tag {value}", "tr": "kişi etiketi {value}"},
    "rules.reason.first_message": {"en": "first message: {value}", "tr": "ilk mesaj: {value}"},
    "rules.action.tag": {"en": "tag {value}", "tr": "etiket {value}"},
    "rules.action.priority": {"en": "priority {value}", "tr": "öncelik {value}"},
    "rules.action.assign": {"en": "assign to {value}", "tr": "{value} adına ata"},
    "rules.action.auto_reply": {
        "en": "auto-reply with template {value}",
        "tr": "{value} şablonuyla otomatik yanıt",
    },
    "rules.action.auto_reply_period": {
        "en": "at most once per {value}",
        "tr": "en fazla {value} içinde bir kez",
    },
    "rules.action.spam": {"en": "mark as spam", "tr": "spam olarak işaretle"},
    "rules.action.hide": {"en": "hide", "tr": "gizle"},
    "rules.action.escalate": {"en": "escalate", "tr": "üst seviyeye aktar"},
    "rules.action.escalate_to": {"en": "escalate to {value}", "tr": "{value} adına aktar"},
    # -- faq and stats ----------------------------------------------------------
    "faq.help": {
        "en": "Find the questions asked most often.",
        "tr": "En sık sorulan soruları bul.",
    },
    "faq.suggest.help": {
        "en": "Group recent inbound messages by similarity and list the most repeated questions with counts, examples and the template that answers them.",
        "tr": "Son gelen mesajları benzerliğe göre grupla; en çok tekrarlanan soruları sayıları, örnekleri ve onları yanıtlayan şablonla listele.",
    },
    "faq.opt.days": {"en": "How many days back to look.", "tr": "Kaç gün geriye bakılacağı."},
    "faq.opt.limit": {
        "en": "Maximum number of groups to list.",
        "tr": "Listelenecek en fazla grup sayısı.",
    },
    "faq.opt.min_count": {
        "en": "Smallest group size to list.",
        "tr": "Listelenecek en küçük grup boyutu.",
    },
    "faq.empty": {
        "en": "No question was asked at least {min_count} times in the last {days} days. Try --min-count 1 or a larger --days.",
        "tr": "Son {days} günde en az {min_count} kez sorulan soru yok. --min-count 1 veya daha büyük bir --days deneyin.",
    },
    "faq.no_template": {
        "en": "(none; consider writing one)",
        "tr": "(yok; bir şablon yazmayı düşünün)",
    },
    "stats.help": {
        "en": "Show message volume per platform and day, first-response time (median and p90), the open backlog and the oldest waiting conversation.",
        "tr": "Platform ve güne göre mesaj hacmini, ilk yanıt süresini (medyan ve p90), açık bekleyen işleri ve en uzun bekleyen konuşmayı göster.",
    },
    "stats.opt.days": {"en": "How many days back to count.", "tr": "Kaç gün geriye sayılacağı."},
    "stats.volume_title": {
        "en": "Messages per platform and day",
        "tr": "Platform ve güne göre mesajlar",
    },
    "stats.first_response": {
        "en": "First response: {count} conversations answered, median {median}, p90 {p90}.",
        "tr": "İlk yanıt: {count} konuşma yanıtlandı, medyan {median}, p90 {p90}.",
    },
    "stats.backlog": {
        "en": "Open backlog: {count} conversations waiting for a reply.",
        "tr": "Açık bekleyenler: yanıt bekleyen {count} konuşma.",
    },
    "stats.oldest": {
        "en": "Oldest waiting: conversation {conversation}, since {since} ({waited}). Run `socialinbox show {conversation}`.",
        "tr": "En uzun bekleyen: {conversation} numaralı konuşma, {since} tarihinden beri ({waited}). `socialinbox show {conversation}` çalıştırın.",
    },
}
