"""``newsdesk bench load``: concurrent askers against the Python API (bounded, loopback only)."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from evals.datasets import realtimeqa_questions
from evals.metrics import percentile
from settings import Settings


def run_load(settings: Settings, askers: int = 50, questions: int = 500, mode: str = "extractive",
             seed: int = 7, desk=None) -> dict:
    """``questions`` asks spread over ``askers`` threads sharing one NewsDesk. Returns figures.

    What came back is counted from the results themselves: ``answers`` (asks that returned an answer),
    of them ``cited_answers`` (not refused, with citations), ``refusals`` and ``uncited_answers`` (neither:
    the engine never returns one), and ``errors`` (asks that raised or returned an empty answer)."""
    from rag.engine import NewsDesk

    own = desk is None
    desk = desk or NewsDesk(settings)
    pool = [q.question for q in realtimeqa_questions()] or ["What happened?"]
    rng = random.Random(seed)
    asks = [rng.choice(pool) for _ in range(questions)]
    latencies: list[float] = []
    outcomes: Counter = Counter()
    errors: list[str] = []
    lock = threading.Lock()

    def one(question: str) -> None:
        started = time.perf_counter()
        try:
            answer = desk.ask(question, mode=mode)
        except Exception as error:  # noqa: BLE001 - counted and reported, the load goes on
            with lock:
                errors.append(f"{type(error).__name__}: {error}")
            return
        with lock:
            if not answer.answer:
                errors.append("empty answer")
                return
            latencies.append((time.perf_counter() - started) * 1000)
            outcomes["refused" if answer.refused else "cited" if answer.citations else "uncited"] += 1

    desk.ask(pool[0], mode=mode)  # warm-up
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=askers) as executor:
        list(executor.map(one, asks))
    wall = time.perf_counter() - started
    if own:
        desk.close()
    return {"askers": askers, "questions": questions, "mode": mode, "wall_seconds": round(wall, 2),
            "throughput_qps": round(questions / wall, 2), "answers": len(latencies),
            "cited_answers": outcomes["cited"], "refusals": outcomes["refused"],
            "uncited_answers": outcomes["uncited"], "p50_ms": round(percentile(latencies, 0.5), 1),
            "p95_ms": round(percentile(latencies, 0.95), 1), "errors": len(errors), "error_samples": errors[:5]}
