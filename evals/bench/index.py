"""``newsdesk bench index``: indexing figures on the RealTime QA articles (prints, never asserts)."""

from __future__ import annotations

import gzip
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

from rich.console import Console

from errors import BadInput
from evals.datasets import datasets_dir
from settings import Settings


def _write_corpus(folder: Path, full: bool, sample: int) -> Path:
    articles_file = datasets_dir() / "realtimeqa-articles" / "articles.jsonl.gz"
    gold_file = datasets_dir() / "realtimeqa-articles" / "gold-articles.jsonl.gz"
    if not articles_file.exists():
        raise BadInput(f"{articles_file} is missing (set NEWSDESK_DATASETS to the datasets folder)")
    target = folder / "articles.jsonl"
    with gzip.open(articles_file, "rt", encoding="utf-8") as stream:
        lines = stream.read().splitlines()
    if not full:
        with gzip.open(gold_file, "rt", encoding="utf-8") as stream:
            gold = stream.read().splitlines()
        gold_urls = {json.loads(line)["url"] for line in gold}
        others = [line for line in lines if json.loads(line)["url"] not in gold_urls][:sample]
        lines = gold + others
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def _disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1024**2


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_index_benchmark(settings: Settings, full: bool = False, sample: int = 1000,
                        console: Console | None = None) -> dict:
    from index.chunker import ArticleChunker
    from index.embedders import MiniLMEmbedder, make_embedder
    from ingest.loaders import ArticleLoader
    from index.sync import Indexer

    console = console or Console(stderr=True)
    work = Path(tempfile.mkdtemp(prefix="newsdesk-bench-"))
    try:
        corpus = _write_corpus(work, full, sample)
        bench_settings = settings.updated(home=work / "home", chroma_host=None)
        figures: dict = {"corpus": f"{'full' if full else f'gold + {sample}'} ({corpus.name})"}

        indexer = Indexer(bench_settings)
        console.print("[bold]run 1[/]: index from scratch")
        report = indexer.sync([corpus])
        figures.update({
            "articles": report.articles, "chunks": report.chunks, "skipped": len(report.skipped),
            "index_seconds": round(report.seconds, 1),
            "articles_per_s": round(report.articles / report.seconds, 2),
            "chunks_per_s": round(report.chunks_embedded / report.seconds, 2),
        })
        console.print("[bold]run 2[/]: nothing changed")
        again = indexer.sync([corpus])
        figures["noop_reindex_seconds"] = round(again.seconds, 2)
        figures["noop_changes"] = again.added + again.updated + again.removed

        lines = corpus.read_text(encoding="utf-8").splitlines()
        record = json.loads(lines[0])
        record["text"] += "\n\nEditor's note: this article was updated."
        lines[0] = json.dumps(record)
        corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
        console.print("[bold]run 3[/]: one article changed")
        changed = indexer.sync([corpus])
        figures["one_change_seconds"] = round(changed.seconds, 2)
        figures["one_change_chunks_embedded"] = changed.chunks_embedded
        indexer.close()
        figures["disk_mb"] = round(_disk_mb(work / "home"), 1)
        figures["peak_rss_mb"] = round(_peak_rss_mb(), 1)

        console.print("[bold]embedder alone[/] on the same chunks")
        loader = ArticleLoader()
        chunker = ArticleChunker(bench_settings.index.chunk_size, bench_settings.index.chunk_overlap)
        texts = [f"{a.display_title}\n{c.text}" for a in loader.load(corpus, corpus.name).articles
                 for c in chunker.chunk(a)]
        if full and len(texts) > 3000:  # the full set would take another half hour: an even sample
            step = len(texts) / 3000
            texts = [texts[int(i * step)] for i in range(3000)]
        embedder = make_embedder(bench_settings)
        embedder.embed(texts[:8])  # load the model outside the timing
        started = time.perf_counter()
        embedder.embed(texts)
        raw_seconds = time.perf_counter() - started
        figures["embedder_chunks"] = len(texts)
        figures["embedder_chunks_per_s"] = round(len(texts) / raw_seconds, 2)
        if isinstance(embedder, MiniLMEmbedder):
            tokens = sum(min(embedder.max_tokens, len(e.ids)) for e in embedder.tokenizer.encode_batch(texts))
            figures["embedder_tokens_per_s"] = round(tokens / raw_seconds)
        figures["indexing_vs_embedder"] = round(figures["chunks_per_s"] / figures["embedder_chunks_per_s"], 3)
        return figures
    finally:
        shutil.rmtree(work, ignore_errors=True)
