"""The write side's two calls into wire-copy clustering (``ingest.dedup``): ``WIRE_COPIES``, the hooks an
``index.sync.Indexer`` runs around its writes.

- ``fold_exact_copies`` before a batch is written: the same text under a second URL is kept without
  chunks (indexed once; ``rag.wire`` lists it with its URL under the indexed copy);
- ``settle_wire_clusters`` after every sync and removal: clusters in line with the catalog, and a copy
  kept without chunks is written again with them once no indexed article carries its text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from index.catalog import CatalogInterface
from index.types import Article, Batch, WriteHooks
from ingest.dedup import WireClusters
from settings import IngestSettings


def fold_exact_copies(catalog: CatalogInterface, config: IngestSettings, batch: Batch) -> Batch:
    """Before a batch is written: an article whose text is exactly that of an article already indexed
    with chunks (or of one earlier in the batch) is written without chunks, so it is not chunked into
    the keyword index or embedded a second time; it stays in the catalog (sync still sees it, and it is
    listed with its URL under the indexed copy, ``rag.wire``). Its batch is matched into clusters here,
    so later batches of the same run see it."""
    clusters = WireClusters(catalog, config)
    clusters.assign([article for article, _, _ in batch])
    in_batch = {article.id for article, _, _ in batch}
    chunked_in_batch: set[str] = set()
    out = []
    for article, chunks, root in batch:
        copies = set(clusters.exact_copies(article.id))
        indexed = copies & chunked_in_batch or _still_there(catalog, clusters.chunked(copies - in_batch))
        if chunks and indexed:
            chunks = []
        if chunks:
            chunked_in_batch.add(article.id)
        out.append((article, chunks, root))
    return out


def _still_there(catalog: CatalogInterface, ids: set[str]) -> bool:
    """Whether one of the indexed twins still has its file: a renamed or deleted file's article is removed
    at the end of this very run, so its text goes to the new article rather than waiting for a re-write."""
    for article_id in sorted(ids):
        record = catalog.get_article(article_id)
        if record is not None and Path(record.path).exists():
            return True
    return False


def settle_wire_clusters(catalog: CatalogInterface, config: IngestSettings,
                         write: Callable[[list[tuple[Article, str]]], None]) -> int:
    """After every sync and removal: clusters in line with the catalog, and an exact copy that was kept
    without chunks gets them once no indexed article carries its text any more (its twin was removed by
    ``newsdesk remove``, or was a line of a JSONL file that is still there). It is written again, its
    chunks answerable by keyword at once and queued for vectors (the next drain embeds them). Returns how
    many articles changed cluster or were written again."""
    clusters = WireClusters(catalog, config)
    changed = clusters.settle()
    orphans = []
    for article_id in clusters.unchunked():
        if not clusters.chunked(set(clusters.exact_copies(article_id))):
            stored = catalog.stored_article(article_id)  # as it was parsed: the next sync sees it unchanged
            if stored is not None:
                orphans.append(stored)
    if orphans:
        write(orphans)
    return changed + len(orphans)


WIRE_COPIES = WriteHooks(fold_exact_copies, settle_wire_clusters)
