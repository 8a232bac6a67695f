"""CPU seconds per search, and the throughput and p95 they bound (``newsdesk bench api``).

A search needs a fixed amount of CPU; on ``cores`` cores no server answers more than ``cores / cpu_s``
searches a second, and 20 searches sent at once cannot all be answered before ``20 x cpu_s / cores``. The
targets are relative to that bound: throughput at least 0.8 x the bound, p95 at most 1.5 x the bound's
latency, and no error.

Three ways of counting CPU, each read from the kernel, never from wall time:

- ``CpuMeter``: the user + system CPU of whole process trees (a server, its workers, PostgreSQL's
  backends, the Chroma server) from ``/proc``: what a phase or a sequential calibration cost them all;
- ``breakdown``: a server's process, before it serves, running ``Service.search`` over the questions,
  each stage timed with ``time.process_time`` (which counts the ONNX threads of the embedding too):
  the question's plan, its embedding, BM25, dense search, the chunk records, and the rest (fusion,
  evidence, the window's share, the freshness check);
- the bench's own process (the HTTP clients), reported beside: it shares the cores with the server.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterable

_TICK = os.sysconf("SC_CLK_TCK")
THROUGHPUT_SHARE = 0.8  # the target: 80 % of the bound's searches a second
P95_FACTOR = 1.5  # the issue's target: p95 at most 1.5 x the time the clients' searches need on the cores
STAGES = ("plan", "embedding", "bm25", "dense", "records")


def cores() -> int:
    """The cores this process may run on (the bound's numerator)."""
    return len(os.sched_getaffinity(0))


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds) of one process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # the command name may hold spaces and parentheses
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def tree_cpu(roots: Iterable[int]) -> float:
    """CPU seconds of the processes ``roots`` and all their live descendants."""
    stats = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                stats[int(entry.name)] = stat
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    total, todo, seen = 0.0, [p for p in roots if p in stats], set()
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.add(pid)
            total += stats[pid][1]
            todo.extend(children.get(pid, []))
    return total


class CpuMeter:
    """CPU of named process trees between ``start()`` and ``stop()``: {name: seconds}."""

    def __init__(self, trees: dict[str, list[int]]) -> None:
        self.trees = trees
        self.began: dict[str, float] = {}
        self.own_began = 0.0

    def start(self) -> None:
        self.began = {name: tree_cpu(pids) for name, pids in self.trees.items()}
        self.own_began = time.process_time()

    def stop(self) -> tuple[dict[str, float], float]:
        """(CPU seconds per tree, the CPU seconds of this process: the clients)."""
        used = {name: tree_cpu(pids) - self.began[name] for name, pids in self.trees.items()}
        return used, time.process_time() - self.own_began


def against_bound(cpu_s: float, clients: int, figures: dict, n_cores: int | None = None) -> dict:
    """The bound a search's CPU sets at ``clients`` concurrent clients, the targets, what was measured and
    whether it passed (throughput, p95, errors). Beside it, where the phase's figures say how many cores the
    servers used (fewer than ``n_cores`` when other processes shared the machine), the bound on those."""
    n_cores = n_cores or cores()
    bound_rps = n_cores / cpu_s if cpu_s > 0 else float("inf")
    bound_p95_ms = clients * cpu_s / n_cores * 1000
    throughput, p95, errors = figures["throughput_rps"], figures["p95_ms"], figures["errors"]
    out = {"cores": n_cores, "clients": clients, "cpu_ms_per_search": round(cpu_s * 1000, 1),
           "bound_rps": round(bound_rps, 2), "target_rps": round(THROUGHPUT_SHARE * bound_rps, 2),
           "measured_rps": throughput, "bound_p95_ms": round(bound_p95_ms, 1),
           "target_p95_ms": round(P95_FACTOR * bound_p95_ms, 1), "measured_p95_ms": p95, "errors": errors}
    used = figures.get("cores_used")
    if used is not None:  # on a shared machine: the bound on the cores the measured processes got
        out["cores_used"] = used
        out["bound_rps_on_cores_used"] = round(used / cpu_s, 2) if cpu_s > 0 else float("inf")
    out["throughput_pass"] = throughput >= out["target_rps"]
    out["p95_pass"] = p95 is not None and p95 <= out["target_p95_ms"]
    out["pass"] = out["throughput_pass"] and out["p95_pass"] and errors == 0
    return out


# --- the in-process breakdown ---------------------------------------------------------------------------


class _Stages:
    """Exclusive CPU per stage: a stage called inside another is subtracted from the outer one."""

    def __init__(self) -> None:
        self.exclusive = dict.fromkeys(STAGES, 0.0)
        self.stack: list[float] = []  # CPU seconds of the inner stages of each open stage

    def wrap(self, owner, attribute: str, stage: str) -> None:
        inner = getattr(owner, attribute)

        def timed(*args, **kwargs):
            began = time.process_time()
            self.stack.append(0.0)
            try:
                return inner(*args, **kwargs)
            finally:
                spent = time.process_time() - began
                nested = self.stack.pop()
                self.exclusive[stage] += spent - nested
                if self.stack:
                    self.stack[-1] += spent

        setattr(owner, attribute, timed)


def breakdown(settings, questions: list[str], remote: dict[str, list[int]]) -> dict:
    """``Service.search`` over ``questions`` one after another, in this process and nothing else running in
    it; CPU milliseconds per search in all and per stage, and of the ``remote`` process trees (PostgreSQL, a
    Chroma server) during the loop. The service has an embedder of its own, so its question vectors are
    cached apart from any other desk's in the process; it is closed after."""
    from api.service import Service
    from index.catalog.fts5_terms import phrase_tokens
    from index.runtime import configure_runtime

    configure_runtime()
    service = Service(settings)
    service.search("What happened this week?")  # the desk, the embedder and the store opened, not counted
    desk = service.desk()
    retriever = desk.retriever
    stages = _Stages()
    stages.wrap(desk, "plan", "plan")
    stages.wrap(retriever.vectors_cache, "embed", "embedding")
    stages.wrap(retriever.bm25, "search", "bm25")
    stages.wrap(retriever, "_dense", "dense")
    stages.wrap(retriever.catalog, "chunk_records", "records")
    meter = CpuMeter(remote)
    meter.start()
    began = time.process_time()
    for question in questions:
        service.search(question)
    total = time.process_time() - began
    used, _ = meter.stop()
    service.close()
    phrase_tokens.cache_clear()  # the process's cache of query terms' tokens (PostgreSQL): cold for the server
    n = max(len(questions), 1)
    per = {stage: round(seconds / n * 1000, 2) for stage, seconds in stages.exclusive.items()}
    per["fusion and the rest"] = round((total - sum(stages.exclusive.values())) / n * 1000, 2)
    return {"searches": len(questions), "in_process_ms": round(total / n * 1000, 2), "stages_ms": per,
            "remote_ms": {name: round(seconds / n * 1000, 2) for name, seconds in used.items()}}
