"""Canned replies with variables, and Turkish case suffixes for names and words.

A template is one TOML file in a templates folder; the file name (without
``.toml``) is the template name::

    title.tr = "Para çekme talebi beklemede"
    title.en = "Withdrawal pending"
    answers = ["para çekme", "çekim talebi", "withdrawal"]   # for `faq suggest`

    [text]
    tr = "Merhaba {first_name}, ..."
    en = "Hello {first_name}, ..."

Placeholders are ``{name}`` or ``{name|case}``, where ``case`` is one of
``dative`` (-e/-a), ``locative`` (-de/-da/-te/-ta), ``ablative``
(-den/-dan/-ten/-tan), ``accusative`` (-i/-ı/-u/-ü) or ``genitive``
(-in/-ın/-un/-ün), attached with :func:`suffix`. ``{{`` and ``}}`` are
literal braces. The starter set ships in ``socialinbox/moderation/templates``;
``SOCIALINBOX_TEMPLATES`` or ``--templates DIR`` name the folder the team edits.

Templates produce plain text. :func:`escape_for` escapes it for an account
that sends with a Telegram ``parse_mode``, at send time.
"""

from __future__ import annotations

import html
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from socialinbox.errors import UsageError
from socialinbox.moderation.text import fold_case

__all__ = [
    "CASES",
    "Template",
    "TemplateError",
    "TemplateLibrary",
    "default_templates_dir",
    "escape_for",
    "suffix",
]

Case = Literal["dative", "locative", "ablative", "accusative", "genitive"]
CASES: tuple[Case, ...] = ("dative", "locative", "ablative", "accusative", "genitive")

_BACK_VOWELS = frozenset("aıou")
_FRONT_VOWELS = frozenset("eiöü")
_VOWELS = _BACK_VOWELS | _FRONT_VOWELS | frozenset("âîû")
_VOICELESS = frozenset("fstkçşhp")  # "fıstıkçı şahap"
# Loanwords whose suffixes take front vowels although the last vowel is back.
# NOTE: a short list of frequent cases; other exceptions get regular harmony.
_FRONT_EXCEPTIONS = frozenset(
    {
        "saat",
        "harf",
        "kalp",
        "hal",
        "hayal",
        "ideal",
        "gol",
        "rol",
        "alkol",
        "kontrol",
        "protokol",
        "petrol",
        "sembol",
        "dikkat",
        "seyahat",
        "hakikat",
        "kabul",
        "istiklal",
        "meal",
        "sual",
        "usul",
        "mahsul",
        "hayat",
    }
)
_LETTER_NAMES = {"k": "ka", "q": "kü", "w": "çift ve", "x": "iks", "h": "he"}
_DIGIT_WORDS = {
    "1": "bir",
    "2": "iki",
    "3": "üç",
    "4": "dört",
    "5": "beş",
    "6": "altı",
    "7": "yedi",
    "8": "sekiz",
    "9": "dokuz",
}
_TEN_WORDS = {
    "1": "on",
    "2": "yirmi",
    "3": "otuz",
    "4": "kırk",
    "5": "elli",
    "6": "altmış",
    "7": "yetmiş",
    "8": "seksen",
    "9": "doksan",
}
_SOFTENING = {"k": "ğ", "p": "b", "ç": "c"}


class TemplateError(UsageError):
    """A template file is invalid or a placeholder has no value."""


