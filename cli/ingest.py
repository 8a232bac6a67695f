"""`newsdesk watch` and `newsdesk feeds`: articles that flow in by themselves."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict

from rich.console import Console

from cli.options import json_option


def _log_to_stderr() -> None:
    if getattr(_log_to_stderr, "done", False):
        return
    _log_to_stderr.done = True
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    for name in ("newsdesk.watch", "newsdesk.feeds"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def cmd_watch(args, settings, out: Console, err: Console) -> int:
    from ingest.feed_state import FeedStates
    from ingest.watch import Watcher

    if args.interval is not None and args.interval <= 0:
        from errors import BadInput

        raise BadInput("--interval must be a positive number of seconds.")
    if args.feed:
        with FeedStates.for_settings(settings) as states:
            for url in args.feed:
                states.add(url)
    _log_to_stderr()
    return Watcher(settings, args.paths, feed_interval=args.interval).run()


def _sync_feed_folders(settings, err: Console, removed: list[str] = ()) -> str:
    """Index the feeds folder now when no watcher holds the index; else the watcher does it."""
    from errors import IndexBusy
    from ingest.feeds import feeds_dir
    from index.sync import Indexer

    indexer = None
    try:
        indexer = Indexer(settings)
        gone = len(indexer.remove(under=removed)[0]) if removed else 0
        report = indexer.sync([feeds_dir(settings)])
        return (f"indexed: {report.added} added, {report.updated} updated, {report.removed + gone} removed "
                f"({report.articles} articles in the index)")
    except IndexBusy:
        return "another process (a watcher?) holds the index: it indexes the feed folder itself"
    finally:
        if indexer is not None:
            indexer.close()


def cmd_feeds(args, settings, out: Console, err: Console) -> int:
    from ingest.feed_state import FeedStates
    from ingest.feeds import FeedPoller, feed_folder, remove_feed_folder
    from ingest.fetch import PoliteFetcher

    with FeedStates.for_settings(settings) as states:
        if args.action == "add":
            state = states.add(args.target, name=args.name)
            out.print(f"following {state.name} ({state.url}); its items go to {feed_folder(settings, state)}",
                      markup=False, highlight=False)
            return 0
        if args.action == "remove":
            state = states.remove(args.target)
            if state is None:
                err.print(f"newsdesk: no followed feed is named or at '{args.target}'", markup=False)
                return 1
            folder = remove_feed_folder(settings, state)
            out.print(f"stopped following {state.name}; {_sync_feed_folders(settings, err, [str(folder)])}",
                      markup=False, highlight=False)
            return 0
        if args.action == "list":
            feeds = states.list()
            if args.json:
                print(json.dumps([asdict(s) for s in feeds], ensure_ascii=False))
                return 0
            if not feeds:
                out.print("no feeds followed; add one with `newsdesk feeds add URL`")
            for s in feeds:
                out.print(f"{s.name}  {s.url}\n  {s.status}, last poll {s.last_poll or 'never'}, "
                          f"{s.new_items} new, {s.items} items" + (f"\n  last error: {s.last_error}" if s.last_error else ""),
                          markup=False, highlight=False)
            return 0
        # poll: one round over every feed, then index what it wrote
        _log_to_stderr()
        fetcher = PoliteFetcher(settings)
        try:
            results = FeedPoller(settings, states, fetcher).poll_round(force=args.force)
        finally:
            fetcher.close()
    indexed = _sync_feed_folders(settings, err) if results else "nothing to index"
    if args.json:
        print(json.dumps({"feeds": [{k: v for k, v in asdict(r).items() if k != "written"} for r in results],
                          "indexed": indexed}, ensure_ascii=False, default=str))
        return 0 if all(r.status in ("ok", "not_modified", "waiting") for r in results) else 1
    for r in results:
        out.print(f"{r.name}: {r.status}, {r.new_items} new, {r.updated_items} updated, {r.items} items"
                  + (f"; {r.error}" if r.error else ""), markup=False, highlight=False)
    out.print(indexed, markup=False, highlight=False)
    return 0 if all(r.status in ("ok", "not_modified", "waiting") for r in results) else 1


def register(sub) -> None:
    p = sub.add_parser("watch", help="keep the index in sync with folders (and feeds) until stopped")
    p.add_argument("paths", nargs="*", metavar="PATH", help="folders or files to watch")
    p.add_argument("--feed", action="append", metavar="URL", help="also follow this feed (repeatable; kept)")
    p.add_argument("--interval", type=float, metavar="SECONDS",
                   help="poll each feed this often (default NEWSDESK_FEED_INTERVAL_SECONDS)")
    p.set_defaults(func=cmd_watch)

    p = sub.add_parser("feeds", help="follow RSS/Atom feeds: add, list, remove, poll")
    p.add_argument("action", choices=["add", "list", "remove", "poll"])
    p.add_argument("target", nargs="?", metavar="URL|NAME", help="the feed (add: its URL; remove: URL or name)")
    p.add_argument("--name", help="add: a short name for the feed (default: its host and path)")
    p.add_argument("--force", action="store_true", help="poll: also feeds waiting out a Retry-After")
    json_option(p, "the feeds (list) or the poll's results (poll)")
    p.set_defaults(func=_feeds_entry)


def _feeds_entry(args, settings, out: Console, err: Console) -> int:
    from errors import BadInput

    if args.action in ("add", "remove") and not args.target:
        raise BadInput(f"`newsdesk feeds {args.action}` needs a feed URL" + (" or name." if args.action == "remove" else "."))
    return cmd_feeds(args, settings, out, err)
