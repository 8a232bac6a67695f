"""Bounded load on the Python API (in-process, no network): 50 concurrent askers, zero errors."""

import pytest

from evals.bench_load import run_load


@pytest.mark.slow
def test_fifty_concurrent_askers_zero_errors(desk, gold_settings):
    figures = run_load(gold_settings, askers=50, questions=100, desk=desk)
    print("\nload:", figures)
    assert figures["errors"] == 0, figures["error_samples"]
    assert figures["questions"] == 100 and figures["throughput_qps"] > 0 and figures["p95_ms"] >= figures["p50_ms"]
