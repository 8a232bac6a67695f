"""Grade a finished run again with today's ``evals/scoring.py``, asking no answerer and no judge again.

A record keeps its answer, citations, citation checks and the judge's verdicts; those are scored again
as they are. The multiple-choice pick also reads the answer's evidence, which a record does not keep:
it is retrieved again from the suite's corpus index, as of the question's date (retrieval does not
depend on the answerer). Then ``summary.json``, ``report.md`` and the charts are written again.

    python -m evals.regrade RUN_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from evals.report import load_results, write_reports
from evals.runner import RANKED_ARTICLES, corpus_settings
from evals.scoring import score_case
from evals.suite import cases_for, load_suite
from settings import Settings


def regrade(run_dir: Path, settings: Settings) -> dict:
    """Scores every record of ``run_dir`` again; returns the new summary."""
    from rag.engine import NewsDesk

    run_dir = Path(run_dir)
    meta = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    suite = load_suite(meta["suite"])
    cases = {c.id: c for c in cases_for(suite)}
    judged = bool(meta.get("judge"))
    desk = NewsDesk(corpus_settings(settings, suite).updated(answer_mode="extractive"))
    evidence: dict[str, list[str]] = {}
    records = load_results(run_dir)
    try:
        for record in records:
            case = cases[record["id"]]
            if case.id not in evidence:
                answer = desk.ask(case.question, as_of=case.as_of, mode="extractive", k=None)
                evidence[case.id] = [e.text for e in answer.retrieved[:RANKED_ARTICLES]]
            old = record["scores"]
            verdict = None if record["refused"] or "judged_correct" not in old else bool(old["judged_correct"])
            record["scores"] = score_case(case, record, evidence[case.id], record["citation_checks"], verdict,
                                          judged=judged)
    finally:
        desk.close()
    previous = json.loads((run_dir / "summary.json").read_text()) if (run_dir / "summary.json").exists() else {}
    with open(run_dir / "results.jsonl.tmp", "w", encoding="utf-8") as sink:
        for record in records:
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
    (run_dir / "results.jsonl.tmp").replace(run_dir / "results.jsonl")
    return write_reports(run_dir, suite, wall_seconds=previous.get("wall_seconds"))


if __name__ == "__main__":
    summary = regrade(Path(sys.argv[1]), Settings())
    print(json.dumps(summary.get("metrics", summary), indent=2)[:4000])
