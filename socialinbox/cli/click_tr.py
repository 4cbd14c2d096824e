"""Turkish for click's own words: usage lines, section headings and usage errors.

click marks these strings for :mod:`gettext` but ships no catalogs, and each
of its modules binds ``_`` at import. :func:`use_turkish` points those
bindings at a lookup in the table below; strings not in the table stay in
English. The table covers what a moderator sees in ``--help`` and in the
usage errors of the commands socialinbox defines (click 8.1 to 8.3 message
ids, read from its source).
"""

from __future__ import annotations

import gettext
import importlib

__all__ = ["use_turkish", "use_english"]

CLICK_TURKISH = {
    "Usage:": "Kullanım:",
    "Options": "Seçenekler",
    "Commands": "Komutlar",
    "Positional arguments": "Konumsal bağımsız değişkenler",
    "Show this message and exit.": "Bu iletiyi göster ve çık.",
    "Show the version and exit.": "Sürümü göster ve çık.",
    "%(prog)s, version %(version)s": "%(prog)s, sürüm %(version)s",
    "Error: {message}": "Hata: {message}",
    "Try '{command} {option}' for help.": "Yardım için '{command} {option}' deneyin.",
    "Invalid value for {param_hint}: {message}": "{param_hint} için geçersiz değer: {message}",
    "Invalid value: {message}": "Geçersiz değer: {message}",
    "Missing argument": "Eksik bağımsız değişken",
    "Missing option": "Eksik seçenek",
    "Missing parameter": "Eksik parametre",
    "Missing parameter: {param_name}": "Eksik parametre: {param_name}",
    "Missing {param_type}": "Eksik {param_type}",
    "Missing command.": "Komut eksik.",
    "No such command {name!r}.": "{name!r} adlı bir komut yok.",
    "No such option {name!r}.": "{name!r} adlı bir seçenek yok.",
    "Option {name!r} does not take a value.": "{name!r} seçeneği değer almaz.",
    "Aborted!": "İptal edildi!",
    "Do you want to continue?": "Devam etmek istiyor musunuz?",
    "Confirm the action without prompting.": "İşlemi sormadan onayla.",
    "default: {default}": "varsayılan: {default}",
    "env var: {var}": "ortam değişkeni: {var}",
    "required": "zorunlu",
    "{value!r} is not a valid {number_type}.": "{value!r} geçerli bir {number_type} değil.",
    "{value} is not in the range {range}.": "{value}, {range} aralığında değil.",
    "{name} {filename!r} does not exist.": "{name} {filename!r} yok.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} bir klasör.",
    "{name} {filename!r} is a file.": "{name} {filename!r} bir dosya.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} okunamıyor.",
    "file": "dosya",
    "directory": "klasör",
    "path": "yol",
    "integer": "tam sayı",
    "float": "ondalık sayı",
}

_CLICK_MODULES = (
    "click.core",
    "click.decorators",
    "click.exceptions",
    "click.formatting",
    "click.parser",
    "click.types",
    "click.termui",
)

_CLICK_TURKISH_PLURAL = {
    "{value!r} is not {choice}.": "{value!r}, {choice} değil.",
    "{value!r} is not one of {choices}.": "{value!r}, şunlardan biri değil: {choices}.",
    "Got unexpected extra argument ({args})": "Beklenmeyen fazladan bağımsız değişken ({args})",
    "Got unexpected extra arguments ({args})": "Beklenmeyen fazladan bağımsız değişkenler ({args})",
}


def _turkish(message: str) -> str:
    return CLICK_TURKISH.get(message, message)


def _turkish_plural(singular: str, plural: str, count: int) -> str:
    chosen = singular if count == 1 else plural
    return _CLICK_TURKISH_PLURAL.get(chosen, chosen)


def _bind(single: object, plural: object) -> None:
    for name in _CLICK_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "_"):
            module._ = single  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = plural  # type: ignore[attr-defined]


def use_turkish() -> None:
    """Make click print its own words in Turkish in this process."""
    _bind(_turkish, _turkish_plural)


def use_english() -> None:
    """Restore click's own (English) words."""
    _bind(gettext.gettext, gettext.ngettext)
