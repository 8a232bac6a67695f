"""The Chroma side of the index: an embedded PersistentClient under NEWSDESK_HOME, or a server."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Iterator, Sequence

import numpy as np

from errors import DiskFull, EmbedderMismatch, StoreUnavailable
from index.types import Chunk
from index.embedders import Embedder
from index.lock import index_lock
from settings import Settings


def is_disk_full(error: BaseException) -> bool:
    text = str(error).lower()
    return (isinstance(error, OSError) and error.errno == 28) or "no space left" in text or "disk is full" in text \
        or "database or disk is full" in text


def _store_error(settings: Settings, action: str, error: Exception) -> Exception:
    if is_disk_full(error):
        return DiskFull(f"the disk under {settings.index.home} is full while {action}; what was indexed before is intact. "
                        "Free some space and run the same command again.")
    return StoreUnavailable(f"the Chroma store at {settings.index.store_location} failed while {action} "
                            f"({type(error).__name__}); the index was left consistent: try again when it is back.")


def make_client(settings: Settings, fresh: bool = False):
    """A Chroma client. ``fresh``: drop this process's cached embedded store so that vectors written
    by another process become visible (an embedded client keeps its vector index in memory)."""
    import chromadb

    if fresh and not settings.index.server_mode:
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()

    chroma_settings = chromadb.Settings(anonymized_telemetry=False)
    try:
        if settings.index.server_mode:
            return chromadb.HttpClient(
                host=settings.index.chroma_host, port=settings.index.chroma_port or 8000, ssl=settings.index.chroma_ssl,
                settings=chroma_settings,
            )
        path = settings.index.home / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as error:  # chromadb raises many types (ValueError, httpx errors, its own)
        raise StoreUnavailable(f"cannot open the Chroma store at {settings.index.store_location}: {error}") from error


class ChunkStore:
    """One Chroma collection of chunk vectors. Records which embedder made them and refuses others."""

    def __init__(self, settings: Settings, embedder: Embedder, client=None) -> None:
        self.settings = settings
        self.client = client or make_client(settings)
        try:
            self.collection = self.client.get_or_create_collection(
                settings.index.collection,
                embedding_function=None,
                metadata={"embedder": embedder.name, "dimension": embedder.dimension},
                configuration={"hnsw": {"space": "cosine"}},
            )
        except Exception as error:
            if is_disk_full(error):
                raise _store_error(settings, "opening the collection", error) from error
            raise StoreUnavailable(f"cannot open collection at {settings.index.store_location}: {error}") from error
        recorded = (self.collection.metadata or {}).get("embedder")
        dimension = (self.collection.metadata or {}).get("dimension")
        if recorded != embedder.name or dimension != embedder.dimension:
            raise EmbedderMismatch(
                f"the collection '{settings.index.collection}' at {settings.index.store_location} was built with the embedder "
                f"'{recorded}' ({dimension} dimensions), not the configured '{embedder.name}' "
                f"({embedder.dimension}). Set NEWSDESK_EMBEDDER back, or re-embed everything with "
                f"`newsdesk index --rebuild PATH...` (or use another NEWSDESK_COLLECTION)."
            )
        self._lock = ReadWriteLock()
        try:
            self.max_batch = max(1, min(self.client.get_max_batch_size(), 4096))
        except Exception as error:  # chromadb and httpx raise many types; all become one clear error
            raise _store_error(self.settings, "connecting", error) from error

    def _call(self, action: str, method: str, **kwargs):
        """``self.collection.<method>(**kwargs)``, the collection read under the lock that ``reopen`` takes
        to swap it: a search never runs on a client while a fresh one replaces it."""
        with self._lock.reading():
            try:
                return getattr(self.collection, method)(**kwargs)
            except Exception as error:  # chromadb and httpx raise many types; all become one clear error
                raise _store_error(self.settings, action, error) from error

    def upsert(self, chunks: Sequence[Chunk], embeddings: np.ndarray) -> None:
        for start in range(0, len(chunks), self.max_batch):
            part = chunks[start:start + self.max_batch]
            self._call("writing vectors", "upsert",
                       ids=[c.id for c in part],
                       embeddings=embeddings[start:start + len(part)],
                       metadatas=[chunk_metadata(c) for c in part])

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for start in range(0, len(ids), self.max_batch):
            self._call("deleting vectors", "delete", ids=ids[start:start + self.max_batch])

    def query(self, vector: np.ndarray, limit: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the nearest chunks (unfiltered: see ``index.vectors``)."""
        if limit <= 0:
            return []
        result = self._call("searching", "query", query_embeddings=vector.reshape(1, -1),
                            n_results=limit, include=["distances"])
        return [(i, 1.0 - d) for i, d in zip(result["ids"][0], result["distances"][0])]

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        got = self._call("reading vectors", "get", ids=list(ids), include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"])}

    def count(self) -> int:
        return self._call("counting", "count")

    def all_ids(self) -> set[str]:
        ids: set[str] = set()
        offset = 0
        while True:
            page = self._call("listing ids", "get", include=[], limit=self.max_batch, offset=offset)["ids"]
            ids.update(page)
            if len(page) < self.max_batch:
                return ids
            offset += len(page)

    @property
    def origin(self) -> str:
        """Which in-memory vector index a write through this store lands in. Embedded clients of one path
        share one index within a process (until a ``reopen``), so a reader whose store has the writer's
        origin sees the write at once; writers record it in the catalog (meta "writer_origin")."""
        return f"{os.getpid()}:{id(self.client._server)}"

    def reopen(self, embedder: Embedder, warm: bool = False) -> bool:
        """Open the collection again, in place, on a fresh embedded client, so that vectors another origin
        wrote become visible (an embedded client keeps its vector index in memory; whoever holds the old
        client keeps using it). A server holds the index itself: nothing to do. Returns whether it reopened.
        ``warm``: one search first, which loads the vector index, so that no caller's search waits for it."""
        if self.settings.index.server_mode:
            return False
        # the old client's searches finish first, and none starts until the fresh one is loaded: a search
        # that ran while the fresh client replaced the process's cached one failed (InternalError, bench fresh)
        with self._lock.writing():
            fresh = ChunkStore(self.settings, embedder, client=make_client(self.settings, fresh=True))
            if warm and fresh.count():
                fresh.query(np.full(embedder.dimension, embedder.dimension ** -0.5, dtype=np.float32), 1)  # any unit vector
            self.client, self.collection, self.max_batch = fresh.client, fresh.collection, fresh.max_batch
        return True



def chunk_metadata(chunk: Chunk) -> dict:
    """What Chroma stores beside a vector: the article it belongs to (for people looking at the store).

    Everything else lives in the catalog (the source of truth, where citations are built and where
    date/source filters run: Chroma is never asked to filter). Chroma keeps no documents and no
    citation fields: storing them made it index every chunk's text again (its own full-text table) and
    cost 60% of indexing time and a third of the disk. Stores written before this also hold
    ``position``, ``source`` and ``published_ts``; nothing reads them.
    """
    return {"article_id": chunk.article_id}


class ReadWriteLock:
    """Many readers or one writer; a waiting writer holds back new readers (so it is not starved)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting = 0

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


def reset_store(settings: Settings, client=None) -> bool:
    """Drop the Chroma collection, whatever embedder made it; the catalog forgets it on next open.

    Returns whether there was a collection to drop. Used by ``newsdesk index --rebuild``.
    """
    client = client or make_client(settings)
    with index_lock(settings):
        try:
            client.delete_collection(settings.index.collection)
        except Exception:  # chromadb raises NotFoundError or ValueError depending on the mode
            return False
    return True
