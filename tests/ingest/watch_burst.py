"""Manual benchmark: a burst of N article files copied into a watched folder (not a test; prints figures).

usage: python -m tests.ingest.watch_burst [--files 10000] [--embedder hashing|minilm] [--embed-window 60]

Starts a watcher on an empty folder in a temporary home, copies N small .txt articles in, and prints
how long until every one is in the catalog (answerable by keyword), how many syncs the watcher ran
for the burst (batching, not one per event), and how long until every chunk has its vector. With
``--embedder minilm`` it stops measuring embeddings after ``--embed-window`` seconds and prints the
rate instead (MiniLM needs hours for 10,000 articles on 2 cores); ``hashing`` is the stand-in
embedder of ``newsdesk bench scale``, so the figure is the watcher's and the indexer's own cost.
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

from index.runtime import configure_runtime
from ingest.watch import Watcher
from settings import Settings
from tests.helpers import write_story


def count(catalog: Path, sql: str) -> int:
    try:
        db = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True, timeout=30)
        try:
            return db.execute(sql).fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:
        return -1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--embedder", choices=["hashing", "minilm"], default="hashing")
    parser.add_argument("--embed-window", type=float, default=60.0)
    args = parser.parse_args()
    configure_runtime()
    work = Path(tempfile.mkdtemp(prefix="newsdesk-burst-"))
    staging, folder = work / "staging", work / "articles"
    staging.mkdir()
    folder.mkdir()
    for n in range(args.files):
        write_story(staging / f"story-{n:05d}.txt", n)
    settings = Settings(_env_file=None, home=work / "home")
    if args.embedder == "hashing":
        from evals.bench.scale import HashingEmbedder

        embedder = HashingEmbedder()
    else:
        from index.embedders import MiniLMEmbedder

        embedder = MiniLMEmbedder()
    watcher = Watcher(settings, [folder], embedder=embedder)
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    while not watcher.folders.kind:
        time.sleep(0.1)
    syncs: list[tuple[int, float]] = []
    original = watcher.indexer.sync

    @functools.wraps(original)
    def spy(paths, *a, **kw):
        started = time.perf_counter()
        report = original(paths, *a, **kw)
        syncs.append((len(paths), time.perf_counter() - started))
        return report

    watcher.indexer.sync = spy
    catalog = settings.index.catalog_path
    started = time.perf_counter()
    for file in sorted(staging.iterdir()):
        shutil.copy(file, folder / file.name)
    copied = time.perf_counter() - started
    while count(catalog, "SELECT count(*) FROM articles") < args.files:
        time.sleep(0.2)
    searchable = time.perf_counter() - started
    has_queue = hasattr(watcher.indexer, "pending_count")
    pending_sql = "SELECT count(*) FROM chunks WHERE embedding IS NULL"
    embed_started, pending_at_start = time.perf_counter(), count(catalog, pending_sql)
    deadline = embed_started + (args.embed_window if args.embedder == "minilm" else 3600)
    while has_queue and count(catalog, pending_sql) > 0 and time.perf_counter() < deadline:
        time.sleep(0.5)
    left = count(catalog, pending_sql) if has_queue else 0
    embedded_in = time.perf_counter() - embed_started
    watcher.stop()
    thread.join(120)
    result = {
        "files": args.files, "embedder": args.embedder, "copy_seconds": round(copied, 1),
        "all_in_catalog_seconds": round(searchable, 1), "syncs_for_the_burst": len(syncs),
        "paths_per_sync": [n for n, _ in syncs], "sync_seconds": [round(s, 1) for _, s in syncs],
        "chunks": count(catalog, "SELECT count(*) FROM chunks"),
        "pending_chunks_when_all_searchable": pending_at_start, "pending_chunks_left": left,
        "embedding_seconds_after_searchable": round(embedded_in, 1),
        "chunks_embedded_per_second": round((pending_at_start - left) / max(embedded_in, 1e-9), 1),
    }
    print(json.dumps(result))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
