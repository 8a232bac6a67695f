"""Turns a run's results.jsonl into summary.json, report.md and PNG charts; compares two runs.

The first system of a run (``run.json`` "systems") is the primary one: ``summary["metrics"]``, the
thresholds, the per-type chart and ``compare`` are about it. What the answer and citation scores
measure is told in ``evals/scoring.py`` and, for readers of a report, in ``METRIC_NOTES``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from evals.metrics import percentile
from evals.suite import ARCHIVE_STYLE, Suite, split_of

# what each summary metric averages, and over which cases
_MEAN_SCORES = {
    "retrieval.hit@1": "hit@1", "retrieval.hit@5": "hit@5", "retrieval.hit@10": "hit@10",
    "retrieval.mrr@10": "mrr@10", "retrieval.ndcg@10": "ndcg@10",
    "answers.accuracy": "accuracy", "answers.exact_match": "exact_match", "answers.token_f1": "token_f1",
    "answers.judged_correct": "judged_correct", "answers.choice_accuracy": "choice_accuracy",
    "answers.gold_in_evidence": "gold_in_evidence", "answers.gold_cited": "gold_cited",
    "answers.right_citing_newest": "right_citing_newest",
    "citations.precision": "citation_precision", "citations.verbatim": "citation_verbatim",
    "citations.self_support": "citation_self_support", "citations.judged_support": "citation_judged_support",
    "counterfactual.repeats_fake": "repeats_fake", "counterfactual.flags_conflict": "flags_conflict",
}
# the systems-side-by-side headline, in this order (every metric is also in the full table below it)
HEADLINE = ["answers.truthfulness", "answers.accuracy", "answers.token_f1", "answers.judged_correct", "answers.choice_accuracy",
            "refusal.precision", "refusal.recall",
            "refusal.false_refusal_rate", "citations.verbatim", "citations.self_support", "citations.judged_support",
            "latency.total.p50_ms"]
METRIC_NOTES = {
    "answers.truthfulness": "CRAG's score over all questions: (right - wrong) / all; a refusal counts 0 on an "
                            "answerable question and is the right answer to an unanswerable one.",
    "answers.wrong_rate": "answers given that are wrong (no gold answer in them, or any answer to an "
                          "unanswerable question), over all questions.",
    "answers.gold_in_evidence": "a gold article is among the articles the answerer read.",
    "answers.gold_cited": "a citation points to a gold article.",
    "answers.right_citing_newest": "latest-value questions: right, and a citation is of a report dated on or after "
                                   "the newest report of the value.",
    "answers.accuracy": "a gold answer is contained in the answer (normalized; citation markers and a leading "
                        "Yes/No removed): the strict floor, a paraphrase fails it.",
    "answers.token_f1": "SQuAD-style token F1 with the best gold answer: word order is free, padding costs.",
    "answers.judged_correct": "the LLM judge says the answer gives the gold answer (refusals count 0; answers it "
                              "gave no verdict on are left out and counted in judge.unjudged).",
    "answers.choice_accuracy": "open questions that have choices: the choice read off the same free answer "
                               "(else the best chunks) by containment, as the multiple-choice variant grades it.",
    "refusal.recall": "refusal.*: over questions without a gold answer (precision, recall) and with one "
                      "(false_refusal_rate).",
    "citations.verbatim": "the quote is the cited article's text at its offsets (independent of the answerer).",
    "citations.self_support": "newsdesk's own citation verifier accepts the quote for its sentence; the answerer "
                              "keeps only sentences that pass it, so this is a pipeline consistency check (~1.0 by "
                              "construction), not a grade.",
    "citations.judged_support": "the independent LLM judge says the quote states what its sentence claims.",
}
# USD per 1M tokens (input, output) for known hosted models; others are reported as unknown. OpenAI's list
# prices as published when the harness was written: check them before quoting a cost.
PRICES = {"gpt-4o-mini": (0.15, 0.60), "gpt-4o": (2.50, 10.0), "gpt-4.1-mini": (0.40, 1.60), "gpt-4.1": (2.0, 8.0)}


def load_results(run_dir: Path) -> list[dict]:
    path = Path(run_dir) / "results.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def summarize(records: list[dict], model: str | None = None) -> dict:
    """Metrics of one system's records (all types together)."""
    out: dict = {"questions": len(records)}
    for name, key in _MEAN_SCORES.items():
        values = [r["scores"][key] for r in records if key in r["scores"]]
        if values:
            out[name] = round(sum(values) / len(values), 4)
    outcomes = [r for r in records if "right" in r["scores"]]
    if outcomes:
        right = sum(r["scores"]["right"] for r in outcomes)
        wrong = sum(r["scores"]["wrong"] for r in outcomes)
        out["answers.truthfulness"] = round((right - wrong) / len(outcomes), 4)
        out["answers.wrong_rate"] = round(wrong / len(outcomes), 4)
    should = [r for r in records if expects_refusal(r)]
    refused = [r for r in records if r["scores"].get("refused")]
    answerable = [r for r in records if not expects_refusal(r)]
    if should or refused:
        hits = sum(1 for r in refused if expects_refusal(r))
        out["refusal.precision"] = round(hits / len(refused), 4) if refused else None
        out["refusal.recall"] = round(hits / len(should), 4) if should else None
    if answerable:
        out["refusal.false_refusal_rate"] = round(sum(1 for r in answerable if r["scores"].get("refused")) / len(answerable), 4)
    for stage in ("retrieve", "first_token", "answer", "total"):
        values = [r["timings_ms"][stage] for r in records if stage in r.get("timings_ms", {})]
        if values:
            out[f"latency.{stage}.p50_ms"] = round(percentile(values, 0.5), 1)
            out[f"latency.{stage}.p95_ms"] = round(percentile(values, 0.95), 1)
    unjudged = [r["scores"].get("judge_unjudged", 0) for r in records]
    if any(unjudged):
        out["judge.unjudged"] = sum(unjudged)
    usage = [r["usage"] for r in records if r.get("usage")]
    if usage:
        prompt = sum(u["prompt_tokens"] for u in usage)
        completion = sum(u["completion_tokens"] for u in usage)
        out["tokens.prompt"], out["tokens.completion"] = prompt, completion
        price = PRICES.get(model or "")
        out["cost.usd_estimate"] = round((prompt * price[0] + completion * price[1]) / 1e6, 4) if price else None
    return out


