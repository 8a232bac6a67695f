"""The catalog's copy of every chunk vector: dense search within a date/source window.

Chroma's own filtered search took 0.8-1.8 s at 600k chunks whatever the window, so a filtered
question is answered here instead: exactly, over the window's vectors (about 3 us a chunk), or by
checking which of Chroma's unfiltered neighbours the window admits. A catalog across a network
(PostgreSQL) is not read per question: the window's vectors come from this host's copy of them
(``index.vector_cache``), which follows the catalog's writes. Catalogs made before the catalog
kept vectors are filled once from Chroma (``backfill``).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from index.catalog import CatalogInterface
from index.types import ChunkFilter
from index.vector_cache import VectorCache, top_by_score

_BACKFILL_BATCH = 2000  # vectors read from Chroma per catalog transaction


class WindowVectors:
    """Nearest chunks within a window, from the vectors the catalog keeps beside each chunk."""

    def __init__(self, catalog: CatalogInterface) -> None:
        self.catalog = catalog
        # the per-host copy where the catalog is across a network (decision: filtered-dense-search-on-postgresql)
        self.cache = VectorCache(catalog) if getattr(catalog, "remote", False) else None

    def in_window(self, where: ChunkFilter) -> tuple[list[str], list[bytes]]:
        """(chunk ids, float32 vectors as bytes) of the window's chunks that have a vector."""
        return self.catalog.window_vectors(where)

    def nearest(self, vector: np.ndarray, limit: int, where: ChunkFilter,
                admitted: int) -> list[tuple[str, float]] | None:
        """(chunk id, dot product) of the ``limit`` nearest chunks in a window of ``admitted`` chunks,
        scored exactly; None while the window's vectors are still being backfilled. (Chunks in the
        embedding queue have no vector yet: BM25 alone finds them.)"""
        if self.cache is not None:
            return self.cache.nearest(vector, limit, where)
        ids, blobs = self.in_window(where)
        if len(ids) < min(admitted, limit) and self.catalog.get_meta("vectors_backfill") == "pending":
            return None
        if not ids:
            return []
        matrix = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), -1)
        return top_by_score(ids, matrix @ vector, limit)

    def changed_since(self, stamp: str, where: ChunkFilter) -> tuple[list[str], np.ndarray]:
        """(chunk ids, vectors as rows) of the window's chunks whose article got vectors at or after
        ``stamp`` (``articles.embedded_at``, written in the commit after the Chroma upsert) or is still
        partly queued: what a vector index opened before ``stamp`` may lack or hold stale."""
        ids, blobs = self.catalog.vectors_changed_since(stamp, where)
        if not ids:
            return [], np.zeros((0, 0), dtype=np.float32)
        return ids, np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), -1)

    def changed_count(self, stamp: str) -> int:
        """How many chunks ``changed_since(stamp)`` would score (articles embedded since, or partly queued)."""
        return self.catalog.vectors_changed_count(stamp)

    def admitted(self, chunk_ids: list[str], where: ChunkFilter) -> set[str]:
        """Which of ``chunk_ids`` are live chunks that the window admits (to filter Chroma's neighbours)."""
        return self.catalog.chunks_in_window(chunk_ids, where)

    def backfill(self, read: Callable[[Sequence[str]], dict[str, np.ndarray]]) -> None:
        """Copy the vectors of chunks that have none in the catalog from ``read`` (Chroma), once:
        the catalog marks itself ``vectors_backfill = pending`` when it gains the column."""
        catalog = self.catalog
        if catalog.get_meta("vectors_backfill") != "pending":
            return
        missing = catalog.unembedded_chunk_ids()
        for start in range(0, len(missing), _BACKFILL_BATCH):
            vectors = read(missing[start:start + _BACKFILL_BATCH])
            with catalog.transaction():
                catalog.fill_vectors({i: v.tobytes() for i, v in vectors.items()})
        catalog.set_meta("vectors_backfill", "done")
