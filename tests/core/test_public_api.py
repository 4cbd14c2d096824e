"""The curated public API in socialinbox.__all__."""

from __future__ import annotations

import socialinbox


def test_all_is_sorted() -> None:
    assert socialinbox.__all__ == sorted(socialinbox.__all__)


def test_all_names_exist() -> None:
    missing = [name for name in socialinbox.__all__ if not hasattr(socialinbox, name)]

    assert missing == []


def test_no_public_name_is_left_out() -> None:
    public = {
        name
        for name in vars(socialinbox)
        if not name.startswith("_")
        and not isinstance(getattr(socialinbox, name), type(socialinbox))
    }

    assert public - set(socialinbox.__all__) == set()
