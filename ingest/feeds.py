"""RSS and Atom feeds in: each item becomes an article file that the indexer reads like any other.

A poll fetches a feed (``ingest.fetch``: polite, bounded, conditional GET), parses it with feedparser,
and writes each new or changed item as one JSON article (title, text, url, published, source, ...)
to ``NEWSDESK_HOME/feeds/<feed-slug>/<item-id>.json``, atomically (a hidden temporary file, then
``os.replace``). That folder is a synced root like any other, so the index always equals
``newsdesk index`` of the same files, a crash at any moment leaves either the old or the new file,
and removing a feed is removing its folder.

An item's text is, in order: the feed's full content when it has some; else the article page's main
text (trafilatura), robots.txt permitting; else the feed's summary, marked ``summary_only``. An item
whose title, link and feed text did not change is not fetched or written again, so a feed that
bumps every item's date on each poll causes no re-indexing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax import SAXException

from index.catalog import utcnow_iso
from ingest.feed_state import FeedState, FeedStates
from ingest.fetch import FetchResult, PoliteFetcher
from index.types import article_id_for
from settings import Settings

log = logging.getLogger("newsdesk.feeds")


@dataclass
class PollResult:
    """What one poll of one feed did (also written to the feed's state)."""

    url: str
    name: str
    status: str  # ok, not_modified, error, backoff, waiting
    error: str | None = None
    new_items: int = 0
    updated_items: int = 0
    unchanged_items: int = 0
    deferred: int = 0  # new or changed items left for the next poll (the per-poll limit)
    items: int = 0
    written: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    retry_after: float | None = None  # seconds the server asked to wait
    validators: tuple[str | None, str | None] | None = None  # (ETag, Last-Modified) for the next conditional GET


def feeds_dir(settings: Settings) -> Path:
    return (settings.index.home / "feeds").expanduser().resolve()


def feed_folder(settings: Settings, state: FeedState) -> Path:
    return feeds_dir(settings) / state.slug


class _TextOfHtml(HTMLParser):
    """Text of an HTML fragment with a paragraph break at each block element (feed summaries)."""

    _BLOCKS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "section", "article"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_to_text(fragment: str) -> str:
    parser = _TextOfHtml()
    parser.feed(fragment or "")
    parser.close()
    paragraphs = (" ".join(p.split()) for p in "".join(parser.parts).split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p)


def _looks_like_html(result: FetchResult) -> bool:
    head = result.body[:512].lstrip().lower()
    return "html" in result.content_type.lower() or head.startswith((b"<!doctype html", b"<html"))


def _published(entry) -> str | None:
    for key in ("published_parsed", "updated_parsed"):
        value = entry.get(key)
        if value:
            return datetime(*value[:6], tzinfo=timezone.utc).isoformat()
    return entry.get("published") or entry.get("updated")


def _write_atomically(path: Path, record: dict) -> None:
    """Write then rename: a reader (or a crash) sees the old file or the new one, never half of one.
    The temporary name starts with a dot: the indexer and the watcher ignore hidden files."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(record, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class FeedPoller:
    """Polls followed feeds and writes their items as article files."""

    def __init__(self, settings: Settings, states: FeedStates, fetcher: PoliteFetcher,
                 interval: float | None = None) -> None:
        self.settings = settings
        self.states = states
        self.fetcher = fetcher
        self.fresh = settings.ingest
        self.interval = interval or self.fresh.feed_interval_seconds

    def due(self, now: float | None = None) -> list[FeedState]:
        now = time.time() if now is None else now
        return [s for s in self.states.list() if s.next_poll <= now]

    def poll_round(self, force: bool = False) -> list[PollResult]:
        """Poll every feed once; a feed waiting out a Retry-After is left alone unless ``force``."""
        results = []
        for state in self.states.list():
            if not force and state.status == "backoff" and state.next_poll > time.time():
                results.append(PollResult(state.url, state.name, "waiting",
                                          error=f"waiting until {datetime.fromtimestamp(state.next_poll, timezone.utc):%H:%M:%S} UTC "
                                                "after the server asked for a pause", items=state.items))
                continue
            results.append(self.poll(state))
        return results

    def poll(self, state: FeedState) -> PollResult:
        """One poll of one feed; never raises for anything the feed or the network does."""
        try:
            result = self._poll(state)
        except OSError as error:  # writing item files: a full disk, a removed home
            result = PollResult(state.url, state.name, "error", error=f"could not write the feed's items: {error}")
        except Exception as error:  # feedparser/trafilatura edge cases must not stop the other feeds
            log.exception("feed %s", state.name)  # the name: a URL may carry a token
            result = PollResult(state.url, state.name, "error", error=f"unexpected {type(error).__name__}: {error}")
        if self.states.get(state.url) is None:  # removed while it was polled: leave no items behind
            remove_feed_folder(self.settings, state)
            result.status, result.written = "removed", []
            return result
        self._record(state, result)
        return result

    def _record(self, state: FeedState, result: PollResult) -> None:
        now = time.time()
        failures = 0 if result.status in ("ok", "not_modified") else state.failures + 1
        wait = self.interval if not failures else min(self.fresh.feed_backoff_max_seconds,
                                                      self.interval * 2 ** (failures - 1))
        if result.retry_after:
            wait = max(wait, result.retry_after)
        values = dict(last_poll=utcnow_iso(), status=result.status, last_error=result.error, failures=failures,
                      new_items=result.new_items, next_poll=now + wait)
        values["items"] = self._count_items(state)
        if result.validators is not None:
            values.update(etag=result.validators[0], last_modified=result.validators[1])
        self.states.update(state.url, **values)
        message = (f"feed {state.name}: {result.status}, {result.new_items} new, {result.updated_items} updated"
                   + (f"; {result.error}" if result.error else ""))
        (log.warning if result.error else log.info)(message)

    def _count_items(self, state: FeedState) -> int:
        folder = feed_folder(self.settings, state)
        return sum(1 for p in folder.glob("*.json")) if folder.is_dir() else 0

    def _poll(self, state: FeedState) -> PollResult:
        import feedparser

        fetched = self.fetcher.get(state.url, etag=state.etag, last_modified=state.last_modified)
        result = PollResult(state.url, state.name, "ok")
        if fetched.not_modified:
            result.status = "not_modified"
            return result
        if fetched.error or fetched.status != 200:
            if fetched.status in (429, 500, 502, 503, 504) or (fetched.status or 0) >= 500:
                result.status = "backoff"
                result.retry_after = fetched.retry_after
                wait = f"; it asked to wait {fetched.retry_after:g} s" if fetched.retry_after else ""
                result.error = f"the server answered HTTP {fetched.status}{wait}; polling backs off"
            else:
                result.status = "error"
                result.error = fetched.error or f"the server answered HTTP {fetched.status}"
            return result
        parsed = feedparser.parse(fetched.body, response_headers={"content-location": fetched.url,
                                                                  "content-type": fetched.content_type or "application/xml"})
        if not parsed.get("version") and not parsed.entries:
            result.status = "error"
            if _looks_like_html(fetched):
                result.error = "the address gave an HTML page, not an RSS or Atom feed"
            elif parsed.get("bozo"):
                result.error = f"malformed XML: {parsed.get('bozo_exception')}"
            else:
                result.error = "the response is neither RSS nor Atom"
            return result
        if parsed.get("bozo") and isinstance(parsed.get("bozo_exception"), SAXException):
            result.error = (f"malformed XML ({parsed.get('bozo_exception')}); "
                            f"the {len(parsed.entries)} items that could be read were kept")
        result.validators = (fetched.etag, fetched.last_modified)
        folder = feed_folder(self.settings, state)
        folder.mkdir(parents=True, exist_ok=True)
        for entry in parsed.entries:
            self._take(entry, state, folder, result)
        if result.deferred:
            result.skipped.append(f"{result.deferred} new or changed items over the per-poll limit "
                                  f"({self.fresh.feed_items_per_poll}) wait for the next poll")
        if result.skipped and not result.error:
            result.error = "; ".join(result.skipped[:3])
        result.items = self._count_items(state)
        return result

    def _take(self, entry, state: FeedState, folder: Path, result: PollResult) -> None:
        link = (entry.get("link") or "").strip() or None
        guid = (entry.get("id") or "").strip() or None
        title = entry.get("title")
        if not link and not guid:
            result.skipped.append(f"an item without a link or id ('{(title or '')[:60]}') was skipped")
            return
        # ids follow the indexer's: the normalized link's article id; else one from the guid
        item_id = article_id_for(link, "") if link else "guid-" + hashlib.sha256(guid.encode()).hexdigest()[:20]
        path = folder / f"{item_id}.json"
        contents = [c.get("value", "") for c in entry.get("content", []) if c.get("value")]
        full_html = max(contents, key=len) if contents else ""
        summary_html = entry.get("summary", "")
        # what the feed says about the item, dates left out: a feed that re-dates items is not a change
        fingerprint = hashlib.sha256(json.dumps([title, link, guid, summary_html, full_html]).encode()).hexdigest()[:32]
        old = _read_record(path)
        if old is not None and old.get("feed_entry_hash") == fingerprint:
            result.unchanged_items += 1
            return
        if result.new_items + result.updated_items >= self.fresh.feed_items_per_poll:
            result.deferred += 1  # fetching pages is the cost: bounded per poll
            return
        text, origin = self._text(link, html_to_text(full_html), html_to_text(summary_html))
        if not text:
            result.skipped.append(f"the item '{(title or link or guid)[:60]}' has no text")
            return
        record = {"title": title, "text": text, "url": link, "published": _published(entry),
                  "source": None if link else urlsplit(state.url).netloc.removeprefix("www."),
                  "authors": entry.get("author"), "summary_only": origin == "summary", "text_from": origin,
                  "feed": state.url, "guid": guid, "feed_entry_hash": fingerprint}
        _write_atomically(path, {k: v for k, v in record.items() if v is not None})
        result.written.append(path)
        if old is None:
            result.new_items += 1
        else:
            result.updated_items += 1

    def _text(self, link: str | None, full: str, summary: str) -> tuple[str, str]:
        """(text, where it came from: feed, page or summary)."""
        if full and len(full) >= len(summary):
            return full, "feed"
        if link and self.fresh.feed_fetch_pages and self.fetcher.allowed(link):
            page = self.fetcher.get(link)
            if page.ok and _looks_like_html(page):
                extracted = _extract(page.body, page.url)
                if extracted and len(extracted) > len(summary):
                    return extracted, "page"
            elif page.error or not page.ok:
                log.info("article page %s: %s", link, page.error or f"HTTP {page.status}")
        return (summary or full), "summary"


def _extract(html: bytes, url: str) -> str | None:
    import trafilatura

    try:
        return trafilatura.extract(html, url=url, include_comments=False, include_tables=False)
    except Exception:  # the extractor's failures are many and undocumented: fall back to the feed's text
        return None


def _read_record(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def remove_feed_folder(settings: Settings, state: FeedState) -> Path:
    """Delete a feed's item files (its articles leave the index at the next sync of the feeds folder)."""
    folder = feed_folder(settings, state)
    shutil.rmtree(folder, ignore_errors=True)
    return folder
