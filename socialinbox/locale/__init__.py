"""Turkish and English message catalogs for everything a person reads.

The language comes from ``--lang``, else ``SOCIALINBOX_LANG``, else ``LC_ALL``,
``LC_MESSAGES`` or ``LANG``; anything that does not start with ``tr`` selects
English. Catalog entries are ``str.format`` templates.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from socialinbox.locale.catalog import CATALOG

__all__ = ["LANGUAGES", "Translator", "detect_language"]

LANGUAGES = ("en", "tr")


def detect_language(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """Return ``"tr"`` or ``"en"`` from an explicit choice or the environment."""
    environ = os.environ if environ is None else environ
    candidates = [
        explicit,
        environ.get("SOCIALINBOX_LANG"),
        environ.get("LC_ALL"),
        environ.get("LC_MESSAGES"),
        environ.get("LANG"),
    ]
    for value in candidates:
        if value:
            return "tr" if value.lower().startswith("tr") else "en"
    return "en"


class Translator:
    """Looks up catalog entries in one language."""

    def __init__(self, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}; expected one of {LANGUAGES}")
        self.language = language

    def __call__(self, key: str, **values: object) -> str:
        entry = CATALOG[key]
        template = entry[self.language]
        return template.format(**values) if values else template
