"""BM25 in PostgreSQL (``index.catalog.postgres_search``) against SQLite's FTS5 on the same chunks.

    python -m evals.bench.pg_bm25 --home DIR [--url URL] [--limit N]

Copies the chunks of ``DIR/catalog.sqlite`` (opened read-only) into PostgreSQL postings (a server of its own
when no URL is given; with one, a schema ``bench_pg_bm25`` that it drops and makes again), then ranks the
RealTime QA gold questions BM25-alone on both (``evals.baselines.BM25Alone``: all of a question's terms,
50 chunks, 10 articles) and prints Hit@1/5/10 and MRR@10 of the gold articles side by side, how often the
two rankings agree, and the latency of one search on each; then the same with the retriever's budget of
postings (``bm25_postings``: the rarest terms only), which is what a question costs in newsdesk, and with
that budget inside two windows of each question's date (the catalog's broad and narrow window paths; the
gold articles may lie outside them, so only agreement and latency count there).
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta, timezone
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from evals.datasets import Question, realtimeqa_questions
from evals.metrics import percentile
from evals.retrieval_report import retrieval_scores
from evals.runner import RANKED_ARTICLES
from index.catalog import Catalog
from index.catalog.postgres_search import SEARCH_DDL, PostgresSearchRows, index_chunk_terms
from index.search import Bm25Search
from index.types import ChunkFilter, to_epoch
from rag.text import query_terms
from rag.types import first_per_article
from settings import RetrievalSettings

# what the search needs of the catalog's own tables (the PostgreSQL catalog has these columns and more)
CATALOG_DDL = [
    "CREATE TABLE IF NOT EXISTS articles (id text PRIMARY KEY, published_ts bigint, source text, "
    "n_chunks integer NOT NULL)",
    "CREATE INDEX IF NOT EXISTS articles_window ON articles (published_ts, source, n_chunks, id)",
    "CREATE TABLE IF NOT EXISTS chunks (rowid bigint PRIMARY KEY, id text NOT NULL UNIQUE, article_id text NOT NULL)",
    "CREATE INDEX IF NOT EXISTS chunks_article ON chunks (article_id)",
]
BATCH = 1000  # chunks tokenized and written per transaction


class PgSearchStore(PostgresSearchRows):
    """The search tables in one schema of a PostgreSQL database, with what ``Bm25Search`` asks besides."""

    def __init__(self, url: str, schema: str) -> None:
        import psycopg_pool

        self.schema = schema
        self.pool = psycopg_pool.ConnectionPool(url, min_size=1, max_size=4, open=True,
                                                kwargs={"options": f"-c search_path={schema}", "autocommit": True})

    @contextmanager
    def connection(self) -> Iterator:
        with self.pool.connection() as conn:
            yield conn

    def create(self) -> None:
        with self.connection() as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
            conn.execute(f"CREATE SCHEMA {self.schema}")
            for statement in CATALOG_DDL + SEARCH_DDL:
                conn.execute(statement)

    def get_meta(self, key: str) -> str | None:
        return None  # no writer runs during a bench: the window counter's total never changes

    def close(self) -> None:
        self.pool.close()


def copy_catalog(catalog: Catalog, store: PgSearchStore, batch: int = BATCH) -> dict:
    """The catalog's articles, chunks and FTS5 inputs (each chunk's title and text as FTS5 got them) into
    ``store``; how long each part took."""
    db = catalog.db
    started = time.perf_counter()
    with store.connection() as conn, conn.transaction(), conn.cursor() as cur:
        with cur.copy("COPY articles (id, published_ts, source, n_chunks) FROM STDIN") as copy:
            for row in db.execute("SELECT id, published_ts, source, n_chunks FROM articles"):
                copy.write_row(row)
        with cur.copy("COPY chunks (rowid, id, article_id) FROM STDIN") as copy:
            for row in db.execute("SELECT rowid, id, article_id FROM chunks"):
                copy.write_row(row)
    tables = time.perf_counter() - started
    rows = db.execute("SELECT rowid, title, text FROM chunks_fts ORDER BY rowid")
    chunks = 0
    while part := rows.fetchmany(batch):
        with store.connection() as conn, conn.transaction():
            index_chunk_terms(conn, part)
        chunks += len(part)
    terms = time.perf_counter() - started - tables
    with store.connection() as conn:
        # index-only scans need the visibility map: a second pass marks the pages written while the first
        # pass (or autovacuum) still saw the last transactions as running
        conn.execute("VACUUM ANALYZE")
        conn.execute("VACUUM")
        postings = conn.execute("SELECT count(*) FROM bm25_postings").fetchone()[0]
        size = conn.execute("SELECT pg_total_relation_size('bm25_postings')").fetchone()[0]
    return {"chunks": chunks, "postings": postings, "postings_mb": round(size / 2**20, 1),
            "tables_s": round(tables, 1), "terms_s": round(terms, 1)}


def question_window(q: Question, days: int | None) -> ChunkFilter:
    """What was published up to the end of the question's date (the last ``days`` days of it only)."""
    end = datetime.strptime(q.as_of[:10].replace("-", "/"), "%Y/%m/%d").replace(tzinfo=timezone.utc) \
        + timedelta(days=1)
    since = end - timedelta(days=days) if days is not None else None
    return ChunkFilter(since_ts=to_epoch(since), until_ts=to_epoch(end) - 1)


