"""``newsdesk catalog copy``: an existing index (its catalog and its Chroma collection) copied into the index
the settings name, typically a SQLite home into a PostgreSQL catalog beside a Chroma server, without embedding
anything again.

What is copied, through the catalog interface on both sides (no SQL here):
- every article as it was stored (its content hash and its ``indexed_at``/``embedded_at`` kept), its chunks
  and the catalog's copies of their vectors; the target builds its own keyword index of the chunks (FTS5 or
  the PostgreSQL postings) as it writes them. A chunk that had no vector yet stays queued in the target.
- the vectors into the target's Chroma collection, from the catalog's copies (the source's Chroma store is
  never opened: an embedded store writes to its folder when it opens).
- the roots, the wire-copy signatures, band keys and clusters (when both sides use the same wire settings),
  and the followed feeds with their state.

The source is opened read-only and never written. The target is written under its writer's lock, in batches
of articles taken in the source's write order (so that the target's keyword index breaks ties between equal
scores as the source's does): a batch's vectors go to Chroma first (writing them again is harmless), then its
catalog rows in one transaction with the cursor of the last article copied (meta ``copy_cursor``). So a copy
that stopped part way is resumed by running it again: the target's meta ``copied_from`` names the source,
and the copy goes on after the cursor. A target that already holds articles and is not a copy of this source
is refused.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from errors import BadInput
from index.catalog import CatalogInterface, catalog_exists, open_catalog, open_feed_table, utcnow_iso
from index.embedders import Embedder
from index.lock import index_lock
from index.store import ChunkStore
from index.types import ArticleCopy, Chunk
from settings import Settings

COPY_BATCH_ARTICLES = 200  # articles per transaction: about 2,000 chunks of the RealTime QA corpus (a choice)
WIRE_BATCH = 500  # articles' signatures read and written together

CopyProgress = Callable[[int, int], None]  # (articles in the target, articles in the source)


@dataclass
class CopyReport:
    source: str
    target: str
    store: str
    articles: int = 0  # copied by this run
    chunks: int = 0
    vectors: int = 0
    queued: int = 0  # chunks that had no vector in the source: queued in the target too
    resumed_after: int = 0  # articles an earlier run had copied
    signatures: int = 0
    feeds: int = 0
    roots: int = 0
    seconds: float = 0.0


def source_settings(target: Settings, home, collection: str | None = None) -> Settings:
    """The settings of the index under ``home`` as that home keeps it: its own catalog file and embedded store,
    ``collection`` (default: the target's) and every other setting as the target's."""
    return target.updated(home=home, catalog_url=None, chroma_host=None, chroma_port=None,
                          collection=collection or target.index.collection)


def copy_index(source: Settings, target: Settings, embedder: Embedder, on_progress: CopyProgress | None = None,
               batch_articles: int = COPY_BATCH_ARTICLES) -> CopyReport:
    """Copy the index ``source`` names into the one ``target`` names (see the module docstring)."""
    if source.index.catalog_location == target.index.catalog_location:
        raise BadInput(f"the source and the target are the same catalog ({target.index.catalog_location}).")
    if not catalog_exists(source):
        raise BadInput(f"there is no index at {source.index.catalog_location} to copy.")
    started = time.perf_counter()
    reader = open_catalog(source, read_only=True)
    try:
        if reader.get_meta("vectors_backfill") == "pending":
            raise BadInput(f"the catalog at {reader.path} does not hold its vectors yet: run `newsdesk status` on "
                           "it once with this version (it copies them in from its Chroma store), then copy it.")
        with index_lock(target):
            writer = open_catalog(target)
            try:
                report = CopyReport(str(reader.path), target.index.catalog_location, target.index.store_location)
                _copy(reader, writer, source, target, embedder, report, on_progress, batch_articles)
            finally:
                writer.close()
    finally:
        reader.close()
    report.seconds = round(time.perf_counter() - started, 1)
    return report


def _copy(reader: CatalogInterface, writer: CatalogInterface, source: Settings, target: Settings,
          embedder: Embedder, report: CopyReport, on_progress: CopyProgress | None, batch_articles: int) -> None:
    writer_stamp = reader.get_meta("writer")
    store = ChunkStore(target, embedder)
    after = _resume_point(reader, writer, store, report)  # (write order, id) of the last article copied
    total, done = reader.count_articles(), report.resumed_after
    if on_progress:
        on_progress(done, total)
    while True:
        batch = reader.export_articles(after, batch_articles)
        if not batch:
            break
        _write_vectors(store, batch, embedder.dimension, report)
        after = (batch[-1].order, batch[-1].article.id)
        with writer.transaction():
            writer.import_articles(batch)
            writer.set_meta("copy_cursor", json.dumps(after))
        done += len(batch)
        report.articles += len(batch)
        report.chunks += sum(len(c.chunks) for c in batch)
        if on_progress:
            on_progress(done, total)
    report.signatures = _copy_wire(reader, writer, target)
    report.feeds = _copy_feeds(source, target)
    with writer.transaction():
        for root in reader.roots():
            writer.add_root(root)
            report.roots += 1
        # readers that opened the target before see a write and load their vectors again (``Indexer._mark_written``)
        writer.set_meta("last_indexed", reader.get_meta("last_indexed") or utcnow_iso())
        writer.set_meta("writer_origin", store.origin)
        writer.set_meta("writer", str(time.time_ns()))
        writer.set_meta("copy_finished", utcnow_iso())
    if reader.get_meta("writer") != writer_stamp:
        raise BadInput(f"the index at {reader.path} was written while it was copied: stop its writer and copy it "
                       "again into an empty collection.")


def _resume_point(reader: CatalogInterface, writer: CatalogInterface, store: ChunkStore,
                  report: CopyReport) -> tuple[int, str]:
    """The cursor to go on after: before the first article for a fresh copy, the last one copied when this copy
    was begun before. A target that holds articles of anything else is refused."""
    origin = json.dumps({"catalog": str(reader.path), "collection_id": reader.get_meta("collection_id")})
    held = writer.count_articles()
    if held and writer.get_meta("copied_from") != origin:
        raise BadInput(f"the target catalog at {report.target} already holds {held} articles that are not a "
                       f"copy of {reader.path}: copy into an empty collection (another NEWSDESK_COLLECTION).")
    with writer.transaction():
        writer.set_meta("copied_from", origin)
        # the catalog describes this Chroma collection (``Indexer._bind_catalog_to_collection``)
        writer.set_meta("collection_id", str(store.collection.id))
    report.resumed_after = held
    cursor = writer.get_meta("copy_cursor")
    return tuple(json.loads(cursor)) if held and cursor else (-1, "")


def _write_vectors(store: ChunkStore, batch: list[ArticleCopy], dimension: int, report: CopyReport) -> None:
    chunks: list[Chunk] = [c for copy in batch for c in copy.chunks if c.id in copy.vectors]
    report.queued += sum(len(copy.chunks) for copy in batch) - len(chunks)
    if not chunks:
        return
    by_id = {i: v for copy in batch for i, v in copy.vectors.items()}
    vectors = np.stack([np.frombuffer(by_id[c.id], dtype=np.float32) for c in chunks])
    if vectors.shape[1] != dimension:
        raise BadInput(f"the source's vectors have {vectors.shape[1]} dimensions, the configured embedder "
                       f"{dimension}: set NEWSDESK_EMBEDDER to the one the source was built with.")
    store.upsert(chunks, vectors)
    report.vectors += len(chunks)


def _copy_wire(reader: CatalogInterface, writer: CatalogInterface, target: Settings) -> int:
    """The wire signatures, band keys and clusters, when the source made them with the target's wire settings
    (otherwise the target's first index run makes them again). Returns how many signatures were copied."""
    from ingest.dedup import WireClusters, WireSignature

    if not reader.wire_ready():
        return 0
    clusters = WireClusters(writer, target.ingest)  # records the target's wire settings
    if reader.get_meta("wire_params") != writer.get_meta("wire_params"):
        return 0
    ids = sorted(reader.article_hashes())
    copied = 0
    for start in range(0, len(ids), WIRE_BATCH):
        part = ids[start:start + WIRE_BATCH]
        signatures, seqs = reader.wire_signatures(part), reader.wire_seqs(part)
        with writer.transaction():
            for article_id, stored in signatures.items():
                hashvalues = np.frombuffer(stored.signature, dtype=np.uint32)
                keys = clusters.band_keys(WireSignature(article_id, stored.content_hash, stored.text_hash,
                                                        stored.words, stored.title_terms, hashvalues))
                writer.wire_put(stored, seqs[article_id], keys)
            writer.wire_set_clusters(reader.wire_cluster_of(part).items())
        copied += len(signatures)
    return copied


def _copy_feeds(source: Settings, target: Settings) -> int:
    """The followed feeds with their poll state (a feed the target follows already keeps its own)."""
    from dataclasses import asdict

    feeds_in, feeds_out = open_feed_table(source, read_only=True), open_feed_table(target)
    try:
        copied = 0
        for feed in feeds_in.list():
            if feeds_out.get(feed.url) is not None:
                continue
            feeds_out.insert(feed.url, feed.name, feed.slug, feed.added)
            state = {k: v for k, v in asdict(feed).items() if k not in ("url", "name", "slug", "added")}
            feeds_out.update(feed.url, state)
            copied += 1
        return copied
    finally:
        feeds_in.close()
        feeds_out.close()
