"""Plain data types that cross module borders: an Article, its Chunks, a skipped input, and what goes into
and comes out of the catalog (an indexed article, a chunk with its article's metadata, the index's counts, a
question's window, a BM25 query, a feed's state, a wire signature)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit


@dataclass(frozen=True)
class Article:
    """One news article as parsed from a file (or a line of one)."""

    id: str
    text: str
    path: str  # absolute path of the file it came from
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published_at: datetime | None = None  # timezone-aware, or None when unknown
    authors: tuple[str, ...] = ()
    line: int | None = None  # 1-based line number for JSONL articles
    summary_only: bool = False  # only a feed's summary was available (``ingest.feeds``), not the article's text

    @property
    def content_hash(self) -> str:
        """Changes whenever anything that ends up in the index changes."""
        payload = json.dumps(
            [self.text, self.title, self.source, self.url,
             self.published_at.isoformat() if self.published_at else None, list(self.authors)]
            + (["summary-only"] if self.summary_only else []),  # appended only when set: older hashes hold
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]

    @property
    def display_title(self) -> str:
        """The title, else one made from the URL slug, else the first words of the text."""
        if self.title:
            return self.title
        slug = title_from_url(self.url) if self.url else None
        if slug:
            return slug
        first = self.text.strip().split("\n", 1)[0]
        return (first[:77] + "...") if len(first) > 80 else first


@dataclass(frozen=True)
class Chunk:
    """A piece of an article's text, with its exact character span in ``Article.text``."""

    id: str
    article_id: str
    position: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class ArticleRecord:
    """An indexed article as the catalog knows it."""

    id: str
    root: str
    path: str
    line: int | None
    url: str | None
    title: str | None
    source: str | None
    published_at: str | None
    authors: list[str]
    content_hash: str
    n_chunks: int
    indexed_at: str
    summary_only: bool = False


@dataclass(frozen=True)
class ArticleCopy:
    """An indexed article whole, as one catalog hands it to another (``index.copy``): its row as stored (the
    content hash and the moments kept), its chunks in order, and their vectors (float32 bytes) where made.
    ``order``: where its chunks stand in the catalog's write order (its first chunk's rowid; 0 without chunks):
    written in that order, the copy's keyword index breaks ties between equal scores as the source's does."""

    order: int
    article: Article
    root: str
    content_hash: str
    indexed_at: str
    embedded_at: str | None
    chunks: list[Chunk]
    vectors: dict[str, bytes]


@dataclass(frozen=True)
class ArticleSummary:
    """One article in the list of everything indexed (newest first)."""

    article_id: str
    title: str | None
    source: str | None
    url: str | None
    published_at: str | None  # ISO 8601, as the article gave it
    chunks: int
    summary_only: bool = False


@dataclass(frozen=True)
class ChunkRecord:
    """A live chunk with its article's metadata: what evidence and citations are made from."""

    chunk_id: str
    article_id: str
    start: int
    end: int
    text: str
    title: str | None
    source: str | None
    url: str | None
    published_at: str | None
    path: str


@dataclass(frozen=True)
class ArticleBrief:
    """What an "also reported by" line shows of an article, and its publication epoch (``to_epoch``)."""

    id: str
    title: str | None
    source: str | None
    url: str | None
    published_at: str | None
    published_ts: int | None


@dataclass(frozen=True)
class ChunkFilter:
    """Which articles' chunks a question may use. Undated articles pass an upper bound (they may be
    old) but never a lower bound."""

    since_ts: int | None = None
    until_ts: int | None = None
    sources: tuple[str, ...] = ()

    @property
    def narrows(self) -> bool:
        return self.since_ts is not None or self.until_ts is not None or bool(self.sources)

    def admits(self, published_ts: int | None, source: str | None) -> bool:
        """The rule the catalog applies to a window, for one article's values."""
        if self.since_ts is not None and (published_ts is None or published_ts < self.since_ts):
            return False
        if self.until_ts is not None and published_ts is not None and published_ts > self.until_ts:
            return False
        return not self.sources or source in self.sources


@dataclass(frozen=True)
class Bm25Query:
    """A keyword search: chunks matching any of ``terms``, the ``limit`` best by BM25 (the title column
    weighted ``title_weight``, the text 1.0), inside ``where``. ``window_share`` is the share of all chunks
    that ``where`` admits; from ``broad_window_share`` on, the catalog ranks first and checks the window
    for the first ``broad_window_ranks`` at most."""

    terms: tuple[str, ...]
    limit: int
    title_weight: float
    where: ChunkFilter | None = None
    window_share: float = 1.0
    broad_window_share: float = 0.2
    broad_window_ranks: int = 2000


@dataclass(frozen=True)
class StoredSignature:
    """A wire signature as the catalog keeps it (``ingest.dedup.WireSignature``): ``signature`` holds the
    MinHash values as uint32 bytes."""

    article_id: str
    content_hash: str
    text_hash: str
    words: int
    title_terms: frozenset[str]
    signature: bytes


@dataclass(frozen=True)
class FeedState:
    """One followed feed: what it is and how its last poll went.

    ``status``: new (never polled), ok, not_modified (304), error, backoff (waiting after 429/5xx).
    ``new_items``: items written by the last poll; ``items``: item files kept for the feed.
    ``next_poll`` (epoch seconds) and ``failures`` drive the back-off after errors.
    """

    url: str
    name: str
    slug: str
    added: str
    last_poll: str | None = None
    status: str = "new"
    last_error: str | None = None
    new_items: int = 0
    items: int = 0
    etag: str | None = None
    last_modified: str | None = None
    next_poll: float = 0.0
    failures: int = 0


@dataclass(frozen=True)
class SourceCount:
    """How many articles one outlet has ("unknown" counts the articles without one)."""

    source: str
    articles: int


