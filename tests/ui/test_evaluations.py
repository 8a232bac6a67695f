"""The Evaluations page (ui/pages/evaluations.py) driven by AppTest on real runs of the seed suite: run,
view, browse and compare runs; article content as text; errors as messages; resuming a run."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from evals.report import write_reports
from evals.runner import corpus_settings
from errors import RunInProgress
from evals.runs import RUNNING_MARKER, claim_run, run_in_progress
from evals.suite import load_suite
from index.sync import index_lock
from settings import Settings
from tests.helpers import HOSTILE, PAYLOADS, SEED_TITLE, TIMEOUT, all_text, new_session, unescaped
from ui.render import escape_md


EVAL_TIMEOUT = 300  # a run of the seed suite (limit 3) on a busy machine


def eval_runs(home: Path) -> list[Path]:
    folder = home / "evals" / "runs"
    return sorted(p for p in folder.iterdir() if (p / "summary.json").exists()) if folder.is_dir() else []


def start_eval_run(at: AppTest, suite: str = "seed", limit: int = 3, baselines: list[str] | None = None) -> AppTest:
    at.sidebar.selectbox(key="eval_suite").set_value(suite)
    at.sidebar.number_input(key="eval_limit").set_value(limit)
    at.sidebar.multiselect(key="eval_baselines").set_value(baselines or [])
    at.sidebar.button(key="eval_run_button").click()
    at.run(timeout=EVAL_TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    return at


def questions_table(at: AppTest):
    return next(d.value for d in at.dataframe if "question" in d.value.columns and "answer" in d.value.columns)


@pytest.mark.slow  # two evaluation runs through the app: ~5 s
def test_evaluations_run_a_suite_view_it_browse_questions_and_compare_runs(tmp_path, use_home):
    home = use_home(tmp_path / "home")
    at = new_session("evaluations")
    assert [t.value for t in at.title] == ["Evaluations"]
    assert any("No finished run yet" in i.value for i in at.info)
    assert any("North Korea missile launch" in c.value for c in at.sidebar.caption)  # the suite's description
    at.sidebar.multiselect(key="eval_baselines").set_value(["llamaindex"]).run(timeout=TIMEOUT)
    assert any("llama-index baseline is slow" in w.value for w in at.sidebar.warning)  # allowed, with a warning

    # run the seed suite, 3 questions per type, with the BM25 baseline
    start_eval_run(at, baselines=["bm25"])
    runs = eval_runs(home)
    assert len(runs) == 1
    first = runs[0]
    assert any(f"Run {first.name} finished" in s.value.replace("\\", "") for s in at.success)
    summary = json.loads((first / "summary.json").read_text())
    assert set(summary["systems"]) == {"newsdesk", "bm25"}
    assert at.selectbox(key="eval_run").value == first.name

    # summary: headline metrics, newsdesk beside the baseline, per-type tables, charts, thresholds
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Accuracy"] == f"{summary['metrics']['answers.accuracy']:.3f}"
    assert metrics["Hit@10"] == f"{summary['metrics']['retrieval.hit@10']:.3f}"
    systems = at.dataframe[0].value
    assert list(systems.columns) == ["metric", "newsdesk", "bm25"]
    accuracy = systems[systems["metric"] == "answers.accuracy"].iloc[0]
    assert accuracy["newsdesk"] == summary["systems"]["newsdesk"]["answers.accuracy"]
    assert accuracy["bm25"] == summary["systems"]["bm25"]["answers.accuracy"]
    per_type = [d.value for d in at.dataframe if list(d.value.columns) == ["metric", "answerable", "unanswerable"]]
    assert len(per_type) == 2  # newsdesk and bm25
    questions_row = per_type[0][per_type[0]["metric"] == "questions"].iloc[0]
    assert (questions_row["answerable"], questions_row["unanswerable"]) == (3, 3)
    assert len(at.get("image")) == 3
    assert [t.label for t in at.tabs] == ["newsdesk", "bm25", "Metrics by type", "Latency", "Side by side"]
    errors = [e.value for e in at.error]
    for failure in summary["failures"]:  # every failed threshold, with its questions
        assert any(escape_md(failure["metric"]) in e and "Threshold failed" in e for e in errors), errors
    if not summary["failures"]:
        assert any("All thresholds met" in s.value for s in at.success)

    # per-question results: newsdesk's six answers, one shown in full with its citations and retrieved articles
    table = questions_table(at)
    assert len(table) == 6 and set(table["type"]) == {"answerable", "unanswerable"}
    records = [json.loads(line) for line in (first / "results.jsonl").read_text().splitlines()]
    shown = next(r for r in records if r["system"] == "newsdesk" and r["id"] == table["id"][0])
    texts = all_text(at)
    assert escape_md(shown["question"]) in "\n".join(texts)
    assert any(t.startswith("**Gold answer:**") and escape_md(shown["gold_answers"][0]) in t for t in texts)
    if shown["citations"]:
        assert any(t.startswith("> :orange-background[") for t in texts)  # the quote
        assert any(SEED_TITLE in t and ":blue-badge[1]" in t for t in texts)
    retrieved = next(d.value for d in at.dataframe if list(d.value.columns)[:3] == ["rank", "title", "gold"])
    assert retrieved["title"][0] == SEED_TITLE

    # filters: the baseline's answers, then only the unanswerable questions
    at.selectbox(key="eval_filter_system").set_value("bm25").run(timeout=TIMEOUT)
    assert len(questions_table(at)) == 6
    at.multiselect(key="eval_filter_types").set_value(["unanswerable"]).run(timeout=TIMEOUT)
    table = questions_table(at)
    assert len(table) == 3 and set(table["type"]) == {"unanswerable"} and set(table["gold"]) == {"(refuse)"}
    assert any("it should be refused" in t for t in all_text(at))  # no gold answer: a refusal is right
    assert any(c.value == "3 of 6 questions" for c in at.caption)
    assert any("Run a suite again to compare" in c.value for c in at.caption)

    # a second run (newsdesk alone) becomes the one shown; the first is still listed and can be selected
    start_eval_run(at)
    runs = eval_runs(home)
    assert len(runs) == 2
    second = next(r for r in runs if r != first)
    picker = at.selectbox(key="eval_run")
    assert picker.value == second.name and len(picker.options) == 2
    assert picker.options[1].startswith(f"{first.name} · extractive mode · newsdesk + bm25 · limit 3 per type")
    assert list(at.dataframe[0].value.columns) == ["metric", "newsdesk"]
    picker.set_value(first.name).run(timeout=TIMEOUT)
    assert not at.exception
    assert list(at.dataframe[0].value.columns) == ["metric", "newsdesk", "bm25"]

    # compare the two runs: same answers, no deltas, nothing worse
    at.selectbox(key="eval_compare").set_value(second.name).run(timeout=TIMEOUT)
    deltas = next(d.value for d in at.dataframe if "delta" in d.value.columns)
    accuracy = deltas[deltas["metric"] == "answers.accuracy"].iloc[0]
    assert accuracy["delta"] == 0 and accuracy["change"] == "same"
    assert any("No question got worse" in s.value for s in at.success)

    # a run where one answer lost its accuracy: compared with the first, that question is listed as worse
    worse_dir = first.parent / "seed-20990101-000000"
    worse_dir.mkdir()
    (worse_dir / "run.json").write_text((first / "run.json").read_text().replace(summary["started"],
                                                                                 "2099-01-01T00:00:00+00:00"))
    target = next(r["id"] for r in records if r["system"] == "newsdesk" and r["scores"].get("accuracy") == 1.0)
    lines = []
    for record in records:
        if record["system"] == "newsdesk" and record["id"] == target:
            record["scores"]["accuracy"] = 0.0
        lines.append(json.dumps(record))
    (worse_dir / "results.jsonl").write_text("\n".join(lines) + "\n")
    write_reports(worse_dir, load_suite("seed"))
    at.run(timeout=TIMEOUT)
    at.selectbox(key="eval_run").set_value(worse_dir.name).run(timeout=TIMEOUT)
    at.selectbox(key="eval_compare").set_value(first.name).run(timeout=TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    deltas = next(d.value for d in at.dataframe if "delta" in d.value.columns)
    accuracy = deltas[deltas["metric"] == "answers.accuracy"].iloc[0]
    assert accuracy["delta"] < 0 and accuracy["change"] == "worse"
    worse = next(d.value for d in at.dataframe if list(d.value.columns) == ["id", "question", "worse"])
    assert list(worse["id"]) == [target] and worse["worse"][0] == "accuracy"
    assert any("Questions that got worse (1)" in m.value for m in at.markdown)


def test_evaluations_show_article_content_as_text(tmp_path, use_home):
    """A run's questions, answers, quotes and titles are data: escaped, never HTML or links."""
    home = use_home(tmp_path / "home")
    run_dir = home / "evals" / "runs" / "seed-20240101-000000"
    run_dir.mkdir(parents=True)
    (run_dir / "run.json").write_text(json.dumps({"suite": "seed", "mode": "extractive", "systems": ["newsdesk"],
                                                  "limit": None, "cases": 1, "started": "2024-01-01T00:00:00+00:00",
                                                  "llm_model": None}))
    record = {"system": "newsdesk", "id": "evil-1", "type": "answerable",
              "question": "What did <script>alert(1)</script> say?",
              "gold_answers": ["![x](https://attacker.example/?q=1)"],
              "gold_article_ids": ["a1"], "as_of": None, "answer": "It said <img src=x onerror=alert(1)> [1].",
              "refused": False,
              "citations": [{"n": 1, "article_id": "a1", "title": HOSTILE["title"], "source": HOSTILE["source"],
                             "url": HOSTILE["url"], "published_at": "2022-06-01",
                             "quote": "[click](javascript:alert(1)) here", "start": 0, "end": 34}],
              "retrieved": [{"article_id": "a1", "url": HOSTILE["url"], "title": HOSTILE["title"], "score": 1.0}],
              "scores": {"refused": 0.0, "hit@10": 1.0, "accuracy": 1.0, "citation_validity": 1.0},
              "timings_ms": {"retrieve": 1.0, "answer": 2.0, "total": 3.0}, "usage": None}
    (run_dir / "results.jsonl").write_text(json.dumps(record) + "\n")
    write_reports(run_dir, load_suite("seed"))

    at = new_session("evaluations")
    joined = "\n".join(all_text(at))
    for payload in PAYLOADS:
        assert payload not in joined
        assert payload in unescaped(joined), payload
    assert "](javascript" not in joined and "javascript:alert" not in joined
    retrieved = next(d.value for d in at.dataframe if "rank" in d.value.columns)
    assert retrieved["link"][0] is None  # no javascript: link in the table either
    assert not at.html
    for element in list(at.markdown) + list(at.caption):
        assert element.proto.allow_html is False


