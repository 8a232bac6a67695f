"""The catalog's articles and chunks in PostgreSQL: writing and removing an article with its chunks, the rows
the faces read, the counts, the embedding queue and the arrivals (``sqlite_articles`` on SQLite).

An article's chunks are switched in one transaction (the caller's, or one of its own): the old rows and their
keyword terms go, the new ones come, and the ids that went are returned for the caller to journal inside it.
Text is ordered by code point (``COLLATE "C"``), as SQLite orders it, whatever the database's collation.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Iterable

import psycopg

from index.catalog.base import ARTICLE_COLUMNS, COPY_CHUNK_COLUMNS, COPY_COLUMNS, COPY_ORDER, article_copies
from index.catalog.base import article_row, utcnow_iso
from index.types import Article, ArticleBrief, ArticleCopy, ArticleRecord, ArticleSummary, Chunk, ChunkRecord
from index.types import IndexCounts, SourceCount

try:
    from index.catalog.postgres_search import delete_chunk_terms, index_chunk_terms
except ModuleNotFoundError as missing:  # no keyword search module: chunks have no terms to keep
    if missing.name != "index.catalog.postgres_search":
        raise

    def index_chunk_terms(conn: psycopg.Connection, chunks: list[tuple[int, str, str]]) -> None:
        return None

    def delete_chunk_terms(conn: psycopg.Connection, rowids: list[int]) -> None:
        return None


class PostgresArticleRows:
    """Articles, chunks and the embedding queue (mixed into ``PostgresCatalog``, which gives ``connection``,
    ``transaction``, ``get_meta`` and the ``_all``/``_one``/``_run``/``_many`` helpers)."""

    # --- articles ---------------------------------------------------------------------------
    def live_chunk_ids(self, ids: Iterable[str]) -> set[str]:
        return {r[0] for r in self._all("SELECT id FROM chunks WHERE id = ANY(%s)", (list(ids),))}

    def article_hashes(self) -> dict[str, tuple[str, str, int | None]]:
        """id -> (content_hash, path, line) for every article."""
        return {r[0]: (r[1], r[2], r[3]) for r in self._all("SELECT id, content_hash, path, line FROM articles")}

    def article_ids_under(self, scope: str) -> list[tuple[str, str]]:
        """(id, path) of the articles whose file lies at or under ``scope``."""
        prefix = scope.rstrip("/") + "/"
        rows = self._all("SELECT id, path FROM articles WHERE path = %s OR substr(path, 1, %s) = %s",
                         (scope, len(prefix), prefix))
        return [(r[0], r[1]) for r in rows]

    def chunk_ids_of(self, article_id: str) -> list[str]:
        return [r[0] for r in self._all("SELECT id FROM chunks WHERE article_id = %s ORDER BY position", (article_id,))]

    def get_article(self, article_id: str) -> ArticleRecord | None:
        row = self._one(
            "SELECT id, root, path, line, url, title, source, published_at, authors, content_hash, n_chunks, indexed_at, "
            "summary_only FROM articles WHERE id = %s", (article_id,))
        if row is None:
            return None
        return ArticleRecord(*row[:8], json.loads(row[8] or "[]"), *row[9:12], bool(row[12]))

    def stored_article(self, article_id: str) -> tuple[Article, str] | None:
        """An article as it was parsed (same content hash), and the root it is under."""
        row = self._one("SELECT id, text, path, title, source, url, published_at, authors, line, root "
                        "FROM articles WHERE id = %s", (article_id,))
        if row is None:
            return None
        published = datetime.fromisoformat(row[6]) if row[6] else None
        return Article(row[0], row[1], row[2], title=row[3], source=row[4], url=row[5], published_at=published,
                       authors=tuple(json.loads(row[7] or "[]")), line=row[8]), row[9]

    def article_text(self, article_id: str) -> str | None:
        row = self._one("SELECT text FROM articles WHERE id = %s", (article_id,))
        return row[0] if row else None

    def article_briefs(self, ids: list[str]) -> dict[str, ArticleBrief]:
        """id -> its brief, for the given articles that the catalog holds."""
        return {r[0]: ArticleBrief(*r) for r in self._all(
            "SELECT id, title, source, url, published_at, published_ts FROM articles WHERE id = ANY(%s)", (list(ids),))}

    def move_article(self, article_id: str, root: str, path: str, line: int | None) -> None:
        """Record a new location for an article whose content did not change."""
        self._run("UPDATE articles SET root = %s, path = %s, line = %s WHERE id = %s", (root, path, line, article_id))

    def put_article(self, article: Article, root: str, chunks: list[Chunk], vectors: dict[str, bytes]) -> list[str]:
        """Replace an article and its chunks in one transaction. Returns the chunk ids it dropped.

        ``vectors`` holds new chunks' embeddings (float32 bytes) when they are known; kept chunks keep
        theirs; a chunk left without one waits in the embedding queue (``embedding`` NULL).
        """
        with self.transaction(), self.connection() as conn:
            kept = {r[0]: r[1] for r in conn.execute("SELECT id, embedding FROM chunks WHERE article_id = %s",
                                                     (article.id,))}
            old_ids = set(self.delete_article(article.id))
            blobs = [vectors.get(c.id, kept.get(c.id)) for c in chunks]
            now = utcnow_iso(precise=True)
            conn.execute(f"INSERT INTO articles ({ARTICLE_COLUMNS}) VALUES ({','.join(['%s'] * 16)})",
                         article_row(article, root, article.content_hash, len(chunks), now,
                                     now if all(b is not None for b in blobs) else None))
            if not chunks:
                return sorted(old_ids)
            _insert_chunks(conn, [(c, article.display_title, b) for c, b in zip(chunks, blobs)])
        return sorted(old_ids - {c.id for c in chunks})

    def export_articles(self, after: tuple[int, str], limit: int) -> list[ArticleCopy]:
        """Up to ``limit`` whole articles after the cursor ``after`` ((write order, id) of the last one taken), in
        the catalog's write order (``ArticleCopy.order``)."""
        order = self._all(COPY_ORDER.format(collate=' COLLATE "C"', mark="%s"), (*after, limit))
        ids = [r[0] for r in order]
        rows = self._all(f"SELECT {COPY_COLUMNS} FROM articles WHERE id = ANY(%s)", (ids,))
        chunk_rows = self._all("SELECT " + COPY_CHUNK_COLUMNS.format(end='"end"') + " FROM chunks "
                               "WHERE article_id = ANY(%s)", (ids,))
        return article_copies(order, rows, chunk_rows)

    def import_articles(self, copies: list[ArticleCopy]) -> None:
        """Write copied articles as they were (content hash and moments kept) with their chunks, vectors and
        keyword postings, in one transaction (their ids are new here)."""
        with self.transaction(), self.connection() as conn:
            with conn.cursor() as cursor:
                cursor.executemany(f"INSERT INTO articles ({ARTICLE_COLUMNS}) VALUES ({','.join(['%s'] * 16)})",
                                   [article_row(c.article, c.root, c.content_hash, len(c.chunks), c.indexed_at,
                                                c.embedded_at) for c in copies])
            _insert_chunks(conn, [(chunk, c.article.display_title, c.vectors.get(chunk.id))
                                  for c in copies for chunk in c.chunks])

    def delete_article(self, article_id: str) -> list[str]:
        """Remove an article and its chunks in one transaction. Returns the chunk ids it dropped."""
        with self.transaction(), self.connection() as conn:
            rows = conn.execute("SELECT rowid, id FROM chunks WHERE article_id = %s ORDER BY position",
                                (article_id,)).fetchall()
            if rows:
                delete_chunk_terms(conn, [int(r[0]) for r in rows])
            conn.execute("DELETE FROM chunks WHERE article_id = %s", (article_id,))
            conn.execute("DELETE FROM articles WHERE id = %s", (article_id,))
        return [r[1] for r in rows]

    # --- rows the faces read -------------------------------------------------------------
    def chunk_records(self, chunk_ids: list[str]) -> dict[str, ChunkRecord]:
        """Live chunks with their article's metadata, by id (ids not in the catalog are left out)."""
        return {r[0]: ChunkRecord(*r) for r in self._all(
            'SELECT c.id, c.article_id, c.start, c."end", c.text, a.title, a.source, a.url, a.published_at, '
            "a.path FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.id = ANY(%s)", (list(chunk_ids),))}

    def newest_published(self) -> str | None:
        row = self._one("SELECT published_at FROM articles WHERE published_ts = "
                        "(SELECT max(published_ts) FROM articles) LIMIT 1")
        return row[0] if row else None

    def list_articles(self, limit: int = 10_000, offset: int = 0, source: str | None = None,
                      q: str | None = None) -> list[ArticleSummary]:
        """Articles newest first (undated ones last); ``source`` narrows to one outlet, ``q`` to titles and
        outlets containing it (both case-insensitive), ``limit``/``offset`` page through them in the database."""
        where, params = _article_filter(source, q)
        rows = self._all("SELECT id, title, source, url, published_at, n_chunks, summary_only FROM articles" + where +
                         ' ORDER BY published_ts DESC NULLS LAST, title COLLATE "C" NULLS FIRST LIMIT %s OFFSET %s',
                         (*params, limit, offset))
        return [ArticleSummary(*r[:6], bool(r[6])) for r in rows]

    def count_articles(self, source: str | None = None, q: str | None = None) -> int:
        """How many articles ``list_articles`` pages through with the same filters."""
        where, params = _article_filter(source, q)
        return int(self._one("SELECT count(*) FROM articles" + where, params)[0])

    # --- status -----------------------------------------------------------------------------
    def counts(self) -> IndexCounts:
        articles, newest_ts, oldest_ts = self._one(
            "SELECT count(*), max(published_ts), min(published_ts) FROM articles")
        chunks = self._one("SELECT count(*) FROM chunks")[0]
        sources = [SourceCount(r[0], int(r[1])) for r in self._all(
            "SELECT coalesce(source, 'unknown') COLLATE \"C\", count(*) FROM articles GROUP BY 1 ORDER BY 2 DESC, 1")]
        return IndexCounts(articles=int(articles), chunks=int(chunks), sources=sources,
                           newest_article=_iso_from_ts(newest_ts), oldest_article=_iso_from_ts(oldest_ts),
                           last_indexed=self.get_meta("last_indexed"))

    def clear(self) -> None:
        """Forget every article, chunk and journal entry (in one transaction); keep meta and roots."""
        with self.transaction(), self.connection() as conn:
            rowids = [int(r[0]) for r in conn.execute("SELECT rowid FROM chunks")]
            if rowids:
                delete_chunk_terms(conn, rowids)
            for table in ("chunks", "articles", "journal"):
                conn.execute(f"DELETE FROM {table}")

    def all_chunk_ids(self) -> set[str]:
        return {r[0] for r in self._all("SELECT id FROM chunks")}

    def embedded_chunk_ids(self) -> set[str]:
        """The chunks whose vectors are written (in Chroma and here); the others wait in the queue."""
        return {r[0] for r in self._all("SELECT id FROM chunks WHERE embedding IS NOT NULL")}

    # --- the embedding queue (chunks whose ``embedding`` is NULL) --------------------------------
    def pending_counts(self) -> tuple[int, int]:
        """(chunks, articles) waiting for vectors."""
        row = self._one("SELECT count(*), count(DISTINCT article_id) FROM chunks WHERE embedding IS NULL")
        return int(row[0]), int(row[1])

    def pending_chunks(self, limit: int) -> list[tuple[str, str, str, str]]:
        """(chunk id, article id, display title, text) of the oldest ``limit`` chunks without a vector."""
        return self._all("SELECT id, article_id, title, text FROM chunks WHERE embedding IS NULL "
                         "ORDER BY rowid LIMIT %s", (limit,))

    def pending_among(self, chunk_ids: list[str]) -> set[str]:
        """Which of ``chunk_ids`` have no vector yet (dense search cannot find them)."""
        return {r[0] for r in self._all("SELECT id FROM chunks WHERE id = ANY(%s) AND embedding IS NULL",
                                        (list(chunk_ids),))}

    def set_vectors(self, vectors: dict[str, bytes]) -> None:
        """Store chunks' vectors and stamp the articles that have all of theirs now (in one transaction)."""
        with self.transaction():
            self._many("UPDATE chunks SET embedding = %s WHERE id = %s", [(v, i) for i, v in vectors.items()])
            self._run(
                "UPDATE articles SET embedded_at = %s WHERE embedded_at IS NULL AND id IN (SELECT article_id FROM "
                "chunks WHERE id = ANY(%s)) AND NOT EXISTS (SELECT 1 FROM chunks c "
                "WHERE c.article_id = articles.id AND c.embedding IS NULL)", (utcnow_iso(precise=True), list(vectors)))

    # --- arrivals (the freshness view) ----------------------------------------------------------
    def newest_arrival(self) -> tuple[str, str | None, str | None, str, str | None, str] | None:
        """(id, title, published_at, indexed_at, url, the text's first 100 characters) of the article that became
        answerable last."""
        return self._one("SELECT id, title, published_at, indexed_at, url, substr(text, 1, 100) FROM articles "
                         'ORDER BY indexed_at COLLATE "C" DESC LIMIT 1')

    def arrivals_since(self, since_iso: str) -> list[tuple[str | None, str, str | None]]:
        """(published_at, indexed_at, embedded_at) of the articles that arrived at or after ``since_iso``."""
        return self._all('SELECT published_at, indexed_at, embedded_at FROM articles '
                         'WHERE indexed_at COLLATE "C" >= %s', (since_iso,))

    def arrival_of(self, url: str) -> tuple[str, str | None] | None:
        """(indexed_at, embedded_at) of the article with ``url``; None when the catalog has none."""
        row = self._one("SELECT indexed_at, embedded_at FROM articles WHERE url = %s LIMIT 1", (url,))
        return (row[0], row[1]) if row else None


