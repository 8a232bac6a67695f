"""The freshness view's figures, read from the catalog: newest arrival, embedding queue, watcher, feeds,
and the lag from publication to answerable (``newsdesk status``, the app's sidebar and Library)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from index.catalog import CatalogInterface
from index.types import FeedFreshness, Freshness, WatcherState, title_from_url
from settings import Settings


def read_freshness(catalog: CatalogInterface, settings: Settings, now: datetime | None = None) -> Freshness:
    config = settings.ingest
    now = now or datetime.now(timezone.utc)
    newest = catalog.newest_arrival()
    pending_chunks, pending_articles = catalog.pending_counts()
    last_indexed = catalog.get_meta("last_indexed")
    written = _parse(last_indexed)
    since = (now - timedelta(hours=config.lag_window_hours)).isoformat(timespec="seconds")
    arrivals = catalog.arrivals_since(since)
    lags, embed_lags = [], []
    news_age = timedelta(days=config.news_max_age_days)
    for published_at, indexed_at, embedded_at in arrivals:
        arrived, published, embedded = _parse(indexed_at), _parse(published_at), _parse(embedded_at)
        if arrived is None:
            continue
        if published is not None and arrived - published <= news_age:  # news, not an archive indexed today
            lags.append(max(0.0, (arrived - published).total_seconds()))
        if embedded is not None:
            embed_lags.append(max(0.0, (embedded - arrived).total_seconds()))
    return Freshness(
        newest_arrival_id=newest[0] if newest else None, newest_arrival_title=_shown_title(newest) if newest else None,
        newest_arrival_published=newest[2] if newest else None, newest_arrival_at=newest[3] if newest else None,
        last_indexed=last_indexed,
        stale=written is None or now - written > timedelta(hours=config.stale_after_hours),
        pending_chunks=pending_chunks, pending_articles=pending_articles,
        watcher=watcher_state(catalog.get_meta("watcher"), config.watcher_alive_seconds, now),
        feeds=feed_rows(catalog, settings), lag_window_hours=config.lag_window_hours,
        arrivals=len(arrivals), news_arrivals=len(lags),
        lag_p50_s=_percentile(lags, 50), lag_p95_s=_percentile(lags, 95),
        embed_lag_p50_s=_percentile(embed_lags, 50), embed_lag_p95_s=_percentile(embed_lags, 95))


def _shown_title(row: tuple) -> str:
    """An article's title as a reader knows it: its own, else one made from its URL, else its first words
    (an article without a title is still an article, not "untitled")."""
    title, url, start = row[1], row[4], " ".join((row[5] or "").split())
    if title and title.strip():
        return title.strip()
    return (title_from_url(url) if url else None) or (start[:60] + ("…" if len(start) > 60 else "")) or row[0]


def watcher_state(raw: str | None, alive_seconds: float, now: datetime) -> WatcherState | None:
    """The watcher's heartbeat (catalog meta ``watcher``: JSON with pid, host, started, last_seen, state)."""
    if not raw:
        return None
    try:
        beat = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(beat, dict):
        return None
    seen = _parse(beat.get("last_seen"))
    running = seen is not None and (now - seen).total_seconds() <= alive_seconds and beat.get("state") != "stopped"
    pid = beat.get("pid")
    return WatcherState(running=running, state=beat.get("state"), pid=pid if isinstance(pid, int) else None,
                        host=beat.get("host"), started=beat.get("started"), last_seen=beat.get("last_seen"))


def feed_rows(catalog: CatalogInterface, settings: Settings | None = None) -> list[FeedFreshness]:
    """The feeds the watcher polls (``ingest.feed_state``); none when that module or its table is absent."""
    try:
        from ingest.feed_state import FeedStates
    except ImportError:
        return []
    try:
        # a catalog file has its feeds inside it; elsewhere they are where the settings say
        states = FeedStates(catalog.path) if isinstance(catalog.path, Path) or settings is None \
            else FeedStates.for_settings(settings)
        try:
            feeds = states.list()
        finally:
            states.close()
    except Exception:  # noqa: BLE001 - no feeds table yet, or a catalog being migrated: show no feeds
        return []
    return [FeedFreshness(url=str(getattr(f, "url", "")), name=getattr(f, "name", None),
                          last_poll=_text(getattr(f, "last_poll", None)), status=getattr(f, "status", None),
                          new_items=getattr(f, "new_items", None), last_error=getattr(f, "last_error", None))
            for f in feeds]


def _text(value) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _parse(value) -> datetime | None:
    if not value:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 3) if values else None


def freshness_rows(fresh: Freshness) -> list[tuple[str, str]]:
    """(label, plain text) lines of the freshness view, the same in ``newsdesk status`` and the app."""
    if fresh.newest_arrival_at:
        title = fresh.newest_arrival_title or fresh.newest_arrival_id or "untitled"
        newest = f"{title} (arrived {_moment(fresh.newest_arrival_at)})"
    else:
        newest = "none yet"
    waiting = (f"{fresh.pending_articles} article(s), {fresh.pending_chunks} chunk(s): answerable by keyword, "
               "not yet in semantic search") if fresh.pending_chunks else "none"
    rows = [("newest arrival", newest), ("waiting for embeddings", waiting), ("watcher", watcher_text(fresh.watcher))]
    for feed in fresh.feeds:
        parts = [f"last poll {_moment(feed.last_poll)}" if feed.last_poll else "never polled"]
        if feed.new_items is not None:
            parts.append(f"{feed.new_items} new")
        if feed.status:
            parts.append(feed.status)
        if feed.last_error:
            parts.append(f"last error: {feed.last_error}")
        rows.append((f"feed {feed.name or feed.url}", ", ".join(parts)))
    window = f"{fresh.lag_window_hours:g} h"
    if fresh.lag_p50_s is not None:
        lag = f"p50 {duration_text(fresh.lag_p50_s)}, p95 {duration_text(fresh.lag_p95_s)} over {fresh.news_arrivals} " \
              f"article(s) that arrived new in the last {window}"
    else:
        lag = f"no article published in the days before it arrived came in the last {window}"
    rows.append(("publication to answerable", lag))
    if fresh.embed_lag_p50_s is not None:
        rows.append(("answerable to embedded", f"p50 {duration_text(fresh.embed_lag_p50_s)}, "
                                               f"p95 {duration_text(fresh.embed_lag_p95_s)}"))
    return rows


def watcher_text(watcher: WatcherState | None) -> str:
    if watcher is None:
        return "not running (never started on this index)"
    where = f" (pid {watcher.pid} on {watcher.host})" if watcher.pid and watcher.host else ""
    if watcher.running:
        return f"running{where}, {watcher.state or 'watching'}, last seen {_moment(watcher.last_seen)}"
    return f"not running: last seen {_moment(watcher.last_seen)}{where}"


def stale_text(fresh: Freshness, stale_after_hours: float, now: datetime | None = None) -> str | None:
    """The chat's warning when the index was not updated for longer than ``stale_after_hours``; None if fresh."""
    if not fresh.stale:
        return None
    written = _parse(fresh.last_indexed)
    if written is None:
        return None
    age = ((now or datetime.now(timezone.utc)) - written).total_seconds()
    return (f"The index was last updated {duration_text(age)} ago (more than {stale_after_hours:g} h): answers may "
            f"miss recent news. Watcher: {watcher_text(fresh.watcher)}.")


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.1f} s"


def _moment(value: str | None) -> str:
    moment = _parse(value)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "never"
