"""Retrieval figures: retrieval (newsdesk vs the two baselines), latency, extractive answers, refusals.

    python -m evals.retrieval_report --home HOME [--baselines DIR] [--limit N] [--json]

HOME must hold an index of ../shared/datasets/realtimeqa-articles/articles.jsonl.gz (newsdesk index). The
store settings come from the environment as everywhere: with NEWSDESK_CATALOG_URL, NEWSDESK_CHROMA_HOST and
NEWSDESK_CHROMA_PORT set it reads that PostgreSQL catalog and Chroma server (``newsdesk catalog copy`` fills
them from a home); the report names the catalog and the store it read.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from evals.datasets import Question, datasets_dir, realtimeqa_questions, unanswerable_questions
from evals.metrics import contains_answer, hit_at, mrr_at, ndcg_at, percentile
from evals.runner import RANKED_ARTICLES, RANKED_CHUNKS
from index.runtime import configure_runtime
from rag.types import first_per_article
from settings import Settings


def retrieval_scores(ranked: list[list[str]], questions: list[Question], latencies: list[float]) -> dict:
    golds = [set(q.gold_article_ids) for q in questions]
    n = len(questions)
    return {
        "questions": n,
        "hit@1": round(sum(hit_at(r, g, 1) for r, g in zip(ranked, golds)) / n, 3),
        "hit@5": round(sum(hit_at(r, g, 5) for r, g in zip(ranked, golds)) / n, 3),
        "hit@10": round(sum(hit_at(r, g, 10) for r, g in zip(ranked, golds)) / n, 3),
        "mrr@10": round(sum(mrr_at(r, g, 10) for r, g in zip(ranked, golds)) / n, 3),
        "ndcg@10": round(sum(ndcg_at(r, g, 10) for r, g in zip(ranked, golds)) / n, 3),
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
    }


def run(home: Path, baselines: Path | None, limit: int | None, skip_starter: bool) -> dict:
    from rag.engine import NewsDesk

    configure_runtime()
    settings = Settings(_env_file=None, home=home)
    desk = NewsDesk(settings)
    questions = realtimeqa_questions()[:limit] if limit else realtimeqa_questions()
    report: dict = {"corpus": desk.catalog.counts().articles, "catalog": settings.index.catalog_location,
                    "store": settings.index.store_location, "systems": {}}

    def measure(name: str, fn) -> list[list[str]]:
        fn(questions[0].question, questions[0])  # warm-up (model load, caches)
        ranked, latencies = [], []
        for q in questions:
            started = time.perf_counter()
            ranked.append(fn(q.question, q))
            latencies.append((time.perf_counter() - started) * 1000)
        report["systems"][name] = retrieval_scores(ranked, questions, latencies)
        return ranked

    def newsdesk(question: str, q: Question) -> list[str]:
        evidence, _, _ = desk.retrieve(question, k=RANKED_CHUNKS, as_of=q.as_of)
        return [e.article_id for e in first_per_article(evidence, RANKED_ARTICLES)]

    def undated(question: str, q: Question) -> list[str]:
        evidence = desk.retriever.retrieve(question, k=RANKED_CHUNKS)
        return [e.article_id for e in first_per_article(evidence, RANKED_ARTICLES)]

    measure("newsdesk hybrid, as of the question date", newsdesk)
    measure("newsdesk hybrid, dates ignored", undated)
    from evals.baselines import BM25Alone, LlamaIndexStarter

    bm25 = BM25Alone(desk.catalog, desk.settings.retrieval)
    measure("BM25 alone", lambda text, q: bm25.retrieve(text, RANKED_ARTICLES))
    if not skip_starter and baselines is not None:
        starter = LlamaIndexStarter(baselines / "llamaindex-starter", desk.embedder)
        report["starter_build"] = starter.build([datasets_dir() / "realtimeqa-articles" / "articles.jsonl.gz"])
        measure("llama-index starter", lambda text, q: starter.retrieve(text, RANKED_ARTICLES))

    # extractive answers, as of the question date
    correct = cited = cited_gold = refused = 0
    answer_ms = []
    for q in questions:
        answer = desk.ask(q.question, as_of=q.as_of, mode="extractive")
        answer_ms.append(answer.timings_ms["total"])
        refused += answer.refused
        correct += contains_answer(answer.answer, q.gold_answers)
        for citation in answer.citations:
            cited += 1
            cited_gold += citation.article_id in q.gold_article_ids
    n = len(questions)
    report["extractive"] = {
        "accuracy": round(correct / n, 3), "citation_precision": round(cited_gold / max(cited, 1), 3),
        "refused_answerable": round(refused / n, 3), "answer_p50_ms": round(percentile(answer_ms, 0.5), 1),
        "answer_p95_ms": round(percentile(answer_ms, 0.95), 1),
    }
    unanswerable = unanswerable_questions()
    refusals = [desk.ask(q.question, mode="extractive").refused for q in unanswerable]
    report["extractive"]["refusal_rate_unanswerable"] = round(sum(refusals) / len(unanswerable), 3)
    report["extractive"]["unanswerable_questions"] = len(unanswerable)
    desk.close()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--baselines", type=Path)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--skip-starter", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = run(args.home, args.baselines, args.limit, args.skip_starter)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"corpus: {report['corpus']} articles; catalog {report['catalog']}; store {report['store']}")
    print(f"{'system':45} {'Hit@1':>6} {'Hit@5':>6} {'Hit@10':>6} {'MRR@10':>7} {'nDCG@10':>7} {'p50 ms':>7} {'p95 ms':>7}")
    for name, s in report["systems"].items():
        print(f"{name:45} {s['hit@1']:6.3f} {s['hit@5']:6.3f} {s['hit@10']:6.3f} {s['mrr@10']:7.3f} {s['ndcg@10']:7.3f} "
              f"{s['p50_ms']:7.1f} {s['p95_ms']:7.1f}")
    print("extractive:", json.dumps(report["extractive"]))
    if "starter_build" in report:
        print("llama-index starter build:", json.dumps(report["starter_build"]))


if __name__ == "__main__":
    main()