@dataclass(frozen=True)
class IndexCounts:
    """What the catalog holds: sizes, outlets (most articles first) and dates."""

    articles: int
    chunks: int
    sources: list[SourceCount]
    newest_article: str | None
    oldest_article: str | None
    last_indexed: str | None


@dataclass(frozen=True)
class IndexStatus(IndexCounts):
    """The counts, and where the index lives (``newsdesk status``; ``dataclasses.asdict`` gives its JSON)."""

    store: str
    catalog: str
    embedder: str
    roots: list[str]
    pending_recovery: int
    pending_chunks: int = 0  # answerable by keyword, waiting for their vectors
    pending_articles: int = 0
    freshness: "Freshness | None" = None


@dataclass(frozen=True)
class WatcherState:
    """The folder/feed watcher as its heartbeat (catalog meta ``watcher``) describes it."""

    running: bool  # its last heartbeat is recent (``watcher_alive_seconds``)
    state: str | None
    pid: int | None
    host: str | None
    started: str | None
    last_seen: str | None


@dataclass(frozen=True)
class FeedFreshness:
    """One feed: when it was polled last, what it brought and what went wrong."""

    url: str
    name: str | None
    last_poll: str | None
    status: str | None
    new_items: int | None
    last_error: str | None


@dataclass(frozen=True)
class Freshness:
    """How current the index is: the newest arrival, the embedding queue, the watcher, the feeds, and
    the lag from publication to answerable (by keyword) and from arrival to embedded, over
    ``lag_window_hours``."""

    newest_arrival_id: str | None
    newest_arrival_title: str | None
    newest_arrival_published: str | None
    newest_arrival_at: str | None  # when it became answerable by keyword
    last_indexed: str | None  # the last write of any kind
    stale: bool  # no write for longer than ``stale_after_hours``
    pending_chunks: int
    pending_articles: int
    watcher: WatcherState | None
    feeds: list[FeedFreshness]
    lag_window_hours: float
    arrivals: int  # articles that arrived in the window
    news_arrivals: int  # of them, those published shortly before they arrived (``news_max_age_days``): the lag's
    lag_p50_s: float | None  # publication -> answerable, over the dated arrivals
    lag_p95_s: float | None
    embed_lag_p50_s: float | None  # answerable -> embedded, over the embedded arrivals
    embed_lag_p95_s: float | None


@dataclass(frozen=True)
class Skipped:
    """An input that was not indexed, and why."""

    path: str
    reason: str


@dataclass
class LoadResult:
    """What one file gave: its articles, what was skipped, and whether the file failed as a whole."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    # when set, each article goes to ``sink`` as soon as it is parsed instead of into ``articles``
    # (a 100k-line JSONL file is then never held in memory whole)
    sink: Callable[[Article], None] | None = field(default=None, repr=False, compare=False)

    def add(self, article: Article) -> None:
        if self.sink is not None:
            self.sink(article)
        else:
            self.articles.append(article)

    @property
    def had_errors(self) -> bool:
        return bool(self.skipped)


def normalize_url(url: str) -> str:
    """Lower-case scheme and host, drop the fragment and a trailing slash, treat http and https alike."""
    parts = urlsplit(url.strip())
    scheme = "https" if parts.scheme.lower() in ("http", "https") else parts.scheme.lower()
    host = parts.netloc.lower()
    if host.startswith("www."):
        host = host[4:]
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((scheme, host, path, parts.query, ""))


def article_id_for(url: str | None, relpath: str, line: int | None = None) -> str:
    """Stable id: from the URL when there is one, else from the path relative to the indexed root."""
    if url:
        key = "url:" + normalize_url(url)
    else:
        key = "path:" + relpath + (f"#L{line}" if line is not None else "")
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def title_from_url(url: str) -> str | None:
    segments = [s for s in urlsplit(url).path.split("/") if s and s not in ("index.html", "index.htm")]
    for segment in reversed(segments):
        segment = re.sub(r"\.\w+$", "", segment)
        words = [w for w in re.split(r"[-_]+", segment) if w]
        if len(words) >= 3 and not segment.isdigit():
            text = " ".join(words)
            return text[:1].upper() + text[1:]
    return None


def to_epoch(moment: datetime | None) -> int | None:
    """A moment as the store keeps it: whole seconds since the epoch (Chroma's filters compare numbers)."""
    return int(moment.timestamp()) if moment is not None else None


Batch = list[tuple["Article", list["Chunk"], str]]  # articles to write, with their chunks and the root they are under


@dataclass(frozen=True)
class WriteHooks:
    """What runs around an indexer's writes, given to it (``index.sync.Indexer(hooks=...)``) by the ingestion
    side that owns it (``ingest.dedup_hooks.WIRE_COPIES``): ``before_write(catalog, settings, batch)`` returns
    the batch as it is to be written; ``after_change(catalog, settings, write)`` runs after every sync and
    removal, and may write articles again through ``write`` (``Indexer.write``). Settings are the ingest
    group's. ``settled(catalog, settings)`` runs last, once a sync, a drain of the embedding queue or a
    removal is done, with the whole settings tree (``stories.hooks`` keeps the stories there)."""

    before_write: Callable[[Any, Any, Batch], Batch]
    after_change: Callable[[Any, Any, Callable[[list[tuple["Article", str]]], None]], int]
    settled: Callable[[Any, Any], Any] | None = None


@dataclass
class SyncReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    articles: int = 0
    chunks: int = 0
    seconds: float = 0.0
    chunks_embedded: int = 0

    def to_dict(self) -> dict:
        data = asdict(self)
        data["skipped"] = [{"path": s.path, "reason": s.reason} for s in self.skipped]
        data["seconds"] = round(self.seconds, 3)
        return data
