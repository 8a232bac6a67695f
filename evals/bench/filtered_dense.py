"""Filtered dense search with the catalog in PostgreSQL: three ways to score a date window's vectors, per question.

    python -m evals.bench.filtered_dense --home DIR [--articles N] [--limit N]

Copies the first ``N`` articles (by id) of ``DIR/catalog.sqlite`` (opened read-only), their chunks and the
catalog's copy of their vectors, into a PostgreSQL catalog (``PostgresCatalog``, a server of its own), a SQLite
catalog in a temporary folder, and a Chroma server collection whose chunks also carry ``published_ts``. Then, for
each RealTime QA gold question with a date, in two windows (published up to the question's date, and the week up
to it), it times the 40 nearest chunks in the window by:

- ``pg read``: the window's vectors read from PostgreSQL and scored here (``window_vectors``, what a reader did);
- ``pg cache``: this host's copy of the vectors (``index.vector_cache``), a meta read to check it is current;
- ``chroma where``: Chroma's own search with ``where`` on ``published_ts`` (undated articles are left out: a
  ``where`` cannot say "absent or before");
- ``sqlite read``: the window's vectors read from the local SQLite file, for comparison.

and prints p50/p95/max per question, how many of the exact top 40 each finds, and what a refresh costs: the first
load, a refresh with nothing new, and one after an article is written again (with and without the clock margin).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from evals.bench.pg_bm25 import question_window
from evals.datasets import realtimeqa_questions
from evals.metrics import percentile
from index.catalog import Catalog
from index.catalog.postgres_catalog import PostgresCatalog
from index.embedders import make_embedder
from index.types import Chunk, ChunkFilter
from index import vector_cache
from index.vector_cache import VectorCache, top_by_score
from settings import RetrievalSettings, Settings

BATCH = 500  # chunks per Chroma upsert


def copy_index(source: Catalog, targets: list, collection, articles: int) -> dict:
    """The first ``articles`` articles of ``source`` with their chunks and vectors into each of ``targets`` and the
    Chroma ``collection`` (its metadata: ``article_id``, ``published_ts`` when known)."""
    ids, blobs = source.window_vectors(ChunkFilter())
    vectors = dict(zip(ids, blobs))
    chosen = sorted(source.article_hashes())[:articles]
    started, chunks = time.perf_counter(), 0
    pending: list[tuple[str, np.ndarray, dict]] = []
    for article_id in chosen:
        article, root = source.stored_article(article_id)
        chunk_ids = source.chunk_ids_of(article_id)
        records = source.chunk_records(chunk_ids)
        parts = [Chunk(cid, article_id, n, records[cid].start, records[cid].end, records[cid].text)
                 for n, cid in enumerate(chunk_ids)]
        mine = {cid: vectors[cid] for cid in chunk_ids if cid in vectors}
        for target in targets:
            target.put_article(article, root, parts, mine)
        published = int(article.published_at.timestamp()) if article.published_at else None
        for cid, blob in mine.items():
            meta = {"article_id": article_id} | ({"published_ts": published} if published is not None else {})
            pending.append((cid, np.frombuffer(blob, dtype=np.float32), meta))
        chunks += len(parts)
        if len(pending) >= BATCH:
            _upsert(collection, pending)
    _upsert(collection, pending)
    for target in targets:
        target.set_meta("writer", str(time.time_ns()))
    return {"articles": len(chosen), "chunks": chunks, "copy_s": round(time.perf_counter() - started, 1)}


def _upsert(collection, pending: list) -> None:
    if pending:
        collection.upsert(ids=[p[0] for p in pending], embeddings=[p[1].tolist() for p in pending],
                          metadatas=[p[2] for p in pending])
        pending.clear()


def chroma_where(where: ChunkFilter) -> dict:
    bounds = []
    if where.since_ts is not None:
        bounds.append({"published_ts": {"$gte": where.since_ts}})
    if where.until_ts is not None:
        bounds.append({"published_ts": {"$lte": where.until_ts}})
    return bounds[0] if len(bounds) == 1 else {"$and": bounds}


def measure(pg: PostgresCatalog, lite: Catalog, collection, questions, vectors, days: int | None,
            limit: int) -> dict:
    """Per question: each way's time and how many of the exact top ``limit`` it found."""
    cache = VectorCache(pg)
    cache.refresh()
    times: dict[str, list[float]] = {"pg read": [], "pg cache": [], "chroma where": [], "sqlite read": []}
    found: dict[str, list[int]] = {name: [] for name in times}
    sizes = []

    def read(catalog, vector, where):
        ids, blobs = catalog.window_vectors(where)
        if not ids:
            return []
        return top_by_score(ids, np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), -1) @ vector,
                            limit)

    def chroma(vector, where):
        got = collection.query(query_embeddings=[vector.tolist()], n_results=limit, where=chroma_where(where),
                               include=["distances"])
        return [(cid, 1 - d) for cid, d in zip(got["ids"][0], got["distances"][0])]

    ways = {"pg read": lambda v, w: read(pg, v, w), "pg cache": lambda v, w: cache.nearest(v, limit, w),
            "chroma where": chroma, "sqlite read": lambda v, w: read(lite, v, w)}
    for question, vector in zip(questions, vectors):
        where = question_window(question, days)
        exact = None
        for name, way in ways.items():
            started = time.perf_counter()
            hits = way(vector, where)
            times[name].append((time.perf_counter() - started) * 1000)
            if exact is None:
                exact = {cid for cid, _ in hits}
                sizes.append(len(cache.window(where)[0]))
            found[name].append(len(exact & {cid for cid, _ in hits}))
    return {"questions": len(questions), "window p50 chunks": int(percentile(sizes, 0.5)),
            **{name: (round(percentile(t, 0.5), 1), round(percentile(t, 0.95), 1), round(max(t), 1),
                      round(sum(found[name]) / max(sum(found["pg read"]), 1), 3)) for name, t in times.items()}}


