"""The load of ``newsdesk bench api``: phases of concurrent httpx clients against one or more servers.

Each phase sends at most ``requests`` requests, ``clients`` at once (client ``n`` asks server ``n`` modulo
the servers), and starts none after ``phase_s`` seconds; writers ``POST /v1/articles`` to the first server
during the answer phases. Every figure is counted from what came back: ``requests = ok + errors``. A
``CpuMeter`` counts what each phase cost the servers (and PostgreSQL and Chroma, when they run), and this
process's own CPU (the clients, which share the cores).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field

from evals.bench.api_cpu import CpuMeter
from evals.metrics import percentile

ANSWER_PHASES = ("chat", "stream")


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
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds of each metered process tree
    client_cpu: float = 0.0

    def figures(self) -> dict:
        ok = len(self.latencies)
        data = {"clients": self.clients, "requests": ok + len(self.errors), "ok": ok, "errors": len(self.errors),
                "wall_seconds": round(self.wall, 2), "throughput_rps": round(ok / self.wall, 2) if self.wall else 0.0,
                "p50_ms": round(percentile([x * 1000 for x in self.latencies], 0.5), 1) if ok else None,
                "p95_ms": round(percentile([x * 1000 for x in self.latencies], 0.95), 1) if ok else None,
                "error_samples": sorted(set(self.errors))[:5]}
        if self.name in ANSWER_PHASES:
            data["refusals"] = self.refusals
        if self.first_text:
            data["first_text_p50_ms"] = round(percentile([x * 1000 for x in self.first_text], 0.5), 1)
            data["first_text_p95_ms"] = round(percentile([x * 1000 for x in self.first_text], 0.95), 1)
        if self.cpu and data["requests"]:
            data["cpu_ms_per_request"] = round(sum(self.cpu.values()) / data["requests"] * 1000, 1)
            data["client_cpu_ms_per_request"] = round(self.client_cpu / data["requests"] * 1000, 1)
        if self.cpu and self.wall:  # below the machine's cores: other processes held the rest
            data["cores_used"] = round(sum(self.cpu.values()) / self.wall, 2)
            data["client_cores_used"] = round(self.client_cpu / self.wall, 2)
        return data


def calibrate(base: str, questions: list[str], meter: CpuMeter) -> dict:
    """One client, one search after another: CPU milliseconds per search of each metered tree (no queueing,
    no contention: what one search costs)."""
    import httpx

    with httpx.Client(base_url=base, timeout=120) as client:
        _checked(client.post("/v1/search", json={"query": "What happened this week?"}))  # opened, not counted
        meter.start()
        for question in questions:
            _checked(client.post("/v1/search", json={"query": question}))
        used, own = meter.stop()
    n = max(len(questions), 1)
    return {"searches": len(questions), "cpu_ms": {name: round(s / n * 1000, 2) for name, s in used.items()},
            "total_ms": round(sum(used.values()) / n * 1000, 2), "client_cpu_ms": round(own / n * 1000, 2)}


async def drive(bases: list[str], questions: list[str], clients: dict[str, int], requests: int, phase_s: float,
                writers: int, write_interval_s: float, seed: int, meter: CpuMeter, say, warmups: int = 1) -> dict:
    """The phases named in ``clients`` ({phase: clients}: search, chat, stream), in that order. ``warmups``:
    answers asked at once of each server before any phase, so that each of its worker processes has loaded its
    embedder and answerer (a server of several workers spreads connections among them)."""
    import httpx

    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=max(clients.values()) + writers + 4)
    sessions = [httpx.AsyncClient(base_url=b, timeout=httpx.Timeout(120.0), limits=limits) for b in bases]
    try:
        for session in sessions:  # warm-up: the embedder and the answerer loaded
            await asyncio.gather(*[session.post("/v1/chat/completions", json=_chat(f"What happened this week? ({n})"))
                                   for n in range(warmups)])
        calls = {"search": _search, "chat": _ask, "stream": _stream}
        written = Phase("writes", writers)
        phases = []
        for name, count in clients.items():
            stop = asyncio.Event()
            writing = [asyncio.create_task(_write(sessions[0], written, stop, write_interval_s, f"{name}-{n}"))
                       for n in range(writers if name in ANSWER_PHASES else 0)]
            meter.start()
            phase = await _phase(name, count, _asks(questions, requests, rng), phase_s,
                                 lambda q, p, n: calls[name](sessions[n % len(sessions)], q, p))
            phase.cpu, phase.client_cpu = meter.stop()
            stop.set()
            await asyncio.gather(*writing)
            phases.append(phase)
            say(_line(phase))
        written.wall = sum(p.wall for p in phases if p.name in ANSWER_PHASES)
    finally:
        for session in sessions:
            await session.aclose()
    figures = {p.name: p.figures() for p in phases}
    if written.wall:
        figures["writes"] = {k: v for k, v in written.figures().items() if k != "throughput_rps"}
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

    async def worker(n: int) -> None:
        while queue and time.perf_counter() < deadline:
            question = queue.pop()
            began = time.perf_counter()
            try:
                await one(question, phase, n)
            except Exception as error:  # noqa: BLE001 - counted, the load goes on
                phase.errors.append(f"{type(error).__name__}: {str(error)[:120]}")
                continue
            phase.latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(worker(n) for n in range(clients)))
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
