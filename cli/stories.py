"""`newsdesk stories` and `timeline`: the stories the index holds, newest first, and one story's timeline.

Both read the catalog only (``stories.queries``): no embedder and no Chroma store are opened, so they answer
at once and while a writer runs. A story is found by its id or by a few words (``StoryQueries.find``); words
that match no story are one line on stderr and exit code 1, as an unknown id is for ``remove``.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.markup import escape

from cli.options import json_option


@contextmanager
def _queries(settings) -> Iterator:
    """``StoryQueries`` on the configured catalog, read-only; None before anything was indexed."""
    from index.catalog import catalog_exists, open_catalog
    from stories.queries import StoryQueries

    if not catalog_exists(settings):
        yield None
        return
    catalog = open_catalog(settings, read_only=True)
    try:
        yield StoryQueries(catalog, settings)
    finally:
        catalog.close()


def since_date(text: str | None):
    """``--since`` as a date (any date format articles use); ``BadInput`` names what was given."""
    from rag.query import as_datetime

    return as_datetime(text).date() if text else None


def span_text(first: str | None, last: str | None) -> str:
    """"2022-03-02 -> 2022-03-09", one day once, or "date unknown"."""
    if not first and not last:
        return "date unknown"
    return first or last if first == last or not (first and last) else f"{first} -> {last}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def cmd_stories(args, settings, out: Console, err: Console) -> int:
    since = since_date(args.since)
    with _queries(settings) as queries:
        stories = queries.list(since, limit=args.limit, offset=args.offset) if queries else []
        total = queries.count() if queries else 0
    if args.json:
        print(json.dumps({"total": total, "offset": args.offset, "stories": [s.to_dict() for s in stories]},
                         ensure_ascii=False))
        return 0
    if not stories:
        where = f" reported since {since.isoformat()}" if since else ""
        out.print(f"No stories{where}: a story is two or more articles about one event (index articles, then "
                  "look again).", markup=False, highlight=False)
        return 0
    from rich.table import Table

    where = f" reported since {since.isoformat()}" if since else ""
    table = Table(title=f"Stories{where}, newest first", title_justify="left",
                  caption=f"{len(stories)} shown; {total} in the index", caption_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("first", no_wrap=True)
    table.add_column("last", no_wrap=True)
    table.add_column("articles", justify="right")
    table.add_column("outlets")
    table.add_column("title")
    for s in stories:
        table.add_row(s.id, s.first_date or "-", s.last_date or "-", str(s.articles), escape(", ".join(s.outlets)),
                      escape(s.title))
    out.print(table)
    return 0


def _quote_line(report, out: Console, indent: str = "      ") -> None:
    out.print(f"{indent}{escape(report.date or 'date unknown')} {escape(report.source or 'unknown outlet')}: "
              f"\"{escape(report.quote)}\"", highlight=False)


def print_timeline(timeline, out: Console) -> None:
    story = timeline.story
    out.print(f"[bold]{escape(story.title)}[/]", highlight=False)
    out.print(f"{story.id} · {span_text(story.first_date, story.last_date)} · {plural(story.articles, 'article')} · "
              f"{escape(', '.join(story.outlets) or 'unknown outlets')}", highlight=False)
    out.print("\n[bold]Timeline[/]")
    for entry in timeline.entries:
        out.print(f"  {escape(entry.date or 'date unknown')}  {escape(', '.join(entry.outlets) or 'unknown outlet')}",
                  highlight=False)
        if entry.claim != entry.report.quote:
            out.print(f"      {escape(entry.claim)}", highlight=False)
        out.print(f"      \"{escape(entry.report.quote)}\"", style="italic", highlight=False)
        if entry.report.url:
            out.print(f"      {escape(entry.report.url)}", style="dim", highlight=False)
    if not timeline.entries:
        out.print("  (no dated entries)")
    if timeline.moves:
        out.print("\n[bold]Moves[/]")
        for move in timeline.moves:
            out.print(f"  {escape(move.fact)}: {escape(move.before_value)} -> {escape(move.after_value)} "
                      f"({escape(span_text(move.before.date, move.after.date))})", highlight=False)
            _quote_line(move.before, out)
            _quote_line(move.after, out)
    if timeline.disagreements:
        out.print("\n[bold]Disagreements[/]")
        for d in timeline.disagreements:
            out.print(f"  {escape(d.fact)}: {escape(d.first_value)} ({escape(d.first.source or 'unknown outlet')}) "
                      f"vs {escape(d.second_value)} ({escape(d.second.source or 'unknown outlet')}), "
                      f"{escape(d.first.date or 'date unknown')}", highlight=False)
            _quote_line(d.first, out)
            _quote_line(d.second, out)


def cmd_timeline(args, settings, out: Console, err: Console) -> int:
    query = " ".join(args.query).strip()
    with _queries(settings) as queries:
        story_id = queries.find(query) if queries and query else None
        timeline = queries.timeline(story_id) if story_id else None
    if timeline is None:
        err.print(f"newsdesk timeline: no story matches '{query}' (`newsdesk stories` lists them).",
                  markup=False, highlight=False)
        return 1
    if args.json:
        print(json.dumps(timeline.to_dict(), ensure_ascii=False))
        return 0
    print_timeline(timeline, out)
    return 0


def register(sub) -> None:
    """Adds the stories and timeline commands."""
    p = sub.add_parser("stories", help="stories (articles about one event, across outlets and days), newest first")
    p.add_argument("--since", metavar="DATE", help="only stories reported on or after this date")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="stories to list (default 50)")
    p.add_argument("--offset", type=int, default=0, metavar="N", help="stories to skip first (default 0)")
    json_option(p, "the stories")
    p.set_defaults(func=cmd_stories)

    p = sub.add_parser("timeline", help="a story's timeline: dated entries with quotes, what moved, what disagrees")
    p.add_argument("query", nargs="+", metavar="QUERY|STORY_ID", help="a story's id or a few words about it")
    json_option(p, "the timeline")
    p.set_defaults(func=cmd_timeline)