def refresh_costs(pg: PostgresCatalog, lite: Catalog) -> dict:
    """The first load of the copy, a refresh with nothing written (median of 20), and one after one article is
    written again: with the clock margin (``SKEW_S``: here it re-reads every article the copy wrote in its last
    minute) and without it (what one article costs)."""
    cache = VectorCache(pg)
    started = time.perf_counter()
    cache.refresh()
    load = time.perf_counter() - started
    idle = []
    for _ in range(20):
        started = time.perf_counter()
        cache.refresh()
        idle.append(time.perf_counter() - started)
    ids, blobs = pg.window_vectors(ChunkFilter())
    vectors = dict(zip(ids, blobs))
    report = {"chunks held": len(cache), "first load ms": round(load * 1000, 1),
              "idle refresh ms": round(percentile(idle, 0.5) * 1000, 2)}
    for margin, article_id in ((vector_cache.SKEW_S, sorted(lite.article_hashes())[0]),
                               (0.0, sorted(lite.article_hashes())[1])):
        article, root = pg.stored_article(article_id)
        chunk_ids = pg.chunk_ids_of(article_id)
        records = pg.chunk_records(chunk_ids)
        pg.delete_article(article_id)  # written again from scratch: a new embedded_at
        pg.put_article(article, root, [Chunk(c, article_id, n, records[c].start, records[c].end, records[c].text)
                                       for n, c in enumerate(chunk_ids)], {c: vectors[c] for c in chunk_ids})
        pg.set_meta("writer", str(time.time_ns()))
        kept, vector_cache.SKEW_S = vector_cache.SKEW_S, margin
        try:
            started = time.perf_counter()
            cache.refresh()
            report[f"refresh after one article, margin {margin:g} s, ms"] = \
                round((time.perf_counter() - started) * 1000, 1)
        finally:
            vector_cache.SKEW_S = kept
    report["max RSS MB"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return report


def run(home: Path, articles: int, limit: int | None) -> None:
    import chromadb

    from tests.helpers import ChromaServer, PostgresServer

    folder = Path(tempfile.mkdtemp(prefix="newsdesk-filtered-"))
    server, chroma = PostgresServer().start(), ChromaServer(folder / "chroma")
    chroma.start()
    source = Catalog(home / "catalog.sqlite", read_only=True)
    pg = PostgresCatalog(server.url, "bench_filtered")
    lite = Catalog(folder / "catalog.sqlite")
    try:
        client = chromadb.HttpClient(host="127.0.0.1", port=chroma.port,
                                     settings=chromadb.Settings(anonymized_telemetry=False))
        collection = client.get_or_create_collection("bench", embedding_function=None,
                                                     configuration={"hnsw": {"space": "cosine"}})
        print("copied:", copy_index(source, [pg, lite], collection, articles))
        questions = [q for q in realtimeqa_questions() if q.as_of][:limit]
        vectors = make_embedder(Settings(_env_file=None)).embed([q.question for q in questions])
        top = RetrievalSettings().candidates
        for title, days in (("published up to the question's date (broad)", None), ("the week up to it", 7)):
            print(f"{title}: way: (p50 ms, p95 ms, max ms, share of the exact top {top} found)")
            for key, value in measure(pg, lite, collection, questions, vectors, days, top).items():
                print(f"  {key}: {value}")
        print("refresh:", refresh_costs(pg, lite))
    finally:
        pg.close()
        lite.close()
        source.close()
        chroma.stop()
        server.__exit__(None, None, None)
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--limit", type=int, help="the first N dated questions only")
    args = parser.parse_args()
    run(args.home, args.articles, args.limit)


if __name__ == "__main__":
    main()
