"""``newsdesk bench fresh``: how soon an arriving article is answerable, and what a stream costs queries.

A base index of the RealTime QA articles (``--base``, all 3,827 by default) is built once (kept in
``--work`` when given). Then a writer process does what the watcher does (``ingest.watch``): it holds the
index lock, keyword-commits each file dropped into an inbox folder with ``sync(paths, embed=False)``
and embeds the queue in steps of ``embed_step_chunks`` between arrivals. Once it is ready, this
process drops one article file every ``1/--rate`` seconds for ``--minutes`` (the corpus articles
left out of the base, then the others again, each under a new URL with a line of its own, so no
arrival is an exact copy that wire folding would keep without chunks; published "now") while it asks
questions one after another (the heaviest load one asker makes), or one every ``--question-interval``
seconds (a person reading the answers).

Printed (never asserted): arrival -> answerable by keyword and arrival -> embedded, p50/p95, from the
catalog's own stamps (``articles.indexed_at``/``embedded_at``, written in the commit that makes them
true); query p50/p95 quiet and under the stream; the queue's peak and whether it drained (bounded by
``--drain-seconds``). File-system event latency is not included: the writer lists the inbox every
0.1 s (the watcher's inotify events arrive within milliseconds).
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console

from errors import BadInput
from evals.datasets import datasets_dir, realtimeqa_questions
from evals.metrics import percentile
from settings import Settings


def run_fresh(settings: Settings, minutes: float = 10.0, rate: float = 1.0, base: int = 3827,
              work: Path | None = None, drain_seconds: float = 300.0, quiet_questions: int = 30,
              question_interval: float = 0.0, console: Console | None = None) -> dict:
    console = console or Console(stderr=True)
    if minutes <= 0 or rate <= 0 or minutes * 60 * rate > 36_000:
        raise BadInput("--minutes and --rate must be positive, and the stream at most 36,000 articles")
    own_work = work is None
    work = Path(work or tempfile.mkdtemp(prefix="newsdesk-fresh-"))
    work.mkdir(parents=True, exist_ok=True)
    home, inbox = work / f"home-{base}", work / "inbox"
    bench_settings = settings.updated(home=home, chroma_host=None, answer_mode="extractive")
    try:
        rows = _corpus()
        corpus, arrivals = rows[:base], rows[base:] + rows[:base]
        _build_base(bench_settings, corpus, work, console)
        shutil.rmtree(inbox, ignore_errors=True)
        inbox.mkdir()
        _register_inbox(bench_settings, inbox)
        figures = _measure(bench_settings, arrivals, inbox, minutes, rate, drain_seconds, quiet_questions, console,
                           question_interval)
        return {"base_articles": len(corpus), **figures}
    finally:
        if own_work:
            shutil.rmtree(work, ignore_errors=True)


def _corpus() -> list[dict]:
    """The RealTime QA articles that have text (an empty one is skipped by the loader)."""
    path = datasets_dir() / "realtimeqa-articles" / "articles.jsonl.gz"
    if not path.exists():
        raise BadInput(f"{path} is missing (set NEWSDESK_DATASETS to the datasets folder)")
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        rows = [json.loads(line) for line in stream if line.strip()]
    return [r for r in rows if (r.get("text") or "").strip()]


def _build_base(settings: Settings, corpus: list[dict], work: Path, console: Console) -> None:
    from index.sync import Indexer

    source = work / f"base-{len(corpus)}" / "articles.jsonl"
    if not source.exists():
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in corpus), encoding="utf-8")
    indexer = Indexer(settings)
    try:
        started = time.perf_counter()
        console.print(f"base index: {len(corpus)} articles in {settings.index.home} (built once, kept with --work)")
        report = indexer.sync([source], on_progress=_every_minute(console, started))
        console.print(f"base index ready: {report.added} added, {report.unchanged} unchanged, "
                      f"{time.perf_counter() - started:.0f} s")
    finally:
        indexer.close()


def _every_minute(console: Console, started: float):
    """A progress callback that prints a line at most once a minute (the base takes about an hour)."""
    last = [started]

    def report(read: int, total: int, embedded: int) -> None:
        now = time.perf_counter()
        if now - last[0] >= 60:
            last[0] = now
            console.print(f"base index: {read} of {total} articles read, {embedded} chunks embedded "
                          f"({embedded / (now - started):.1f} chunks/s)")
    return report


def _register_inbox(settings: Settings, inbox: Path) -> None:
    """The inbox becomes an indexed root, so each dropped file is synced on its own (its scope)."""
    from index.sync import Indexer

    indexer = Indexer(settings)
    try:
        indexer.remove(under=[inbox])  # what an earlier run left there
        indexer.sync([inbox])
    finally:
        indexer.close()


def _writer(settings: Settings, inbox: str, stop: str, ready: str) -> None:
    """The watcher's loop: keyword-commit new files, then one embedding step; until told to stop."""
    from index.runtime import configure_runtime
    from index.sync import index_lock
    from ingest.watch import watcher_indexer

    configure_runtime()
    indexer = watcher_indexer(settings)  # as the watcher
    seen: set[Path] = set()
    step = settings.ingest.embed_step_chunks
    with index_lock(settings):
        Path(ready).touch()
        while True:
            new = sorted(p for p in Path(inbox).iterdir() if p.suffix == ".json" and p not in seen)
            if new:
                indexer.sync(new, embed=False)
                seen.update(new)
            embedded = indexer.embed_pending(max_chunks=step)
            if not new and not embedded:
                if Path(stop).exists():
                    # the last file may have been dropped between this pass's listing and the stop flag
                    if not any(p.suffix == ".json" and p not in seen for p in Path(inbox).iterdir()):
                        break
                    continue
                time.sleep(0.1)
    indexer.close()