def compare(catalog: Catalog, store: PgSearchStore, limit: int | None, budget: int | None,
            windowed: bool = False, days: int | None = None) -> dict:
    """Both backends on the gold questions: retrieval figures, latency and agreement; ``windowed``: within
    each question's window (``question_window``)."""
    config = RetrievalSettings()
    questions = realtimeqa_questions()[:limit] if limit else realtimeqa_questions()
    if windowed:
        questions = [q for q in questions if q.as_of]
    article_of = dict(catalog.db.execute("SELECT id, article_id FROM chunks"))
    backends = {"sqlite": Bm25Search(catalog, config), "postgres": Bm25Search(store, config)}
    hits: dict[str, list[list[tuple[str, float]]]] = {}
    report: dict = {}
    for name, search in backends.items():
        search.search(query_terms(questions[0].question), 50, max_postings=budget)  # warm-up
        ranked, latencies, results = [], [], []
        for q in questions:
            where = question_window(q, days) if windowed else None
            started = time.perf_counter()
            found = search.search(query_terms(q.question), RANKED_ARTICLES * 5, where, budget)
            latencies.append((time.perf_counter() - started) * 1000)
            results.append(found)
            items = [{"article_id": article_of[cid]} for cid, _ in found]
            ranked.append([i["article_id"] for i in first_per_article(items, RANKED_ARTICLES)])
        hits[name] = results
        report[name] = retrieval_scores(ranked, questions, latencies)
    same = sum([c for c, _ in a] == [c for c, _ in b] for a, b in zip(hits["sqlite"], hits["postgres"]))
    worst = max((abs(x[1] - y[1]) / max(abs(x[1]), 1e-12) for a, b in zip(hits["sqlite"], hits["postgres"])
                 for x, y in zip(a, b)), default=0.0)
    report["agreement"] = {"same_ranking": same, "questions": len(questions), "max_rel_score_diff": worst}
    return report


def print_report(title: str, report: dict) -> None:
    print(title)
    print(f"  {'backend':10} {'Hit@1':>6} {'Hit@5':>6} {'Hit@10':>6} {'MRR@10':>7} {'p50 ms':>7} {'p95 ms':>7}")
    for name in ("sqlite", "postgres"):
        s = report[name]
        print(f"  {name:10} {s['hit@1']:6.3f} {s['hit@5']:6.3f} {s['hit@10']:6.3f} {s['mrr@10']:7.3f} "
              f"{s['p50_ms']:7.1f} {s['p95_ms']:7.1f}")
    a = report["agreement"]
    print(f"  same 50-chunk ranking: {a['same_ranking']}/{a['questions']} questions; "
          f"largest relative score difference {a['max_rel_score_diff']:.2e}")
    gaps = {m: abs(report["sqlite"][m] - report["postgres"][m]) for m in ("hit@10", "mrr@10")}
    print(f"  Hit@10 and MRR@10 within 0.005 of FTS5's: {'yes' if max(gaps.values()) <= 0.005 else 'NO'}")


def run(home: Path, url: str | None, limit: int | None) -> None:
    catalog = Catalog(home / "catalog.sqlite", read_only=True)
    server = None
    if url is None:
        from tests.helpers import PostgresServer

        server = PostgresServer().start()
        url = server.url
    store = PgSearchStore(url, "bench_pg_bm25")
    try:
        store.create()
        copied = copy_catalog(catalog, store)
        print(f"copied: {copied}")
        print_report("BM25 alone, every question term (evals.baselines.BM25Alone):",
                     compare(catalog, store, limit, None))
        budget = RetrievalSettings().bm25_postings
        print_report(f"the rarest terms up to {budget} postings (the retriever's budget):",
                     compare(catalog, store, limit, budget))
        print_report("with the budget, published up to the question's date (a broad window):",
                     compare(catalog, store, limit, budget, True))
        print_report("with the budget, the week up to the question's date (a narrow window):",
                     compare(catalog, store, limit, budget, True, 7))
    finally:
        store.close()
        catalog.close()
        if server is not None:
            server.__exit__(None, None, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--url", help="a PostgreSQL database (default: a server of its own)")
    parser.add_argument("--limit", type=int, help="the first N questions only")
    args = parser.parse_args()
    run(args.home, args.url, args.limit)


if __name__ == "__main__":
    main()
