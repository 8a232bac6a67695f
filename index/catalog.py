"""The catalog: a SQLite file under NEWSDESK_HOME that is the source of truth for what is indexed.

It holds every article (metadata, full text, content hash), every live chunk with its character
span and a copy of its vector, a full-text (FTS5, BM25-ranked) index of the chunks, and a journal of
Chroma writes that are not yet settled. Chroma holds the vectors that unfiltered questions search; a
chunk counts as indexed once the catalog says so.

Crash safety comes from ordering: chunk ids are journaled *before* they are written to Chroma; the
catalog switches an article to its new chunks in one SQLite transaction, which also journals the
old ids; old ids are deleted from Chroma *after* that commit. ``recover()`` finishes whatever a
killed run left journaled: ids in the journal that are not live in the catalog are removed from
Chroma. Every step can be redone, so a crash at any point followed by another run converges.

Searchable before embedded: an article's chunks are committed (with their FTS5 terms) before they
have vectors; a chunk whose ``embedding`` is NULL is waiting in the embedding queue
(``index.embed_queue``), so the queue is this file and survives any crash. ``indexed_at`` says when an
article became answerable by keyword, ``embedded_at`` when its last chunk got its vector.

This module is the write side (articles, chunks, journal, schema) and the rows the faces read; the
question side reads the same file through ``index.search`` (BM25) and ``index.vectors`` (dense).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

from index.types import Article, ArticleRecord, ArticleSummary, Chunk, ChunkRecord, IndexCounts, SourceCount
from index.types import to_epoch

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS roots (path TEXT PRIMARY KEY, indexed_at TEXT);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, root TEXT NOT NULL, path TEXT NOT NULL, line INTEGER,
    url TEXT, title TEXT, source TEXT, published_at TEXT, published_ts INTEGER, authors TEXT,
    content_hash TEXT NOT NULL, text TEXT NOT NULL, n_chunks INTEGER NOT NULL, indexed_at TEXT NOT NULL,
    embedded_at TEXT, summary_only INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS articles_path ON articles(path);
DROP INDEX IF EXISTS articles_published;
CREATE INDEX IF NOT EXISTS articles_window ON articles(published_ts, source, n_chunks, id);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, article_id TEXT NOT NULL,
    position INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, text TEXT NOT NULL,
    embedding BLOB
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    title, text, tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS journal (id INTEGER PRIMARY KEY, chroma_ids TEXT NOT NULL);
"""


