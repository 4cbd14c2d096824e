"""Turkish-aware folding: dotted and dotless I, NFC, diacritics and punctuation."""

from __future__ import annotations

import unicodedata

import pytest

from socialinbox.moderation.text import contains_phrase, fold, is_turkish


@pytest.mark.parametrize(
    ("text", "language", "diacritics", "expected"),
    [
        ("ISPARTA", "tr", False, "ısparta"),
        ("İSTANBUL", "tr", False, "istanbul"),
        ("ISPARTA", "en", False, "isparta"),
        ("İSTANBUL", "en", False, "istanbul"),
        ("ılık İLİK", "tr", False, "ılık ilik"),
        ("ılık", "tr", True, "ilik"),
        ("IŞIK", "tr", True, "isik"),
        ("ÇEKİM talebim!!", "tr", True, "cekim talebim"),
        ("Çekim", "tr", False, "çekim"),
        ("ÇK-20418", "tr", False, "çk 20418"),
        ("  para\t\nçekme  ", "tr", False, "para çekme"),
        ("Kadıköy'de", "tr", False, "kadıköy de"),
        ("ŞĞÜÖÇ", "tr", True, "sguoc"),
    ],
)
def test_fold_table(text: str, language: str, diacritics: bool, expected: str) -> None:
    assert fold(text, language=language, diacritics=diacritics) == expected  # type: ignore[arg-type]


def test_fold_composes_decomposed_letters() -> None:
    decomposed = unicodedata.normalize("NFD", "çekim İstanbul")

    assert decomposed != "çekim İstanbul"
    assert fold(decomposed, language="tr") == "çekim istanbul"


def test_fold_guesses_turkish_from_letters() -> None:
    assert fold("IŞIK") == "ışık"
    assert fold("INFO") == "info"


@pytest.mark.parametrize(
    ("text", "turkish"),
    [
        ("Para çekme talebim", True),
        ("para cekme talebim onaylanmadi, neden", True),
        ("Why is my withdrawal pending?", False),
        ("İyi günler", True),
    ],
)
def test_is_turkish_table(text: str, turkish: bool) -> None:
    assert is_turkish(text) is turkish


@pytest.mark.parametrize(
    ("text", "phrase", "whole", "expected"),
    [
        ("para çekimim gelmedi", "çekim", False, True),
        ("para çekimim gelmedi", "çekim", True, False),
        ("hesabımı kapatacağım", "hesabımı kapatacağım", True, True),
        ("tekrar çekim", "çek", False, True),
        ("içekim", "çekim", False, False),
        ("anything", "", False, False),
    ],
)
def test_contains_phrase_table(text: str, phrase: str, whole: bool, expected: bool) -> None:
    assert contains_phrase(text, phrase, whole_words=whole) is expected
