"""``newsdesk bench api``: the HTTP API under load over real HTTP on 127.0.0.1, against the bound its CPU sets.

The app (``api.app.create_app``) runs under uvicorn in child processes on free ports, on a copy of the index in
NEWSDESK_HOME (writers add articles during the run, and the index under test must not be yours). Two
deployments are measured in one run, on the same machine:

- ``sqlite``: one server (``server_workers`` uvicorn workers) on the copy: the SQLite catalog and the embedded
  Chroma store;
- ``postgres``: the copy's articles indexed into a fresh PostgreSQL schema and a Chroma server, both started
  here on 127.0.0.1 (``evals.bench.api_pg``), and two servers reading them, as two hosts would.

For each: the CPU one search costs, stage by stage in the server's process before it serves
(``evals.bench.api_cpu``) and then over HTTP, one search after another (every process the search touches,
metered from /proc);
then, on fresh servers again (no question's vector cached), the phases of ``evals.bench.api_load``: search
(``search_clients`` at once), extractive chat (``chat_clients``, with writers) and, on SQLite, streaming.
The search phase is set against the bound: throughput >= 0.8 x cores / CPU-s per search, p95 <= 1.5 x
(clients x CPU-s per search / cores), no error. Each phase asks the RealTime QA questions in a seeded
shuffle, each once until all have been asked (206).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import shutil
import socket
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from errors import BadInput
from evals.bench.api_cpu import CpuMeter, against_bound, breakdown, cores
from evals.bench.api_load import calibrate, drive
from evals.bench.api_pg import PG_BIN, Servers, copy_to_postgres
from evals.datasets import realtimeqa_questions
from settings import Settings

# The server's per-client rate limit is lifted for the run: every bench client is one address (127.0.0.1),
# and the default (120 a minute) would answer most of them 429.
_RATE = 10_000_000


def run_api_bench(settings: Settings, chat_clients: int = 50, stream_clients: int = 20, search_clients: int = 20,
                  requests: int = 200, phase_s: float = 120.0, writers: int = 2, write_interval_s: float = 2.0,
                  seed: int = 7, work: Path | None = None, server_workers: int = 1, cpu_searches: int = 40,
                  postgres: bool = True, pg_bin: Path | None = None, on_progress=None) -> dict:
    """Both deployments against copies of the index in ``settings``; returns the figures. ``postgres``: also
    the PostgreSQL deployment (skipped, and said so, where PostgreSQL's binaries are missing)."""
    if settings.index.server_mode:
        raise BadInput("`newsdesk bench api` copies the embedded index it measures; unset NEWSDESK_CHROMA_HOST.")
    if not settings.index.catalog_path.exists():
        raise BadInput(f"No articles are indexed in {settings.index.home}: run `newsdesk index PATH` first.")
    say = on_progress or (lambda text: None)
    pg_bin = pg_bin or PG_BIN
    questions = [q.question for q in realtimeqa_questions()] or ["What happened?"]
    sample = random.Random(seed).sample(questions, min(cpu_searches, len(questions)))
    load = dict(requests=requests, phase_s=phase_s, writers=writers, write_interval_s=write_interval_s, seed=seed)
    folder = Path(tempfile.mkdtemp(prefix="newsdesk-bench-api-", dir=work))
    figures: dict = {"cores": cores(), "load_average_before": [round(x, 2) for x in os.getloadavg()]}
    try:
        copy = copy_index(settings, folder / "home")
        pristine = folder / "articles.sqlite"  # what the PostgreSQL deployment starts from: no writer's article
        _backup(copy, pristine)
        say(f"index copied to {copy.index.home}")
        figures["sqlite"] = _deployment([copy], server_workers, {}, questions, sample,
                                        {"search": search_clients, "chat": chat_clients, "stream": stream_clients},
                                        load, say)
        if postgres and not Servers.available(pg_bin):
            figures["postgres"] = {"skipped": f"PostgreSQL's binaries are not in {pg_bin}"}
        elif postgres:
            figures["postgres"] = _on_postgres(copy, pristine, folder, pg_bin, questions, sample,
                                               {"search": search_clients, "chat": chat_clients}, load, say)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    figures["errors"] = sum(figures[d]["errors"] for d in ("sqlite", "postgres") if "errors" in figures.get(d, {}))
    return figures


def _on_postgres(copy: Settings, pristine: Path, folder: Path, pg_bin: Path, questions, sample, clients, load,
                 say) -> dict:
    servers = Servers(pg_bin)
    try:
        servers.start()
        say(f"PostgreSQL on {servers.pg_port}, Chroma on {servers.chroma_port}: indexing the copy's articles")
        (folder / "pg").mkdir()
        homes = [servers.settings(copy, folder / "pg" / f"host-{n}") for n in (1, 2)]
        began = time.perf_counter()
        loaded = copy_to_postgres(pristine, homes[0], folder / "pg")
        loaded["seconds"] = round(time.perf_counter() - began, 1)
        say(f"indexed into PostgreSQL: {loaded}")
        return {"loaded": loaded, **_deployment(homes, 1, servers.pids(), questions, sample, clients, load, say)}
    finally:
        servers.stop()


def _deployment(homes: list[Settings], workers: int, remote: dict[str, list[int]], questions: list[str],
                sample: list[str], clients: dict[str, int], load: dict, say) -> dict:
    """CPU per search (in process, then over HTTP, on a fresh server), then the phases on fresh servers, one per
    home; the search phase against the bound the HTTP figure sets."""
    # what one search costs is measured on a server of one worker process: a second worker starting up or idle
    # beside it is not a search's cost
    with _servers(homes[:1], 1, probe=(sample, remote)) as (bases, pids, inner):
        say(f"in process: {inner['in_process_ms']} ms of CPU a search {inner['stages_ms']}")
        http = calibrate(bases[0], sample, CpuMeter({"servers": pids, **remote}))
    http["http_and_json_ms"] = round(http["cpu_ms"]["servers"] - inner["in_process_ms"], 2)
    say(f"over HTTP, one at a time: {http['total_ms']} ms of CPU a search {http['cpu_ms']}")
    with _servers(homes, workers) as (bases, pids, _):
        say(f"{len(bases)} server(s) on {', '.join(bases)} ({workers} worker(s) each)")
        phases = asyncio.run(drive(bases, questions, clients, meter=CpuMeter({"servers": pids, **remote}),
                                   say=say, warmups=4 * workers, **load))
    bound = against_bound(http["total_ms"] / 1000, clients["search"], phases["search"])
    return {"servers": len(homes), "workers": workers, "cpu": {"in_process": inner, "http": http},
            "bound": bound, **phases}


@contextmanager
def _servers(homes: list[Settings], workers: int, probe: tuple | None = None):
    """One server per home, ready: yields (base URLs, the servers' pids, the first server's ``breakdown``
    when ``probe`` is (questions, remote trees): run before it serves, on a desk and embedder of its own, so
    the server's caches stay cold); stops them all."""
    started, receiver = [], None
    try:
        for home in homes:
            port = _free_port()
            sender = None
            if probe is not None and not started:
                receiver, sender = multiprocessing.get_context("spawn").Pipe(duplex=False)
            started.append((f"http://127.0.0.1:{port}", _start_server(home, port, workers, probe, sender)))
        for base, server in started:
            _wait_ready(base, server)
        yield [b for b, _ in started], [s.pid for _, s in started], receiver.recv() if receiver else None
    finally:
        for _, server in started:
            server.terminate()
        for _, server in started:
            server.join(10)
            if server.is_alive():
                server.kill()


def copy_index(settings: Settings, home: Path) -> Settings:
    """The catalog (a consistent copy, made while others read) and the Chroma folder, in ``home``."""
    source = settings.index
    home.mkdir(parents=True)
    target = settings.updated(home=home, api_rate_per_minute=_RATE)
    _backup(settings, target.index.catalog_path)
    chroma = source.home / "chroma"
    if chroma.is_dir():
        shutil.copytree(chroma, home / "chroma")
    return target


def _backup(settings: Settings, path: Path) -> None:
    """A consistent copy of the catalog file, made while others read."""
    from index.catalog import Catalog

    catalog = Catalog(settings.index.catalog_path, read_only=True)
    try:
        catalog.backup_to(path)
    finally:
        catalog.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(settings: Settings, port: int, workers: int, probe: tuple | None = None, sender=None) -> None:
    """The child process: uvicorn with the app, quiet but for errors; with ``workers`` > 1 each worker builds
    it from the environment (as ``newsdesk serve --workers`` does), given the copy's home and rate here.
    ``probe``: first the in-process breakdown of a search's CPU, sent back through ``sender``."""
    import os
    import sys

    import uvicorn

    from api.app import create_app
    from index.runtime import configure_runtime

    configure_runtime()
    if probe is not None:
        sender.send(breakdown(settings, *probe))
        sender.close()
    if workers == 1:
        uvicorn.run(create_app(settings, host="127.0.0.1"), host="127.0.0.1", port=port, log_level="error")
        return
    # uvicorn hands each worker the supervisor's standard input by number; a spawned process has none open
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    sys.stdin = os.fdopen(0)
    os.environ.update({"NEWSDESK_HOME": str(settings.index.home), "NEWSDESK_API_HOST": "127.0.0.1",
                       "NEWSDESK_API_RATE_PER_MINUTE": str(settings.service.api_rate_per_minute)})
    os.environ.pop("NEWSDESK_CHROMA_HOST", None)
    uvicorn.run("api.app:create_app_from_env", factory=True, host="127.0.0.1", port=port, workers=workers,
                log_level="error")


def _start_server(settings: Settings, port: int, workers: int = 1, probe: tuple | None = None, sender=None):
    # uvicorn's supervisor starts the workers as its children, which a daemonic process may not have
    process = multiprocessing.get_context("spawn").Process(target=_serve,
                                                           args=(settings, port, workers, probe, sender),
                                                           daemon=workers == 1)
    process.start()
    return process


def _wait_ready(base: str, server, timeout_s: float = 180.0) -> None:
    """Until /readyz answers 200 (the desk opened and the store answers), or the server died."""
    import httpx

    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        if not server.is_alive():
            raise RuntimeError(f"the benchmark's API server exited with code {server.exitcode}")
        try:
            response = httpx.get(f"{base}/readyz", timeout=30)
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}"
        except httpx.HTTPError as error:
            last = type(error).__name__
        time.sleep(0.3)
    raise RuntimeError(f"the benchmark's API server was not ready within {timeout_s:.0f} s ({last})")


