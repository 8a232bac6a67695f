"""The question side of the catalog: BM25 (SQLite FTS5) over the chunks, within a date/source filter.

``ChunkFilter`` is a question's date/source filter; ``WindowCounter`` says how many chunks it admits
(cheap: from the articles table); ``Bm25Search`` ranks the chunks matching a question's terms, searching
only the rarest terms on a large corpus and never joining every match to its article.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.catalog import Catalog
from settings import RetrievalSettings

_BATCH = 500  # ids per IN (...) list
# every chunk matching a query, with its BM25 score (lower is better); parameters: title weight, query
_RANKED = "SELECT rowid, bm25(chunks_fts, ?, 1.0) AS s FROM chunks_fts WHERE chunks_fts MATCH ?"


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

    def sql(self) -> tuple[str, list]:
        """A WHERE condition on the articles table (as ``a``) and its parameters."""
        where, params = ["1"], []
        if self.since_ts is not None:
            where.append("a.published_ts >= ?")
            params.append(self.since_ts)
        if self.until_ts is not None:
            where.append("(a.published_ts IS NULL OR a.published_ts <= ?)")
            params.append(self.until_ts)
        if self.sources:
            where.append(f"a.source IN ({','.join('?' * len(self.sources))})")
            params.extend(self.sources)
        return " AND ".join(where), params

    def admits(self, published_ts: int | None, source: str | None) -> bool:
        """The same rule as ``sql()``, for one article's values."""
        if self.since_ts is not None and (published_ts is None or published_ts < self.since_ts):
            return False
        if self.until_ts is not None and published_ts is not None and published_ts > self.until_ts:
            return False
        return not self.sources or source in self.sources


@dataclass(frozen=True)
class WindowShare:
    """How many chunks a filter admits, and their share of all chunks."""

    admitted: int
    share: float


class WindowCounter:
    """Counts the chunks a filter admits, from the articles table alone (its ``n_chunks``: cheap)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._total: tuple[str | None, int] | None = None  # (writer marker, chunk count), see total

    def size(self, where: ChunkFilter) -> int:
        condition, params = where.sql()
        return self.catalog.db.execute(f"SELECT coalesce(sum(n_chunks), 0) FROM articles a WHERE {condition}",
                                       params).fetchone()[0]

    def total(self) -> int:
        """All chunks, recounted only after a writer finished a run (one meta read per call)."""
        marker = self.catalog.get_meta("writer")
        if self._total is None or self._total[0] != marker:
            self._total = (marker, self.size(ChunkFilter()))
        return self._total[1]

    def share(self, where: ChunkFilter) -> WindowShare:
        admitted = self.size(where)
        return WindowShare(admitted, admitted / max(self.total(), admitted, 1))


class Bm25Search:
    """(chunk id, BM25 score) for the chunks matching any of a question's terms, best first.

    Column weights, and when a filter counts as broad, come from ``RetrievalSettings``.
    """

    def __init__(self, catalog: Catalog, config: RetrievalSettings, counter: WindowCounter | None = None) -> None:
        self.catalog = catalog
        self.config = config
        self.counter = counter or WindowCounter(catalog)

    def search(self, terms: list[str], limit: int, where: ChunkFilter | None = None,
               max_postings: int | None = None, window: WindowShare | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score, higher is better) for chunks matching any of ``terms``.

        An OR query costs FTS5 one score per matching chunk, so on a large corpus a question's common
        words ("said", "group", "show": tens of thousands of chunks each) dominate its cost while
        adding little to the ranking (their IDF is low). With ``max_postings``, only the rarest terms
        whose document counts add up to that budget are searched (at least the rarest one), like
        Lucene's cutoff frequency: the cost stays bounded as the corpus grows.
        ``window`` is the filter's ``WindowCounter.share`` when the caller has it already.
        """
        if max_postings is not None:
            terms = self.rarest_terms(terms, max_postings)
        if not terms:
            return []
        query = " OR ".join(fts_phrase(t) for t in terms)
        if where is None or not where.narrows:
            # rank inside FTS5 first, then look up the few winners' ids (joining first costs a
            # lookup per matching chunk)
            sql = (f"SELECT c.id, f.s FROM ({_RANKED} ORDER BY s, rowid LIMIT ?) f "
                   "JOIN chunks c ON c.rowid = f.rowid ORDER BY f.s, f.rowid")
            return [(r[0], -r[1]) for r in self.catalog.db.execute(sql, (self.config.bm25_title_weight, query, limit))]
        window = window or self.counter.share(where)
        if window.admitted == 0:
            return []
        return self._filtered(query, limit, where, window.share)

    def _filtered(self, query: str, limit: int, where: ChunkFilter, share: float) -> list[tuple[str, float]]:
        """BM25 within a date/source filter without a join per matching chunk.

        FTS5 cannot filter on other tables, and joining every match to its article costs more than
        ranking it. So: a broad filter -> rank, then check the filter for the first few hundred;
        a narrow one -> the window's chunk rowids first (from the date index), then walk the ranking
        until ``limit`` of them are found.
        """
        db, c = self.catalog.db, self.config
        ranked_sql = _RANKED + " ORDER BY s, rowid"
        condition, params = where.sql()
        found: list[tuple[int, float]] = []
        if share >= c.broad_window_share:
            wanted = min(int(limit / share * 1.5) + limit, c.broad_window_ranks)
            ranked = db.execute(ranked_sql + " LIMIT ?", (c.bm25_title_weight, query, wanted)).fetchall()
            passing = self._rowids_passing([r[0] for r in ranked], condition, params)
            found = [r for r in ranked if r[0] in passing][:limit]
            if len(found) < limit and len(ranked) == wanted:
                found = []  # too few in the first ranks: walk the whole ranking below
            else:
                return self._ids_for(found)
        window = {r[0] for r in db.execute(
            f"SELECT c.rowid FROM articles a JOIN chunks c ON c.article_id = a.id WHERE {condition}", params)}
        for rowid, score in db.execute(ranked_sql, (c.bm25_title_weight, query)):
            if rowid in window:
                found.append((rowid, score))
                if len(found) >= limit:
                    break
        return self._ids_for(found)

    def _rowids_passing(self, rowids: list[int], condition: str, params: list) -> set[int]:
        passing: set[int] = set()
        for start in range(0, len(rowids), _BATCH):
            part = rowids[start:start + _BATCH]
            passing.update(r[0] for r in self.catalog.db.execute(
                f"SELECT c.rowid FROM chunks c JOIN articles a ON a.id = c.article_id "
                f"WHERE c.rowid IN ({','.join('?' * len(part))}) AND {condition}", [*part, *params]))
        return passing

    def _ids_for(self, ranked: list[tuple[int, float]]) -> list[tuple[str, float]]:
        """(chunk id, score, higher is better) for (rowid, bm25) pairs, in their order."""
        if not ranked:
            return []
        ids = dict(self.catalog.db.execute(
            f"SELECT rowid, id FROM chunks WHERE rowid IN ({','.join('?' * len(ranked))})", [r[0] for r in ranked]))
        return [(ids[rowid], -score) for rowid, score in ranked if rowid in ids]

    def document_counts(self, terms: list[str]) -> dict[str, int]:
        """How many chunks contain each term (FTS5 counts a doclist without scoring it: cheap)."""
        return {t: self.catalog.db.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?",
                                           (fts_phrase(t),)).fetchone()[0] for t in terms}

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


def fts_phrase(term: str) -> str:
    """One term as an FTS5 phrase (quoted: FTS5 syntax in a question is text, not an operator)."""
    return '"' + term.replace('"', '""') + '"'

