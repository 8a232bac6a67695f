"""The catalog's copy of every chunk vector in PostgreSQL (``sqlite_vectors`` on SQLite): a window's vectors,
those that changed since a moment, which chunks a window admits, and the one-time fill of vectors.

Vectors cross as float32 bytes (``bytea``), one per chunk; a window's rows come from one join, read in one go.
"""

from __future__ import annotations

from index.types import ChunkFilter


def window_condition(where: ChunkFilter) -> tuple[str, list]:
    """A WHERE condition on the articles table (as ``a``) and its parameters: ``ChunkFilter.admits`` in SQL."""
    clauses, params = ["TRUE"], []
    if where.since_ts is not None:
        clauses.append("a.published_ts >= %s")
        params.append(where.since_ts)
    if where.until_ts is not None:
        clauses.append("(a.published_ts IS NULL OR a.published_ts <= %s)")
        params.append(where.until_ts)
    if where.sources:
        clauses.append("a.source = ANY(%s)")
        params.append(list(where.sources))
    return " AND ".join(clauses), params


class PostgresVectorRows:
    """Window vectors (mixed into ``PostgresCatalog``, which gives ``_all``, ``_one`` and ``_many``)."""

    def window_vectors(self, where: ChunkFilter) -> tuple[list[str], list[bytes]]:
        """(chunk ids, float32 vectors as bytes) of the window's chunks that have a vector."""
        condition, params = window_condition(where)
        rows = self._all(f"SELECT c.id, c.embedding FROM articles a JOIN chunks c ON c.article_id = a.id "
                         f"WHERE {condition} AND c.embedding IS NOT NULL", params)
        return [r[0] for r in rows], [bytes(r[1]) for r in rows]

    def vectors_changed_since(self, stamp: str, where: ChunkFilter) -> tuple[list[str], list[bytes]]:
        """(chunk ids, vectors) of the window's chunks whose article got vectors at or after ``stamp``
        (``embedded_at``) or is still partly queued."""
        condition, params = window_condition(where)
        rows = self._all(
            "SELECT c.id, c.embedding FROM articles a JOIN chunks c ON c.article_id = a.id "
            f'WHERE (a.embedded_at COLLATE "C" >= %s OR a.embedded_at IS NULL) AND {condition} '
            "AND c.embedding IS NOT NULL", [stamp, *params])
        return [r[0] for r in rows], [bytes(r[1]) for r in rows]

    def vector_rows_since(self, stamp: str) -> list[tuple]:
        """(article id, embedded_at, published_ts, source, chunk id, vector) of every chunk of the articles whose
        ``embedded_at`` is at or after ``stamp`` or still NULL, with (id, embedded_at, published_ts, source, None,
        None) for such an article with no vector yet: what a per-host copy of the vectors refreshes from."""
        rows = self._all(
            "SELECT a.id, a.embedded_at, a.published_ts, a.source, c.id, c.embedding FROM articles a "
            "LEFT JOIN chunks c ON c.article_id = a.id AND c.embedding IS NOT NULL "
            'WHERE a.embedded_at COLLATE "C" >= %s OR a.embedded_at IS NULL', (stamp,))
        return [(r[0], r[1], r[2], r[3], r[4], bytes(r[5]) if r[5] is not None else None) for r in rows]

    def vectors_changed_count(self, stamp: str) -> int:
        """How many chunks ``vectors_changed_since(stamp, everything)`` would give."""
        done = self._one('SELECT coalesce(sum(n_chunks), 0) FROM articles WHERE embedded_at COLLATE "C" >= %s',
                         (stamp,))[0]
        return int(done) + int(self._one("SELECT count(*) FROM chunks WHERE embedding IS NOT NULL AND article_id IN "
                                         "(SELECT id FROM articles WHERE embedded_at IS NULL)")[0])

    def chunks_in_window(self, chunk_ids: list[str], where: ChunkFilter) -> set[str]:
        """Which of ``chunk_ids`` are live chunks that the window admits (``ChunkFilter.admits``)."""
        rows = self._all("SELECT c.id, a.published_ts, a.source FROM chunks c JOIN articles a ON "
                         "a.id = c.article_id WHERE c.id = ANY(%s)", (list(chunk_ids),))
        return {r[0] for r in rows if where.admits(r[1], r[2])}

    def unembedded_chunk_ids(self) -> list[str]:
        """Every chunk without a vector in the catalog."""
        return [r[0] for r in self._all("SELECT id FROM chunks WHERE embedding IS NULL ORDER BY rowid")]

    def fill_vectors(self, vectors: dict[str, bytes]) -> None:
        """Copy chunks' vectors in, leaving their articles' ``embedded_at`` as it is."""
        self._many("UPDATE chunks SET embedding = %s WHERE id = %s", [(v, i) for i, v in vectors.items()])
