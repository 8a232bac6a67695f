"""Keeps the index equal to the article folders: add new, replace changed, remove deleted, skip bad.

``Indexer`` is the one write API (txtai-style): ``sync(paths)``, ``remove(ids)``, ``status()``,
``embed_pending()``. New and changed articles are committed with their chunks and keyword (FTS5) terms
first, answerable at once; their vectors follow from the embedding queue (``index.embed_queue``),
drained before ``sync`` returns unless ``embed=False`` (the watcher embeds in steps between events).
See ``index.catalog.base`` for how a run killed at any moment is finished by the next one.
"""

from __future__ import annotations

import gzip
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from errors import DiskFull
from index.types import Article, Chunk, IndexStatus, Skipped, SyncReport, WriteHooks
from index.catalog import open_catalog, utcnow_iso
from index.chunker import ArticleChunker
from index.embed_queue import EmbedProgress, EmbedQueue
from index.embedders import Embedder, make_embedder
from index.status import read_freshness
from ingest.loaders import ArticleLoader, walk
from index.lock import index_lock
from index.runtime import configure_runtime
from index.store import ChunkStore, is_disk_full
from index.vectors import WindowVectors
from settings import Settings

ProgressCallback = Callable[[int, int, int], None]  # (articles read, articles in the input, chunks embedded)


@dataclass
class _Scan:
    seen: dict[str, tuple[str, int | None]] = field(default_factory=dict)  # id -> (path, line)
    skipped: list[Skipped] = field(default_factory=list)
    protected_files: set[str] = field(default_factory=set)
    scopes: list[str] = field(default_factory=list)
    new_roots: list[str] = field(default_factory=list)


class _BatchWriter:
    """Collects new and changed articles and writes them ``write_batch_chunks`` chunks at a time."""

    def __init__(self, indexer: "Indexer", on_progress: ProgressCallback | None, total: int, embed: bool) -> None:
        self.indexer = indexer
        self.on_progress = on_progress
        self.total = total
        self.embed = embed
        self.batch: list[tuple[Article, list[Chunk], str]] = []
        self.pending = self.read = self.embedded = 0
        if on_progress:
            on_progress(0, total, 0)

    def add(self, article: Article, base: str) -> None:
        chunks = self.indexer.chunker.chunk(article)
        self.batch.append((article, chunks, base))
        self.pending += len(chunks)
        self.read += 1
        if self.pending >= self.indexer.settings.index.write_batch_chunks:
            self.flush()

    def skip(self) -> None:
        """An unchanged article was read."""
        self.read += 1
        if self.read % 1000 == 0:
            self._report()

    def flush(self) -> None:
        if self.batch:
            self.indexer._write_batch(self.batch)  # answerable by keyword from here on
            if self.embed:  # one batch in memory at a time, as before the queue
                self.embedded += self.indexer._drain()
            self.batch, self.pending = [], 0
            self._report()

    def finish(self) -> int:
        self.flush()
        self.embedded += self.indexer._drain() if self.embed else 0  # what an earlier run (or a watcher) left
        self._report()
        return self.embedded

    def _report(self) -> None:
        if self.on_progress:
            self.total = max(self.total, self.read)
            self.on_progress(self.read, self.total, self.embedded)


