"""``socialinbox demo``: run the main job on embedded sample data and show the result."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from socialinbox.cli.main import Context, fail, register_command
from socialinbox.cli.output import render_listing
from socialinbox.errors import SocialInboxError
from socialinbox.locale import Translator

__all__ = ["demo_command"]


def demo_command(t: Translator) -> click.Command:
    @click.command(name="demo", help=t("demo.help"))
    @click.option("--follow", is_flag=True, help=t("demo.opt.follow"))
    @click.option(
        "--load",
        "load",
        multiple=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help=t("demo.opt.load"),
    )
    @click.option("--timeout", type=float, default=120.0, show_default=True, help=t("demo.opt.timeout"))
    @click.pass_obj
    def demo(state: Context, follow: bool, load: Sequence[Path], timeout: float) -> None:
        from socialinbox.demo import run_demo

        database = state.explicit_database
        click.echo(t("demo.starting"))
        if follow:
            click.echo(t("demo.following"))
        try:
            result = asyncio.run(run_demo(database=database, follow=follow, load=load, drain_timeout=timeout))
        except SocialInboxError as error:
            fail(t, error)

        rows = []
        for conversation in result.conversations:
            key = str(conversation.key)
            rows.append(
                {
                    "platform": conversation.key.platform.value,
                    "contact": result.contact_names.get(key, conversation.key.chat_id),
                    "messages": result.message_counts.get(key, 0),
                    "last": _shorten(result.last_texts.get(key, "")),
                    "status": t(f"status.{conversation.status}"),
                }
            )
        click.echo()
        render_listing(
            rows,
            [
                ("platform", t("col.platform")),
                ("contact", t("col.contact")),
                ("messages", t("col.messages")),
                ("last", t("col.last_text")),
                ("status", t("col.status")),
            ],
            "text",
            title=t("demo.inbox_title"),
        )
        summary_rows = [
            {
                "platform": summary.platform.value,
                "expected": summary.expected,
                "stored": summary.stored,
                "conversations": summary.conversations,
                "duplicates": summary.duplicates,
                "events": summary.events,
                "ignored": summary.ignored,
                "quarantined": summary.quarantined,
            }
            for summary in result.platforms
        ]
        render_listing(
            summary_rows,
            [
                ("platform", t("col.platform")),
                ("expected", t("col.expected")),
                ("stored", t("col.stored")),
                ("conversations", t("col.conversations")),
                ("duplicates", t("col.duplicates")),
                ("events", t("col.events")),
                ("ignored", t("col.ignored")),
                ("quarantined", t("col.quarantined")),
            ],
            "text",
            title=t("demo.summary_title"),
        )
        click.echo(
            t(
                "demo.chatwoot",
                contacts=result.chatwoot_contacts,
                conversations=result.chatwoot_conversations,
                messages=result.chatwoot_messages,
                notes=result.chatwoot_notes,
                stored=result.stored_total,
            )
        )
        click.echo(t("demo.jsonl", path=result.jsonl_path, lines=result.jsonl_lines))
        for location, reason in result.skipped_loads:
            click.echo(t("demo.skipped", location=location, reason=reason), err=True)
        click.echo(t("demo.database", url=result.database_url))
        if result.complete:
            click.echo(t("demo.ok", stored=result.stored_total))
            return
        click.echo(t("demo.incomplete"), err=True)
        sys.exit(1)

    return demo


def _shorten(text: str, limit: int = 60) -> str:
    single = " ".join(text.split())
    return single if len(single) <= limit else single[: limit - 1] + "…"


register_command(demo_command)