def _measure(settings: Settings, arrivals: list[dict], inbox: Path, minutes: float, rate: float,
             drain_seconds: float, quiet_questions: int, console: Console, question_interval: float = 0.0) -> dict:
    from index.catalog import open_catalog
    from index.status import read_freshness
    from rag.engine import NewsDesk

    questions = [q.question for q in realtimeqa_questions()] or ["What happened?"]
    desk = NewsDesk(settings)
    desk.ask(questions[0])  # warm-up
    quiet = [_timed_ask(desk, questions[i % len(questions)]) for i in range(quiet_questions)]
    console.print(f"quiet: {len(quiet)} questions, p50 {percentile(quiet, 0.5):.0f} ms, "
                  f"p95 {percentile(quiet, 0.95):.0f} ms")

    stop, ready = inbox.parent / "writer.stop", inbox.parent / "writer.ready"
    stop.unlink(missing_ok=True)
    ready.unlink(missing_ok=True)
    writer = multiprocessing.get_context("spawn").Process(target=_writer,
                                                          args=(settings, str(inbox), str(stop), str(ready)))
    writer.start()
    waited = time.time()
    while not ready.exists() and writer.is_alive() and time.time() - waited < 600:
        time.sleep(0.2)  # the writer loads its embedder and takes the lock first, as a running watcher has
    if not ready.exists():
        writer.terminate()
        raise BadInput("the writer process did not start (is another process writing to the bench index?)")
    catalog = open_catalog(settings, read_only=True)
    dropped: dict[str, float] = {}  # url -> epoch seconds when its file appeared
    loaded: list[float] = []
    peak_pending = 0
    total = int(minutes * 60 * rate)
    started = time.time()
    n = asked = 0
    next_question = 0.0
    while n < total:
        due = started + n / rate
        if time.time() >= due:
            dropped.update(_drop(inbox, arrivals[n % len(arrivals)], n))
            n += 1
            if n % max(1, int(rate * 30)) == 0:
                pending = catalog.pending_counts()[0]
                peak_pending = max(peak_pending, pending)
                console.print(f"{n}/{total} articles dropped, {pending} chunks waiting for vectors")
            continue
        if time.time() < next_question:  # a paced asker (--question-interval) waits for its next question
            time.sleep(max(0.0, min(due, next_question) - time.time()))
            continue
        next_question = time.time() + question_interval
        # other questions than the quiet ones first (``_timed_ask`` forgets the sentence vectors either way)
        loaded.append(_timed_ask(desk, questions[(quiet_questions + asked) % len(questions)]))
        asked += 1
        peak_pending = max(peak_pending, catalog.pending_counts()[0])
    stream_seconds = time.time() - started
    at_end = catalog.pending_counts()[0]
    stop.touch()
    drain_started = time.time()
    while catalog.pending_counts()[0] and time.time() - drain_started < drain_seconds and writer.is_alive():
        time.sleep(0.5)
    drained_after = time.time() - drain_started
    left = catalog.pending_counts()[0]
    writer.join(timeout=max(1.0, drain_seconds - drained_after))
    if writer.is_alive():
        writer.terminate()
        writer.join()

    keyword, embedded, missing = [], [], 0
    for url, at in dropped.items():
        row = catalog.arrival_of(url)
        if row is None:
            missing += 1
            continue
        keyword.append(_epoch(row[0]) - at)
        if row[1]:
            embedded.append(_epoch(row[1]) - at)
    fresh = read_freshness(catalog, settings)
    catalog.close()
    desk.close()
    return {
        "stream": f"{total} articles at {rate:g}/s ({stream_seconds:.0f} s)",
        "cores": multiprocessing.cpu_count(), "embed_step_chunks": settings.ingest.embed_step_chunks,
        "writer_embed_threads": settings.ingest.watch_embed_threads, "writer_nice": settings.ingest.watch_nice,
        "reader_reopen_chunks": settings.ingest.reader_reopen_chunks,
        "keyword_answerable_p50_s": _p(keyword, 0.5), "keyword_answerable_p95_s": _p(keyword, 0.95),
        "embedded_p50_s": _p(embedded, 0.5), "embedded_p95_s": _p(embedded, 0.95),
        "not_indexed": missing,
        "query_quiet_p50_ms": round(percentile(quiet, 0.5), 1), "query_quiet_p95_ms": round(percentile(quiet, 0.95), 1),
        "query_stream_p50_ms": round(percentile(loaded, 0.5), 1) if loaded else None,
        "query_stream_p95_ms": round(percentile(loaded, 0.95), 1) if loaded else None,
        "query_p95_ratio": round(percentile(loaded, 0.95) / percentile(quiet, 0.95), 2) if loaded else None,
        "queries_during_stream": len(loaded), "question_interval_s": question_interval,
        "queue_peak_chunks": peak_pending, "queue_at_stream_end_chunks": at_end,
        "queue_drained": left == 0, "drain_seconds": round(drained_after, 1),
        # the freshness view's figure: over every article that arrived in its window (the base too)
        "status_lag_p50_s": fresh.lag_p50_s, "status_lag_p95_s": fresh.lag_p95_s,
    }


