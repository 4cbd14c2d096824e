"""Turkish-aware text normalization for matching and search.

Stored text is never changed: these functions build a comparison form.

* Case folding maps ``I`` to ``ı`` and ``İ`` to ``i`` when the text or the
  pattern is Turkish, and ``I`` to ``i`` otherwise. Python's own
  ``str.lower`` turns ``İ`` into ``i`` plus U+0307 COMBINING DOT ABOVE, which
  would never match a typed ``i``, so the dot is dropped in both modes.
* Text is brought to NFC first, so a decomposed ``ç`` (``c`` + U+0327) and the
  precomposed one compare equal.
* Diacritic folding (optional) maps ``ç ğ ı ö ş ü`` and accented Latin letters
  to their bare forms, so ``cekim`` finds ``çekim``.
* Punctuation and symbols become spaces and runs of whitespace become one space.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

__all__ = [
    "Language",
    "contains_phrase",
    "fold",
    "fold_case",
    "is_turkish",
    "stem",
    "tokens",
]

Language = Literal["tr", "en"]

_TURKISH_LETTERS = frozenset("çğıİöşüÇĞÖŞÜ")
# Frequent Turkish words without Turkish letters, for texts typed on a keyboard
# without them ("para cekme talebim onaylanmadi").
_TURKISH_WORDS = frozenset(
    {
        "ve",
        "bir",
        "bu",
        "da",
        "de",
        "ne",
        "mi",
        "mı",
        "mu",
        "için",
        "icin",
        "ama",
        "neden",
        "nasil",
        "nasıl",
        "merhaba",
        "hesabim",
        "hesabım",
        "para",
        "talep",
        "yok",
        "var",
        "ben",
        "sen",
        "hala",
        "hâlâ",
        "tesekkurler",
        "teşekkürler",
        "lutfen",
        "lütfen",
        "bonus",
        "yatirdim",
        "yatırdım",
        "cekim",
        "çekim",
        "nerede",
        "param",
        "hesap",
        "gelmedi",
        "bakiye",
        "selam",
    }
)
_ENGLISH_WORDS = frozenset(
    {"the", "and", "is", "my", "you", "your", "not", "what", "why", "how", "please", "hello"}
)
_DOT_ABOVE = "\u0307"


def is_turkish(text: str) -> bool:
    """Guess whether ``text`` is Turkish from its letters and most frequent words."""
    if any(character in _TURKISH_LETTERS for character in text):
        return True
    words = re.findall(r"\w+", text.lower())
    turkish = sum(1 for word in words if word in _TURKISH_WORDS)
    english = sum(1 for word in words if word in _ENGLISH_WORDS)
    return turkish > english


def fold_case(text: str, *, turkish: bool) -> str:
    """Lower-case ``text`` with the Turkish dotted and dotless I rules when ``turkish``."""
    text = unicodedata.normalize("NFC", text)
    if turkish:
        text = text.replace("I", "ı").replace("İ", "i")
    else:
        text = text.replace("İ", "i")
    return text.lower().replace(_DOT_ABOVE, "")


_DIACRITIC_EXTRA = str.maketrans({"ı": "i", "ß": "ss", "æ": "ae", "ø": "o", "đ": "d", "ł": "l"})


def _strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.translate(_DIACRITIC_EXTRA))
    bare = "".join(character for character in decomposed if not unicodedata.combining(character))
    return unicodedata.normalize("NFC", bare)


def _fold_punctuation(text: str) -> str:
    # Categories P* (punctuation) and S* (symbols) become spaces, so "çekim!!"
    # and "çekim" match and "ÇK-20418" splits into "çk 20418".
    characters = [
        " " if unicodedata.category(character)[0] in {"P", "S"} else character for character in text
    ]
    return " ".join("".join(characters).split())


def fold(
    text: str,
    *,
    language: Language | None = None,
    diacritics: bool = False,
    punctuation: bool = True,
) -> str:
    """Return the comparison form of ``text``.

    Args:
        language: ``"tr"`` applies the Turkish I rules, ``"en"`` the default
            ones; ``None`` guesses from the text with :func:`is_turkish`.
        diacritics: also fold ``ç ğ ı ö ş ü`` (and other accents) to bare letters.
        punctuation: turn punctuation and symbols into spaces.
    """
    turkish = is_turkish(text) if language is None else language == "tr"
    folded = fold_case(text, turkish=turkish)
    if diacritics:
        folded = _strip_diacritics(folded)
    if punctuation:
        return _fold_punctuation(folded)
    return " ".join(folded.split())


def tokens(text: str, *, language: Language | None = None, diacritics: bool = True) -> list[str]:
    """Split ``text`` into folded words."""
    return fold(text, language=language, diacritics=diacritics).split()


def stem(word: str, length: int = 5) -> str:
    """Cut a folded word to its first ``length`` characters.

    Turkish adds case and possessive suffixes to the stem ("çekim", "çekimim",
    "çekimimi"), so a fixed-length prefix groups most forms of one word.
    NOTE: this is a crude stemmer for grouping similar questions, not a
    morphological analyzer; short stems of unrelated words can collide.
    """
    return word[:length]


def contains_phrase(folded_text: str, folded_phrase: str, *, whole_words: bool = False) -> bool:
    """Return whether ``folded_phrase`` occurs in ``folded_text`` starting at a word boundary.

    Both arguments must already be folded with :func:`fold`. Without
    ``whole_words`` the last word of the phrase may continue, so that
    ``"çekim"`` matches ``"çekimim"`` (Turkish suffixes); with it the phrase
    must end at a word boundary as well.
    """
    if not folded_phrase:
        return False
    ending = r"(?=\s|$)" if whole_words else ""
    pattern = r"(?:^|\s)" + re.escape(folded_phrase) + ending
    return re.search(pattern, folded_text) is not None