def test_evaluations_errors_are_messages(tmp_path, use_home):
    # the datasets are missing: the suite says so and cannot be started
    use_home(tmp_path / "home", NEWSDESK_DATASETS=str(tmp_path / "no-datasets"))
    at = new_session("evaluations")
    assert any("data of the suite" in e.value and "NEWSDESK\\_DATASETS" in e.value for e in at.sidebar.error)
    assert at.sidebar.button(key="eval_run_button").disabled

    # the suite's corpus index is being written by another process: one readable error, no traceback
    home = use_home(tmp_path / "home")
    at = new_session("evaluations")
    busy = corpus_settings(Settings(_env_file=None, home=home), load_suite("seed"))
    with index_lock(busy):
        start_eval_run(at)
    assert any("being written by another process" in e.value for e in at.error), [e.value for e in at.error]
    assert not (home / "evals" / "runs").exists() or list((home / "evals" / "runs").iterdir()) == []
    assert any("No finished run yet" in i.value for i in at.info)

    # damaged run folders: an unreadable summary is listed as such; a bad results file is one message
    runs = home / "evals" / "runs"
    (runs / "seed-broken").mkdir(parents=True)
    (runs / "seed-broken" / "summary.json").write_text("{not json")
    damaged = runs / "seed-20240101-000000"
    damaged.mkdir()
    (damaged / "run.json").write_text(json.dumps({"suite": "seed", "mode": "extractive", "systems": ["newsdesk"],
                                                  "limit": None, "started": "2024-01-01T00:00:00+00:00"}))
    (damaged / "summary.json").write_text(json.dumps({"suite": "seed", "mode": "extractive",
                                                      "started": "2024-01-01T00:00:00+00:00", "systems": {},
                                                      "by_type": {}, "metrics": {}, "failures": []}))
    (damaged / "results.jsonl").write_text('{"no": "system"}\n')
    at = new_session("evaluations")
    assert at.selectbox(key="eval_run").value == damaged.name
    assert any("Unreadable run folders" in c.value and "seed\\-broken" in c.value for c in at.caption)
    assert any("could not be shown" in e.value for e in at.error), [e.value for e in at.error]
    assert any("Compare two runs" == h.value for h in at.subheader)  # the page goes on after the damaged part