def expects_refusal(record: dict) -> bool:
    """Questions without a gold answer should be refused (for "nota": "None of the above" chosen)."""
    return record["type"] != "counterfactual" and not record["gold_answers"]


def build_summary(run_dir: Path, suite: Suite, wall_seconds: float | None = None) -> dict:
    records = load_results(run_dir)
    meta = json.loads((Path(run_dir) / "run.json").read_text())
    by_system: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_system[r["system"]].append(r)
    summary = {"suite": suite.name, "mode": meta["mode"], "started": meta["started"], "wall_seconds": wall_seconds,
               "systems": {}, "by_type": {}, "thresholds": suite.thresholds, "failures": []}
    summary["primary"] = primary = primary_system(meta)
    summary["judge"] = meta.get("judge")
    models = meta.get("models") or {}
    ordered = [s for s in meta.get("systems", []) if s in by_system] + [s for s in by_system if s not in meta.get("systems", [])]
    for system in ordered:
        rows = by_system[system]
        model = models.get(system, meta.get("llm_model"))
        summary["systems"][system] = summarize(rows, model)
        types: dict[str, list[dict]] = defaultdict(list)
        for r in rows:
            types[r["type"]].append(r)
        summary["by_type"][system] = {t: summarize(rs, model) for t, rs in types.items()}
        if suite.questions in ARCHIVE_STYLE:  # odd ids tune, even ones are held out: apart
            halves: dict[str, list[dict]] = defaultdict(list)
            for r in rows:
                halves[split_of(r["id"])].append(r)
            summary.setdefault("by_split", {})[system] = {
                half: {"all": summarize(rs, model)} | {t: summarize([r for r in rs if r["type"] == t], model)
                                                       for t in dict.fromkeys(r["type"] for r in rs)}
                for half, rs in sorted(halves.items())}
    summary["metrics"] = summary["systems"].get(primary, {})
    summary["failures"] = check_thresholds(summary["metrics"], suite.thresholds, by_system.get(primary, []))
    return summary


def primary_system(meta: dict) -> str:
    """The run's first system ("newsdesk" unless answerers were given)."""
    return (meta.get("systems") or ["newsdesk"])[0]


