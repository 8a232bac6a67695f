"""How well the citation support check's thresholds separate supported from unsupported claims.

The check (``rag.citations.CitationVerifier.supports``) passes a (claim, quote) pair when the numbers
agree, the claim's names are in the quote, and either at least ``support_lexical`` of the claim's
content stems are in the quote, or the embeddings' cosine reaches ``support_semantic`` with at least
``support_lexical_floor`` of the stems. This measures each threshold on real pairs, the other two
held at their settings:

- ``labelled``: the 44 hand-labelled (answer sentence, quote) pairs of ``evals/data/judge-citations.jsonl``
  (23 supported; see ``evals/data/JUDGE-LABELS.md``): precision and recall of "supported";
- ``same article``: each labelled supported claim against every *other* sentence of the gold article
  its quote comes from: the same story, other facts (a few may restate the quote): false support;
- ``other sentences``: random pairs of different sentences of one RealTime QA gold article
  (``realtimeqa-articles/gold-articles.jsonl.gz``): false support.

Run::

    python -m evals.calibrate_support               # the tables
    python -m evals.calibrate_support --json        # the same figures as JSON
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from collections import Counter
from dataclasses import dataclass, replace

from evals.datasets import EVALS_DATA, datasets_dir
from rag.citations import CitationVerifier, Support
from rag.sentences import sentence_spans
from settings import Settings

LABELS = EVALS_DATA / "judge-citations.jsonl"
SWEEPS = {
    "support_lexical": [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
    "support_semantic": [0.5, 0.55, 0.6, 0.62, 0.65, 0.7, 0.75, 0.8, 1.01],  # 1.01: the semantic route off
    "support_lexical_floor": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5],
}


@dataclass(frozen=True)
class Thresholds:
    support_lexical: float
    support_semantic: float
    support_lexical_floor: float


@dataclass
class PairSet:
    """(claim, quote) pairs measured once, with what each should be (True: supported)."""

    name: str
    supports: list[Support]
    labels: list[bool]


def gold_sentences() -> list[tuple[str, list[str]]]:
    """(article text, its sentences) of every gold article with text. Sentences of four words or more,
    each once; boilerplate (a sentence found in two articles: "How relevant is this ad to you?") left out."""
    path = datasets_dir() / "realtimeqa-articles" / "gold-articles.jsonl.gz"
    articles = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            text = json.loads(line).get("text") or ""
            sentences = list(dict.fromkeys(text[a:b] for a, b in sentence_spans(text) if len(text[a:b].split()) >= 4))
            articles.append((text, sentences))
    seen = Counter(s for _, sentences in articles for s in sentences)
    return [(text, kept) for text, sentences in articles if (kept := [s for s in sentences if seen[s] == 1])]


def labelled_pairs() -> list[dict]:
    return [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]


def same_article_pairs(rows: list[dict], articles: list[tuple[str, list[str]]]) -> list[tuple[str, str]]:
    """Each supported claim against the other sentences of its quote's article."""
    pairs = []
    for row in rows:
        if not row["label"]:
            continue
        article = next((sentences for text, sentences in articles if row["quote"] in text), [])
        pairs += [(row["sentence"], s) for s in article if s != row["quote"] and row["quote"] not in s]
    return pairs


def other_sentence_pairs(articles: list[tuple[str, list[str]]], count: int, seed: int) -> list[tuple[str, str]]:
    """``count`` random pairs of two different sentences of one article."""
    rng = random.Random(seed)
    pool = [sentences for _, sentences in articles if len(sentences) >= 2]
    pairs = []
    while len(pairs) < count:
        claim, quote = rng.sample(rng.choice(pool), 2)
        if claim != quote:
            pairs.append((claim, quote))
    return pairs


def measure(verifier: CitationVerifier, name: str, pairs: list[tuple[str, str]], labels: list[bool]) -> PairSet:
    supports: list[Support] = []
    for start in range(0, len(pairs), 256):
        part = pairs[start:start + 256]
        supports += verifier.measure([c for c, _ in part], [q for _, q in part])
    return PairSet(name, supports, labels)


def scores(pair_set: PairSet, thresholds: Thresholds) -> dict:
    verdicts = [s.passes(thresholds) for s in pair_set.supports]
    passed_yes = sum(v and label for v, label in zip(verdicts, pair_set.labels))
    passed = sum(verdicts)
    labelled_yes = sum(pair_set.labels)
    if labelled_yes == 0:  # a set of unsupported pairs: how many pass
        return {"pairs": len(verdicts), "false_support": round(passed / len(verdicts), 4)}
    return {"pairs": len(verdicts), "precision": round(passed_yes / passed, 3) if passed else None,
            "recall": round(passed_yes / labelled_yes, 3), "passed": passed, "supported": labelled_yes}


def calibrate(settings: Settings, pairs: int = 1500, seed: int = 0) -> dict:
    from index.embedders import make_embedder

    verifier = CitationVerifier(make_embedder(settings), settings.answer)
    rows = labelled_pairs()
    articles = gold_sentences()
    same = same_article_pairs(rows, articles)
    sets = [measure(verifier, "labelled", [(r["sentence"], r["quote"]) for r in rows], [bool(r["label"]) for r in rows]),
            measure(verifier, "same article", same, [False] * len(same)),
            measure(verifier, "other sentences", other_sentence_pairs(articles, pairs, seed), [False] * pairs)]
    current = Thresholds(**{name: getattr(settings.answer, name) for name in SWEEPS})
    report: dict = {"embedder": settings.index.embedder, "current": current.__dict__,
                    "at_current": {s.name: scores(s, current) for s in sets}, "sweeps": {}}
    for name, values in SWEEPS.items():
        report["sweeps"][name] = [{"value": value, **{s.name: scores(s, replace(current, **{name: value}))
                                                       for s in sets}} for value in values]
    return report


def _row(result: dict) -> str:
    labelled = result["labelled"]
    return (f"precision {labelled['precision']}, recall {labelled['recall']} ({labelled['passed']} passed); "
            f"false support: same article {result['same article']['false_support']:.2%}, "
            f"other sentences {result['other sentences']['false_support']:.2%}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.calibrate_support", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=1500, help="random pairs of other sentences (default 1500)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    from index.runtime import configure_runtime

    configure_runtime()
    report = calibrate(Settings(), args.pairs, args.seed)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    at = report["at_current"]
    print(f"embedder {report['embedder']}; pairs: labelled {at['labelled']['pairs']} "
          f"({at['labelled']['supported']} supported), same article {at['same article']['pairs']}, "
          f"other sentences {at['other sentences']['pairs']}")
    print(f"current {report['current']}: {_row(at)}")
    for name, results in report["sweeps"].items():
        print(f"\n{name} (the others as set):")
        for result in results:
            print(f"  {result['value']:>5}: {_row(result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