def format_api_bench(figures: dict) -> str:
    """The figures as Markdown: the bound, where a search's CPU goes, then one row a phase."""
    runs = [(name, figures[name]) for name in ("sqlite", "postgres") if "bound" in figures.get(name, {})]
    keys = ["cores", "clients", "cpu_ms_per_search", "bound_rps", "target_rps", "measured_rps", "bound_p95_ms",
            "target_p95_ms", "measured_p95_ms", "errors", "pass", "cores_used", "bound_rps_on_cores_used"]
    lines = ["| catalog | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(_cell(run["bound"].get(k)) for k in keys) + " |" for name, run in runs]
    stages = ["plan", "embedding", "bm25", "dense", "records", "fusion and the rest"]
    head = stages + ["in process", "HTTP and JSON", "PostgreSQL", "Chroma server", "over HTTP, in all"]
    lines += ["", "CPU ms per search, one at a time:", "", "| catalog | " + " | ".join(head) + " |",
              "|---" * (len(head) + 1) + "|"]
    for name, run in runs:
        inner, http = run["cpu"]["in_process"], run["cpu"]["http"]
        cells = [inner["stages_ms"][s] for s in stages] + [inner["in_process_ms"], http["http_and_json_ms"],
                                                          http["cpu_ms"].get("PostgreSQL"),
                                                          http["cpu_ms"].get("Chroma server"), http["total_ms"]]
        lines.append(f"| {name} | " + " | ".join(_cell(c) for c in cells) + " |")
    keys = ["clients", "requests", "ok", "errors", "throughput_rps", "p50_ms", "p95_ms", "first_text_p50_ms",
            "first_text_p95_ms", "refusals", "cpu_ms_per_request", "client_cpu_ms_per_request", "cores_used",
            "client_cores_used"]
    lines += ["", "| catalog | phase | " + " | ".join(keys) + " |", "|---" * (len(keys) + 2) + "|"]
    for name, run in runs:
        for phase in ("search", "chat", "stream", "writes"):
            if phase in run:
                lines.append(f"| {name} | {phase} | " + " | ".join(_cell(run[phase].get(k)) for k in keys) + " |")
    if "skipped" in figures.get("postgres", {}):
        lines.append(f"\npostgres skipped: {figures['postgres']['skipped']}")
    samples = [s for _, run in runs for p in ("search", "chat", "stream", "writes")
               for s in run.get(p, {}).get("error_samples", [])]
    lines.append(f"\ncores {figures['cores']}, load average before {figures['load_average_before']}, after "
                 f"{figures['load_average_after']}; errors in all: {figures['errors']}"
                 + (f" (e.g. {samples[0]})" if samples else ""))
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "pass" if value else "FAIL"
    return str(value)
