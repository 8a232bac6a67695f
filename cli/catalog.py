"""`newsdesk catalog copy`: an index under another home copied into the configured one (``index.copy``)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from rich.console import Console

from cli.options import json_option


def cmd_copy(args, settings, out: Console, err: Console) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from index.copy import copy_index, source_settings
    from index.embedders import make_embedder

    source = source_settings(settings, Path(args.source).expanduser().resolve(), args.source_collection)
    progress = Progress(TextColumn("[bold]copying"), BarColumn(), MofNCompleteColumn(), TextColumn("articles"),
                        TextColumn("ETA"), TimeRemainingColumn(), console=err, transient=False,
                        disable=args.quiet)
    tasks: list = []

    def update(done: int, total: int) -> None:  # shown from the first batch on: a refusal prints no bar
        if not tasks:
            progress.start()
            tasks.append(progress.add_task("copy", total=total))
        progress.update(tasks[0], completed=done, total=total)

    try:
        report = copy_index(source, settings, make_embedder(settings), on_progress=update)
    finally:
        progress.stop()
    stories = _keep_stories(settings)
    if args.json:
        print(json.dumps(asdict(report), ensure_ascii=False))
        return 0
    resumed = f" (after {report.resumed_after} copied before)" if report.resumed_after else ""
    out.print(f"copied [bold]{report.articles}[/] articles{resumed}, {report.chunks} chunks, {report.vectors} vectors "
              f"({report.queued} left queued), {report.signatures} wire signatures, {report.feeds} feeds and "
              f"{report.roots} roots in {report.seconds:.1f} s", highlight=False)
    out.print(f"  from {report.source}\n  into {report.target} and {report.store}", markup=False, highlight=False)
    if stories is not None:
        out.print(f"  {stories.linked} articles grouped into stories in {stories.seconds:.1f} s", highlight=False)
    return 0


def _keep_stories(settings):
    """The copy's stories, made as a write that settles makes them (they are derived, so not copied)."""
    from index.catalog import open_catalog
    from index.lock import index_lock
    from stories.hooks import keep_stories

    catalog = open_catalog(settings)
    try:
        with index_lock(settings):
            return keep_stories(catalog, settings)
    finally:
        catalog.close()


def register(sub) -> None:
    p = sub.add_parser("catalog", help="work on the catalog as a whole (copy an index into this one)")
    group = p.add_subparsers(dest="catalog_command", required=True)
    c = group.add_parser(
        "copy", help="copy the index under --from (its catalog and vectors) into the configured catalog and Chroma "
                     "store, without embedding again; run it again to resume a copy that stopped")
    c.add_argument("--from", dest="source", required=True, metavar="HOME",
                   help="the NEWSDESK_HOME of the index to copy (its own SQLite catalog; opened read-only)")
    c.add_argument("--from-collection", dest="source_collection", metavar="NAME",
                   help="the collection of the index to copy (default: the configured NEWSDESK_COLLECTION)")
    json_option(c, "the copy's report")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    c.set_defaults(func=cmd_copy)
