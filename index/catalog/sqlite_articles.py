"""The catalog's articles, chunks and FTS5 terms in SQLite: writing and removing an article with its chunks,
the rows the faces read, the counts, the embedding queue and the arrivals.

An article's chunks are switched in the caller's transaction: the old rows (and their FTS5 terms) go, the
new ones come, and the ids that went are returned for the caller to journal in the same transaction.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from typing import Iterable

from index.catalog.base import ARTICLE_COLUMNS, COPY_CHUNK_COLUMNS, COPY_COLUMNS, COPY_ORDER, article_copies
from index.catalog.base import article_row, utcnow_iso
from index.catalog.sqlite_schema import rows_in
from index.types import Article, ArticleBrief, ArticleCopy, ArticleRecord, ArticleSummary, Chunk, ChunkRecord
from index.types import IndexCounts, SourceCount


class ArticleRows:
    """Articles, chunks and the embedding queue (mixed into ``Catalog``, which gives ``db`` and ``get_meta``)."""

    db: sqlite3.Connection

    # --- articles ---------------------------------------------------------------------------
    def live_chunk_ids(self, ids: Iterable[str]) -> set[str]:
        return {r[0] for r in rows_in(self.db, "SELECT id FROM chunks WHERE id IN ({})", list(ids))}

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

    def stored_article(self, article_id: str) -> tuple[Article, str] | None:
        """An article as it was parsed (same content hash), and the root it is under."""
        row = self.db.execute("SELECT id, text, path, title, source, url, published_at, authors, line, root "
                              "FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            return None
        published = datetime.fromisoformat(row[6]) if row[6] else None
        return Article(row[0], row[1], row[2], title=row[3], source=row[4], url=row[5], published_at=published,
                       authors=tuple(json.loads(row[7] or "[]")), line=row[8]), row[9]

    def article_text(self, article_id: str) -> str | None:
        row = self.db.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def article_briefs(self, ids: list[str]) -> dict[str, ArticleBrief]:
        """id -> its brief, for the given articles that the catalog holds."""
        return {r[0]: ArticleBrief(*r) for r in rows_in(
            self.db, "SELECT id, title, source, url, published_at, published_ts FROM articles WHERE id IN ({})", ids)}

    def move_article(self, article_id: str, root: str, path: str, line: int | None) -> None:
        """Record a new location for an article whose content did not change."""
        self.db.execute("UPDATE articles SET root = ?, path = ?, line = ? WHERE id = ?", (root, path, line, article_id))

    def put_article(self, article: Article, root: str, chunks: list[Chunk], vectors: dict[str, bytes]) -> list[str]:
        """Replace an article and its chunks (inside a transaction). Returns the chunk ids it dropped.

        ``vectors`` holds new chunks' embeddings (float32 bytes) when they are known; kept chunks keep
        theirs; a chunk left without one waits in the embedding queue (``embedding`` NULL).
        """
        kept = dict(self.db.execute("SELECT id, embedding FROM chunks WHERE article_id = ?", (article.id,)))
        old_ids = set(self.delete_article(article.id))
        blobs = [vectors.get(c.id, kept.get(c.id)) for c in chunks]
        now = utcnow_iso(precise=True)
        self.db.execute(f"INSERT INTO articles ({ARTICLE_COLUMNS}) VALUES ({','.join('?' * 16)})",
                        article_row(article, root, article.content_hash, len(chunks), now,
                                    now if all(b is not None for b in blobs) else None))
        self._insert_chunks(chunks, blobs, article.display_title)
        return sorted(old_ids - {c.id for c in chunks})

    def _insert_chunks(self, chunks: list[Chunk], blobs: list[bytes | None], title: str) -> None:
        for chunk, blob in zip(chunks, blobs):
            cursor = self.db.execute(
                "INSERT INTO chunks (id, article_id, position, start, end, text, embedding) VALUES (?,?,?,?,?,?,?)",
                (chunk.id, chunk.article_id, chunk.position, chunk.start, chunk.end, chunk.text, blob),
            )
            self.db.execute("INSERT INTO chunks_fts (rowid, title, text) VALUES (?,?,?)",
                            (cursor.lastrowid, title, chunk.text))

    def export_articles(self, after: tuple[int, str], limit: int) -> list[ArticleCopy]:
        """Up to ``limit`` whole articles after the cursor ``after`` ((write order, id) of the last one taken), in
        the catalog's write order (``ArticleCopy.order``)."""
        order = self.db.execute(COPY_ORDER.format(collate="", mark="?"), (*after, limit)).fetchall()
        ids = [r[0] for r in order]
        rows = list(rows_in(self.db, f"SELECT {COPY_COLUMNS} FROM articles WHERE id IN ({{}})", ids))
        chunk_rows = list(rows_in(self.db, f"SELECT {COPY_CHUNK_COLUMNS.format(end='end')} FROM chunks "
                                           "WHERE article_id IN ({})", ids))
        return article_copies(order, rows, chunk_rows)

    def import_articles(self, copies: list[ArticleCopy]) -> None:
        """Write copied articles as they were (content hash and moments kept) with their chunks, vectors and
        FTS5 terms (inside a transaction; their ids are new here)."""
        for copy in copies:
            self.db.execute(f"INSERT INTO articles ({ARTICLE_COLUMNS}) VALUES ({','.join('?' * 16)})",
                            article_row(copy.article, copy.root, copy.content_hash, len(copy.chunks),
                                        copy.indexed_at, copy.embedded_at))
            self._insert_chunks(copy.chunks, [copy.vectors.get(c.id) for c in copy.chunks],
                                copy.article.display_title)

    def delete_article(self, article_id: str) -> list[str]:
        """Remove an article and its chunks (inside a transaction). Returns the chunk ids it dropped."""
        rows = self.db.execute("SELECT rowid, id FROM chunks WHERE article_id = ?", (article_id,)).fetchall()
        for rowid, _ in rows:
            self.db.execute("DELETE FROM chunks_fts WHERE rowid = ?", (rowid,))
        self.db.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
        self.db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        return [r[1] for r in rows]

    # --- rows the faces read -------------------------------------------------------------
    def chunk_records(self, chunk_ids: list[str]) -> dict[str, ChunkRecord]:
        """Live chunks with their article's metadata, by id (ids not in the catalog are left out)."""
        return {r[0]: ChunkRecord(*r) for r in rows_in(
            self.db, "SELECT c.id, c.article_id, c.start, c.end, c.text, a.title, a.source, a.url, a.published_at, "
            "a.path FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.id IN ({})", chunk_ids)}

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
        return {r[0] for r in rows_in(self.db, "SELECT id FROM chunks WHERE id IN ({}) AND embedding IS NULL",
                                      chunk_ids)}

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

    def arrival_of(self, url: str) -> tuple[str, str | None] | None:
        """(indexed_at, embedded_at) of the article with ``url``; None when the catalog has none."""
        row = self.db.execute("SELECT indexed_at, embedded_at FROM articles WHERE url = ?", (url,)).fetchone()
        return (row[0], row[1]) if row else None


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
