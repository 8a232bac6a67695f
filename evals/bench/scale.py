"""``newsdesk bench scale``: indexing and querying generated corpora of 10k, 30k and 100k articles.

The corpus is generated from the real sentences of realtimeqa-articles, recombined into new
articles with new ids, outlets and dates. Embedding 100k articles with the packaged MiniLM would
take about 12 hours on 2 cores, so vectors come from a *hashing stand-in embedder* (random
projection of hashed word counts, 384 dimensions, clearly labelled in the output): what this
measures is the store, the catalog, BM25, filtering and answering, not the embedder. Each size runs
in its own process so that its peak RSS is its own.

With a PostgreSQL catalog configured (NEWSDESK_CATALOG_URL and NEWSDESK_CHROMA_HOST/PORT), each size's SQLite
index is then copied there (``newsdesk catalog copy``, into a collection ``scale-SIZE-<time>`` that is emptied
afterwards unless kept) and the same queries are measured on it in the same process: BM25 alone (the
retriever's own call, with its postings budget), hybrid retrieval, retrieval "as of" a date and an answer,
beside SQLite's, with the load average of the shared cores at each.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import json
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from evals.metrics import percentile
from evals.datasets import datasets_dir
from settings import Settings

OUTLETS = ["harbourpost.example", "dailyledger.example", "metrowire.example", "valleytimes.example",
           "coastalnews.example", "capitolreport.example", "northstar.example", "civicdesk.example"]
# where the PostgreSQL side is configured: set in a size's process only when the caller's settings name it
_STORE_VARIABLES = ("NEWSDESK_CATALOG_URL", "NEWSDESK_CHROMA_HOST", "NEWSDESK_CHROMA_PORT", "NEWSDESK_CHROMA_SSL")


class HashingEmbedder:
    """A fast, deterministic stand-in for MiniLM: hashed word counts through a fixed random projection."""

    name = "hashing-standin-384"
    dimension = 384

    def __init__(self, buckets: int = 4096, seed: int = 13) -> None:
        rng = np.random.default_rng(seed)
        self.projection = rng.standard_normal((buckets, self.dimension)).astype(np.float32)
        self.buckets = buckets

    def _bucket(self, word: str) -> int:
        return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little") % self.buckets

    def embed(self, texts) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            words = re.findall(r"[a-z0-9]+", text.lower())
            if not words:
                continue
            counts = np.bincount([self._bucket(w) for w in words], minlength=self.buckets).astype(np.float32)
            vector = counts @ self.projection
            out[i] = vector / max(float(np.linalg.norm(vector)), 1e-9)
        return out


def generate_corpus(target: Path, count: int, seed: int = 11) -> Path:
    """``count`` new articles recombined from real sentences; written once and reused."""
    if target.exists():
        return target
    from rag.sentences import sentence_spans

    rng = random.Random(seed)
    sentences: list[str] = []
    with gzip.open(datasets_dir() / "realtimeqa-articles" / "articles.jsonl.gz", "rt", encoding="utf-8") as stream:
        for line in stream:
            text = json.loads(line).get("text") or ""
            # 40-400 characters: leaves out bylines, captions and run-on fragments (a choice)
            sentences += [text[a:b] for a, b in sentence_spans(text) if 40 <= b - a <= 400]
    start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    partial = target.with_suffix(".partial")
    with gzip.open(partial, "wt", encoding="utf-8") as out:
        for n in range(count):  # 6-14 paragraphs of 2-5 sentences, dates over 3 years: a choice
            paragraphs = [" ".join(rng.choices(sentences, k=rng.randint(2, 5))) for _ in range(rng.randint(6, 14))]
            out.write(json.dumps({
                "url": f"https://{OUTLETS[n % len(OUTLETS)]}/{n}", "title": paragraphs[0].split(". ")[0][:110],
                "source": OUTLETS[n % len(OUTLETS)],
                "published_at": (start + timedelta(minutes=rng.randint(0, 3 * 365 * 24 * 60))).isoformat(),
                "text": "\n\n".join(paragraphs)}) + "\n")
    partial.rename(target)
    return target


def measure_one(size: int, work: Path, build: bool = True, keep: bool = False, questions: int = 100) -> dict:
    """Index a generated corpus of ``size`` articles into ``work/home-SIZE`` (unless ``build`` is
    False: then that home must exist) and query it, in this process; then, with a PostgreSQL catalog
    configured, copy it there and query that (``measure_postgres``)."""
    from index.catalog import catalog_exists
    from index.sync import Indexer

    home = work / f"home-{size}"
    # write batches 8x the default 256: the stand-in embedder costs next to nothing, so batches only set the
    # number of commits, and one batch of 2048 chunks is still little memory (a choice, commit cd759e4)
    # stories off: the generated articles are one vocabulary, so the stand-in vectors link nearly all of them and
    # one story of every article is what the keeper would make (``bench stories`` measures stories on real news)
    settings = Settings(_env_file=None, home=home, write_batch_chunks=2048, catalog_url=None, chroma_host=None,
                        chroma_port=None, stories_enabled=False)
    embedder = HashingEmbedder()
    figures: dict = {}
    if build:
        corpus = generate_corpus(work / f"corpus-{size}.jsonl.gz", size)
        indexer = Indexer(settings, embedder=embedder)
        rates: list[tuple[float, int]] = []
        started = time.perf_counter()
        report = indexer.sync([corpus], on_progress=lambda done, total, embedded: rates.append((time.perf_counter(), embedded)))
        seconds = time.perf_counter() - started
        indexer.close()
        tenth = max(1, len(rates) // 10)
        first = (rates[tenth][1] - rates[0][1]) / max(rates[tenth][0] - rates[0][0], 1e-9) if len(rates) > tenth else None
        last = (rates[-1][1] - rates[-1 - tenth][1]) / max(rates[-1][0] - rates[-1 - tenth][0], 1e-9) if len(rates) > tenth else None
        figures.update({
            "articles": report.articles, "chunks": report.chunks, "index_seconds": round(seconds, 1),
            "articles_per_s": round(report.articles / seconds, 1), "chunks_per_s": round(report.chunks / seconds, 1),
            "chunks_per_s_first_tenth": round(first, 1) if first else None,
            "chunks_per_s_last_tenth": round(last, 1) if last else None,
            "index_peak_rss_mb": _peak_rss_mb(),
        })
    elif not catalog_exists(settings):
        raise SystemExit(f"no index at {home}: run without --queries-only first")
    figures.update(measure_queries(settings, embedder, questions))
    figures["disk_mb"] = round(sum(f.stat().st_size for f in home.rglob("*") if f.is_file()) / 1024**2, 1)
    figures["peak_rss_mb"] = _peak_rss_mb()
    figures["embedder"] = embedder.name
    postgres = Settings(_env_file=None, home=work / f"pg-home-{size}", collection=f"scale-{size}-{int(time.time())}",
                        stories_enabled=False)
    if postgres.index.catalog_dsn:
        # an embedder of its own (the same vectors): sentence vectors are cached per embedder, and the SQLite
        # side's cache would answer this side's questions
        figures["postgres"] = measure_postgres(settings, postgres, HashingEmbedder(), keep, questions)
    return figures


def measure_postgres(source: Settings, target: Settings, embedder, keep: bool, questions: int = 100) -> dict:
    """Copy the SQLite index ``source`` into the PostgreSQL catalog and Chroma server of ``target`` and query it."""
    from index.catalog import open_catalog
    from index.copy import copy_index, source_settings
    from index.store import reset_store

    started = time.perf_counter()
    report = copy_index(source_settings(target, source.index.home, source.index.collection), target, embedder)
    figures = {"catalog": target.index.catalog_location, "store": target.index.store_location,
               "copy_seconds": round(time.perf_counter() - started, 1), "copied_chunks": report.chunks,
               "copy_loadavg": _loadavg()}
    figures.update(measure_queries(target, embedder, questions))
    if not keep:
        reset_store(target)
        catalog = open_catalog(target)
        with catalog.transaction():
            catalog.clear()
            catalog.wire_clear()
        catalog.close()
    return figures


def measure_queries(settings: Settings, embedder, count: int = 100) -> dict:
    """p50/p95 of BM25 alone (the retriever's call: its candidates and postings budget, no window), of hybrid
    retrieval (plain, and "as of" a date: a soft 10-day window) and of extractive answers."""
    from evals.datasets import realtimeqa_questions
    from index.types import ChunkFilter
    from rag.engine import NewsDesk
    from rag.text import query_terms

    desk = NewsDesk(settings.updated(answer_mode="extractive"), embedder=embedder)
    counts = desk.catalog.counts()
    oldest, newest = (datetime.fromisoformat(d) for d in (counts.oldest_article, counts.newest_article))
    rng = random.Random(5)
    questions = [q.question for q in realtimeqa_questions()][:count]
    dates = [(oldest + (newest - oldest) * rng.random()).date().isoformat() for _ in questions]
    desk.ask(questions[0])  # warm-up: loads the vector index
    config, retriever = desk.settings.retrieval, desk.retriever
    timings: dict[str, list[float]] = {"bm25": [], "retrieve": [], "retrieve_as_of": [], "answer": []}
    loads = [_loadavg()]
    for question, as_of in zip(questions, dates):
        for name, call in (("bm25", lambda: retriever.bm25.search(query_terms(question), config.candidates,
                                                                  ChunkFilter(), config.bm25_postings)),
                           ("retrieve", lambda: desk.retrieve(question)),
                           ("retrieve_as_of", lambda: desk.retrieve(question, as_of=as_of)),
                           ("answer", lambda: desk.ask(question))):
            t0 = time.perf_counter()
            call()
            timings[name].append((time.perf_counter() - t0) * 1000)
    desk.close()
    loads.append(_loadavg())
    out: dict = {"queries_on_chunks": counts.chunks, "queries_loadavg": loads}
    for name, values in timings.items():
        out[f"{name}_p50_ms"] = round(percentile(values, 0.5), 1)
        out[f"{name}_p95_ms"] = round(percentile(values, 0.95), 1)
    return out


def _loadavg() -> list[float]:
    """The 1, 5 and 15 minute load averages: the cores are shared, so figures are read beside them."""
    return [round(x, 2) for x in os.getloadavg()]


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_scale(settings: Settings, sizes: list[int], console=None, work: Path | None = None,
              keep: bool = False, queries_only: bool = False) -> dict:
    """Each size in its own process (so that peak RSS is its own). Corpora in ``work`` are reused."""
    if work is None:
        work = Path(tempfile.mkdtemp(prefix="newsdesk-scale-", dir=settings.index.home if settings.index.home.exists() else None))
    work.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in _STORE_VARIABLES}
    if settings.index.catalog_dsn:  # the PostgreSQL side, in the child's environment (not on its command line)
        env.update(NEWSDESK_CATALOG_URL=settings.index.catalog_dsn, NEWSDESK_CHROMA_HOST=settings.index.chroma_host,
                   NEWSDESK_CHROMA_PORT=str(settings.index.chroma_port or 8000))
    table = {}
    for size in sizes:
        if console:
            console.print(f"[bold]scale[/]: {size:,} articles" + (" (queries only)" if queries_only else ""))
        command = [sys.executable, "-m", "evals.bench.scale", str(size), str(work)] + \
            (["--queries-only"] if queries_only else []) + (["--keep"] if keep else [])
        result = subprocess.run(command, capture_output=True, text=True, env=env)
        if result.returncode != 0:
            table[str(size)] = {"error": result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed"}
            continue
        table[str(size)] = json.loads(result.stdout.strip().splitlines()[-1])
        if not keep and not queries_only:
            shutil.rmtree(work / f"home-{size}", ignore_errors=True)
    return {"note": "vectors from a hashing stand-in embedder, not MiniLM", "work": str(work), "sizes": table}


if __name__ == "__main__":
    print(json.dumps(measure_one(int(sys.argv[1]), Path(sys.argv[2]), build="--queries-only" not in sys.argv[3:],
                                 keep="--keep" in sys.argv[3:])))
