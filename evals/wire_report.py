"""Wire-copy figures: wire copies and versions in RealTime QA, and the detector's precision and recall.

    python -m evals.wire_report [--corpus FILE] [--pairs evals/data/wire-pairs.jsonl] [--json]
    python -m evals.wire_report --candidates OUT.jsonl   # the pairs a hand-checked sample is drawn from

1. Clusters: every article of the corpus (default ``realtimeqa-articles/articles.jsonl.gz``) is matched
   by ``ingest.dedup.WireClusters`` with the configured settings, as ``newsdesk index`` would: how many
   clusters of two or more, how many articles they fold away, how many are exact copies.
2. Candidates: datasketch's ``MinHashLSH`` at a *lower* threshold (``--candidate-threshold``, 0.2) over
   the same signatures gives every pair whose estimated Jaccard similarity is at least that, with the
   detector's decision. Pairs below it are taken as not duplicates (they share under a fifth of their
   5-word phrases), so recall is measured within the candidates.
3. Precision and recall from the hand-labelled sample (``evals/data/wire-pairs.jsonl``): the sample is
   stratified by similarity band and by the detector's decision; each cell's labelled share of true
   duplicates is scaled to the cell's size among all candidates (so a cell sampled more heavily does not
   weigh more), and the sample's own counts are printed beside the estimate.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from evals.datasets import EVALS_DATA, datasets_dir
from index.catalog import Catalog
from ingest.dedup import SCHEME, WireClusters, WireSignature
from ingest.loaders import ArticleLoader
from index.types import Article
from settings import Settings

BANDS = (0.2, 0.4, 0.6, 0.8, 1.01)  # similarity strata of the labelled sample


def load_articles(corpus: Path) -> list[Article]:
    articles: list[Article] = []
    ArticleLoader().load(corpus, corpus.name, sink=articles.append)
    return articles


def band_of(similarity: float) -> str:
    for low, high in zip(BANDS, BANDS[1:]):
        if low <= similarity < high:
            return f"{low:.1f}-{min(high, 1.0):.1f}"
    return "<0.2"


def cluster_corpus(articles: list[Article], settings: Settings) -> tuple[WireClusters, dict]:
    """Every article matched into a fresh catalog file (the clusters ``newsdesk index`` would keep)."""
    folder = Path(tempfile.mkdtemp(prefix="newsdesk-wire-"))
    clusters = WireClusters(Catalog(folder / "catalog.sqlite"), settings.ingest)
    started = time.perf_counter()
    clusters.assign(articles)
    seconds = time.perf_counter() - started
    counts = clusters.counts()
    exact = sum(1 for a in articles if clusters.exact_copies(a.id) and clusters.cluster_of([a.id]).get(a.id) != a.id)
    return clusters, {"articles": len(articles), **counts, "exact_copies": exact,
                      "seconds": round(seconds, 1), "ms_per_article": round(seconds * 1000 / max(len(articles), 1), 1)}


def candidate_pairs(clusters: WireClusters, articles: list[Article], threshold: float) -> list[dict]:
    """Every pair with estimated similarity >= ``threshold`` (datasketch LSH, then the estimate), with the
    detector's decision."""
    from datasketch import LeanMinHash, MinHashLSH

    signatures: dict[str, WireSignature] = clusters.signatures([a.id for a in articles])
    lsh = MinHashLSH(threshold=threshold, num_perm=clusters.config.wire_num_perm)
    lean = {}
    for article_id, signature in signatures.items():
        lean[article_id] = LeanMinHash(seed=1, hashvalues=signature.hashvalues, scheme=SCHEME)
        lsh.insert(article_id, lean[article_id])
    by_id = {a.id: a for a in articles}
    pairs = []
    for a in sorted(signatures):
        for b in sorted(lsh.query(lean[a])):
            if b <= a:
                continue
            similarity = clusters.similarity(signatures[a], signatures[b])
            if similarity < threshold:
                continue
            pairs.append({"a": a, "b": b, "similarity": round(similarity, 3), "band": band_of(similarity),
                          "detected": clusters.copies(signatures[a], signatures[b]),
                          "title_a": by_id[a].title, "title_b": by_id[b].title,
                          "source_a": by_id[a].source, "source_b": by_id[b].source,
                          "url_a": by_id[a].url, "url_b": by_id[b].url})
    return pairs


