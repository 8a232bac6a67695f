"""The catalog's copy of every chunk vector in SQLite: a window's vectors, those that changed since a moment,
which chunks a window admits, and the one-time fill of a catalog made before it kept vectors.

Vectors cross as float32 bytes, one per chunk; a window's rows come from one join, read in one go.
"""

from __future__ import annotations

import sqlite3

from index.catalog.sqlite_schema import rows_in
from index.catalog.sqlite_search import window_condition
from index.types import ChunkFilter


class VectorRows:
    """Window vectors (mixed into ``Catalog``, which gives ``db``)."""

    db: sqlite3.Connection

    def window_vectors(self, where: ChunkFilter) -> tuple[list[str], list[bytes]]:
        """(chunk ids, float32 vectors as bytes) of the window's chunks that have a vector."""
        condition, params = window_condition(where)
        rows = self.db.execute(f"SELECT c.id, c.embedding FROM articles a JOIN chunks c ON c.article_id = a.id "
                               f"WHERE {condition} AND c.embedding IS NOT NULL", params).fetchall()
        return [r[0] for r in rows], [r[1] for r in rows]

    def vectors_changed_since(self, stamp: str, where: ChunkFilter) -> tuple[list[str], list[bytes]]:
        """(chunk ids, vectors) of the window's chunks whose article got vectors at or after ``stamp``
        (``embedded_at``) or is still partly queued."""
        condition, params = window_condition(where)
        rows = self.db.execute(
            "SELECT c.id, c.embedding FROM articles a JOIN chunks c ON c.article_id = a.id "
            f"WHERE (a.embedded_at >= ? OR a.embedded_at IS NULL) AND {condition} AND c.embedding IS NOT NULL",
            [stamp, *params]).fetchall()
        return [r[0] for r in rows], [r[1] for r in rows]

    def vector_rows_since(self, stamp: str) -> list[tuple]:
        """(article id, embedded_at, published_ts, source, chunk id, vector) of every chunk of the articles whose
        ``embedded_at`` is at or after ``stamp`` or still NULL, with (id, embedded_at, published_ts, source, None,
        None) for such an article with no vector yet: what a per-host copy of the vectors refreshes from."""
        return self.db.execute(
            "SELECT a.id, a.embedded_at, a.published_ts, a.source, c.id, c.embedding FROM articles a "
            "LEFT JOIN chunks c ON c.article_id = a.id AND c.embedding IS NOT NULL "
            "WHERE a.embedded_at >= ? OR a.embedded_at IS NULL", (stamp,)).fetchall()

    def vectors_changed_count(self, stamp: str) -> int:
        """How many chunks ``vectors_changed_since(stamp, everything)`` would give."""
        done = self.db.execute("SELECT coalesce(sum(n_chunks), 0) FROM articles WHERE embedded_at >= ?",
                               (stamp,)).fetchone()[0]
        return done + self.db.execute("SELECT count(*) FROM chunks WHERE embedding IS NOT NULL AND article_id IN "
                                      "(SELECT id FROM articles WHERE embedded_at IS NULL)").fetchone()[0]

    def chunks_in_window(self, chunk_ids: list[str], where: ChunkFilter) -> set[str]:
        """Which of ``chunk_ids`` are live chunks that the window admits (``ChunkFilter.admits``)."""
        rows = rows_in(self.db, "SELECT c.id, a.published_ts, a.source FROM chunks c JOIN articles a ON "
                                "a.id = c.article_id WHERE c.id IN ({})", chunk_ids)
        return {r[0] for r in rows if where.admits(r[1], r[2])}

    def unembedded_chunk_ids(self) -> list[str]:
        """Every chunk without a vector in the catalog."""
        return [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE embedding IS NULL")]

    def fill_vectors(self, vectors: dict[str, bytes]) -> None:
        """Copy chunks' vectors in (inside a transaction), leaving their articles' ``embedded_at`` as it is."""
        self.db.executemany("UPDATE chunks SET embedding = ? WHERE id = ?", [(v, i) for i, v in vectors.items()])
