"""BM25 over the chunks in SQLite (FTS5), within a date/source window, and the window's size.

FTS5 cannot filter on other tables, and joining every match to its article costs more than ranking it. So
an unfiltered search ranks inside FTS5 and looks up only the winners' ids; a broad window ranks, then checks
the window for the first few hundred; a narrow one reads the window's chunk rowids first (from the date
index), then walks the ranking until enough of them are found. Every path gives what the plain join would.
"""

from __future__ import annotations

import sqlite3

from index.catalog.sqlite_schema import BATCH
from index.types import Bm25Query, ChunkFilter

# every chunk matching a query, with its BM25 score (lower is better); parameters: title weight, query
_RANKED = "SELECT rowid, bm25(chunks_fts, ?, 1.0) AS s FROM chunks_fts WHERE chunks_fts MATCH ?"


def fts_phrase(term: str) -> str:
    """One term as an FTS5 phrase (quoted: FTS5 syntax in a question is text, not an operator)."""
    return '"' + term.replace('"', '""') + '"'


def window_condition(where: ChunkFilter) -> tuple[str, list]:
    """A WHERE condition on the articles table (as ``a``) and its parameters: ``ChunkFilter.admits`` in SQL."""
    clauses, params = ["1"], []
    if where.since_ts is not None:
        clauses.append("a.published_ts >= ?")
        params.append(where.since_ts)
    if where.until_ts is not None:
        clauses.append("(a.published_ts IS NULL OR a.published_ts <= ?)")
        params.append(where.until_ts)
    if where.sources:
        clauses.append(f"a.source IN ({','.join('?' * len(where.sources))})")
        params.extend(where.sources)
    return " AND ".join(clauses), params


class SearchRows:
    """Keyword search and window sizes (mixed into ``Catalog``, which gives ``db``)."""

    db: sqlite3.Connection

    def window_chunk_count(self, where: ChunkFilter) -> int:
        """How many chunks ``where`` admits, from the articles table alone (its ``n_chunks``: cheap)."""
        condition, params = window_condition(where)
        return self.db.execute(f"SELECT coalesce(sum(n_chunks), 0) FROM articles a WHERE {condition}",
                               params).fetchone()[0]

    def term_document_counts(self, terms: list[str]) -> dict[str, int]:
        """How many chunks contain each term (FTS5 counts a doclist without scoring it: cheap)."""
        return {t: self.db.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?",
                                   (fts_phrase(t),)).fetchone()[0] for t in terms}

    def bm25(self, query: Bm25Query) -> list[tuple[str, float]]:
        """(chunk id, BM25 score, higher is better) of the ``query.limit`` best chunks matching any term."""
        if not query.terms:
            return []
        match = " OR ".join(fts_phrase(t) for t in query.terms)
        if query.where is None or not query.where.narrows:
            # rank inside FTS5 first, then look up the few winners' ids (joining first costs a
            # lookup per matching chunk)
            sql = (f"SELECT c.id, f.s FROM ({_RANKED} ORDER BY s, rowid LIMIT ?) f "
                   "JOIN chunks c ON c.rowid = f.rowid ORDER BY f.s, f.rowid")
            return [(r[0], -r[1]) for r in self.db.execute(sql, (query.title_weight, match, query.limit))]
        return self._in_window(match, query)

    def _in_window(self, match: str, query: Bm25Query) -> list[tuple[str, float]]:
        db, limit, share = self.db, query.limit, query.window_share
        ranked_sql = _RANKED + " ORDER BY s, rowid"
        condition, params = window_condition(query.where)
        found: list[tuple[int, float]] = []
        if share >= query.broad_window_share:
            wanted = min(int(limit / share * 1.5) + limit, query.broad_window_ranks)
            ranked = db.execute(ranked_sql + " LIMIT ?", (query.title_weight, match, wanted)).fetchall()
            passing = self._rowids_passing([r[0] for r in ranked], condition, params)
            found = [r for r in ranked if r[0] in passing][:limit]
            if len(found) < limit and len(ranked) == wanted:
                found = []  # too few in the first ranks: walk the whole ranking below
            else:
                return self._ids_for(found)
        window = {r[0] for r in db.execute(
            f"SELECT c.rowid FROM articles a JOIN chunks c ON c.article_id = a.id WHERE {condition}", params)}
        for rowid, score in db.execute(ranked_sql, (query.title_weight, match)):
            if rowid in window:
                found.append((rowid, score))
                if len(found) >= limit:
                    break
        return self._ids_for(found)

    def _rowids_passing(self, rowids: list[int], condition: str, params: list) -> set[int]:
        passing: set[int] = set()
        for start in range(0, len(rowids), BATCH):
            part = rowids[start:start + BATCH]
            passing.update(r[0] for r in self.db.execute(
                f"SELECT c.rowid FROM chunks c JOIN articles a ON a.id = c.article_id "
                f"WHERE c.rowid IN ({','.join('?' * len(part))}) AND {condition}", [*part, *params]))
        return passing

    def _ids_for(self, ranked: list[tuple[int, float]]) -> list[tuple[str, float]]:
        """(chunk id, score, higher is better) for (rowid, bm25) pairs, in their order."""
        if not ranked:
            return []
        ids = dict(self.db.execute(
            f"SELECT rowid, id FROM chunks WHERE rowid IN ({','.join('?' * len(ranked))})", [r[0] for r in ranked]))
        return [(ids[rowid], -score) for rowid, score in ranked if rowid in ids]
