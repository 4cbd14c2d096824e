"""The ``import`` command: history from platform data exports."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from socialinbox.cli.main import Context, fail, format_option, register_command
from socialinbox.cli.output import echo_json, render_listing
from socialinbox.errors import SocialInboxError
from socialinbox.locale import Translator
from socialinbox.model import Platform

if TYPE_CHECKING:
    from socialinbox.moderation.rules import RuleSet

__all__ = ["import_command"]


@register_command
def import_command(t: Translator) -> click.Command:
    @click.command(name="import", help=t("import.help"))
    @click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
    @click.option("--account", "account_id", help=t("import.opt.account"))
    @click.option(
        "--platform",
        type=click.Choice([platform.value for platform in Platform]),
        help=t("import.opt.platform"),
    )
    @click.option("--owner", "owner_name", metavar="NAME", help=t("import.opt.owner"))
    @click.option("--push", is_flag=True, help=t("import.opt.push"))
    @format_option(t)
    @click.pass_obj
    def import_(
        state: Context,
        paths: Sequence[Path],
        account_id: str | None,
        platform: str | None,
        owner_name: str | None,
        push: bool,
        output_format: str,
    ) -> None:
        from socialinbox.exports import ImportProgress, import_paths

        console = Console(stderr=True)
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            console=console,
            # The bar is for people at a terminal; pipes and logs get the summary only.
            disable=not console.is_terminal,
            transient=True,
        )
        task: TaskID | None = None

        def show(step: ImportProgress) -> None:
            nonlocal task
            counts = t(
                "import.progress",
                stored=step.total.messages_stored,
                duplicates=step.total.duplicates,
                quarantined=step.total.quarantined,
            )
            if task is None:
                task = progress.add_task(t("import.reading"), total=step.files_total, counts="")
            progress.update(task, completed=step.files_done, counts=counts)

        try:
            rules = _configured_rules()
            store = state.store(create=True)
            with progress:
                report = import_paths(
                    store,
                    list(paths),
                    account_id=account_id,
                    platform=Platform(platform) if platform else None,
                    owner_name=owner_name,
                    push=push,
                    progress=show,
                    rules=rules,
                )
        except SocialInboxError as error:
            fail(t, error)

        document = report.as_dict()
        if output_format == "json":
            echo_json(document)
            return
        rows: list[dict[str, Any]] = list(document["files"])
        if output_format == "text":
            rows.append({"path": t("col.total"), "format": "", "platform": "", **document["total"]})
        render_listing(
            rows,
            [
                ("path", t("col.file")),
                ("format", t("col.format")),
                ("platform", t("col.platform")),
                ("messages_stored", t("col.stored")),
                ("duplicates", t("col.duplicates")),
                ("events", t("col.events")),
                ("ignored", t("col.ignored")),
                ("quarantined", t("col.quarantined")),
                ("reasons", t("col.reasons")),
            ],
            output_format,
        )
        if output_format != "text":
            return
        total = document["total"]
        click.echo(
            t(
                "import.summary",
                stored=total["messages_stored"],
                duplicates=total["duplicates"],
                events=total["events"],
                files=len(document["files"]),
            )
        )
        if total["quarantined"]:
            click.echo(t("import.quarantined", count=total["quarantined"]))
        click.echo(t("import.pushed", count=total["outbox"]) if push else t("import.not_pushed"))
        sys.stdout.flush()

    return import_


def _configured_rules() -> RuleSet | None:
    """Load the rules file the settings name (``rules``), if any, for tagging history."""
    from socialinbox.cli.main import _settings_file_value

    path = os.environ.get("SOCIALINBOX_RULES") or _settings_file_value("rules")
    if not path:
        return None
    from socialinbox.moderation.rules import load_rules
    from socialinbox.moderation.templates import TemplateLibrary

    return load_rules(path, templates=TemplateLibrary())