def estimate(pairs: list[dict], labelled: list[dict]) -> dict:
    """Precision and recall over all candidate pairs, from a sample stratified by (band, decision)."""
    cells: dict[tuple[str, bool], int] = {}
    for p in pairs:
        cells[(p["band"], p["detected"])] = cells.get((p["band"], p["detected"]), 0) + 1
    decided = {(p["a"], p["b"]): p for p in pairs}
    sampled: dict[tuple[str, bool], list[bool]] = {}
    for row in labelled:
        pair = decided.get((row["a"], row["b"])) or decided.get((row["b"], row["a"]))
        if pair is None:
            continue  # below the candidate threshold with today's settings: outside the estimate
        sampled.setdefault((pair["band"], pair["detected"]), []).append(bool(row["duplicate"]))
    tp = fn = 0.0
    for cell, size in cells.items():
        labels = sampled.get(cell)
        if not labels:
            continue
        share = sum(labels) / len(labels)
        if cell[1]:
            tp += size * share
        else:
            fn += size * share
    predicted = sum(size for (_, detected), size in cells.items() if detected and (_, detected) in sampled)
    rows = [(decided.get((r["a"], r["b"])) or decided.get((r["b"], r["a"])), bool(r["duplicate"])) for r in labelled]
    rows = [(p["detected"], label) for p, label in rows if p is not None]
    sample = {"pairs": len(rows), "true_pos": sum(d and l for d, l in rows), "false_pos": sum(d and not l for d, l in rows),
              "false_neg": sum(l and not d for d, l in rows), "true_neg": sum(not d and not l for d, l in rows)}
    return {"precision": round(tp / predicted, 3) if predicted else None,
            "recall": round(tp / (tp + fn), 3) if tp + fn else None,
            "cells": {f"{band} {'folded' if detected else 'kept apart'}": {"candidates": size,
                                                                             "labelled": len(sampled.get((band, detected), [])),
                                                                             "duplicates": sum(sampled.get((band, detected), []))}
                      for (band, detected), size in sorted(cells.items())},
            "sample": sample}


def draw_sample(pairs: list[dict], per_cell: int, seed: int = 11) -> list[dict]:
    """``per_cell`` pairs from each (band, decision) cell, drawn with a fixed seed."""
    rng = random.Random(seed)
    cells: dict[tuple[str, bool], list[dict]] = {}
    for p in pairs:
        cells.setdefault((p["band"], p["detected"]), []).append(p)
    chosen = []
    for cell in sorted(cells):
        chosen.extend(rng.sample(cells[cell], min(per_cell, len(cells[cell]))))
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=datasets_dir() / "realtimeqa-articles" / "articles.jsonl.gz")
    parser.add_argument("--pairs", type=Path, default=EVALS_DATA / "wire-pairs.jsonl")
    parser.add_argument("--candidate-threshold", type=float, default=0.2)
    parser.add_argument("--candidates", type=Path, help="write every candidate pair here (and a sample to label "
                                                        "beside it, .sample.jsonl) instead of reading labels")
    parser.add_argument("--per-cell", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    settings = Settings()
    articles = load_articles(args.corpus)
    clusters, report = cluster_corpus(articles, settings)
    pairs = candidate_pairs(clusters, articles, args.candidate_threshold)
    report["candidate_pairs"] = len(pairs)
    report["threshold"] = settings.ingest.wire_threshold
    if args.candidates:
        args.candidates.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs))
        sample_path = args.candidates.with_suffix(".sample.jsonl")
        sample_path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n"
                                       for p in draw_sample(pairs, args.per_cell)))
        print(f"{len(pairs)} candidate pairs -> {args.candidates}; a sample to label -> {sample_path}")
    elif args.pairs.exists():
        labelled = [json.loads(line) for line in args.pairs.read_text().splitlines() if line.strip()]
        report["labelled"] = estimate(pairs, labelled)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"corpus: {report['articles']} articles, threshold {report['threshold']}")
    print(f"clusters of 2+: {report['clusters']} holding {report['articles_in_clusters']} articles; "
          f"duplicates folded away: {report['duplicates']} (exact copies among them: {report['exact_copies']})")
    print(f"matching took {report['seconds']} s ({report['ms_per_article']} ms an article)")
    print(f"candidate pairs (estimated similarity >= {args.candidate_threshold}): {report['candidate_pairs']}")
    if "labelled" in report:
        labelled = report["labelled"]
        print(f"precision {labelled['precision']}, recall {labelled['recall']} (estimated over the candidates); "
              f"sample: {json.dumps(labelled['sample'])}")
        for cell, row in labelled["cells"].items():
            print(f"  {cell:24} candidates {row['candidates']:5}  labelled {row['labelled']:3}  "
                  f"duplicates {row['duplicates']:3}")


if __name__ == "__main__":
    main()
