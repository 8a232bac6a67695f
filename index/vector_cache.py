"""A per-host copy of the catalog's chunk vectors, for dense search within a window when the catalog is across a
network (PostgreSQL): a question scores the window's vectors in memory instead of reading them from the server.

The copy refreshes itself before a question only when the catalog's writer marker (meta ``writer``, changed in
every write's transaction) moved, and then incrementally:

- the articles whose ``embedded_at`` is at or after the newest one it holds, less ``SKEW_S``, or still NULL
  (partly queued) are read again with their chunks' vectors, and replace what it held of those articles;
- when the catalog's article count then differs from the copy's, some articles were deleted: the copy drops
  the ones the catalog no longer has.

So a question between writes costs one meta read, and a write costs reading what it changed. The copy holds every
vector in memory (chunks x dimensions x 4 bytes: 64 MB for 42,000 chunks of 384 floats).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Sequence

import numpy as np

from index.catalog import CatalogInterface
from index.types import ChunkFilter

# ``embedded_at`` is the clock of the writer's host when it stamped the article. One writer at a time commits its
# transactions one after another, so on one host a later commit has a later stamp; after the lock moves to another
# host whose clock is behind, its stamps may precede the newest one a reader saw: such a write is still read if it
# is at most this much older (hosts that keep time with NTP differ by milliseconds). A choice with a wide margin:
# each refresh re-reads what was embedded in this much time before the newest stamp (measured: 236 ms after a bulk
# load with 60 s, 7 ms for one article with none, docs/benchmarks/2026-12-07-filtered-dense.md).
SKEW_S = 10.0
COMPACT_ROWS = 1024  # dropped rows are let go once they outnumber the live ones and this (a choice)
_NO_TS = np.iinfo(np.int64).min  # an undated article's published_ts


def top_by_score(ids: Sequence, scores: np.ndarray, limit: int) -> list[tuple[str, float]]:
    """The ``limit`` best (id, score), best first, equal scores by id: the same list whatever order the rows came
    in (identical wire copies have identical vectors). ``ids[i]`` is row i's id."""
    if len(scores) > limit:
        cut = np.partition(-scores, limit - 1)[limit - 1]
        keep = np.flatnonzero(-scores <= cut)
    else:
        keep = np.arange(len(scores))
    ranked = sorted(((ids[i], float(scores[i])) for i in keep), key=lambda hit: (-hit[1], hit[0]))
    return ranked[:limit]