def check_thresholds(metrics: dict, thresholds: dict, records: list[dict]) -> list[dict]:
    """Metrics below their threshold (false_refusal_rate: above), with the questions that failed them."""
    failures = []
    for name, limit in thresholds.items():
        value = metrics.get(name)
        upper = name.endswith("false_refusal_rate")
        if value is None or (value > limit if upper else value < limit):
            key = _MEAN_SCORES.get(name)
            if key:
                failed = [r["id"] for r in records if key in r["scores"] and r["scores"][key] < 1]
            elif name == "refusal.recall":
                failed = [r["id"] for r in records if expects_refusal(r) and not r["scores"].get("refused")]
            else:
                failed = [r["id"] for r in records if not expects_refusal(r) and r["scores"].get("refused")]
            failures.append({"metric": name, "value": value, "threshold": limit, "questions": failed})
    return failures


def write_reports(run_dir: Path, suite: Suite, wall_seconds: float | None = None) -> dict:
    run_dir = Path(run_dir)
    summary = build_summary(run_dir, suite, wall_seconds)
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    charts = write_charts(run_dir, summary, load_results(run_dir))
    (run_dir / "report.md").write_text(render_markdown(summary, charts))
    return summary


def _table(rows: dict[str, dict], keys: list[str]) -> str:
    head = "| | " + " | ".join(keys) + " |\n|---|" + "---|" * len(keys) + "\n"
    body = ""
    for name, metrics in rows.items():
        body += f"| {name} | " + " | ".join(_fmt(metrics.get(k)) for k in keys) + " |\n"
    return head + body


def _fmt(value) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _keys(rows: dict[str, dict]) -> list[str]:
    keys: list[str] = []
    for metrics in rows.values():
        keys += [k for k in metrics if k not in keys]
    return keys


def render_markdown(summary: dict, charts: list[str]) -> str:
    lines = [f"# Evaluation: {summary['suite']} ({summary['mode']} mode)", "",
             f"Started {summary['started']}; wall time {summary['wall_seconds']:.1f} s." if summary["wall_seconds"] else "", ""]
    if summary.get("judge"):
        lines += [f"Judge: {summary['judge']} (agreement with hand labels: `python -m evals.judge_agreement`).", ""]
    headline = [k for k in HEADLINE if any(k in m for m in summary["systems"].values())]
    notes = [f"- {key}: {note}" if not note.startswith("refusal.*") else f"- {note}"
             for key, note in METRIC_NOTES.items() if key in headline]
    lines += ["## Systems side by side", "", _table(summary["systems"], headline), "",
              "What the metrics measure:", ""] + notes + [""]
    lines += ["## All metrics", "", _table(summary["systems"], _keys(summary["systems"])), ""]
    if summary.get("by_split"):
        halves = split_rows(summary)
        newest = any("right citing newest" in row for row in halves.values())
        columns = SPLIT_COLUMNS + (["right citing newest"] if newest else [])
        lines += ["## Tuning (odd ids) and held-out (even ids) halves", "", _table(halves, columns), ""]
    for system, types in summary["by_type"].items():
        for type_, metrics in types.items():
            lines += [f"## {system}: {type_}", "", _table({type_: metrics}, list(metrics)), ""]
    if summary["failures"]:
        lines += ["## Thresholds failed", ""]
        for f in summary["failures"]:
            lines.append(f"- {f['metric']} = {_fmt(f['value'])} (threshold {f['threshold']}); "
                         f"questions: {', '.join(f['questions'][:20])}")
    elif summary["thresholds"]:
        lines += ["## Thresholds", "", "All thresholds met: " + ", ".join(f"{k} {v}" for k, v in summary["thresholds"].items())]
    lines += ["", "## Charts", ""] + [f"![{c}]({c})" for c in charts]
    return "\n".join(lines) + "\n"


SPLIT_COLUMNS = ["truthfulness", "answerable right", "single", "multi", "temporal", "null refused", "wrong",
                 "gold in evidence", "gold cited", "first token p50/p95 s", "answer p50/p95 s"]


