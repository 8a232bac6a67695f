"""The harness end to end on real data: suites, results, reports, resume, compare, baselines."""

import json

import pytest

from evals.report import compare, load_results
from evals.runner import SuiteRun
from evals.suite import cases_for, load_suite

pytestmark = pytest.mark.slow  # every test runs whole evaluation suites: 3 to 25 s each on 2 busy cores


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
    assert summary["metrics"]["citations.verbatim"] == 1.0 and "latency.total.p95_ms" in summary["metrics"]
    assert "answers.token_f1" in summary["metrics"] and "answers.judged_correct" not in summary["metrics"]  # no judge
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


def test_answerers_side_by_side_with_a_judge(tmp_path, settings):
    """Two newsdesk answerers (extractive, and llm mode on the stub server) and the BM25 baseline in
    one run, graded by a judge: each system is scored apart, judged scores come only with the judge."""
    from evals.systems import llm_settings
    from tests.rag.llm_stub import StubLLM

    with StubLLM() as stub:
        home = settings.updated(llm_base_url=stub.url, llm_timeout=2.0, llm_max_retries=0)
        run_dir = SuiteRun(home, "seed", out=tmp_path / "run", limit=3, baselines=["bm25"],
                           answerers=["extractive", "remote:answer"], judge=llm_settings(home, "remote:answer")).run()
        models = {r["body"]["model"] for r in stub.requests}
    assert models == {"answer"}
    records = load_results(run_dir)
    assert {r["system"] for r in records} == {"newsdesk-extractive", "newsdesk-answer", "bm25"}
    summary = json.loads((run_dir / "summary.json").read_text())
    assert list(summary["systems"]) == ["newsdesk-extractive", "newsdesk-answer", "bm25"]
    assert summary["primary"] == "newsdesk-extractive" and summary["metrics"] == summary["systems"]["newsdesk-extractive"]
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["models"] == {"newsdesk-extractive": None, "newsdesk-answer": "answer"} and meta["judge"] == "answer"
    llm_rows = [r for r in records if r["system"] == "newsdesk-answer"]
    assert all(r["timings_ms"]["total"] > 0 and "judge_ms" in r for r in records)
    assert all(isinstance(r["notes"], list) for r in records)  # why an answer was withheld, kept for reading
    cited = [r for r in llm_rows if r["citations"]]
    assert cited and all("green cheese" not in r["answer"] for r in cited)  # the answerer's own check held
    for r in cited:
        checks = r["citation_checks"]
        assert len(checks) == len(r["citations"]) and all(c["verbatim"] and "judged_support" in c for c in checks)
    # the stub's verdicts repeat the quote's first words: no yes/no, so nothing was judged and all is counted
    answered = [r for r in records if r["gold_answers"] and not r["refused"]]
    assert answered and all(r["scores"].get("judge_unjudged", 0) >= 1 for r in answered)
    assert all(r["scores"]["judged_correct"] == 0.0 for r in records if r["gold_answers"] and r["refused"])
    report = (run_dir / "report.md").read_text()
    assert "citations.self_support" in report and "consistency check" in report and "judge.unjudged" in report
