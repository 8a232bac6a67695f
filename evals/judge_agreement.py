"""How far the LLM judge can be trusted: its verdicts against hand labels.

The labels are in ``evals/data/judge-answers.jsonl`` (question, gold answers, a system answer,
``label``: is it correct) and ``evals/data/judge-citations.jsonl`` (an answer sentence, its quote,
``label``: does the quote support it), each with a ``reason`` and where the item came from
(``origin``). Prints, per file, accuracy, Cohen's kappa and the confusion counts::

    python -m evals.judge_agreement                       # the local judge (local:qwen2.5-coder-1.5b)
    python -m evals.judge_agreement --judge local:qwen2.5-coder-0.5b
    python -m evals.judge_agreement --base-url http://127.0.0.1:8811/v1 --model qwen
    python -m evals.judge_agreement --claim-check         # the answerer's own check (rag/claim_check.py)

A verdict of ``None`` (no yes/no in the reply, or an endpoint error) counts as a disagreement in
``accuracy`` and is left out of ``accuracy_judged`` and ``kappa``; ``unjudged`` says how many.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from evals.datasets import EVALS_DATA

ANSWER_LABELS = EVALS_DATA / "judge-answers.jsonl"
CITATION_LABELS = EVALS_DATA / "judge-citations.jsonl"


def load_labels(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def cohen_kappa(labels: list[bool], verdicts: list[bool]) -> float:
    """Cohen's kappa of two yes/no raters: agreement beyond what their base rates give by chance.
    When chance agreement is already 1 (both always say the same one thing) it is 1.0 for full
    agreement, else 0.0."""
    n = len(labels)
    if n == 0:
        return float("nan")
    observed = sum(a == b for a, b in zip(labels, verdicts)) / n
    yes_a, yes_b = sum(labels) / n, sum(verdicts) / n
    chance = yes_a * yes_b + (1 - yes_a) * (1 - yes_b)
    if chance == 1.0:
        return 1.0 if observed == 1.0 else 0.0
    return (observed - chance) / (1 - chance)


def agreement(labels: list[bool], verdicts: list[bool | None]) -> dict:
    """Accuracy, kappa and confusion counts of a judge's verdicts against the labels."""
    judged = [(label, verdict) for label, verdict in zip(labels, verdicts) if verdict is not None]
    n = len(labels)
    confusion = {"judge_yes_label_yes": 0, "judge_yes_label_no": 0, "judge_no_label_yes": 0, "judge_no_label_no": 0,
                 "unjudged_label_yes": 0, "unjudged_label_no": 0}
    for label, verdict in zip(labels, verdicts):
        said = "unjudged" if verdict is None else f"judge_{'yes' if verdict else 'no'}"
        confusion[f"{said}_label_{'yes' if label else 'no'}"] += 1
    agree = sum(label == verdict for label, verdict in judged)
    return {"items": n, "labelled_yes": sum(labels), "judged": len(judged), "unjudged": n - len(judged),
            "accuracy": round(agree / n, 4) if n else None,
            "accuracy_judged": round(agree / len(judged), 4) if judged else None,
            "kappa": round(cohen_kappa([a for a, _ in judged], [b for _, b in judged]), 4) if judged else None,
            "confusion": confusion}


def judge_file(judge, kind: str, rows: list[dict], on_item=None) -> tuple[dict, list[dict]]:
    """Asks the judge about every row; the agreement and the rows with their verdicts."""
    verdicts = []
    for i, row in enumerate(rows):
        started = time.perf_counter()
        if kind == "answers":
            verdict = judge.judge_answer(row["question"], row["gold_answers"], row["answer"])
        else:
            verdict = judge.judge_support(row["sentence"], row["quote"], row.get("question"))
        verdicts.append(verdict)
        if on_item:
            on_item(i + 1, len(rows), row, verdict, time.perf_counter() - started)
    result = agreement([bool(r["label"]) for r in rows], verdicts)
    return result, [r | {"verdict": v} for r, v in zip(rows, verdicts)]


