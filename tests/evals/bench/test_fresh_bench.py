"""``newsdesk bench fresh`` run tiny: a real base index of RealTime QA articles, a real writer process that
keyword-commits and embeds as the watcher does, a paced asker; the figures are checked against what the
benchmark counted itself (no timing assertions)."""

from __future__ import annotations

import pytest

from evals.bench.fresh import run_fresh
from settings import Settings


@pytest.mark.slow  # a base of 20 articles, a writer process, 15 s of arrivals: about a minute
def test_a_tiny_fresh_bench_indexes_every_arrival_and_drains(tmp_path, datasets):
    settings = Settings(_env_file=None, home=tmp_path / "unused")
    figures = run_fresh(settings, minutes=0.25, rate=1.0, base=20, work=tmp_path / "work", drain_seconds=120,
                        quiet_questions=3, question_interval=2.0)
    assert figures["base_articles"] == 20 and figures["stream"].startswith("15 articles at 1/s")
    assert figures["not_indexed"] == 0 and figures["queue_drained"] is True
    assert figures["keyword_answerable_p50_s"] <= figures["keyword_answerable_p95_s"]
    assert figures["embedded_p50_s"] <= figures["embedded_p95_s"]
    assert figures["keyword_answerable_p50_s"] <= figures["embedded_p50_s"]  # keyword first, vectors after
    # paced: at most one question every 2 s of a 15 s stream (back to back, a question takes well under 2 s)
    assert 1 <= figures["queries_during_stream"] <= 8 and figures["question_interval_s"] == 2.0
    assert not (tmp_path / "unused").exists()  # the bench never touches the configured index
