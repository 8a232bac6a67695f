"""``newsdesk bench api`` run tiny: a real uvicorn server on 127.0.0.1 over a copy of a real index, real httpx
clients; the figures are checked against what the benchmark counted itself (no timing assertions)."""

from __future__ import annotations

import os

import pytest

from cli import main
from evals.bench.api import format_api_bench, run_api_bench
from index.catalog import Catalog
from index.sync import Indexer
from settings import Settings


@pytest.mark.slow  # a server process and three phases: about a minute on 2 busy cores
@pytest.mark.parametrize("workers", [1, 2])  # 2: uvicorn's worker processes, writes in one seen by the other
def test_a_tiny_api_bench_counts_every_request_and_leaves_the_index_alone(tmp_path, seed_file, embedder, workers):
    settings = Settings(_env_file=None, home=tmp_path / "home")
    indexer = Indexer(settings, embedder=embedder)
    indexer.sync([seed_file])
    indexer.close()

    figures = run_api_bench(settings, chat_clients=3, stream_clients=3, search_clients=3, requests=6, phase_s=120,
                            writers=1, write_interval_s=0.5, work=tmp_path, server_workers=workers)

    for name in ("search", "chat", "stream"):
        phase = figures[name]
        assert phase["requests"] == phase["ok"] + phase["errors"] == 6, (name, phase)
        assert phase["errors"] == 0, phase["error_samples"]
        assert phase["p50_ms"] <= phase["p95_ms"]
    assert figures["stream"]["first_text_p50_ms"] <= figures["stream"]["first_text_p95_ms"]
    writes = figures["writes"]
    assert writes["ok"] >= 2 and writes["requests"] == writes["ok"] + writes["errors"]  # one per phase at least
    assert figures["errors"] == 0
    table = format_api_bench(figures)
    assert "| chat | 3 | 6 | 6 | 0 |" in table and "errors in all: 0" in table

    catalog = Catalog(settings.index.catalog_path, read_only=True)  # the writers wrote into the copy only
    try:
        assert catalog.counts().articles == 1
    finally:
        catalog.close()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("newsdesk-bench-api-")]  # the copy is gone


def test_bench_api_refuses_an_empty_home(tmp_path, capsys, monkeypatch):
    for key in [k for k in os.environ if k.startswith("NEWSDESK_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("NEWSDESK_HOME", str(tmp_path / "empty"))
    monkeypatch.chdir(tmp_path)
    code = main(["bench", "api", "--requests", "2", "--json"])
    assert code != 0
    assert "No articles are indexed" in capsys.readouterr().err