def _drop(inbox: Path, row: dict, n: int) -> dict[str, float]:
    """Write one article file (a copy of a corpus article under a new URL, published now), atomically."""
    now = datetime.now(timezone.utc)
    url = f"{row.get('url') or 'https://bench.example/a'}?bench-fresh={n}"
    article = {**row, "url": url, "published_at": now.isoformat(timespec="milliseconds"),
               "text": f"{row['text'].rstrip()}\n\nBench arrival {n} at {now.isoformat()}."}
    temporary = inbox / f".{n:06d}.tmp"
    temporary.write_text(json.dumps(article, ensure_ascii=False), encoding="utf-8")
    temporary.rename(inbox / f"{n:06d}.json")
    return {url: now.timestamp()}


def _timed_ask(desk, question: str) -> float:
    """One question, timed, with the answerer's sentence vectors forgotten first: the stream asks the 206
    questions again and again, and a repeat found them warm (stream p50 56 ms against 351 ms quiet),
    so every timed question, quiet or under the stream, is asked as a new one."""
    from rag.sentence_cache import SentenceVectors

    SentenceVectors.shared(desk.embedder).clear()
    started = time.perf_counter()
    desk.ask(question)
    return (time.perf_counter() - started) * 1000


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _p(values: list[float], q: float) -> float | None:
    return round(percentile(values, q), 2) if values else None