class ClaimCheckRater:
    """The answerer's claim check (``rag.claim_check.ClaimCheck``) rating the citation labels as the judge
    does: the same pairs, its own prompt."""

    def __init__(self, settings) -> None:
        from collections import Counter

        from rag.claim_check import ClaimCheck
        from llm.client import LLMClient

        client = LLMClient(settings)
        self.check = ClaimCheck(lambda: client)
        self.name = f"claim check ({settings.llm.name})"
        self.stats: Counter = Counter()

    def judge_support(self, sentence: str, quote: str, question: str | None = None) -> bool | None:
        from rag.citations import MARKER

        verdict = self.check.confirms(MARKER.sub("", sentence).strip(), quote)
        self.stats["unparsed" if verdict is None else "yes" if verdict else "no"] += 1
        return verdict


def judge_from_args(args):
    from evals.judge import Judge
    from evals.systems import llm_settings
    from index.runtime import configure_runtime
    from settings import Settings

    configure_runtime()
    settings = Settings()
    if args.base_url:
        settings = settings.updated(llm="remote", llm_base_url=args.base_url, llm_model=args.model or "judge",
                                    llm_api="chat")
    else:
        settings = llm_settings(settings, args.judge)
    return ClaimCheckRater(settings) if args.claim_check else Judge(settings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.judge_agreement", description=__doc__.split("\n\n")[0])
    parser.add_argument("--judge", default="local:qwen2.5-coder-1.5b", help="local:<model> or remote:<model>")
    parser.add_argument("--base-url", help="an OpenAI-compatible endpoint to judge with instead (with --model)")
    parser.add_argument("--model", help="the model name at --base-url")
    parser.add_argument("--only", choices=["answers", "citations"], help="one of the two label files")
    parser.add_argument("--claim-check", action="store_true",
                        help="rate the citation labels with the answerer's claim check instead of the judge")
    parser.add_argument("--limit", type=int, help="the first N rows of each file (a quick look)")
    parser.add_argument("--verdicts", type=Path, help="write every row with its verdict to this JSONL file")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    judge = judge_from_args(args)
    files = {"answers": ANSWER_LABELS, "citations": CITATION_LABELS}
    if args.only or args.claim_check:
        files = {"citations": files["citations"]} if args.claim_check else {args.only: files[args.only]}
    report, rows_out = {"judge": judge.name}, []

    def show(done, total, row, verdict, seconds):
        print(f"  {done}/{total} {row['id']}: label {'yes' if row['label'] else 'no'}, judge "
              f"{'-' if verdict is None else 'yes' if verdict else 'no'} ({seconds:.1f} s)", file=sys.stderr)

    for kind, path in files.items():
        rows = load_labels(path)[: args.limit or None]
        report[kind], judged_rows = judge_file(judge, kind, rows, on_item=show)
        rows_out += [r | {"file": path.name} for r in judged_rows]
    report["judge_calls"] = dict(judge.stats)
    if args.verdicts:
        args.verdicts.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows_out), encoding="utf-8")
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"judge: {judge.name}")
    for kind in files:
        r = report[kind]
        c = r["confusion"]
        print(f"{kind}: {r['items']} items ({r['labelled_yes']} labelled yes), accuracy {r['accuracy']}, "
              f"accuracy over judged {r['accuracy_judged']}, Cohen's kappa {r['kappa']}, unjudged {r['unjudged']}")
        print(f"  judge yes: label yes {c['judge_yes_label_yes']}, label no {c['judge_yes_label_no']}; "
              f"judge no: label yes {c['judge_no_label_yes']}, label no {c['judge_no_label_no']}; "
              f"unjudged: label yes {c['unjudged_label_yes']}, label no {c['unjudged_label_no']}")
    print(f"calls: {report['judge_calls']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
