"""The Turkish and English message catalogs."""

from __future__ import annotations

import string

import pytest

from socialinbox.locale import Translator, detect_language
from socialinbox.locale.catalog import CATALOG


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("entry", sorted(CATALOG))
def test_entry_has_both_languages_and_same_placeholders(entry: str) -> None:
    texts = CATALOG[entry]

    assert set(texts) == {"en", "tr"}
    assert texts["en"].strip()
    assert texts["tr"].strip()
    assert placeholders(texts["en"]) == placeholders(texts["tr"])


@pytest.mark.parametrize(
    ("explicit", "environ", "expected"),
    [
        ("tr", {}, "tr"),
        (None, {"SOCIALINBOX_LANG": "tr_TR"}, "tr"),
        (None, {"LANG": "tr_TR.UTF-8"}, "tr"),
        (None, {"LANG": "de_DE.UTF-8"}, "en"),
        ("en", {"LANG": "tr_TR.UTF-8"}, "en"),
        (None, {"SOCIALINBOX_LANG": "en", "LANG": "tr_TR.UTF-8"}, "en"),
        (None, {}, "en"),
    ],
)
def test_language_detection(explicit: str | None, environ: dict[str, str], expected: str) -> None:
    assert detect_language(explicit, environ) == expected


def test_translator_formats_values() -> None:
    translate = Translator("tr")

    assert translate("quarantine.not_found", entry_id=7).startswith("7 numaralı")
