"""Fixtures of the export import tests: the export corpus folder and a fresh store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from socialinbox.store import Store


@pytest.fixture
def exports(corpus: Path) -> Path:
    return corpus / "exports"


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    with Store.open(sqlite_url) as opened:
        yield opened
