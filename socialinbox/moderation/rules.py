"""Moderation rules: match inbound messages, then tag, prioritize, assign or auto-reply.

A rules file is TOML or YAML (see ``socialinbox/moderation/rules.example.toml``)
and is validated with pydantic; every error names the rule and the line.

Within one rule, every condition given must hold; inside a list condition
(``keywords``, ``phrases``, ``regex``, ``platforms``...) one entry is enough.
Keywords and phrases are compared on the :func:`~socialinbox.moderation.text.fold`
form, with the Turkish I rules when the rule or the text is Turkish. A keyword
matches at the start of a word and may continue (``çekim`` matches
``çekimim``); a phrase must end at a word boundary. Regular expressions run on
the original text (NFC); write ``(?i)`` for a case-insensitive one.

:func:`apply_rules` runs the rules on newly stored messages and records each
firing once. :func:`send_auto_replies` sends the replies it reserved through
the send ledger.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from socialinbox.errors import (
    NotEligible,
    PlatformError,
    SocialInboxError,
    TransportError,
    UsageError,
)
from socialinbox.model import (
    ContactStatus,
    ConversationKey,
    Direction,
    MessageKey,
    OutboundMessage,
    Platform,
    SendResult,
    utc_now,
)
from socialinbox.moderation import tables as mod
from socialinbox.moderation.tables import dialect_insert
from socialinbox.moderation.templates import TemplateError, TemplateLibrary, escape_for
from socialinbox.moderation.text import contains_phrase, fold, is_turkish
from socialinbox.store.tables import ContactRow, ConversationRow, MessageRow, table_of

__all__ = [
    "Reason",
    "Rule",
    "RuleMatch",
    "RuleOutcome",
    "RuleSet",
    "RulesError",
    "apply_rules",
    "evaluate",
    "example_rules_path",
    "load_rules",
    "parse_rules",
    "run_rules_after_ingest",
    "send_auto_replies",
]

logger = logging.getLogger(__name__)

_messages = table_of(MessageRow)
_conversations = table_of(ConversationRow)
_contacts = table_of(ContactRow)

SPAM_TAG = "spam"
HIDDEN_TAG = "hidden"
ESCALATED_TAG = "escalated"
ESCALATED_PRIORITY = 3
_FIRST_NAME_FALLBACK = {"tr": "değerli üyemiz", "en": "there"}


class RulesError(UsageError):
    """A rules file is invalid; the message names the rule and the line."""


def _parse_duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", value)
        if match:
            unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
            return timedelta(**{unit: float(match.group(1))})
    raise ValueError(
        f"invalid duration {value!r}: use seconds or a number with s, m, h or d, like 24h"
    )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Match(_Strict):
    """Conditions of a rule; all given conditions must hold."""

    keywords: list[str] = Field(default_factory=list)
    phrases: list[str] = Field(default_factory=list)
    regex: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    """Keywords that keep the rule from matching."""
    platforms: list[Platform] = Field(default_factory=list)
    languages: list[Literal["tr", "en"]] = Field(default_factory=list)
    contact_tags: list[str] = Field(default_factory=list)
    first_message: bool | None = None
    """True: only the contact's first message in the conversation; False: only later ones."""

    @field_validator("regex")
    @classmethod
    def _compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"invalid regular expression {pattern!r}: {error}") from error
        return patterns

    def is_empty(self) -> bool:
        return not (
            self.keywords
            or self.phrases
            or self.regex
            or self.platforms
            or self.languages
            or self.contact_tags
            or self.first_message is not None
        )


