"""``newsdesk bench api``: the HTTP API under load, over real HTTP on 127.0.0.1 (bounded in count and time).

The app (``api.app.create_app``) runs under uvicorn in a child process on a free port, on a copy of the
index in NEWSDESK_HOME (writers add articles during the run, and the index under test must not be yours).
httpx async clients then drive three phases, one after the other:

1. ``search``: retrieval only, ``POST /v1/search``, ``search_clients`` at once;
2. ``chat``: ``POST /v1/chat/completions`` with model ``newsdesk-extractive``, ``chat_clients`` at once;
3. ``stream``: the same, ``"stream": true``, ``stream_clients`` at once (time to the first text and to ``[DONE]``);

while ``writers`` clients ``POST /v1/articles`` (one new article each, every ``write_interval_s``) during the
chat and stream phases. Each phase sends at most ``requests`` requests and starts none after ``phase_s``
seconds. Every figure is counted from what came back: ``requests = ok + errors``.

Each phase asks the RealTime QA questions in a seeded shuffle, each once until all have been asked (206), so
a cached question vector (``rag.sentence_cache``) serves a repeat only past that. ``server_workers`` > 1
runs uvicorn's worker processes (``newsdesk serve --workers``) on the copy.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from errors import BadInput
from evals.datasets import realtimeqa_questions
from evals.metrics import percentile
from settings import Settings

# The server's per-client rate limit is lifted for the run: every bench client is one address (127.0.0.1),
# and the default (120 a minute) would answer most of them 429.
_RATE = 10_000_000


@dataclass
class Phase:
    """What one phase counted."""

    name: str
    clients: int
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    first_text: list[float] = field(default_factory=list)  # streams: seconds to the first text piece
    errors: list[str] = field(default_factory=list)
    refusals: int = 0
    wall: float = 0.0

    def figures(self) -> dict:
        ok = len(self.latencies)
        data = {"clients": self.clients, "requests": ok + len(self.errors), "ok": ok, "errors": len(self.errors),
                "wall_seconds": round(self.wall, 2), "throughput_rps": round(ok / self.wall, 2) if self.wall else 0.0,
                "p50_ms": round(percentile([x * 1000 for x in self.latencies], 0.5), 1) if ok else None,
                "p95_ms": round(percentile([x * 1000 for x in self.latencies], 0.95), 1) if ok else None,
                "error_samples": sorted(set(self.errors))[:5]}
        if self.name in ("chat", "stream"):
            data["refusals"] = self.refusals
        if self.first_text:
            data["first_text_p50_ms"] = round(percentile([x * 1000 for x in self.first_text], 0.5), 1)
            data["first_text_p95_ms"] = round(percentile([x * 1000 for x in self.first_text], 0.95), 1)
        return data


def run_api_bench(settings: Settings, chat_clients: int = 50, stream_clients: int = 20, search_clients: int = 20,
                  requests: int = 200, phase_s: float = 120.0, writers: int = 2, write_interval_s: float = 2.0,
                  seed: int = 7, work: Path | None = None, server_workers: int = 1, on_progress=None) -> dict:
    """Runs the three phases against a server on a copy of the index in ``settings``; returns the figures."""
    if settings.index.server_mode:
        raise BadInput("`newsdesk bench api` copies the embedded index it measures; unset NEWSDESK_CHROMA_HOST.")
    if not settings.index.catalog_path.exists():
        raise BadInput(f"No articles are indexed in {settings.index.home}: run `newsdesk index PATH` first.")
    say = on_progress or (lambda text: None)
    folder = Path(tempfile.mkdtemp(prefix="newsdesk-bench-api-", dir=work))
    try:
        copy = copy_index(settings, folder / "home")
        port = _free_port()
        server = _start_server(copy, port, server_workers)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(base, server)
            say(f"server on {base} ({server_workers} worker(s)), index copied to {copy.index.home}")
            questions = [q.question for q in realtimeqa_questions()] or ["What happened?"]
            return asyncio.run(_drive(base, questions, chat_clients, stream_clients, search_clients, requests,
                                      phase_s, writers, write_interval_s, seed, say))
        finally:
            server.terminate()
            server.join(10)
            if server.is_alive():
                server.kill()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def copy_index(settings: Settings, home: Path) -> Settings:
    """The catalog (a consistent copy, made while others read) and the Chroma folder, in ``home``."""
    from index.catalog import Catalog

    source = settings.index
    home.mkdir(parents=True)
    target = settings.updated(home=home, api_rate_per_minute=_RATE)
    catalog = Catalog(source.catalog_path, read_only=True)
    try:
        catalog.backup_to(target.index.catalog_path)
    finally:
        catalog.close()
    chroma = source.home / "chroma"
    if chroma.is_dir():
        shutil.copytree(chroma, home / "chroma")
    return target


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(settings: Settings, port: int, workers: int) -> None:
    """The child process: uvicorn with the app, quiet but for errors; with ``workers`` > 1 each worker builds
    it from the environment (as ``newsdesk serve --workers`` does), given the copy's home and rate here."""
    import os

    import uvicorn

    from api.app import create_app
    from index.runtime import configure_runtime

    configure_runtime()
    if workers == 1:
        uvicorn.run(create_app(settings, host="127.0.0.1"), host="127.0.0.1", port=port, log_level="error")
        return
    os.environ.update({"NEWSDESK_HOME": str(settings.index.home), "NEWSDESK_API_HOST": "127.0.0.1",
                       "NEWSDESK_API_RATE_PER_MINUTE": str(settings.service.api_rate_per_minute)})
    os.environ.pop("NEWSDESK_CHROMA_HOST", None)
    uvicorn.run("api.app:create_app_from_env", factory=True, host="127.0.0.1", port=port, workers=workers,
                log_level="error")


