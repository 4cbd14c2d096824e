"""Templates: Turkish case suffixes, rendering, the starter set and escaping."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialinbox.moderation.templates import TemplateError, TemplateLibrary, escape_for, suffix


@pytest.mark.parametrize(
    ("word", "case", "expected"),
    [
        ("Ahmet", "dative", "Ahmet'e"),
        ("Ayşe", "dative", "Ayşe'ye"),
        ("Ali", "dative", "Ali'ye"),
        ("Kadıköy", "locative", "Kadıköy'de"),
        ("İstanbul", "locative", "İstanbul'da"),
        ("Ahmet", "locative", "Ahmet'te"),
        ("Burak", "ablative", "Burak'tan"),
        ("Ankara", "ablative", "Ankara'dan"),
        ("Zeynep", "accusative", "Zeynep'i"),
        ("Ordu", "accusative", "Ordu'yu"),
        ("Göksu", "dative", "Göksu'ya"),
        ("Ayşe", "genitive", "Ayşe'nin"),
        ("Mehmet", "genitive", "Mehmet'in"),
        ("Ufuk", "genitive", "Ufuk'un"),
        ("Gül", "genitive", "Gül'ün"),
        ("2024", "locative", "2024'te"),
        ("6", "dative", "6'ya"),
        ("PTT", "dative", "PTT'ye"),
        ("talep", "dative", "talebe"),
        ("çocuk", "dative", "çocuğa"),
        ("renk", "accusative", "rengi"),
        ("kitap", "locative", "kitapta"),
        ("ev", "dative", "eve"),
        ("saat", "dative", "saate"),
    ],
)
def test_suffix_table(word: str, case: str, expected: str) -> None:
    assert suffix(word, case) == expected  # type: ignore[arg-type]


def test_suffix_rejects_empty_word() -> None:
    with pytest.raises(ValueError, match="no letters"):
        suffix("  ", "dative")


def test_starter_set_has_both_languages() -> None:
    library = TemplateLibrary()

    names = library.names()

    assert {
        "para_cekme_beklemede",
        "yatirim_yansimadi",
        "kimlik_reddedildi",
        "bonus_kosullari",
        "uygulama_cokuyor",
    } <= set(names)
    for template in library.all():
        assert template.languages() == ["en", "tr"], template.name
        assert template.title("tr") and template.title("en")


def test_render_with_case_suffix(tmp_path: Path) -> None:
    (tmp_path / "devir.toml").write_text(
        'title.tr = "Devir"\n[text]\ntr = "Konuyu {moderator|dative} ilettim, {{not}} {city|locative} ekip var."\n',
        encoding="utf-8",
    )

    text = (
        TemplateLibrary(tmp_path)
        .get("devir")
        .render("tr", {"moderator": "Ayşe", "city": "İstanbul"})
    )

    assert text == "Konuyu Ayşe'ye ilettim, {not} İstanbul'da ekip var."


def test_render_lists_missing_variables() -> None:
    template = TemplateLibrary().get("karsilama")

    with pytest.raises(TemplateError, match="first_name"):
        template.render("tr", {})


def test_invalid_placeholder_names_file(tmp_path: Path) -> None:
    (tmp_path / "bozuk.toml").write_text('[text]\ntr = "Merhaba {ad|yonelme}"\n', encoding="utf-8")

    with pytest.raises(TemplateError, match=r"bozuk\.toml.*invalid placeholder"):
        TemplateLibrary(tmp_path).get("bozuk")


def test_unknown_template_names_next_command() -> None:
    with pytest.raises(TemplateError, match="templates list"):
        TemplateLibrary().get("yok_boyle")


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (None, "a <b> 1.5 (x)"),
        ("HTML", "a &lt;b&gt; 1.5 (x)"),
        ("MarkdownV2", "a <b\\> 1\\.5 \\(x\\)"),
    ],
)
def test_escape_for_parse_mode(mode: str | None, expected: str) -> None:
    assert escape_for("a <b> 1.5 (x)", mode) == expected
