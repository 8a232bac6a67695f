"""The catalog: a SQLite file under NEWSDESK_HOME that is the source of truth for what is indexed.

It holds every article (metadata, full text, content hash), every live chunk with its character
span, a full-text (FTS5, BM25-ranked) index of the chunks, and a journal of Chroma writes that are
not yet settled. Chroma holds the vectors; a chunk counts as indexed once the catalog says so.

Crash safety comes from ordering: chunk ids are journaled *before* they are written to Chroma; the
catalog switches an article to its new chunks in one SQLite transaction, which also journals the
old ids; old ids are deleted from Chroma *after* that commit. ``recover()`` finishes whatever a
killed run left journaled: ids in the journal that are not live in the catalog are removed from
Chroma. Every step can be redone, so a crash at any point followed by another run converges.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

from index.article import Article, Chunk
from index.dates import to_epoch

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS roots (path TEXT PRIMARY KEY, indexed_at TEXT);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, root TEXT NOT NULL, path TEXT NOT NULL, line INTEGER,
    url TEXT, title TEXT, source TEXT, published_at TEXT, published_ts INTEGER, authors TEXT,
    content_hash TEXT NOT NULL, text TEXT NOT NULL, n_chunks INTEGER NOT NULL, indexed_at TEXT NOT NULL
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


def utcnow_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Catalog:
    """Read and write access to the catalog file. Readers may open it while a writer works (WAL)."""

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._local = threading.local()  # one connection per thread: readers never share a cursor
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._total: tuple[str | None, int] | None = None  # (writer marker, chunk count), see total_chunks
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(_SCHEMA)
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            columns = {r[1] for r in self.db.execute("PRAGMA table_info(chunks)")}
            if "embedding" not in columns:  # catalogs from before vectors were kept here too
                self.db.execute("ALTER TABLE chunks ADD COLUMN embedding BLOB")
                self.set_meta("vectors_backfill", "pending")

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

    def forget_root(self, path: str) -> None:
        self.db.execute("DELETE FROM roots WHERE path = ?", (path,))

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
            "SELECT id, root, path, line, url, title, source, published_at, authors, content_hash, n_chunks, indexed_at "
            "FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            return None
        return ArticleRecord(*row[:8], json.loads(row[8] or "[]"), *row[9:])

    def article_text(self, article_id: str) -> str | None:
        row = self.db.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def move_article(self, article_id: str, root: str, path: str, line: int | None) -> None:
        """Record a new location for an article whose content did not change."""
        self.db.execute("UPDATE articles SET root = ?, path = ?, line = ? WHERE id = ?", (root, path, line, article_id))

    def put_article(self, article: Article, root: str, chunks: list[Chunk], vectors: dict[str, bytes]) -> list[str]:
        """Replace an article and its chunks (inside a transaction). Returns the chunk ids it dropped.

        ``vectors`` holds the new chunks' embeddings (float32 bytes); kept chunks keep theirs.
        """
        kept = dict(self.db.execute("SELECT id, embedding FROM chunks WHERE article_id = ?", (article.id,)))
        old_ids = set(self._delete_rows(article.id))
        self.db.execute(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (article.id, root, article.path, article.line, article.url, article.title, article.source,
             article.published_at.isoformat() if article.published_at else None, to_epoch(article.published_at),
             json.dumps(list(article.authors), ensure_ascii=False), article.content_hash, article.text,
             len(chunks), utcnow_iso()),
        )
        title = article.display_title
        for chunk in chunks:
            cursor = self.db.execute(
                "INSERT INTO chunks (id, article_id, position, start, end, text, embedding) VALUES (?,?,?,?,?,?,?)",
                (chunk.id, chunk.article_id, chunk.position, chunk.start, chunk.end, chunk.text,
                 vectors.get(chunk.id, kept.get(chunk.id))),
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

    # --- reading (the question side) ------------------------------------------------------
    def search_bm25(self, terms: list[str], limit: int, since_ts: int | None = None, until_ts: int | None = None,
                    sources: list[str] | None = None, max_postings: int | None = None,
                    window: tuple[int, float] | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score, higher is better) for chunks matching any of ``terms``.

        An OR query costs FTS5 one score per matching chunk, so on a large corpus a question's common
        words ("said", "group", "show": tens of thousands of chunks each) dominate its cost while
        adding little to the ranking (their IDF is low). With ``max_postings``, only the rarest terms
        whose document counts add up to that budget are searched (at least the rarest one), like
        Lucene's cutoff frequency: the cost stays bounded as the corpus grows.
        Dates: undated articles pass an upper bound (they may be old) but never a lower bound.
        ``window`` is the filter's ``window_share`` when the caller has it already.
        """
        if max_postings is not None:
            terms = self.rarest_terms(terms, max_postings)
        if not terms:
            return []
        query = " OR ".join(_fts_phrase(t) for t in terms)
        if since_ts is None and until_ts is None and not sources:
            # rank inside FTS5 first, then look up the few winners' ids (joining first costs a
            # lookup per matching chunk)
            sql = ("SELECT c.id, f.s FROM (SELECT rowid, bm25(chunks_fts, 0.6, 1.0) AS s FROM chunks_fts "
                   "WHERE chunks_fts MATCH ? ORDER BY s, rowid LIMIT ?) f JOIN chunks c ON c.rowid = f.rowid ORDER BY f.s, f.rowid")
            return [(r[0], -r[1]) for r in self.db.execute(sql, (query, limit))]
        admitted, share = window or self.window_share(since_ts, until_ts, sources)
        if admitted == 0:
            return []
        return self._filtered_bm25(query, limit, since_ts, until_ts, sources, share)

    def _filtered_bm25(self, query: str, limit: int, since_ts: int | None, until_ts: int | None,
                       sources: list[str] | None, share: float) -> list[tuple[str, float]]:
        """BM25 within a date/source filter without a join per matching chunk.

        FTS5 cannot filter on other tables, and joining every match to its article costs more than
        ranking it. So: a broad filter -> rank, then check the filter for the first few hundred;
        a narrow one -> the window's chunk rowids first (from the date index), then walk the ranking
        until ``limit`` of them are found.
        """
        ranked_sql = "SELECT rowid, bm25(chunks_fts, 0.6, 1.0) AS s FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY s, rowid"
        where, params = self._article_filter(since_ts, until_ts, sources)
        found: list[tuple[int, float]] = []
        if share >= 0.2:
            wanted = min(int(limit / share * 1.5) + limit, 2000)
            ranked = self.db.execute(ranked_sql + " LIMIT ?", (query, wanted)).fetchall()
            passing = self._rowids_passing([r[0] for r in ranked], where, params)
            found = [r for r in ranked if r[0] in passing][:limit]
            if len(found) < limit and len(ranked) == wanted:
                found = []  # too few in the first ranks: walk the whole ranking below
            else:
                return self._ids_for(found)
        window = {r[0] for r in self.db.execute(
            f"SELECT c.rowid FROM articles a JOIN chunks c ON c.article_id = a.id WHERE {where}", params)}
        for rowid, score in self.db.execute(ranked_sql, (query,)):
            if rowid in window:
                found.append((rowid, score))
                if len(found) >= limit:
                    break
        return self._ids_for(found)

    def _rowids_passing(self, rowids: list[int], where: str, params: list) -> set[int]:
        passing: set[int] = set()
        for start in range(0, len(rowids), 500):
            part = rowids[start:start + 500]
            passing.update(r[0] for r in self.db.execute(
                f"SELECT c.rowid FROM chunks c JOIN articles a ON a.id = c.article_id "
                f"WHERE c.rowid IN ({','.join('?' * len(part))}) AND {where}", [*part, *params]))
        return passing

    def _ids_for(self, ranked: list[tuple[int, float]]) -> list[tuple[str, float]]:
        """(chunk id, score, higher is better) for (rowid, bm25) pairs, in their order."""
        if not ranked:
            return []
        ids = dict(self.db.execute(f"SELECT rowid, id FROM chunks WHERE rowid IN ({','.join('?' * len(ranked))})",
                                   [r[0] for r in ranked]))
        return [(ids[rowid], -score) for rowid, score in ranked if rowid in ids]

    def document_counts(self, terms: list[str]) -> dict[str, int]:
        """How many chunks contain each term (FTS5 counts a doclist without scoring it: cheap)."""
        return {t: self.db.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?",
                                   (_fts_phrase(t),)).fetchone()[0] for t in terms}

    def rarest_terms(self, terms: list[str], max_postings: int) -> list[str]:
        """The rarest of ``terms`` whose document counts add up to at most ``max_postings`` (at least one)."""
        counts = self.document_counts(terms)
        chosen, postings = [], 0
        for term in sorted((t for t in terms if counts[t]), key=lambda t: counts[t]):
            if chosen and postings + counts[term] > max_postings:
                break
            chosen.append(term)
            postings += counts[term]
        return chosen

    def chunk_records(self, chunk_ids: list[str]) -> dict[str, dict]:
        """Live chunks with their article's metadata, by id (ids not in the catalog are left out)."""
        records: dict[str, dict] = {}
        for start in range(0, len(chunk_ids), 500):
            part = chunk_ids[start:start + 500]
            rows = self.db.execute(
                "SELECT c.id, c.article_id, c.start, c.end, c.text, a.title, a.source, a.url, a.published_at, a.path "
                f"FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.id IN ({','.join('?' * len(part))})",
                part)
            for r in rows:
                records[r[0]] = {"chunk_id": r[0], "article_id": r[1], "start": r[2], "end": r[3], "text": r[4],
                                 "title": r[5], "source": r[6], "url": r[7], "published_at": r[8], "path": r[9]}
        return records

    def chunks_without_vectors(self, limit: int) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE embedding IS NULL LIMIT ?", (limit,))]

    def set_vectors(self, vectors: dict[str, bytes]) -> None:
        self.db.executemany("UPDATE chunks SET embedding = ? WHERE id = ?", [(v, k) for k, v in vectors.items()])

    def window_size(self, since_ts: int | None, until_ts: int | None, sources: list[str] | None) -> int:
        """How many chunks a date/source filter lets through (from the articles table alone: cheap)."""
        where, params = self._article_filter(since_ts, until_ts, sources)
        return self.db.execute(f"SELECT coalesce(sum(n_chunks), 0) FROM articles a WHERE {where}", params).fetchone()[0]

    def total_chunks(self) -> int:
        """All chunks, recounted only after a writer finished a run (one meta read per call)."""
        marker = self.get_meta("writer")
        if self._total is None or self._total[0] != marker:
            self._total = (marker, self.window_size(None, None, None))
        return self._total[1]

    def window_share(self, since_ts: int | None, until_ts: int | None, sources: list[str] | None) -> tuple[int, float]:
        """(chunks a filter lets through, their share of all chunks)."""
        admitted = self.window_size(since_ts, until_ts, sources)
        return admitted, admitted / max(self.total_chunks(), admitted, 1)

    def vectors_in_window(self, since_ts: int | None, until_ts: int | None,
                          sources: list[str] | None) -> tuple[list[str], list[bytes]]:
        where, params = self._article_filter(since_ts, until_ts, sources)
        rows = self.db.execute(f"SELECT c.id, c.embedding FROM articles a JOIN chunks c ON c.article_id = a.id "
                               f"WHERE {where} AND c.embedding IS NOT NULL", params).fetchall()
        return [r[0] for r in rows], [r[1] for r in rows]

    def chunk_filter_values(self, chunk_ids: list[str]) -> dict[str, tuple[int | None, str | None]]:
        """chunk id -> (published_ts, source), for filtering dense results after the fact."""
        out: dict[str, tuple[int | None, str | None]] = {}
        for start in range(0, len(chunk_ids), 500):
            part = chunk_ids[start:start + 500]
            rows = self.db.execute("SELECT c.id, a.published_ts, a.source FROM chunks c JOIN articles a ON "
                                   f"a.id = c.article_id WHERE c.id IN ({','.join('?' * len(part))})", part)
            out.update({r[0]: (r[1], r[2]) for r in rows})
        return out

    @staticmethod
    def _article_filter(since_ts, until_ts, sources) -> tuple[str, list]:
        where, params = ["1"], []
        if since_ts is not None:
            where.append("a.published_ts >= ?")
            params.append(since_ts)
        if until_ts is not None:
            where.append("(a.published_ts IS NULL OR a.published_ts <= ?)")
            params.append(until_ts)
        if sources:
            where.append(f"a.source IN ({','.join('?' * len(sources))})")
            params.extend(sources)
        return " AND ".join(where), params

    def sources(self) -> list[str]:
        """Distinct known outlets, alphabetically (articles without one are not listed)."""
        return [r[0] for r in self.db.execute("SELECT DISTINCT source FROM articles WHERE source IS NOT NULL ORDER BY 1")]

    def newest_published(self) -> str | None:
        row = self.db.execute("SELECT published_at FROM articles WHERE published_ts = "
                              "(SELECT max(published_ts) FROM articles)").fetchone()
        return row[0] if row else None

    def list_articles(self, limit: int = 10_000) -> list[dict]:
        rows = self.db.execute("SELECT id, title, source, url, published_at, n_chunks FROM articles "
                               "ORDER BY published_ts DESC NULLS LAST, title LIMIT ?", (limit,))
        return [dict(zip(("article_id", "title", "source", "url", "published_at", "chunks"), r)) for r in rows]

    # --- status -----------------------------------------------------------------------------
    def counts(self) -> dict:
        articles, newest, oldest = self.db.execute(
            "SELECT count(*), max(published_at), min(published_at) FROM articles").fetchone()
        newest_ts, oldest_ts = self.db.execute(
            "SELECT max(published_ts), min(published_ts) FROM articles").fetchone()
        chunks = self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        sources = [
            {"source": r[0], "articles": r[1]}
            for r in self.db.execute(
                "SELECT coalesce(source, 'unknown'), count(*) FROM articles GROUP BY 1 ORDER BY 2 DESC, 1")
        ]
        return {
            "articles": articles,
            "chunks": chunks,
            "sources": sources,
            "newest_article": _iso_from_ts(newest_ts),
            "oldest_article": _iso_from_ts(oldest_ts),
            "last_indexed": self.get_meta("last_indexed"),
        }

    def clear(self) -> None:
        """Forget every article, chunk and journal entry (inside a transaction); keep meta and roots."""
        for table in ("chunks_fts", "chunks", "articles", "journal"):
            self.db.execute(f"DELETE FROM {table}")

    def all_chunk_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT id FROM chunks")}


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _iso_from_ts(ts: int | None) -> str | None:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat() if ts is not None else None