def _spoken(word: str) -> str:
    """Return how the end of ``word`` is pronounced, for vowel harmony."""
    lowered = fold_case(word, turkish=True)
    if lowered and lowered[-1].isdigit():
        digits = re.findall(r"\d+", lowered)[-1]
        number = int(digits)
        if number == 0:
            return "sıfır"
        if number % 10:
            return _DIGIT_WORDS[str(number % 10)]
        if number % 100:
            return _TEN_WORDS[str(number % 100 // 10)]
        if number % 1000:
            return "yüz"
        if number % 1_000_000:
            return "bin"
        if number % 1_000_000_000:
            return "milyon"
        return "milyar"
    letters = "".join(character for character in lowered if character.isalpha())
    if letters and not any(character in _VOWELS for character in letters):
        # An abbreviation without vowels is read letter by letter: PTT'ye, THY'ye.
        last = letters[-1]
        return _LETTER_NAMES.get(last, last + "e")
    return letters


def suffix(word: str, case: Case, *, proper: bool | None = None) -> str:
    """Attach the Turkish ``case`` suffix to ``word`` following vowel harmony.

    Proper nouns (by default: words that start with a capital letter, and
    numbers and abbreviations) get an apostrophe and keep their final
    consonant: ``Ahmet'e``, ``Ayşe'ye``, ``Ali'ye``, ``Kadıköy'de``,
    ``İstanbul'da``, ``2024'te``. Common nouns of more than one syllable
    soften a final ``k``, ``p`` or ``ç`` before a vowel: ``talep`` becomes
    ``talebe``, and so does ``nk`` in any word (``renk`` gives ``rengi``). NOTE: a final ``t`` is never softened (``kanat`` gives
    ``kanata``, not ``kanada``), because which words soften it is lexical.

    Raises:
        ValueError: ``word`` has no letters or digits.
    """
    stripped = word.rstrip()
    spoken = _spoken(stripped)
    if not spoken:
        raise ValueError(f"cannot attach a suffix to {word!r}: it has no letters or digits")
    if proper is None:
        proper = stripped[:1].isupper() or stripped[-1:].isdigit()
    vowels = [character for character in spoken if character in _VOWELS]
    last_vowel = vowels[-1] if vowels else "e"
    front = last_vowel in _FRONT_VOWELS or last_vowel in "âîû"
    if fold_case(stripped, turkish=True) in _FRONT_EXCEPTIONS:
        front = True
    two_way = "e" if front else "a"
    if last_vowel in "ou" and not front:
        four_way = "u"
    elif last_vowel in "öü":
        four_way = "ü"
    elif front:
        four_way = "i"
    else:
        four_way = "ı"
    ends_in_vowel = spoken[-1] in _VOWELS
    voiceless = spoken[-1] in _VOICELESS

    if case == "dative":
        ending = ("y" if ends_in_vowel else "") + two_way
    elif case == "accusative":
        ending = ("y" if ends_in_vowel else "") + four_way
    elif case == "genitive":
        ending = ("n" if ends_in_vowel else "") + four_way + "n"
    elif case == "locative":
        ending = ("t" if voiceless else "d") + two_way
    else:
        ending = ("t" if voiceless else "d") + two_way + "n"

    if stripped.isupper() and len(stripped) > 1 and not proper:
        ending = ending.upper()
    if proper:
        return f"{stripped}'{ending}"
    stem = stripped
    syllables = len(vowels)
    if ending[0] in _VOWELS and stem.endswith("nk"):
        stem = stem[:-1] + "g"  # renk -> rengi, even in one syllable
    elif syllables > 1 and ending[0] in _VOWELS and stem[-1] in _SOFTENING:
        stem = stem[:-1] + _SOFTENING[stem[-1]]
    return stem + ending


@dataclass(frozen=True)
class Template:
    """One canned reply in every language it was written in."""

    name: str
    texts: dict[str, str]
    titles: dict[str, str] = field(default_factory=dict)
    answers: tuple[str, ...] = ()
    """Phrases of the questions this template answers, used by ``faq suggest``."""
    path: Path | None = None

    def title(self, language: str) -> str:
        return self.titles.get(language) or next(iter(self.titles.values()), self.name)

    def languages(self) -> list[str]:
        return sorted(self.texts)

    def variables(self) -> list[str]:
        """Return the placeholder names the template uses, in every language."""
        names: set[str] = set()
        for text in self.texts.values():
            names.update(match.group(1) for match in _PLACEHOLDER.finditer(text))
        return sorted(names)

    def render(self, language: str, values: dict[str, str]) -> str:
        """Fill in the placeholders of the ``language`` text.

        Raises:
            TemplateError: the template has no text in ``language``, or a
                placeholder has no value (all missing names are listed).
        """
        if language not in self.texts:
            raise TemplateError(
                f"template {self.name} has no {language} text; it has {', '.join(self.languages())}"
            )
        text = self.texts[language]
        missing = sorted(
            {
                match.group(1)
                for match in _PLACEHOLDER.finditer(text)
                if match.group(1) not in values
            }
        )
        if missing:
            raise TemplateError(
                f"template {self.name} needs a value for {', '.join(missing)}; "
                "pass --var NAME=VALUE"
            )

        def replace(match: re.Match[str]) -> str:
            if match.group(0) in {"{{", "}}"}:
                return match.group(0)[0]
            value = values[match.group(1)]
            case = match.group(2)
            return suffix(value, case) if case else value  # type: ignore[arg-type]

        return _TOKEN.sub(replace, text)


_CASE_PATTERN = "|".join(CASES)
_PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)(?:\|(" + _CASE_PATTERN + r"))?\}")
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)(?:\|(" + _CASE_PATTERN + r"))?\}")
_STRAY_BRACE = re.compile(r"\{(?!\{)[^}]*\}")


