"""``newsdesk bench api`` run tiny: real uvicorn servers on 127.0.0.1 over a copy of a real index (and, on the
PostgreSQL side, a real PostgreSQL and Chroma server), real httpx clients; the figures are checked against
what the benchmark counted itself and against each other (no timing assertions)."""

from __future__ import annotations

import math
import os

import pytest

from cli import main
from evals.bench.api import format_api_bench, run_api_bench
from evals.bench.api_cpu import P95_FACTOR, STAGES, THROUGHPUT_SHARE
from index.catalog import Catalog
from index.sync import Indexer
from settings import Settings


def _indexed(tmp_path, seed_file, embedder) -> Settings:
    settings = Settings(_env_file=None, home=tmp_path / "home")
    indexer = Indexer(settings, embedder=embedder)
    indexer.sync([seed_file])
    indexer.close()
    return settings


def _counted(phase: dict, requests: int) -> None:
    assert phase["requests"] == phase["ok"] + phase["errors"] == requests, phase
    assert phase["errors"] == 0, phase["error_samples"]
    assert phase["p50_ms"] <= phase["p95_ms"]
    assert phase["cpu_ms_per_request"] > 0 and phase["client_cpu_ms_per_request"] >= 0
    # the cores the metered processes used: their CPU over the phase's wall time, each figure as printed (CPU to
    # 0.1 ms a request, wall to 0.01 s: a phase of a fraction of a second moves by several percent in rounding)
    cpu = phase["cpu_ms_per_request"] * requests / 1000
    spread = 0.05 * requests / 1000
    wall = phase["wall_seconds"]
    low, high = (cpu - spread) / (wall + 0.005), (cpu + spread) / max(wall - 0.005, 1e-6)
    assert low - 0.005 <= phase["cores_used"] <= high + 0.005, (phase["cores_used"], low, high)


def _bound_follows_the_cpu(run: dict, clients: int, cores: int) -> None:
    """The bound is computed from the CPU measured over HTTP; pass is the three conditions together."""
    http, inner, bound = run["cpu"]["http"], run["cpu"]["in_process"], run["bound"]
    assert http["total_ms"] == pytest.approx(sum(http["cpu_ms"].values()), abs=0.05) and http["total_ms"] > 0
    assert bound["cpu_ms_per_search"] == pytest.approx(http["total_ms"], abs=0.1)
    cpu_s = http["total_ms"] / 1000
    assert bound["bound_rps"] == pytest.approx(cores / cpu_s, rel=0.01)
    assert bound["target_rps"] == pytest.approx(THROUGHPUT_SHARE * cores / cpu_s, rel=0.01)
    assert bound["bound_p95_ms"] == pytest.approx(clients * cpu_s / cores * 1000, rel=0.01)
    assert bound["target_p95_ms"] == pytest.approx(P95_FACTOR * bound["bound_p95_ms"], rel=0.01)
    search = run["search"]
    assert (bound["measured_rps"], bound["measured_p95_ms"], bound["errors"]) == \
        (search["throughput_rps"], search["p95_ms"], search["errors"])
    assert bound["throughput_pass"] == (bound["measured_rps"] >= bound["target_rps"])
    assert bound["p95_pass"] == (bound["measured_p95_ms"] <= bound["target_p95_ms"])
    assert bound["pass"] == (bound["throughput_pass"] and bound["p95_pass"] and bound["errors"] == 0)
    assert bound["cores_used"] == search["cores_used"]
    assert bound["bound_rps_on_cores_used"] == pytest.approx(search["cores_used"] / cpu_s, rel=0.01)
    # the stages are the parts of the in-process figure, and HTTP is what the server spent beyond it
    assert set(inner["stages_ms"]) == set(STAGES) | {"fusion and the rest"}
    assert sum(inner["stages_ms"].values()) == pytest.approx(inner["in_process_ms"], abs=0.1)
    assert inner["stages_ms"]["embedding"] > 0 and inner["stages_ms"]["bm25"] > 0
    assert http["http_and_json_ms"] == pytest.approx(http["cpu_ms"]["servers"] - inner["in_process_ms"], abs=0.05)