class Actions(_Strict):
    """What a matching rule does to the conversation."""

    tag: list[str] = Field(default_factory=list)
    priority: int | None = Field(default=None, ge=0, le=9)
    """Raise the conversation priority to at least this value."""
    assign: str | None = None
    """A moderator name or ``queue:NAME``; applied only to unassigned conversations."""
    auto_reply: str | None = None
    """Template name to answer with, at most once per conversation per ``auto_reply_period``."""
    auto_reply_period: timedelta | None = None
    spam: bool = False
    """Tag the conversation ``spam`` and close it."""
    hide: bool = False
    """Tag the conversation ``hidden``; ``inbox`` leaves it out unless asked."""
    escalate: bool = False
    """Tag ``escalated``, raise the priority to 3 and assign to ``escalate_to`` if given."""
    escalate_to: str | None = None

    @field_validator("auto_reply_period", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return None if value is None else _parse_duration(value)


class Rule(_Strict):
    name: str = Field(min_length=1, max_length=128)
    description: str | None = None
    enabled: bool = True
    language: Literal["tr", "en"] | None = None
    """Language of the keywords; ``tr`` applies the Turkish I rules to them."""
    diacritics: bool = True
    """Fold ``ç ğ ı ö ş ü`` to bare letters, so sloppy typing still matches."""
    stop: bool = False
    """Evaluate no later rule once this one matched."""
    match: Match
    actions: Actions

    @model_validator(mode="after")
    def _has_condition(self) -> Rule:
        if self.match.is_empty():
            raise ValueError(
                "match has no condition; give keywords, phrases, regex or another condition"
            )
        return self


class Settings(_Strict):
    auto_reply_period: timedelta = timedelta(hours=24)
    """Default for rules that do not set their own."""
    auto_reply_max_age: timedelta = timedelta(hours=1)
    """Messages sent longer than this before they were received (history) get no auto-reply."""

    @field_validator("auto_reply_period", "auto_reply_max_age", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return _parse_duration(value)


class RuleSet(_Strict):
    settings: Settings = Field(default_factory=Settings)
    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> RuleSet:
        names = [rule.name for rule in self.rules]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"duplicate rule name(s): {', '.join(duplicates)}")
        return self

    def period_of(self, rule: Rule) -> timedelta:
        return rule.actions.auto_reply_period or self.settings.auto_reply_period


# -- loading ------------------------------------------------------------------------


def example_rules_path() -> Path:
    """Return the example rules file shipped with the package."""
    return Path(__file__).with_name("rules.example.toml")


def _yaml_line(text: str, location: Sequence[int | str]) -> int | None:
    try:
        node: Any = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for part in location:
        if isinstance(node, yaml.MappingNode):
            found = next((value for key, value in node.value if key.value == part), None)
            if found is None:
                break
            key_node = next(key for key, value in node.value if value is found)
            node, line = found, key_node.start_mark.line + 1
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _toml_line(text: str, location: Sequence[int | str]) -> int | None:
    lines = text.splitlines()
    if len(location) < 2 or location[0] != "rules" or not isinstance(location[1], int):
        key = next((part for part in reversed(location) if isinstance(part, str)), None)
        for number, line in enumerate(lines, start=1):
            if key and re.match(rf"\s*{re.escape(key)}\s*=", line):
                return number
        return None
    headers = [
        number for number, line in enumerate(lines, start=1) if re.match(r"\s*\[\[rules\]\]", line)
    ]
    index = location[1]
    if index >= len(headers):
        return None
    start = headers[index]
    end = headers[index + 1] if index + 1 < len(headers) else len(lines) + 1
    keys = [part for part in location[2:] if isinstance(part, str)]
    for key in reversed(keys):
        for number in range(start, end):
            line = lines[number - 1]
            if re.match(rf"\s*{re.escape(key)}\s*=", line) or re.match(
                rf"\s*\[rules\.{re.escape(key)}\]", line
            ):
                return number
    return start


def parse_rules(
    text: str, *, source: str = "<rules>", templates: TemplateLibrary | None = None
) -> RuleSet:
    """Parse and validate a rules document (TOML, or YAML when ``source`` ends in .yaml/.yml).

    Raises:
        RulesError: the document is malformed, a rule is invalid, or an
            ``auto_reply`` names a template that ``templates`` does not have.
    """
    is_yaml = source.lower().endswith((".yaml", ".yml"))
    try:
        document = yaml.safe_load(text) if is_yaml else tomllib.loads(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as error:
        raise RulesError(f"{source}: not valid {'YAML' if is_yaml else 'TOML'}: {error}") from error
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise RulesError(f"{source}: expected a table with a `rules` list at the top")
    locate = _yaml_line if is_yaml else _toml_line
    try:
        ruleset = RuleSet.model_validate(document)
    except ValidationError as error:
        problems = []
        for problem in error.errors(include_url=False, include_input=False):
            location = problem["loc"]
            rule_name = ""
            if len(location) >= 2 and location[0] == "rules" and isinstance(location[1], int):
                raw_rules = document.get("rules") or []
                raw = raw_rules[location[1]] if location[1] < len(raw_rules) else {}
                name = raw.get("name") if isinstance(raw, dict) else None
                rule_name = f"rule {name!r}" if name else f"rule #{location[1] + 1}"
            line = locate(text, location)
            where = f"{source}:{line}" if line else source
            field_path = ".".join(str(part) for part in location[2:] if not isinstance(part, int))
            subject = ", ".join(part for part in (rule_name, field_path) if part)
            problems.append(f"{where}: {subject + ': ' if subject else ''}{problem['msg']}")
        raise RulesError("; ".join(problems)) from error
    if templates is not None:
        for index, rule in enumerate(ruleset.rules):
            name = rule.actions.auto_reply
            if name is None:
                continue
            try:
                templates.get(name)
            except TemplateError as error:
                line = locate(text, ["rules", index, "actions", "auto_reply"])
                raise RulesError(
                    f"{source}:{line}: rule {rule.name!r}: auto_reply template {name} not found "
                    f"in {templates.folder}"
                ) from error
    return ruleset


def load_rules(path: str | Path, *, templates: TemplateLibrary | None = None) -> RuleSet:
    """Read and validate the rules file at ``path``; see :func:`parse_rules`."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise RulesError(f"rules file {file} cannot be read: {error.strerror}") from error
    return parse_rules(text, source=str(file), templates=templates)


# -- evaluation ---------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What rules look at in one message."""

    text: str
    platform: Platform | None = None
    language: str | None = None
    """The contact's language, else a guess from the text."""
    contact_tags: frozenset[str] = frozenset()
    first_message: bool | None = None


@dataclass(frozen=True)
class Reason:
    """Why a condition held, for ``rules test`` and logs: a kind and the value that matched."""

    kind: Literal[
        "keyword", "phrase", "regex", "platform", "language", "contact_tag", "first_message"
    ]
    value: str


@dataclass(frozen=True)
class RuleMatch:
    rule: Rule
    reasons: tuple[Reason, ...]


def _language_of(facts: Facts) -> str:
    if facts.language:
        return "tr" if facts.language.lower().startswith("tr") else "en"
    return "tr" if is_turkish(facts.text) else "en"


def _check(rule: Rule, facts: Facts) -> tuple[Reason, ...] | None:
    """Return the reasons ``rule`` matches ``facts``, or ``None`` when it does not."""
    condition = rule.match
    reasons: list[Reason] = []
    text_language = _language_of(facts)
    turkish = rule.language == "tr" or text_language == "tr"
    language: Literal["tr", "en"] = "tr" if turkish else "en"

    def folded(value: str) -> str:
        return fold(value, language=language, diacritics=rule.diacritics)

    haystack = folded(facts.text)
    if condition.keywords:
        found = [word for word in condition.keywords if contains_phrase(haystack, folded(word))]
        if not found:
            return None
        reasons.extend(Reason("keyword", word) for word in found)
    if condition.phrases:
        found = [
            phrase
            for phrase in condition.phrases
            if contains_phrase(haystack, folded(phrase), whole_words=True)
        ]
        if not found:
            return None
        reasons.extend(Reason("phrase", phrase) for phrase in found)
    if condition.regex:
        original = unicodedata.normalize("NFC", facts.text)
        found = [pattern for pattern in condition.regex if re.search(pattern, original)]
        if not found:
            return None
        reasons.extend(Reason("regex", pattern) for pattern in found)
    if any(contains_phrase(haystack, folded(word)) for word in condition.exclude):
        return None
    if condition.platforms:
        if facts.platform not in condition.platforms:
            return None
        reasons.append(Reason("platform", facts.platform.value if facts.platform else ""))
    if condition.languages:
        if text_language not in condition.languages:
            return None
        reasons.append(Reason("language", text_language))
    if condition.contact_tags:
        found = [tag for tag in condition.contact_tags if tag in facts.contact_tags]
        if not found:
            return None
        reasons.extend(Reason("contact_tag", tag) for tag in found)
    if condition.first_message is not None:
        if facts.first_message is None or facts.first_message != condition.first_message:
            return None
        reasons.append(Reason("first_message", "yes" if facts.first_message else "no"))
    return tuple(reasons)


def evaluate(ruleset: RuleSet, facts: Facts) -> list[RuleMatch]:
    """Return the enabled rules that match ``facts``, in file order, honoring ``stop``."""
    matches: list[RuleMatch] = []
    for rule in ruleset.rules:
        if not rule.enabled:
            continue
        reasons = _check(rule, facts)
        if reasons is None:
            continue
        matches.append(RuleMatch(rule, reasons))
        if rule.stop:
            break
    return matches


# -- applying at ingest -------------------------------------------------------------


@dataclass
class RuleOutcome:
    """What the rules did for one newly stored message."""

    key: MessageKey
    matches: list[RuleMatch] = field(default_factory=list)
    reply: OutboundMessage | None = None
    """An auto-reply recorded in the send ledger as ``pending``; send it with :func:`send_auto_replies`."""
    reply_rule: str | None = None
    reply_skipped: str | None = None
    """Why a matching rule's auto-reply was not made (period, eligibility, history...)."""


def _conversation_where(table: sa.Table, key: ConversationKey) -> Any:
    return sa.and_(
        table.c.platform == key.platform.value,
        table.c.account_id == key.account_id,
        table.c.chat_id == key.chat_id,
    )


def first_name_of(contact: Any, language: str) -> str:
    """Return how to address a contact row in a template: first name, else username."""
    if contact is not None and contact.display_name:
        return str(contact.display_name).split()[0]
    if contact is not None and contact.username:
        return str(contact.username)
    return _FIRST_NAME_FALLBACK.get(language, _FIRST_NAME_FALLBACK["en"])


def _eligibility_problem(conversation: Any, contact: Any, now: datetime) -> str | None:
    if conversation.is_group:
        return "group conversation"
    if contact is not None and contact.status in {
        ContactStatus.BLOCKED_US.value,
        ContactStatus.OPTED_OUT.value,
        ContactStatus.MESSAGE_REQUEST.value,
    }:
        return f"contact is {contact.status}"
    platform = Platform(conversation.platform)
    if platform in {Platform.MESSENGER, Platform.INSTAGRAM}:
        from socialinbox.adapters.meta.eligibility import check_send

        try:
            check_send(platform, last_inbound_at=conversation.last_inbound_at, now=now)
        except NotEligible as error:
            return str(error)
    return None


def apply_rules(
    store: Any,
    stored_keys: Sequence[MessageKey],
    rules: RuleSet,
    *,
    templates: TemplateLibrary | None = None,
    now: datetime | None = None,
    auto_reply: bool = True,
) -> list[RuleOutcome]:
    """Run ``rules`` on newly stored messages and apply their actions.

    Call it right after a successful ingest with ``IngestResult.stored``.
    Outbound messages are skipped. Each rule fires at most once per message
    (recorded in ``moderation_rule_firings``), so calling it again with the
    same keys changes nothing. An auto-reply is recorded in the send ledger
    as ``pending`` and returned in :attr:`RuleOutcome.reply` for
    :func:`send_auto_replies`; none is made for history (a message sent more
    than ``auto_reply_max_age`` before it was received), when ``auto_reply``
    is False (imports), for ineligible contacts, or within the period of the
    conversation's previous auto-reply.

    Args:
        store: a :class:`~socialinbox.store.Store` (only ``store.engine`` is used).
    """
    engine: sa.Engine = store.engine
    now = now or utc_now()
    library = templates or TemplateLibrary()
    outcomes: list[RuleOutcome] = []
    for key in stored_keys:
        outcome = _apply_one(engine, key, rules, library, now, auto_reply)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def _apply_one(
    engine: sa.Engine,
    key: MessageKey,
    rules: RuleSet,
    library: TemplateLibrary,
    now: datetime,
    auto_reply: bool,
) -> RuleOutcome | None:
    with engine.connect() as connection:
        message = connection.execute(
            sa.select(_messages).where(
                _conversation_where(_messages, key.conversation),
                _messages.c.message_id == key.message_id,
            )
        ).one_or_none()
        if message is None or message.direction != Direction.INBOUND.value:
            return None
        contact = None
        if message.sender_id:
            contact = connection.execute(
                sa.select(_contacts).where(
                    _contacts.c.platform == key.platform.value,
                    _contacts.c.account_id == key.account_id,
                    _contacts.c.user_id == message.sender_id,
                )
            ).one_or_none()
        earlier = connection.execute(
            sa.select(sa.func.count())
            .select_from(_messages)
            .where(
                _messages.c.conversation_id == message.conversation_id,
                _messages.c.direction == Direction.INBOUND.value,
                _messages.c.id < message.id,
            )
        ).scalar_one()
    facts = Facts(
        text=message.text or "",
        platform=key.platform,
        language=contact.language_code if contact is not None else None,
        contact_tags=frozenset(contact.tags or ()) if contact is not None else frozenset(),
        first_message=earlier == 0,
    )
    outcome = RuleOutcome(key=key, matches=evaluate(rules, facts))
    if not outcome.matches:
        return outcome

    with engine.begin() as connection:
        row = connection.execute(
            sa.select(_conversations).where(_conversation_where(_conversations, key.conversation))
        ).one()
        tags = list(row.tags or ())
        priority = row.priority
        assignee = row.assignee
        status = row.status
        fired: list[RuleMatch] = []
        for found in outcome.matches:
            actions = found.rule.actions
            inserted = connection.execute(
                dialect_insert(connection, mod.rule_firings)
                .values(
                    rule=found.rule.name,
                    platform=key.platform.value,
                    account_id=key.account_id,
                    chat_id=key.chat_id,
                    message_id=key.message_id,
                    actions=actions.model_dump(mode="json", exclude_defaults=True),
                    fired_at=now,
                )
                .on_conflict_do_nothing()
                .returning(mod.rule_firings.c.id)
            ).first()
            if inserted is None:
                continue
            fired.append(found)
            new_tags = list(actions.tag)
            if actions.spam:
                new_tags.append(SPAM_TAG)
                status = "closed"
            if actions.hide:
                new_tags.append(HIDDEN_TAG)
            if actions.escalate:
                new_tags.append(ESCALATED_TAG)
                priority = max(priority, ESCALATED_PRIORITY)
                if actions.escalate_to:
                    assignee = actions.escalate_to
            tags.extend(tag for tag in new_tags if tag not in tags)
            if actions.priority is not None:
                priority = max(priority, actions.priority)
            if actions.assign and assignee is None:
                assignee = actions.assign
        connection.execute(
            _conversations.update()
            .where(_conversations.c.id == row.id)
            .values(tags=tags, priority=priority, assignee=assignee, status=status)
        )
    logger.info(
        "rules on %s: %s", key, ", ".join(found.rule.name for found in fired) or "already applied"
    )
    replying = next((found.rule for found in fired if found.rule.actions.auto_reply), None)
    if replying is None:
        return outcome
    outcome.reply_rule = replying.name
    if not auto_reply:
        outcome.reply_skipped = "auto-replies are off for this ingest"
    elif message.received_at - message.sent_at > rules.settings.auto_reply_max_age:
        outcome.reply_skipped = "message is history, older than auto_reply_max_age"
    elif SPAM_TAG in tags:
        outcome.reply_skipped = "conversation is marked as spam"
    else:
        outcome.reply_skipped = _eligibility_problem(row, contact, now)
    if outcome.reply_skipped is None:
        _reserve_reply(engine, outcome, replying, rules, library, contact, facts, now)
    if outcome.reply_skipped:
        logger.info(
            "auto-reply of rule %s on %s skipped: %s", replying.name, key, outcome.reply_skipped
        )
    return outcome


def _reserve_reply(
    engine: sa.Engine,
    outcome: RuleOutcome,
    rule: Rule,
    rules: RuleSet,
    library: TemplateLibrary,
    contact: Any,
    facts: Facts,
    now: datetime,
) -> None:
    from socialinbox.store.sends import record_send

    key = outcome.key
    assert rule.actions.auto_reply is not None
    try:
        template = library.get(rule.actions.auto_reply)
        language = _language_of(facts)
        if language not in template.texts:
            language = template.languages()[0]
        text = template.render(language, {"first_name": first_name_of(contact, language)})
    except TemplateError as error:
        outcome.reply_skipped = f"template: {error}"
        return
    digest = hashlib.sha256(f"{rule.name}\n{key}".encode()).hexdigest()[:32]
    client_ref = f"auto-{digest}"
    cutoff = now - rules.period_of(rule)
    conversation = key.conversation
    with engine.begin() as connection:
        previous = connection.execute(
            sa.select(mod.auto_replies.c.sent_at).where(
                _conversation_where(mod.auto_replies, conversation)
            )
        ).scalar_one_or_none()
        if previous is not None and previous > cutoff:
            outcome.reply_skipped = (
                f"already auto-replied at {previous.isoformat()}, within the period"
            )
            return
        values = {"rule": rule.name, "client_ref": client_ref, "sent_at": now}
        connection.execute(
            dialect_insert(connection, mod.auto_replies)
            .values(
                platform=conversation.platform.value,
                account_id=conversation.account_id,
                chat_id=conversation.chat_id,
                **values,
            )
            .on_conflict_do_update(
                index_elements=["platform", "account_id", "chat_id"], set_=values
            )
        )
    reply = OutboundMessage(conversation=conversation, text=text, client_ref=client_ref)
    if not record_send(engine, reply, author=f"rule:{rule.name}"):
        outcome.reply_skipped = "this auto-reply was recorded before"
        return
    outcome.reply = reply


async def send_auto_replies(
    store: Any,
    adapter: Any,
    outcomes: Sequence[RuleOutcome],
    *,
    parse_mode: str | None = None,
) -> dict[str, str]:
    """Send the auto-replies :func:`apply_rules` recorded, for the conversations of ``adapter``.

    Each send is completed in the ledger (``sent``) or failed (``failed`` when
    the platform refused, ``unknown`` when the call did not complete).

    Args:
        store: an :class:`~socialinbox.store.AsyncStore`.
        adapter: the :class:`~socialinbox.adapters.base.Adapter` of the account.
        parse_mode: the Telegram ``parse_mode`` the account sends with, for escaping.

    Returns:
        The ledger status by ``client_ref``.
    """
    statuses: dict[str, str] = {}
    for outcome in outcomes:
        reply = outcome.reply
        if reply is None:
            continue
        if (
            reply.conversation.platform is not adapter.platform
            or reply.conversation.account_id != adapter.account_id
        ):
            continue
        wire = reply.model_copy(update={"text": escape_for(reply.text or "", parse_mode)})
        try:
            result: SendResult = await adapter.send(wire)
        except TransportError as error:
            await store.fail_send(reply.client_ref, str(error), status="unknown")
            statuses[reply.client_ref] = "unknown"
            logger.warning(
                "auto-reply %s to %s has an unknown outcome: %s",
                reply.client_ref,
                reply.conversation,
                error,
            )
            continue
        except (PlatformError, SocialInboxError) as error:
            await store.fail_send(reply.client_ref, str(error))
            statuses[reply.client_ref] = "failed"
            logger.warning(
                "auto-reply %s to %s failed: %s", reply.client_ref, reply.conversation, error
            )
            continue
        await store.complete_send(reply, result)
        statuses[reply.client_ref] = "sent"
    return statuses


async def run_rules_after_ingest(
    store: Any,
    adapter: Any,
    stored_keys: Sequence[MessageKey],
    rules: RuleSet,
    *,
    templates: TemplateLibrary | None = None,
    parse_mode: str | None = None,
) -> list[RuleOutcome]:
    """Apply ``rules`` to ``stored_keys`` on the store's thread, then send the auto-replies.

    The daemon's poll loop calls this with ``IngestResult.stored`` after each
    successful ingest; ``store`` is its :class:`~socialinbox.store.AsyncStore`.
    """
    if not stored_keys or not rules.rules:
        return []
    outcomes: list[RuleOutcome] = await store.run(
        apply_rules, store.sync, list(stored_keys), rules, templates=templates
    )
    await send_auto_replies(store, adapter, outcomes, parse_mode=parse_mode)
    return outcomes