def utcnow_iso(precise: bool = False) -> str:
    """Now, in UTC; ``precise``: to the millisecond (arrival times, whose lag is measured in seconds)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds" if precise else "seconds")


class Catalog:
    """Read and write access to the catalog file. Readers may open it while a writer works (WAL)."""

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._local = threading.local()  # one connection per thread: readers never share a cursor
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(_SCHEMA)
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            columns = {r[1] for r in self.db.execute("PRAGMA table_info(chunks)")}
            if "embedding" not in columns:  # catalogs from before vectors were kept here too
                self.db.execute("ALTER TABLE chunks ADD COLUMN embedding BLOB")
                self.set_meta("vectors_backfill", "pending")
            article_columns = {r[1] for r in self.db.execute("PRAGMA table_info(articles)")}
            if "summary_only" not in article_columns:  # catalogs from before feeds marked summaries
                self.db.execute("ALTER TABLE articles ADD COLUMN summary_only INTEGER NOT NULL DEFAULT 0")
            if "embedded_at" not in article_columns:
                # catalogs from before the embedding queue: every article there was embedded when indexed
                self.db.execute("ALTER TABLE articles ADD COLUMN embedded_at TEXT")
                self.db.execute("UPDATE articles SET embedded_at = indexed_at")
            self.db.execute("CREATE INDEX IF NOT EXISTS articles_arrival ON articles(indexed_at)")
            # readers score the vectors committed after their vector index was loaded (index.vectors)
            self.db.execute("CREATE INDEX IF NOT EXISTS articles_embedded ON articles(embedded_at)")
            # the embedding queue: chunks without a vector yet (a partial index: counting it costs its size)
            self.db.execute("CREATE INDEX IF NOT EXISTS chunks_pending ON chunks(article_id) WHERE embedding IS NULL")

    @property
    def db(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            if self.read_only:
                connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30,
                                             isolation_level=None, check_same_thread=False)
            else:
                connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
                connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def close(self) -> None:
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # --- roots ------------------------------------------------------------------------------
    def roots(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT path FROM roots ORDER BY path")]

    def add_root(self, path: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO roots VALUES (?, ?)", (path, utcnow_iso()))

    # --- journal ----------------------------------------------------------------------------
    def journal_add(self, chroma_ids: Iterable[str]) -> int:
        cursor = self.db.execute("INSERT INTO journal (chroma_ids) VALUES (?)", (json.dumps(list(chroma_ids)),))
        return int(cursor.lastrowid)

    def journal_entries(self) -> list[tuple[int, list[str]]]:
        return [(row[0], json.loads(row[1])) for row in self.db.execute("SELECT id, chroma_ids FROM journal ORDER BY id")]

    def journal_done(self, entry_id: int) -> None:
        self.db.execute("DELETE FROM journal WHERE id = ?", (entry_id,))

    def live_chunk_ids(self, ids: Iterable[str]) -> set[str]:
        ids = list(ids)
        live: set[str] = set()
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            marks = ",".join("?" * len(part))
            live.update(r[0] for r in self.db.execute(f"SELECT id FROM chunks WHERE id IN ({marks})", part))
        return live

    # --- articles ---------------------------------------------------------------------------
    def article_hashes(self) -> dict[str, tuple[str, str, int | None]]:
        """id -> (content_hash, path, line) for every article."""
        return {r[0]: (r[1], r[2], r[3]) for r in self.db.execute("SELECT id, content_hash, path, line FROM articles")}

    def article_ids_under(self, scope: str) -> list[tuple[str, str]]:
        """(id, path) of the articles whose file lies at or under ``scope``."""
        prefix = scope.rstrip("/") + "/"
        rows = self.db.execute(
            "SELECT id, path FROM articles WHERE path = ? OR substr(path, 1, ?) = ?",
            (scope, len(prefix), prefix),
        )
        return [(r[0], r[1]) for r in rows]

    def chunk_ids_of(self, article_id: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE article_id = ? ORDER BY position", (article_id,))]

    def get_article(self, article_id: str) -> ArticleRecord | None:
        row = self.db.execute(
            "SELECT id, root, path, line, url, title, source, published_at, authors, content_hash, n_chunks, indexed_at, "
            "summary_only FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            return None
        return ArticleRecord(*row[:8], json.loads(row[8] or "[]"), *row[9:12], bool(row[12]))

    def article_text(self, article_id: str) -> str | None:
        row = self.db.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def move_article(self, article_id: str, root: str, path: str, line: int | None) -> None:
        """Record a new location for an article whose content did not change."""
        self.db.execute("UPDATE articles SET root = ?, path = ?, line = ? WHERE id = ?", (root, path, line, article_id))

    def put_article(self, article: Article, root: str, chunks: list[Chunk], vectors: dict[str, bytes]) -> list[str]:
        """Replace an article and its chunks (inside a transaction). Returns the chunk ids it dropped.

        ``vectors`` holds new chunks' embeddings (float32 bytes) when they are known; kept chunks keep
        theirs; a chunk left without one waits in the embedding queue (``embedding`` NULL).
        """
        kept = dict(self.db.execute("SELECT id, embedding FROM chunks WHERE article_id = ?", (article.id,)))
        old_ids = set(self._delete_rows(article.id))
        blobs = [vectors.get(c.id, kept.get(c.id)) for c in chunks]
        now = utcnow_iso(precise=True)
        self.db.execute(
            "INSERT INTO articles (id, root, path, line, url, title, source, published_at, published_ts, authors, "
            "content_hash, text, n_chunks, indexed_at, embedded_at, summary_only) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (article.id, root, article.path, article.line, article.url, article.title, article.source,
             article.published_at.isoformat() if article.published_at else None, to_epoch(article.published_at),
             json.dumps(list(article.authors), ensure_ascii=False), article.content_hash, article.text,
             len(chunks), now, now if all(b is not None for b in blobs) else None, int(article.summary_only)),
        )
        title = article.display_title
        for chunk, blob in zip(chunks, blobs):
            cursor = self.db.execute(
                "INSERT INTO chunks (id, article_id, position, start, end, text, embedding) VALUES (?,?,?,?,?,?,?)",
                (chunk.id, chunk.article_id, chunk.position, chunk.start, chunk.end, chunk.text, blob),
            )
            self.db.execute("INSERT INTO chunks_fts (rowid, title, text) VALUES (?,?,?)",
                            (cursor.lastrowid, title, chunk.text))
        return sorted(old_ids - {c.id for c in chunks})

    def delete_article(self, article_id: str) -> list[str]:
        """Remove an article and its chunks (inside a transaction). Returns the chunk ids it dropped."""
        return self._delete_rows(article_id)

    def _delete_rows(self, article_id: str) -> list[str]:
        rows = self.db.execute("SELECT rowid, id FROM chunks WHERE article_id = ?", (article_id,)).fetchall()
        for rowid, _ in rows:
            self.db.execute("DELETE FROM chunks_fts WHERE rowid = ?", (rowid,))
        self.db.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
        self.db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        return [r[1] for r in rows]

    # --- rows the faces read -------------------------------------------------------------
    def chunk_records(self, chunk_ids: list[str]) -> dict[str, ChunkRecord]:
        """Live chunks with their article's metadata, by id (ids not in the catalog are left out)."""
        records: dict[str, ChunkRecord] = {}
        for start in range(0, len(chunk_ids), 500):
            part = chunk_ids[start:start + 500]
            rows = self.db.execute(
                "SELECT c.id, c.article_id, c.start, c.end, c.text, a.title, a.source, a.url, a.published_at, a.path "
                f"FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.id IN ({','.join('?' * len(part))})",
                part)
            records.update((r[0], ChunkRecord(*r)) for r in rows)
        return records

    def newest_published(self) -> str | None:
        row = self.db.execute("SELECT published_at FROM articles WHERE published_ts = "
                              "(SELECT max(published_ts) FROM articles)").fetchone()
        return row[0] if row else None

    def list_articles(self, limit: int = 10_000, offset: int = 0, source: str | None = None,
                      q: str | None = None) -> list[ArticleSummary]:
        """Articles newest first (undated ones last); ``source`` narrows to one outlet, ``q`` to titles and
        outlets containing it (both case-insensitive), ``limit``/``offset`` page through them in SQLite."""
        where, params = _article_filter(source, q)
        rows = self.db.execute("SELECT id, title, source, url, published_at, n_chunks, summary_only FROM articles" + where +
                               " ORDER BY published_ts DESC NULLS LAST, title LIMIT ? OFFSET ?",
                               (*params, limit, offset))
        return [ArticleSummary(*r[:6], bool(r[6])) for r in rows]

    def count_articles(self, source: str | None = None, q: str | None = None) -> int:
        """How many articles ``list_articles`` pages through with the same filters."""
        where, params = _article_filter(source, q)
        return self.db.execute("SELECT count(*) FROM articles" + where, params).fetchone()[0]

    # --- status -----------------------------------------------------------------------------
    def counts(self) -> IndexCounts:
        articles, newest_ts, oldest_ts = self.db.execute(
            "SELECT count(*), max(published_ts), min(published_ts) FROM articles").fetchone()
        chunks = self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        sources = [SourceCount(*r) for r in self.db.execute(
            "SELECT coalesce(source, 'unknown'), count(*) FROM articles GROUP BY 1 ORDER BY 2 DESC, 1")]
        return IndexCounts(articles=articles, chunks=chunks, sources=sources, newest_article=_iso_from_ts(newest_ts),
                           oldest_article=_iso_from_ts(oldest_ts), last_indexed=self.get_meta("last_indexed"))

    def clear(self) -> None:
        """Forget every article, chunk and journal entry (inside a transaction); keep meta and roots."""
        for table in ("chunks_fts", "chunks", "articles", "journal"):
            self.db.execute(f"DELETE FROM {table}")

    def all_chunk_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT id FROM chunks")}

    def embedded_chunk_ids(self) -> set[str]:
        """The chunks whose vectors are written (in Chroma and here); the others wait in the queue."""
        return {r[0] for r in self.db.execute("SELECT id FROM chunks WHERE embedding IS NOT NULL")}

    # --- the embedding queue (chunks whose ``embedding`` is NULL) --------------------------------
    def pending_counts(self) -> tuple[int, int]:
        """(chunks, articles) waiting for vectors."""
        row = self.db.execute("SELECT count(*), count(DISTINCT article_id) FROM chunks "
                              "WHERE embedding IS NULL").fetchone()
        return int(row[0]), int(row[1])

    def pending_chunks(self, limit: int) -> list[tuple[str, str, str, str]]:
        """(chunk id, article id, display title, text) of the oldest ``limit`` chunks without a vector."""
        return self.db.execute(
            "SELECT c.id, c.article_id, f.title, c.text FROM chunks c JOIN chunks_fts f ON f.rowid = c.rowid "
            "WHERE c.rowid IN (SELECT rowid FROM chunks WHERE embedding IS NULL "
            "ORDER BY rowid LIMIT ?) ORDER BY c.rowid", (limit,)).fetchall()

    def pending_among(self, chunk_ids: list[str]) -> set[str]:
        """Which of ``chunk_ids`` have no vector yet (dense search cannot find them)."""
        pending: set[str] = set()
        for start in range(0, len(chunk_ids), 500):
            part = chunk_ids[start:start + 500]
            pending.update(r[0] for r in self.db.execute(
                f"SELECT id FROM chunks WHERE id IN ({','.join('?' * len(part))}) AND embedding IS NULL", part))
        return pending

    def set_vectors(self, vectors: dict[str, bytes]) -> None:
        """Store chunks' vectors (inside a transaction) and stamp the articles that have all of theirs now."""
        self.db.executemany("UPDATE chunks SET embedding = ? WHERE id = ?", [(v, i) for i, v in vectors.items()])
        ids = list(vectors)
        now = utcnow_iso(precise=True)
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            self.db.execute(
                "UPDATE articles SET embedded_at = ? WHERE embedded_at IS NULL AND id IN (SELECT article_id FROM "
                f"chunks WHERE id IN ({','.join('?' * len(part))})) AND NOT EXISTS (SELECT 1 FROM chunks c "
                "WHERE c.article_id = articles.id AND c.embedding IS NULL)", [now, *part])

    # --- arrivals (the freshness view) ----------------------------------------------------------
    def newest_arrival(self) -> tuple[str, str | None, str | None, str, str | None, str] | None:
        """(id, title, published_at, indexed_at, url, the text's first 100 characters) of the article that became
        answerable last."""
        return self.db.execute("SELECT id, title, published_at, indexed_at, url, substr(text, 1, 100) FROM articles "
                               "ORDER BY indexed_at DESC LIMIT 1").fetchone()

    def arrivals_since(self, since_iso: str) -> list[tuple[str | None, str, str | None]]:
        """(published_at, indexed_at, embedded_at) of the articles that arrived at or after ``since_iso``."""
        return self.db.execute("SELECT published_at, indexed_at, embedded_at FROM articles WHERE indexed_at >= ?",
                               (since_iso,)).fetchall()


def _iso_from_ts(ts: int | None) -> str | None:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat() if ts is not None else None


def _article_filter(source: str | None, q: str | None) -> tuple[str, tuple]:
    """The WHERE clause (and its parameters) of an article listing's filters."""
    clauses, params = [], []
    if source:
        clauses.append("lower(coalesce(source, '')) = lower(?)")
        params.append(source)
    if q and q.strip():
        needle = q.strip().lower()
        clauses.append("(instr(lower(coalesce(title, '')), ?) > 0 OR instr(lower(coalesce(source, '')), ?) > 0)")
        params += [needle, needle]
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)