class Indexer:
    """Writes articles into the catalog and their chunk vectors into Chroma, in sync."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, client=None,
                 hooks: WriteHooks | None = None) -> None:
        """``hooks``: what runs around every write (default: wire copies folded, ``ingest.dedup_hooks``, and
        stories kept, ``stories.hooks``)."""
        if hooks is None:
            from stories.hooks import INDEX_HOOKS

            hooks = INDEX_HOOKS
        self.hooks = hooks
        configure_runtime()
        self.settings = settings
        self.embedder = embedder or make_embedder(settings)
        self.catalog = open_catalog(settings)
        self.store = ChunkStore(settings, self.embedder, client=client)
        self.loader = ArticleLoader(int(settings.index.max_article_mb * 1024 * 1024))
        self._chunker: ArticleChunker | None = None
        self.queue = EmbedQueue(self.catalog, self.store, self.embedder, settings.index.write_batch_chunks)
        self._bind_catalog_to_collection()
        WindowVectors(self.catalog).backfill(self.store.vectors)  # catalogs made before it kept vectors

    def _bind_catalog_to_collection(self) -> None:
        """A catalog describes one Chroma collection; if that collection was dropped, forget it."""
        collection_id = str(self.store.collection.id)
        recorded = self.catalog.get_meta("collection_id")
        if recorded != collection_id:
            with self.catalog.transaction():
                if recorded is not None:
                    self.catalog.clear()
                self.catalog.set_meta("collection_id", collection_id)

    @property
    def chunker(self) -> ArticleChunker:
        if self._chunker is None:
            self._chunker = ArticleChunker(self.settings.index.chunk_size, self.settings.index.chunk_overlap)
        return self._chunker

    def close(self) -> None:
        self.catalog.close()

    # --- locking and recovery -------------------------------------------------------------
    @contextmanager
    def _writing(self) -> Iterator[None]:
        with index_lock(self.settings):
            self.recover()
            yield

    def recover(self) -> int:
        """Finish what a killed run left journaled: drop Chroma ids that the catalog does not hold.
        (Journaled ids that the catalog holds stay: without a vector there, they are still queued.)"""
        settled = 0
        for entry_id, ids in self.catalog.journal_entries():
            dead = sorted(set(ids) - self.catalog.live_chunk_ids(ids))
            self.store.delete(dead)
            self.catalog.journal_done(entry_id)
            settled += 1
        return settled

    # --- sync -----------------------------------------------------------------------------
    def sync(self, paths: Sequence[str | Path], on_progress: ProgressCallback | None = None,
             embed: bool = True) -> SyncReport:
        """Make the index equal to the articles under ``paths``; new and changed ones are answerable by keyword
        once their batch commits. ``embed=False``: leave their vectors queued for ``embed_pending``."""
        with self._disk_errors():
            report = self._sync(paths, on_progress, embed)
            self._settled()
            return report

    def embed_pending(self, max_chunks: int | None = None, on_progress: EmbedProgress | None = None) -> int:
        """Embed up to ``max_chunks`` queued chunks (all when None), oldest first; returns how many."""
        with self._disk_errors(), self._writing():
            done = self._drain(max_chunks, on_progress)
            if done:
                self._settle_locked()
            return done

    def pending_count(self) -> int:
        """Chunks answerable by keyword that wait for their vectors."""
        return self.queue.counts()[0]

    def _drain(self, max_chunks: int | None = None, on_progress: EmbedProgress | None = None) -> int:
        return self.queue.drain(max_chunks, on_progress, after_step=self._mark_written)

    @contextmanager
    def _disk_errors(self) -> Iterator[None]:
        try:
            yield
        except (*self.catalog.errors, OSError) as error:
            if not is_disk_full(error):
                raise
            raise DiskFull(f"the disk under {self.settings.index.home} is full; what was indexed before is intact. "
                           "Free some space and run the same command again.") from error

    def _sync(self, paths: Sequence[str | Path], on_progress: ProgressCallback | None, embed: bool) -> SyncReport:
        """One pass over the files: each article is compared with the catalog as it is parsed and
        new or changed ones are written in batches, so memory holds one batch, not the corpus.
        Articles that are gone are removed once every path has been read."""
        started = time.perf_counter()
        report = SyncReport()
        with self._writing():
            existing = self.catalog.article_hashes()
            writer = _BatchWriter(self, on_progress, self._count_articles(paths) if on_progress else 0, embed)
            moved: list[tuple[str, str, str, int | None]] = []  # (id, root, path, line) of unchanged articles

            def take(article: Article, base: str) -> None:
                known = existing.get(article.id)
                if known is None or known[0] != article.content_hash:
                    if known is None:
                        report.added += 1
                    else:
                        report.updated += 1
                    writer.add(article, base)
                    return
                report.unchanged += 1
                if (known[1], known[2]) != (article.path, article.line):
                    moved.append((article.id, base, article.path, article.line))
                writer.skip()

            scan = self._scan(paths, take)
            report.skipped = scan.skipped
            report.chunks_embedded = writer.finish()

            gone = []
            for scope in scan.scopes:
                for article_id, path in self.catalog.article_ids_under(scope):
                    if article_id not in scan.seen and path not in scan.protected_files:
                        gone.append(article_id)
            self._remove(sorted(set(gone)))
            report.removed = len(set(gone))
            if embed:  # an exact copy that took over from a removed twin got chunks just now
                report.chunks_embedded += self._drain()
            if moved:
                with self.catalog.transaction():
                    for article_id, root, path, line in moved:
                        self.catalog.move_article(article_id, root, path, line)
            with self.catalog.transaction():
                for root in scan.new_roots:
                    self.catalog.add_root(root)
                self._mark_written()
        counts = self.catalog.counts()
        report.articles, report.chunks = counts.articles, counts.chunks
        report.seconds = time.perf_counter() - started
        return report

    def _scopes(self, paths: Sequence[str | Path], scan: _Scan) -> Iterator[tuple[Path, list[Path]]]:
        roots = [Path(r) for r in self.catalog.roots()]
        for raw in paths:
            given = Path(raw).expanduser()
            if not given.exists() and not given.is_symlink():
                scan.skipped.append(Skipped(str(raw), "no such file or folder (nothing under it was removed; "
                                                      "use `newsdesk remove --path` to drop its articles)"))
                continue
            try:
                scope = given.resolve(strict=True)
            except (OSError, RuntimeError):
                scan.skipped.append(Skipped(str(raw), "symlink loop"))
                continue
            scan.scopes.append(str(scope))
            # ids of URL-less articles are relative to the root they were first indexed under
            inside_known_root = any(scope == r or r in scope.parents for r in roots)
            if not inside_known_root:
                scan.new_roots.append(str(scope))
            yield scope, (roots if inside_known_root else roots + [scope])

    def _scan(self, paths: Sequence[str | Path], take: Callable[[Article, str], None]) -> _Scan:
        """Parse every file under ``paths``, handing each article (first of duplicates) to ``take``."""
        scan = _Scan()
        for scope, candidates in self._scopes(paths, scan):
            for file in walk(scope, scan.skipped.append):
                base = _innermost_root(file, candidates)
                base_dir = base if base.is_dir() else base.parent
                try:
                    relpath = file.relative_to(base_dir).as_posix()
                except ValueError:
                    relpath = file.name

                def sink(article: Article, base: str = str(base)) -> None:
                    first = scan.seen.get(article.id)
                    if first is not None:
                        where = f"{article.path}:{article.line}" if article.line else article.path
                        scan.skipped.append(Skipped(where, f"duplicate of the article at {first[0]}"
                                                           + (f":{first[1]}" if first[1] else "")))
                        return
                    scan.seen[article.id] = (article.path, article.line)
                    take(article, base)

                result = self.loader.load(file, relpath, sink=sink)
                if result.had_errors:
                    scan.protected_files.add(str(file))
                    scan.skipped.extend(result.skipped)
        return scan

    def _count_articles(self, paths: Sequence[str | Path]) -> int:
        """About how many articles ``paths`` hold (for progress): JSONL lines, one per other file."""
        total = 0
        for scope, _ in self._scopes(paths, _Scan()):
            for file in walk(scope, lambda skipped: None):
                name = file.name.lower()
                if name.endswith((".jsonl", ".jsonl.gz")):
                    try:
                        with (gzip.open if name.endswith(".gz") else open)(file, "rb") as stream:
                            total += sum(1 for line in stream if line.strip())
                    except (OSError, EOFError, zlib.error):
                        continue
                else:
                    total += 1
        return total

    def write(self, articles: list[tuple[Article, str]]) -> None:
        """Writes parsed articles (each with the root it is under) as ``sync`` writes a batch: chunked, answerable
        by keyword at once, their vectors queued. Inside a sync or removal, which hold the writer lock."""
        self._write_batch([(article, self.chunker.chunk(article), root) for article, root in articles])

    def _write_batch(self, batch: list[tuple[Article, list[Chunk], str]]) -> None:
        """The keyword commit: switch the articles to their new chunks in one transaction (new chunks
        queued without vectors, kept ones keep theirs) that also journals the ids they dropped; only
        after it are the old vectors deleted."""
        batch = self.hooks.before_write(self.catalog, self.settings.ingest, batch)  # same text, 2nd URL: no chunks
        with self.catalog.transaction():
            dropped: list[str] = []
            for article, chunks, base in batch:
                dropped.extend(self.catalog.put_article(article, base, chunks, {}))
            cleanup = self.catalog.journal_add(dropped)
        self.store.delete(dropped)
        self.catalog.journal_done(cleanup)

    # --- removal --------------------------------------------------------------------------
    def remove(self, ids: Iterable[str] = (), under: Iterable[str | Path] = (),
               embed: bool = True) -> tuple[list[str], list[str]]:
        """Remove articles by id and/or every article under the given paths. Returns (removed, unknown).
        ``embed``: embed what the removal queued (an exact copy taking over from its twin) before returning."""
        with self._writing():
            wanted = list(dict.fromkeys(ids))
            for path in under:
                scope = str(Path(path).expanduser().resolve())
                wanted.extend(i for i, _ in self.catalog.article_ids_under(scope))
            known = set(self.catalog.article_hashes())
            present = [i for i in dict.fromkeys(wanted) if i in known]
            unknown = [i for i in dict.fromkeys(wanted) if i not in known]
            self._remove(present)
            if present:
                with self.catalog.transaction():
                    self._mark_written()
                if embed:
                    self._drain()
                self._settle_locked()
        return present, unknown

    def _settled(self) -> None:
        with self._writing():
            self._settle_locked()

    def _settle_locked(self) -> None:
        """The ``settled`` hook, under the writer lock the caller holds."""
        if self.hooks.settled is not None:
            self.hooks.settled(self.catalog, self.settings)

    def _mark_written(self) -> None:
        """Readers compare these to know whether their vector index went stale: "writer" changes at every
        write, "writer_origin" names the in-memory vector index it went into (``ChunkStore.origin``).
        Called inside a catalog transaction, so a reader never sees one without the other."""
        self.catalog.set_meta("last_indexed", utcnow_iso())
        self.catalog.set_meta("writer_origin", self.store.origin)
        self.catalog.set_meta("writer", str(time.time_ns()))

    def _remove(self, ids: list[str]) -> None:
        for start in range(0, len(ids), 500):
            with self.catalog.transaction():
                dropped: list[str] = []
                for article_id in ids[start:start + 500]:
                    dropped.extend(self.catalog.delete_article(article_id))
                entry = self.catalog.journal_add(dropped)
            self.store.delete(dropped)
            self.catalog.journal_done(entry)
        self.hooks.after_change(self.catalog, self.settings.ingest, self.write)  # every sync and remove ends here

    # --- status ---------------------------------------------------------------------------
    def status(self) -> IndexStatus:
        counts = self.catalog.counts()
        pending_chunks, pending_articles = self.queue.counts()
        return IndexStatus(**{f.name: getattr(counts, f.name) for f in fields(counts)},
                           store=self.settings.index.store_location,
                           catalog=self.settings.index.catalog_location, embedder=self.embedder.name,
                           roots=self.catalog.roots(), pending_recovery=len(self.catalog.journal_entries()),
                           pending_chunks=pending_chunks, pending_articles=pending_articles,
                           freshness=read_freshness(self.catalog, self.settings))

    def verify(self) -> dict:
        """Compare the catalog with Chroma: the ids each holds that the other does not. A chunk still in
        the embedding queue is not missing (``pending`` counts them); once drained, every chunk must be there."""
        catalog_ids, embedded = self.catalog.all_chunk_ids(), self.catalog.embedded_chunk_ids()
        store_ids = self.store.all_ids()
        report = {"missing_in_store": sorted(embedded - store_ids), "stale_in_store": sorted(store_ids - catalog_ids)}
        return report | ({"pending": len(catalog_ids) - len(embedded)} if len(embedded) < len(catalog_ids) else {})


def _innermost_root(file: Path, roots: list[Path]) -> Path:
    best: Path | None = None
    for root in roots:
        if file == root or root in file.parents:
            if best is None or len(root.parts) > len(best.parts):
                best = root
    return best or file.parent
