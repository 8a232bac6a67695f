"""`newsdesk index`, `remove` and `status`: files in, articles out, and what the index holds."""

from __future__ import annotations

import json

from rich.console import Console

from cli.options import json_option


def _progress_renderer(console: Console):
    """A rich progress bar (articles, chunks/s, ETA) fed by the indexer's callback."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn("[bold]indexing"), BarColumn(), MofNCompleteColumn(), TextColumn("articles"),
        TextColumn("{task.fields[rate]}"), TextColumn("ETA"), TimeRemainingColumn(),
        console=console, transient=False,
    )
    state: dict = {}

    def update(done: int, total: int, embedded: int) -> None:
        if "task" not in state:
            if total == 0:
                return
            progress.start()
            state["task"] = progress.add_task("index", total=total, rate="")
            state["t0"] = time.perf_counter()
        elapsed = max(time.perf_counter() - state["t0"], 1e-6)
        progress.update(state["task"], completed=done, rate=f"{embedded / elapsed:.1f} chunks/s")

    return progress, update


def cmd_index(args, settings, out: Console, err: Console) -> int:
    from index.store import reset_store
    from index.sync import Indexer

    if args.rebuild:
        reset_store(settings)
    indexer = Indexer(settings)
    progress, update = _progress_renderer(err) if not args.quiet else (None, None)
    try:
        report = indexer.sync(args.paths, on_progress=update)
    finally:
        if progress is not None:
            progress.stop()
        indexer.close()
    data = report.to_dict()
    data.pop("chunks_embedded")
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return 0
    out.print(
        f"[bold]{report.added}[/] added, [bold]{report.updated}[/] updated, [bold]{report.removed}[/] removed, "
        f"[bold]{report.unchanged}[/] unchanged, [bold]{len(report.skipped)}[/] skipped "
        f"in {report.seconds:.1f} s ({report.chunks_embedded} chunks embedded). "
        f"Index: {report.articles} articles, {report.chunks} chunks."
    )
    for skipped in report.skipped[: args.show_skipped]:
        out.print(f"  skipped {skipped.path}: {skipped.reason}", markup=False, highlight=False)
    if len(report.skipped) > args.show_skipped:
        out.print(f"  ... and {len(report.skipped) - args.show_skipped} more (--json lists them all)")
    return 0


def cmd_remove(args, settings, out: Console, err: Console) -> int:
    from index.sync import Indexer

    if not args.ids and not args.path:
        err.print("newsdesk remove: give article ids or --path PATH")
        return 2
    indexer = Indexer(settings)
    try:
        removed, unknown = indexer.remove(args.ids, under=args.path or ())
    finally:
        indexer.close()
    if args.json:
        print(json.dumps({"removed": removed, "unknown": unknown}))
    else:
        out.print(f"removed {len(removed)} article(s)")
        for article_id in unknown:
            out.print(f"  not in the index: {article_id}", markup=False)
    return 0 if not unknown else 1


def cmd_status(args, settings, out: Console, err: Console) -> int:
    from dataclasses import asdict

    from index.sync import Indexer

    indexer = Indexer(settings)
    try:
        status = indexer.status()
    finally:
        indexer.close()
    if args.json:
        print(json.dumps(asdict(status), ensure_ascii=False))
        return 0
    from rich.markup import escape
    from rich.table import Table

    table = Table(show_header=False, box=None)
    sources = ", ".join(f"{s.source} ({s.articles})" for s in status.sources[:8])
    if len(status.sources) > 8:
        sources += f", ... {len(status.sources) - 8} more"
    from index.status import freshness_rows

    rows = [
        ("articles", str(status.articles)), ("chunks", str(status.chunks)), ("sources", sources or "-"),
        ("newest article", status.newest_article or "unknown"),
        ("oldest article", status.oldest_article or "unknown"),
        ("last indexed", status.last_indexed or "never"), ("store", status.store),
        ("catalog", status.catalog), ("embedder", status.embedder),
        ("indexed roots", "\n".join(status.roots) or "-"),
        *(freshness_rows(status.freshness) if status.freshness else []),
    ]
    for key, value in rows:
        table.add_row(f"[bold]{escape(key)}", escape(value))
    out.print(table)
    return 0


def register(sub) -> None:
    p = sub.add_parser("index", help="make the index equal to the articles under PATH(s)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="article files or folders")
    json_option(p, "the report")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--rebuild", action="store_true",
                   help="drop the collection first and re-embed everything (needed after changing the embedder)")
    p.add_argument("--show-skipped", type=int, default=20, metavar="N", help="skipped inputs to list (default 20)")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("remove", help="remove articles by id, or every article under --path")
    p.add_argument("ids", nargs="*", metavar="ID", help="article ids (as `status` and `ask --json` show them)")
    p.add_argument("--path", action="append", help="remove every article from files under this path (repeatable)")
    json_option(p, "the removed and unknown ids")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("status", help="what is indexed and where, and how fresh it is (newest arrival, embedding "
                                      "queue, watcher, feeds, lag from publication to answerable)")
    json_option(p, "the status")
    p.set_defaults(func=cmd_status)