def test_evaluations_resume_an_unfinished_run(tmp_path, use_home):
    home = use_home(tmp_path / "home")
    unfinished = home / "evals" / "runs" / "seed-20240101-000000"
    unfinished.mkdir(parents=True)  # as a run stopped before its first answer leaves it
    (unfinished / "run.json").write_text(json.dumps({"suite": "seed", "mode": "extractive", "systems": ["newsdesk"],
                                                     "limit": 1, "cases": 2, "started": "2024-01-01T00:00:00+00:00",
                                                     "llm_model": None}))
    at = new_session("evaluations")
    assert any(e.label == "Unfinished runs (1)" for e in at.sidebar.expander)
    assert at.sidebar.selectbox(key="eval_resume").value == unfinished.name
    at.sidebar.button(key="eval_resume_button").click()
    at.run(timeout=EVAL_TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    assert eval_runs(home) == [unfinished]
    assert any(f"Run {unfinished.name} finished" in s.value.replace("\\", "") for s in at.success)
    assert len(questions_table(at)) == 2  # one question of each type, as the run was started
    assert not any(e.label.startswith("Unfinished runs") for e in at.sidebar.expander)


def test_a_run_in_progress_is_not_offered_for_resuming_and_a_stale_one_is(tmp_path, use_home):
    home = use_home(tmp_path / "home")
    unfinished = home / "evals" / "runs" / "seed-20240101-000000"
    unfinished.mkdir(parents=True)
    (unfinished / "run.json").write_text(json.dumps({"suite": "seed", "mode": "extractive", "systems": ["newsdesk"],
                                                     "limit": 1, "cases": 2, "started": "2024-01-01T00:00:00+00:00",
                                                     "llm_model": None}))
    marker = unfinished / RUNNING_MARKER
    with claim_run(unfinished):  # this (live) process is writing the run: another session sees it as busy
        assert run_in_progress(unfinished) and json.loads(marker.read_text())["pid"] == os.getpid()
        at = new_session("evaluations")
        assert not at.sidebar.error and at.sidebar.button(key="eval_run_button")  # the controls are all there
        assert not any(e.label.startswith("Unfinished runs") for e in at.sidebar.expander)
        with pytest.raises(RunInProgress):
            with claim_run(unfinished):
                pass
    assert not marker.exists() and not run_in_progress(unfinished)
    assert sorted(p.name for p in unfinished.iterdir()) == ["run.json"]  # no marker or draft left

    # a marker left by a process that has ended is stale: the run can be resumed, and the marker is replaced
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                           check=True)
    marker.write_text(json.dumps({"pid": int(ended.stdout), "host": socket.gethostname()}))
    assert not run_in_progress(unfinished)
    at = new_session("evaluations")
    assert any(e.label == "Unfinished runs (1)" for e in at.sidebar.expander)
    with claim_run(unfinished):
        assert json.loads(marker.read_text())["pid"] == os.getpid()
    assert not marker.exists()