def _iso_from_ts(ts: int | None) -> str | None:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat() if ts is not None else None


def _article_filter(source: str | None, q: str | None) -> tuple[str, tuple]:
    """The WHERE clause (and its parameters) of an article listing's filters."""
    clauses, params = [], []
    if source:
        clauses.append("lower(coalesce(source, '')) = lower(%s)")
        params.append(source)
    if q and q.strip():
        needle = q.strip().lower()
        clauses.append("(strpos(lower(coalesce(title, '')), %s) > 0 OR strpos(lower(coalesce(source, '')), %s) > 0)")
        params += [needle, needle]
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)


def _insert_chunks(conn: psycopg.Connection, rows: list[tuple[Chunk, str, bytes | None]]) -> None:
    """Insert (chunk, its article's display title, its vector) rows and index their keyword terms."""
    if not rows:
        return
    with conn.cursor() as cursor:
        cursor.executemany(
            'INSERT INTO chunks (id, article_id, position, start, "end", text, title, embedding) '
            "VALUES (%s,%s,%s,%s,%s,%s,%s,%s) RETURNING rowid",
            [(c.id, c.article_id, c.position, c.start, c.end, c.text, title, b) for c, title, b in rows],
            returning=True)
        rowids = [int(result.fetchone()[0]) for result in cursor.results()]
    index_chunk_terms(conn, [(rowid, title, c.text) for rowid, (c, title, _) in zip(rowids, rows)])
