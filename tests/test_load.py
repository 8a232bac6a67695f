"""Bounded load on the Python API (in-process, no network): 50 concurrent askers, zero errors, and every
ask came back as a cited answer or a refusal."""

import pytest

from evals.bench.load import run_load


@pytest.mark.slow
def test_fifty_concurrent_askers_zero_errors(desk, gold_settings):
    figures = run_load(gold_settings, askers=50, questions=100, desk=desk)
    print("\nload:", figures)
    assert figures["errors"] == 0, figures["error_samples"]
    # counted from what the asks returned: one answer per question asked, each cited or refused
    assert figures["answers"] == 100
    assert figures["cited_answers"] + figures["refusals"] == figures["answers"] and figures["uncited_answers"] == 0
    assert figures["cited_answers"] > 0  # the gold index answers RealTime QA questions: not all refused
    assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["wall_seconds"] * 1000 + 10  # + rounding
    assert figures["throughput_qps"] == pytest.approx(figures["answers"] / figures["wall_seconds"], rel=0.05)