def default_templates_dir() -> Path:
    """Return ``SOCIALINBOX_TEMPLATES`` when set, else the starter set shipped with the package."""
    configured = os.environ.get("SOCIALINBOX_TEMPLATES")
    if configured:
        return Path(configured)
    return Path(__file__).with_name("templates")


def _load_template(path: Path) -> Template:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise TemplateError(f"template file {path} is not valid TOML: {error}") from error
    except OSError as error:
        raise TemplateError(f"template file {path} cannot be read: {error.strerror}") from error
    texts = document.get("text")
    if (
        not isinstance(texts, dict)
        or not texts
        or not all(isinstance(value, str) for value in texts.values())
    ):
        raise TemplateError(f"template file {path} needs a [text] table with tr and/or en strings")
    for language, text in texts.items():
        cleaned = _TOKEN.sub("", text)
        stray = _STRAY_BRACE.search(cleaned)
        if stray:
            raise TemplateError(
                f"template file {path}: {language} text has an invalid placeholder {stray.group(0)}; "
                f"use {{name}} or {{name|case}} with case one of {', '.join(CASES)}, "
                "and {{ }} for literal braces"
            )
    titles = document.get("title", {})
    answers = document.get("answers", [])
    if not isinstance(titles, dict) or not isinstance(answers, list):
        raise TemplateError(f"template file {path}: title must be a table and answers a list")
    return Template(
        name=path.stem,
        texts={str(key): value.strip() for key, value in texts.items()},
        titles={str(key): str(value) for key, value in titles.items()},
        answers=tuple(str(answer) for answer in answers),
        path=path,
    )


class TemplateLibrary:
    """The templates of one folder, loaded on first use."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or default_templates_dir()
        self._templates: dict[str, Template] | None = None

    def _load(self) -> dict[str, Template]:
        if self._templates is None:
            if not self.folder.is_dir():
                raise TemplateError(f"templates folder {self.folder} not found")
            self._templates = {
                path.stem: _load_template(path) for path in sorted(self.folder.glob("*.toml"))
            }
        return self._templates

    def names(self) -> list[str]:
        return sorted(self._load())

    def all(self) -> list[Template]:
        return [self._load()[name] for name in self.names()]

    def get(self, name: str) -> Template:
        """Return the template ``name``.

        Raises:
            TemplateError: there is no such template.
        """
        try:
            return self._load()[name]
        except KeyError:
            raise TemplateError(
                f"template {name} not found in {self.folder}; "
                "run `socialinbox templates list` to see the names"
            ) from None


def escape_for(text: str, parse_mode: str | None) -> str:
    """Escape plain ``text`` for a Telegram ``parse_mode`` (``HTML`` or ``MarkdownV2``).

    Other platforms and Telegram without a parse mode send text as it is.
    """
    if parse_mode is None:
        return text
    if parse_mode.upper() == "HTML":
        return html.escape(text, quote=False)
    if parse_mode == "MarkdownV2":
        return re.sub(r"([_*\[\]()~`>#+\-=|{}.!\\])", r"\\\1", text)
    raise TemplateError(f"unknown Telegram parse_mode {parse_mode!r}; expected HTML or MarkdownV2")