@pytest.mark.slow  # PostgreSQL, a Chroma server, five server processes: under a minute on 2 busy cores
def test_a_tiny_api_bench_on_both_catalogs_counts_every_request_against_the_bound(tmp_path, seed_file, embedder):
    settings = _indexed(tmp_path, seed_file, embedder)

    figures = run_api_bench(settings, chat_clients=3, stream_clients=3, search_clients=4, requests=6, phase_s=120,
                            writers=1, write_interval_s=0.5, work=tmp_path, cpu_searches=3)

    assert figures["cores"] == len(os.sched_getaffinity(0))
    assert len(figures["load_average_before"]) == len(figures["load_average_after"]) == 3
    sqlite, postgres = figures["sqlite"], figures["postgres"]
    for name in ("search", "chat", "stream"):
        _counted(sqlite[name], 6)
    for name in ("search", "chat"):
        _counted(postgres[name], 6)
    assert "stream" not in postgres and postgres["servers"] == 2 and sqlite["servers"] == 1
    for run in (sqlite, postgres):
        _bound_follows_the_cpu(run, 4, figures["cores"])
        assert run["cpu"]["http"]["searches"] == run["cpu"]["in_process"]["searches"] == 3
        writes = run["writes"]
        assert writes["ok"] >= 1 and writes["requests"] == writes["ok"] + writes["errors"]
    # on PostgreSQL the catalog's and Chroma's own processes are metered too
    assert set(postgres["cpu"]["http"]["cpu_ms"]) == {"servers", "PostgreSQL", "Chroma server"}
    assert set(postgres["cpu"]["in_process"]["remote_ms"]) == {"PostgreSQL", "Chroma server"}
    assert set(sqlite["cpu"]["http"]["cpu_ms"]) == {"servers"}
    assert postgres["loaded"]["articles"] == 1 and postgres["loaded"]["vectors_embedded"] == 0  # vectors reused
    assert postgres["loaded"]["vectors_reused"] == postgres["loaded"]["chunks"] > 0
    assert figures["errors"] == sqlite["errors"] + postgres["errors"] == 0
    table = format_api_bench(figures)
    assert "| sqlite | chat | 3 | 6 | 6 | 0 |" in table and "| postgres | search | 4 | 6 | 6 | 0 |" in table
    assert "errors in all: 0" in table and not math.isnan(sqlite["bound"]["bound_rps"])

    catalog = Catalog(settings.index.catalog_path, read_only=True)  # the writers wrote into the copy only
    try:
        assert catalog.counts().articles == 1
    finally:
        catalog.close()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("newsdesk-bench-api-")]  # the copy is gone


@pytest.mark.slow  # a server with two uvicorn workers: writes in one are seen by the other
def test_a_tiny_api_bench_with_two_workers_counts_every_request(tmp_path, seed_file, embedder):
    settings = _indexed(tmp_path, seed_file, embedder)

    figures = run_api_bench(settings, chat_clients=3, stream_clients=3, search_clients=3, requests=6, phase_s=120,
                            writers=1, write_interval_s=0.5, work=tmp_path, server_workers=2, cpu_searches=2,
                            postgres=False)

    assert "postgres" not in figures
    sqlite = figures["sqlite"]
    for name in ("search", "chat", "stream"):
        _counted(sqlite[name], 6)
    _bound_follows_the_cpu(sqlite, 3, figures["cores"])
    assert sqlite["workers"] == 2
    assert figures["errors"] == 0


def test_bench_api_refuses_an_empty_home(tmp_path, capsys, monkeypatch):
    for key in [k for k in os.environ if k.startswith("NEWSDESK_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("NEWSDESK_HOME", str(tmp_path / "empty"))
    monkeypatch.chdir(tmp_path)
    code = main(["bench", "api", "--requests", "2", "--json"])
    assert code != 0
    assert "No articles are indexed" in capsys.readouterr().err
