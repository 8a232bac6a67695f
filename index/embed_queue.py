"""The embedding queue: vectors for chunks that are already answerable by keyword.

An arriving article is committed with its chunks and FTS5 terms first (``Indexer.sync``); each of its
chunks waits here, in the catalog, with no vector (``chunks.embedding`` NULL) until ``EmbedQueue.drain``
embeds it. The queue is the catalog itself, so it survives any crash.

One step, oldest chunks first:

1. journal the step's chunk ids (so a vector that reaches Chroma is never untracked: if the chunk is
   dropped before step 3, ``Indexer.recover`` deletes it);
2. embed them and upsert the vectors into Chroma (idempotent: a step redone writes the same vectors);
3. in one catalog transaction: store the vectors beside the chunks (the window vectors), stamp the
   articles that have all their vectors, settle the journal entry.

Killed anywhere, the chunks are still pending (or done) and the next step or run converges.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from index.catalog import Catalog
from index.chunker import embedding_text
from index.embedders import Embedder
from index.store import ChunkStore
from index.types import Chunk

EmbedProgress = Callable[[int, int], None]  # (chunks embedded so far, chunks that were pending)


class EmbedQueue:
    """Embeds the catalog's pending chunks into Chroma and the catalog, a batch at a time."""

    def __init__(self, catalog: Catalog, store: ChunkStore, embedder: Embedder, batch_chunks: int) -> None:
        self.catalog = catalog
        self.store = store
        self.embedder = embedder
        self.batch_chunks = max(1, batch_chunks)

    def counts(self) -> tuple[int, int]:
        """(chunks, articles) waiting for vectors."""
        return self.catalog.pending_counts()

    def drain(self, max_chunks: int | None = None, on_progress: EmbedProgress | None = None,
              after_step: Callable[[], None] | None = None) -> int:
        """Embed up to ``max_chunks`` pending chunks (all when None), oldest first; returns how many.

        The caller holds the index lock. ``after_step`` runs inside each step's catalog transaction
        (the indexer marks the write there, so readers see the new vectors).
        """
        total = self.counts()[0] if on_progress else 0
        if max_chunks is not None:
            total = min(total, max_chunks)
        done = 0
        while max_chunks is None or done < max_chunks:
            limit = self.batch_chunks if max_chunks is None else min(self.batch_chunks, max_chunks - done)
            rows = self.catalog.pending_chunks(limit)
            if not rows:
                break
            self._step(rows, after_step)
            done += len(rows)
            if on_progress:
                on_progress(done, max(total, done))
        return done

    def _step(self, rows: list[tuple[str, str, str, str]], after_step: Callable[[], None] | None) -> None:
        ids = [r[0] for r in rows]
        entry = self.catalog.journal_add(ids)  # 1. before Chroma sees them
        vectors = self.embedder.embed([embedding_text(title, text) for _, _, title, text in rows])
        # Chroma keeps only the article id beside a vector (``index.store.chunk_metadata``)
        self.store.upsert([Chunk(cid, article_id, 0, 0, 0, "") for cid, article_id, _, _ in rows], vectors)  # 2.
        with self.catalog.transaction():  # 3.
            self.catalog.set_vectors({cid: np.asarray(v, dtype=np.float32).tobytes() for cid, v in zip(ids, vectors)})
            self.catalog.journal_done(entry)
            if after_step:
                after_step()