def split_rows(summary: dict) -> dict[str, dict]:
    """One row per system and half of archive-qa: truthfulness, accuracy per type, refusals, gold evidence, latency."""
    rows = {}
    for system, halves in summary.get("by_split", {}).items():
        for half, types in halves.items():
            every = types["all"]
            answerable = [t for name, t in types.items() if name not in ("all", "null")]
            asked = sum(t["questions"] for t in answerable)
            right = sum(t.get("answers.accuracy", 0) * t["questions"] for t in answerable)

            def seconds(stage: str) -> str | None:
                p50, p95 = every.get(f"latency.{stage}.p50_ms"), every.get(f"latency.{stage}.p95_ms")
                return f"{p50 / 1000:.1f} / {p95 / 1000:.1f}" if p50 is not None else None

            rows[f"{system} {half}"] = {
                "truthfulness": every.get("answers.truthfulness"),
                "answerable right": f"{round(right)}/{asked}" if asked else None,
                **{t: types[t].get("answers.accuracy") for t in ("single", "multi", "temporal") if t in types},
                "null refused": types.get("null", {}).get("refusal.recall"),
                "wrong": every.get("answers.wrong_rate"),
                "gold in evidence": every.get("answers.gold_in_evidence"),
                "gold cited": every.get("answers.gold_cited"),
                **({"right citing newest": every["answers.right_citing_newest"]}
                   if "answers.right_citing_newest" in every else {}),
                "first token p50/p95 s": seconds("first_token"), "answer p50/p95 s": seconds("total")}
    return rows


def _grouped_bars(plt, path: Path, columns: dict[str, dict], names: list[str], title: str) -> None:
    """One group of bars per metric, one bar per column (a question type, a system, a run)."""
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / max(len(columns), 1)
    for i, (label, metrics) in enumerate(columns.items()):
        ax.bar([x + i * width for x in range(len(names))], [metrics.get(n) or 0 for n in names], width, label=label)
    ax.set_xticks([x + width * (len(columns) - 1) / 2 for x in range(len(names))], names, fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_charts(run_dir: Path, summary: dict, records: list[dict], previous: dict | None = None) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    primary = summary.get("primary", "newsdesk")
    types = summary["by_type"].get(primary, {})
    if types:
        _grouped_bars(plt, run_dir / "metrics_by_type.png", types,
                      ["retrieval.hit@10", "retrieval.mrr@10", "answers.accuracy", "answers.token_f1",
                       "citations.verbatim", "refusal.recall"],
                      f"{primary}: metrics per question type")
        written.append("metrics_by_type.png")
    fig, ax = plt.subplots(figsize=(8, 4))
    for system in summary["systems"]:
        values = [r["timings_ms"]["total"] for r in records if r["system"] == system]
        if values:
            ax.hist(values, bins=30, alpha=0.6, label=system)
    ax.set_xlabel("ms per question (total)")
    ax.set_title("latency distribution")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(run_dir / "latency.png", dpi=100)
    plt.close(fig)
    written.append("latency.png")
    columns = dict(summary["systems"])
    if previous:
        columns["previous run"] = previous.get("metrics", {})
    _grouped_bars(plt, run_dir / "comparison.png", columns,
                  ["retrieval.hit@1", "retrieval.hit@10", "retrieval.mrr@10", "answers.accuracy", "answers.token_f1",
                   "answers.judged_correct", "citations.precision", "citations.judged_support"],
                  "side by side")
    written.append("comparison.png")
    return written


def compare(run_dir: Path, other_dir: Path) -> dict:
    """Metric deltas (this run minus the other) and the questions that got worse."""
    mine_summary = json.loads((Path(run_dir) / "summary.json").read_text())
    theirs_summary = json.loads((Path(other_dir) / "summary.json").read_text())
    mine, theirs = mine_summary["metrics"], theirs_summary["metrics"]
    deltas = {k: round(mine[k] - theirs[k], 4) for k in mine
              if isinstance(mine.get(k), (int, float)) and isinstance(theirs.get(k), (int, float))}
    ours, their_system = mine_summary.get("primary", "newsdesk"), theirs_summary.get("primary", "newsdesk")
    old = {r["id"]: r for r in load_results(other_dir) if r["system"] == their_system}
    worse = []
    for r in load_results(run_dir):
        if r["system"] != ours or r["id"] not in old:
            continue
        before = old[r["id"]]["scores"]
        lost = [k for k in ("hit@10", "accuracy", "token_f1", "judged_correct", "citation_verbatim",
                            "citation_judged_support", "citation_precision")
                if k in before and k in r["scores"] and r["scores"][k] < before[k]]
        if expects_refusal(r) and before.get("refused") and not r["scores"].get("refused"):
            lost.append("refusal")
        if not expects_refusal(r) and r["scores"].get("refused") and not before.get("refused"):
            lost.append("false refusal")
        if lost:
            worse.append({"id": r["id"], "question": r["question"], "worse": lost})
    return {"deltas": deltas, "worse": worse}