def _start_server(settings: Settings, port: int, workers: int = 1):
    # uvicorn's supervisor starts the workers as its children, which a daemonic process may not have
    process = multiprocessing.get_context("spawn").Process(target=_serve, args=(settings, port, workers),
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


async def _drive(base: str, questions: list[str], chat_clients: int, stream_clients: int, search_clients: int,
                 requests: int, phase_s: float, writers: int, write_interval_s: float, seed: int, say) -> dict:
    import httpx

    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=max(chat_clients, stream_clients, search_clients) + writers + 4)
    async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(120.0), limits=limits) as client:
        await client.post("/v1/chat/completions", json=_chat(questions[0]))  # warm-up: the embedder loaded

        search = await _phase("search", search_clients, _asks(questions, requests, rng), phase_s,
                              lambda q, p: _search(client, q, p))
        say(_line(search))
        written = Phase("writes", writers)
        phases = [search]
        for name, clients, one in (("chat", chat_clients, lambda q, p: _ask(client, q, p)),
                                   ("stream", stream_clients, lambda q, p: _stream(client, q, p))):
            stop = asyncio.Event()
            writing = [asyncio.create_task(_write(client, written, stop, write_interval_s, f"{name}-{n}"))
                       for n in range(writers)]
            phase = await _phase(name, clients, _asks(questions, requests, rng), phase_s, one)
            stop.set()
            await asyncio.gather(*writing)
            phases.append(phase)
            say(_line(phase))
        written.wall = sum(p.wall for p in phases[1:])
    figures = {p.name: p.figures() for p in phases}
    figures["writes"] = {k: v for k, v in written.figures().items() if k not in ("throughput_rps",)}
    figures["errors"] = sum(len(p.errors) for p in phases) + len(written.errors)
    return figures


def _asks(questions: list[str], requests: int, rng: random.Random) -> list[str]:
    """``requests`` questions: shuffled rounds of the whole list, so none repeats before all were asked."""
    asks: list[str] = []
    while len(asks) < requests:
        asks += rng.sample(questions, len(questions))
    return asks[:requests]


async def _phase(name: str, clients: int, asks: list[str], phase_s: float, one) -> Phase:
    phase = Phase(name, clients)
    queue = list(reversed(asks))
    started = time.perf_counter()
    deadline = started + phase_s

    async def worker() -> None:
        while queue and time.perf_counter() < deadline:
            question = queue.pop()
            began = time.perf_counter()
            try:
                await one(question, phase)
            except Exception as error:  # noqa: BLE001 - counted, the load goes on
                phase.errors.append(f"{type(error).__name__}: {str(error)[:120]}")
                continue
            phase.latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(worker() for _ in range(clients)))
    phase.wall = time.perf_counter() - started
    return phase


