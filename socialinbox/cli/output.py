"""Rendering of listings as text tables, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["FORMATS", "echo_json", "render_listing"]

FORMATS = ("text", "json", "csv")


def echo_json(document: Any) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2, default=str))


def render_listing(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    output_format: str,
    *,
    json_document: Any | None = None,
    title: str | None = None,
) -> None:
    """Print ``rows`` in ``output_format``.

    Args:
        rows: one dict per row, keyed by the column field names.
        columns: (field name, translated heading) pairs, in display order.
        output_format: ``text``, ``json`` or ``csv``.
        json_document: what to print for ``json`` instead of the plain row list.
        title: a heading for the text table.
    """
    if output_format == "json":
        echo_json(json_document if json_document is not None else list(rows))
        return
    if output_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([field for field, _ in columns])
        for row in rows:
            writer.writerow([_plain(row.get(field)) for field, _ in columns])
        click.echo(buffer.getvalue(), nl=False)
        return
    table = Table(title=title, show_lines=False)
    for _, heading in columns:
        table.add_column(heading, overflow="fold")
    for row in rows:
        # Text() keeps brackets in message texts from being read as rich markup.
        table.add_row(*(Text(_plain(row.get(field))) for field, _ in columns))
    console = Console(soft_wrap=False, width=max(100, Console().width))
    with console.capture() as capture:
        console.print(table)
    click.echo(capture.get(), nl=False)


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return "; ".join(f"{key}: {count}" for key, count in value.items())
    return str(value)
