"""Moderation: Turkish-aware matching, rules applied at ingest, and canned-reply templates.

* :mod:`socialinbox.moderation.text`: folding for matching and search.
* :mod:`socialinbox.moderation.rules`: the rules file, :func:`apply_rules` and auto-replies.
* :mod:`socialinbox.moderation.templates`: templates and Turkish case suffixes.
* :mod:`socialinbox.moderation.workflow`: store operations behind the moderator commands.
"""

from socialinbox.moderation.rules import (
    RuleOutcome,
    RuleSet,
    apply_rules,
    load_rules,
    run_rules_after_ingest,
    send_auto_replies,
)
from socialinbox.moderation.templates import TemplateLibrary, suffix
from socialinbox.moderation.text import fold

__all__ = [
    "RuleOutcome",
    "RuleSet",
    "TemplateLibrary",
    "apply_rules",
    "fold",
    "load_rules",
    "run_rules_after_ingest",
    "send_auto_replies",
    "suffix",
]