def _chat(question: str, stream: bool = False) -> dict:
    return {"model": "newsdesk-extractive", "messages": [{"role": "user", "content": question}], "stream": stream}


def _checked(response) -> dict:
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:120]}")
    return response.json()


async def _search(client, question: str, phase: Phase) -> None:
    if "results" not in _checked(await client.post("/v1/search", json={"query": question})):
        raise RuntimeError("a search response without results")


async def _ask(client, question: str, phase: Phase) -> None:
    body = _checked(await client.post("/v1/chat/completions", json=_chat(question)))
    if not body["choices"][0]["message"]["content"]:
        raise RuntimeError("an empty answer")
    phase.refusals += bool(body["newsdesk"]["refused"])


async def _stream(client, question: str, phase: Phase) -> None:
    import json

    began = time.perf_counter()
    first = None
    final = None
    done = False
    async with client.stream("POST", "/v1/chat/completions", json=_chat(question, stream=True)) as response:
        if response.status_code != 200:
            await response.aread()
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:120]}")
        async for line in response.aiter_lines():
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if data == "[DONE]":
                done = True
                break
            chunk = json.loads(data)
            if "error" in chunk:
                raise RuntimeError(f"stream error: {chunk['error'].get('type')}")
            if chunk["choices"][0]["delta"].get("content") and first is None:
                first = time.perf_counter() - began
            if chunk["choices"][0].get("finish_reason") == "stop":
                final = chunk
    if not done or final is None or first is None:
        raise RuntimeError("a stream that ended without its text, final chunk or [DONE]")
    phase.first_text.append(first)
    phase.refusals += bool(final["newsdesk"]["refused"])


async def _write(client, phase: Phase, stop: asyncio.Event, interval_s: float, tag: str) -> None:
    """One new article every ``interval_s`` until ``stop``; each is a distinct text (nothing to deduplicate)."""
    n = 0
    while not stop.is_set():
        n += 1
        article = {"title": f"Benchmark wire {tag} number {n}",
                   "text": f"The benchmark writer {tag} filed report number {n} at {time.time():.3f}. "
                           f"It says that {n * 7} volunteers planted {n * 13} trees in the town of Writerton {tag}.",
                   "source": "bench.example", "url": f"https://bench.example/{tag}/{n}",
                   "published_at": "2022-11-11T12:00:00Z"}
        began = time.perf_counter()
        try:
            _checked(await client.post("/v1/articles", json=article))
            phase.latencies.append(time.perf_counter() - began)
        except Exception as error:  # noqa: BLE001 - counted
            phase.errors.append(f"{type(error).__name__}: {str(error)[:120]}")
        try:
            await asyncio.wait_for(stop.wait(), interval_s)
        except asyncio.TimeoutError:
            pass


def _line(phase: Phase) -> str:
    f = phase.figures()
    return (f"{phase.name}: {f['ok']}/{f['requests']} ok, {f['throughput_rps']}/s, p50 {f['p50_ms']} ms, "
            f"p95 {f['p95_ms']} ms, errors {f['errors']}")


def format_api_bench(figures: dict) -> str:
    """The figures as a Markdown table, one row a phase."""
    keys = ["clients", "requests", "ok", "errors", "throughput_rps", "p50_ms", "p95_ms", "first_text_p50_ms",
            "first_text_p95_ms", "refusals"]
    lines = ["| phase | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for name in ("search", "chat", "stream", "writes"):
        row = figures.get(name, {})
        lines.append(f"| {name} | " + " | ".join("-" if row.get(k) is None else str(row[k]) for k in keys) + " |")
    samples = [s for name in ("search", "chat", "stream", "writes") for s in figures.get(name, {}).get("error_samples", [])]
    lines.append(f"errors in all: {figures['errors']}" + (f" (e.g. {samples[0]})" if samples else ""))
    return "\n".join(lines)