class VectorCache:
    """Every chunk vector of the catalog with its article's date and source, refreshed as the module says."""

    def __init__(self, catalog: CatalogInterface) -> None:
        self.catalog = catalog
        self._lock = threading.Lock()
        self._marker: str | None = None
        self._loaded = False
        self._stamp = ""  # the newest embedded_at held
        self._articles: dict[str, list[int]] = {}  # article id -> its rows
        self._ids: list[str | None] = []  # row -> chunk id (None: a dropped row)
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._ts = np.zeros(0, dtype=np.int64)
        self._source = np.zeros(0, dtype=object)
        self._alive = np.zeros(0, dtype=bool)
        self._rows = 0  # rows in use (live or dropped); the arrays have room for more

    def __len__(self) -> int:
        return int(self._alive[:self._rows].sum())

    # --- questions ----------------------------------------------------------------------------
    def nearest(self, vector: np.ndarray, limit: int, where: ChunkFilter) -> list[tuple[str, float]]:
        """(chunk id, dot product) of the ``limit`` nearest chunks the window admits, after a refresh."""
        self.refresh()
        with self._lock:
            mask = self._window_mask(where)
            admitted = int(mask.sum())
            if not admitted:
                return []
            if admitted * 4 < len(mask):  # a narrow window: its rows alone
                rows = np.flatnonzero(mask)
                return top_by_score([self._ids[r] for r in rows], self._matrix[rows] @ vector, limit)
            # a broad one: every row scored in place (no copy of the window's vectors), the others left out
            scores = np.where(mask, self._matrix[:len(mask)] @ vector, -np.inf)
            return top_by_score(self._ids, scores, min(limit, admitted))

    def window(self, where: ChunkFilter) -> tuple[list[str], np.ndarray]:
        """(chunk ids, vectors as rows) of the window's chunks, after a refresh."""
        self.refresh()
        with self._lock:
            rows = np.flatnonzero(self._window_mask(where))
            return [self._ids[r] for r in rows], self._matrix[rows]

    def _window_mask(self, where: ChunkFilter) -> np.ndarray:
        """``ChunkFilter.admits`` over every row (undated articles pass an upper bound, never a lower one)."""
        n = self._rows
        mask = self._alive[:n].copy()
        ts = self._ts[:n]
        if where.since_ts is not None:
            mask &= (ts != _NO_TS) & (ts >= where.since_ts)
        if where.until_ts is not None:
            mask &= (ts == _NO_TS) | (ts <= where.until_ts)
        if where.sources:
            mask &= np.isin(self._source[:n], list(where.sources))
        return mask

    # --- refresh ------------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Catch up with the catalog when a writer wrote since the last refresh; whether anything was read."""
        marker = self.catalog.get_meta("writer")
        if self._loaded and marker == self._marker:
            return False
        with self._lock:
            if self._loaded and marker == self._marker:
                return False
            since = _before(self._stamp, SKEW_S) if self._loaded else ""
            changed: dict[str, list[tuple]] = {}
            incoming = 0
            for row in self.catalog.vector_rows_since(since):
                changed.setdefault(row[0], []).append(row)
                if row[5] is not None:
                    incoming += 1
                    dimension = len(row[5]) // 4
            if incoming:
                self._reserve(incoming, dimension)
            for article_id, rows in changed.items():
                self._drop(article_id)
                self._add(article_id, rows)
                stamp = rows[0][1]
                if stamp is not None and stamp > self._stamp:
                    self._stamp = stamp
            if self.catalog.count_articles() != len(self._articles):
                for article_id in set(self._articles) - set(self.catalog.article_hashes()):
                    self._drop(article_id)
            if self._rows > 2 * max(len(self), COMPACT_ROWS):
                self._compact()
            self._marker, self._loaded = marker, True
            return True

    def _drop(self, article_id: str) -> None:
        for row in self._articles.pop(article_id, ()):
            self._alive[row] = False
            self._ids[row] = None

    def _add(self, article_id: str, rows: list[tuple]) -> None:
        vectors = [(r[4], r[5]) for r in rows if r[4] is not None]
        self._articles[article_id] = []
        if not vectors:
            return
        matrix = np.frombuffer(b"".join(v for _, v in vectors), dtype=np.float32).reshape(len(vectors), -1)
        start = self._grow(len(vectors), matrix.shape[1])
        end = start + len(vectors)
        self._matrix[start:end] = matrix
        published_ts, source = rows[0][2], rows[0][3]
        self._ts[start:end] = _NO_TS if published_ts is None else published_ts
        self._source[start:end] = source
        self._alive[start:end] = True
        self._ids[start:end] = [chunk_id for chunk_id, _ in vectors]
        self._articles[article_id] = list(range(start, end))

    def _reserve(self, count: int, dimension: int) -> None:
        """Room for ``count`` more rows: exactly at the first load, then a quarter more than needed, so that a copy
        of the whole matrix is made once per quarter of growth, not per write."""
        if self._matrix.shape[1] != dimension and self._rows == 0:
            self._matrix = np.zeros((0, dimension), dtype=np.float32)
        needed = self._rows + count
        if needed > len(self._matrix):
            size = needed if not self._rows else max(needed, len(self._matrix) * 5 // 4)
            self._matrix = _resized(self._matrix, size)
            self._ts, self._source, self._alive = (_resized(a, size) for a in (self._ts, self._source, self._alive))

    def _grow(self, count: int, dimension: int) -> int:
        """``count`` more rows in use (room made by ``_reserve``); the first of them."""
        self._reserve(count, dimension)
        start = self._rows
        self._ids.extend([None] * count)
        self._rows += count
        return start

    def _compact(self) -> None:
        """Keep only live rows (after many articles were replaced or dropped)."""
        live = np.flatnonzero(self._alive[:self._rows])
        renumber = {int(old): new for new, old in enumerate(live)}
        self._matrix, self._ts = self._matrix[live], self._ts[live]
        self._source, self._alive = self._source[live], self._alive[live]
        self._ids = [self._ids[r] for r in live]
        self._articles = {a: [renumber[r] for r in rows] for a, rows in self._articles.items()}
        self._rows = len(live)


def _resized(array: np.ndarray, size: int) -> np.ndarray:
    grown = np.zeros((size, *array.shape[1:]), dtype=array.dtype)
    grown[:len(array)] = array
    return grown


def _before(stamp: str, seconds: float) -> str:
    """An ISO ``embedded_at`` moved ``seconds`` earlier, in the same form (text order is time order)."""
    if not stamp:
        return ""
    return (datetime.fromisoformat(stamp) - timedelta(seconds=seconds)).isoformat(timespec="milliseconds")
