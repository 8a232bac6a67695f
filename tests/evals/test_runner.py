"""The harness end to end on real data: suites, results, reports, resume, compare, baselines."""

import json

import pytest

from evals.report import compare, load_results
from evals.runner import SuiteRun, pick_choice
from evals.suite import cases_for, list_suites, load_suite


def test_suites_are_declared():
    assert {"seed", "realtimeqa", "realtimeqa-gold", "rgb-counterfactual", "reindex"} <= set(list_suites())
    realtimeqa = cases_for(load_suite("realtimeqa"))
    types = {c.type for c in realtimeqa}
    assert types == {"open", "multiple-choice", "nota", "unanswerable"}
    assert sum(c.type == "open" for c in realtimeqa) == 206
    assert all(c.as_of and c.gold_article_ids for c in realtimeqa if c.type == "open")
    rgb = cases_for(load_suite("rgb-counterfactual"))
    assert len(rgb) == 100 and all(c.fake_answers for c in rgb)
    with pytest.raises(ValueError, match="no suite"):
        load_suite("nope")


def test_pick_choice():
    choices = ["Europe", "North America", "None of the above"]
    assert pick_choice("European regulators: Europe will require USB-C [1].", [], choices) == "Europe"
    assert pick_choice("", ["Lawmakers in North America debated."], choices) == "North America"
    assert pick_choice("", ["Nothing relevant."], choices) == "None of the above"


def test_seed_suite_run_resume_and_compare(tmp_path, settings):
    out = tmp_path / "run"
    run_dir = SuiteRun(settings, "seed", out=out, baselines=["bm25"]).run()
    records = load_results(run_dir)
    assert {r["system"] for r in records} == {"newsdesk", "bm25"}
    assert len([r for r in records if r["system"] == "newsdesk"]) == len(cases_for(load_suite("seed")))
    first = records[0]
    assert {"question", "gold_answers", "answer", "citations", "retrieved", "scores", "timings_ms"} <= set(first)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert set(summary["systems"]) == {"newsdesk", "bm25"}
    assert summary["metrics"]["citations.validity"] == 1.0 and "latency.total.p95_ms" in summary["metrics"]
    report = (run_dir / "report.md").read_text()
    assert "Systems side by side" in report and "newsdesk: answerable" in report
    for chart in ("metrics_by_type.png", "latency.png", "comparison.png"):
        assert (run_dir / chart).read_bytes()[:4] == b"\x89PNG"

    # a crash after some questions: the cut line is dropped and nothing finished is redone
    lines = (run_dir / "results.jsonl").read_text().splitlines()
    (run_dir / "results.jsonl").write_text("\n".join(lines[:5]) + "\n" + lines[5][:40])
    seen = []
    SuiteRun(settings, "seed", out=out, baselines=["bm25"], on_progress=lambda d, t, label: seen.append(label)).run()
    assert len([s for s in seen if ":" in s]) == len(lines) - 5
    assert len(load_results(run_dir)) == len(lines)

    other = SuiteRun(settings, "seed", out=tmp_path / "other").run()
    delta = compare(other, run_dir)
    assert delta["deltas"]["answers.accuracy"] == 0.0 and delta["worse"] == []


def test_reindex_suite_follows_the_index(tmp_path, settings):
    run_dir = SuiteRun(settings, "reindex", out=tmp_path / "run").run()
    steps = {r["id"]: r for r in load_results(run_dir)}
    assert steps["reindex-1-before"]["refused"]
    assert "scrap the toll" in steps["reindex-2-added"]["answer"] and steps["reindex-2-added"]["citations"]
    changed = steps["reindex-3-changed"]
    assert "double the toll" in changed["answer"] and "scrap" not in changed["answer"]
    assert all("scrap" not in c["quote"] for c in changed["citations"])  # no stale citation
    assert steps["reindex-4-deleted"]["refused"] and not steps["reindex-4-deleted"]["citations"]


def test_rgb_counterfactual_suite_scores_conflicts(tmp_path, settings):
    run_dir = SuiteRun(settings, "rgb-counterfactual", out=tmp_path / "run", limit=8).run()
    records = load_results(run_dir)
    assert len(records) == 8
    assert all({"repeats_fake", "flags_conflict"} <= set(r["scores"]) for r in records)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert "counterfactual.flags_conflict" in summary["metrics"]
