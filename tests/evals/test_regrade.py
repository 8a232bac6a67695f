"""A finished run graded again: the scores the runner wrote come back, asking no answerer again."""

import json

import pytest

from evals.regrade import regrade
from evals.report import load_results
from evals.runner import SuiteRun


@pytest.mark.slow  # a run of the seed suite: ~5 s
def test_a_run_graded_again_gets_the_runners_scores_back(tmp_path, settings, monkeypatch):
    run_dir = SuiteRun(settings, "seed", out=tmp_path / "run", mode="extractive").run()
    records = load_results(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    original = [r["scores"] for r in records]
    for record in records:  # scores from an older grader: all wrong
        record["scores"] = {"accuracy": -1.0}
    (run_dir / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))

    import rag.engine
    asked = []
    ask = rag.engine.NewsDesk.ask
    monkeypatch.setattr(rag.engine.NewsDesk, "ask", lambda self, q, **kw: asked.append(kw["mode"]) or ask(self, q, **kw))
    again = regrade(run_dir, settings)
    assert set(asked) == {"extractive"} and len(asked) == len({r["id"] for r in records})  # once a question
    graded = load_results(run_dir)
    assert [r["scores"] for r in graded] == original
    assert again["metrics"] == summary["metrics"] | {k: v for k, v in again["metrics"].items() if k.startswith("latency")}
    assert again["wall_seconds"] == summary["wall_seconds"]
