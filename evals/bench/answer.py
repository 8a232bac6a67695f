"""``newsdesk bench answer``: the answerers side by side on the same questions, with their latency.

Extractive, local Qwen 0.5B and local Qwen 1.5B (and any evidence budgets asked for) answer the
same fixed RealTime QA questions over the gold corpus, asked as of each question's date, plus some
of the unanswerable ones. Printed per system: accuracy (containment, token F1), refusals, the time
to the first source, to the model's first token, to the first checked sentence and to the whole
answer (p50/p95), prompt tokens and tokens/s written. It is a benchmark: it prints, it asserts
nothing, and the default rule of ``make run`` is read off its figures.
"""

from __future__ import annotations

import random
import time
from typing import Callable

from evals.metrics import contains_answer, percentile, token_f1
from settings import Settings

SYSTEMS = ("extractive", "local:qwen2.5-coder-0.5b", "local:qwen2.5-coder-1.5b")


def bench_cases(open_questions: int, unanswerable: int, seed: int = 7):
    from evals.suite import cases_for, load_suite

    cases = cases_for(load_suite("realtimeqa-gold"))
    opened = [c for c in cases if c.type == "open"]
    random.Random(seed).shuffle(opened)  # a fixed shuffle: the same questions every run
    refusals = [c for c in cases if c.type == "unanswerable"]
    random.Random(seed).shuffle(refusals)
    return opened[:open_questions] + refusals[:unanswerable]


def _system_settings(home: Settings, system: str, budget: int | None) -> Settings:
    if system == "extractive":
        return home.updated(answer_mode="extractive")
    model = system.partition(":")[2]
    # a local answer takes 15-40 s on 2 cores (docs/benchmarks); 300 s also covers a cold start of the model
    update = {"answer_mode": "llm", "llm": "local", "local_model": model, "llm_timeout": 300}
    if budget:
        update["local_evidence_tokens"] = budget
    return home.updated(**update)


def run_answer_bench(settings: Settings, systems: list[str] | None = None, questions: int = 12,
                     unanswerable: int = 4, budgets: list[int] | None = None,
                     on_progress: Callable[[str], None] | None = None) -> dict:
    from evals.runner import prepare_corpus
    from evals.suite import load_suite
    from index.embedders import make_embedder
    from rag.engine import NewsDesk
    from rag.types import Answer, Preview

    say = on_progress or (lambda text: None)
    embedder = make_embedder(settings)
    home = prepare_corpus(load_suite("realtimeqa-gold"), settings, embedder)
    cases = bench_cases(questions, unanswerable)
    figures: dict = {"questions": sum(c.type == "open" for c in cases), "unanswerable": unanswerable, "systems": {}}
    runs = [(s, b) for s in (systems or list(SYSTEMS)) for b in ((budgets or [None]) if s != "extractive" else [None])]
    for system, budget in runs:
        label = system if budget is None else f"{system}@{budget}"
        desk = NewsDesk(_system_settings(home, system, budget), embedder=embedder)
        rows = []
        try:
            if system != "extractive":
                started = time.perf_counter()
                desk.llm.complete("", "Say OK.", max_tokens=2)  # load the model before timing questions
                figures.setdefault("model_load_s", {})[system] = round(time.perf_counter() - started, 1)
            for number, case in enumerate(cases, start=1):
                say(f"{label}: {number}/{len(cases)} {case.question[:60]}")
                started = time.perf_counter()
                marks: dict[str, float] = {}
                answer = None
                for item in desk.stream(case.question, as_of=case.as_of, preview=True):
                    now = (time.perf_counter() - started) * 1000
                    if isinstance(item, Preview):
                        marks.setdefault("first_source", now)
                    elif isinstance(item, Answer):
                        answer = item
                    elif item.strip():
                        marks.setdefault("first_sentence", now)
                total = (time.perf_counter() - started) * 1000
                marks.setdefault("first_source", answer.timings_ms.get("retrieve", total))
                rows.append({"case": case, "answer": answer, "marks": marks, "total": total})
        finally:
            desk.close()
        figures["systems"][label] = _summarize(rows)
    return figures


def _summarize(rows: list[dict]) -> dict:
    opened = [r for r in rows if r["case"].type == "open"]
    refusal_cases = [r for r in rows if r["case"].type != "open"]

    def p(values: list[float], q: float) -> float | None:
        return round(percentile(values, q), 1) if values else None

    first_token = [r["answer"].timings_ms["first_token"] for r in rows if "first_token" in r["answer"].timings_ms]
    totals = [r["total"] for r in rows]
    prompt = [r["answer"].usage["prompt_tokens"] for r in rows if r["answer"].usage]
    speed = [r["answer"].usage["completion_tokens"] / (r["answer"].timings_ms["generate"] / 1000)
             for r in rows if r["answer"].usage and r["answer"].timings_ms.get("generate")]
    return {
        "accuracy": round(sum(contains_answer(r["answer"].answer, r["case"].gold_answers) for r in opened
                              if not r["answer"].refused) / max(len(opened), 1), 3),
        "token_f1": round(sum(token_f1(r["answer"].answer, r["case"].gold_answers) for r in opened
                              if not r["answer"].refused) / max(len(opened), 1), 3),
        "false_refusals": sum(r["answer"].refused for r in opened),
        "unanswerable_refused": f"{sum(r['answer'].refused for r in refusal_cases)}/{len(refusal_cases)}",
        "first_source_ms_p50": p([r["marks"]["first_source"] for r in rows], 0.5),
        "first_token_ms_p50": p(first_token, 0.5),
        "first_token_ms_p95": p(first_token, 0.95),
        "first_sentence_ms_p50": p([r["marks"]["first_sentence"] for r in rows if "first_sentence" in r["marks"]], 0.5),
        "answer_ms_p50": p(totals, 0.5),
        "answer_ms_p95": p(totals, 0.95),
        "prompt_tokens_p50": p(prompt, 0.5),
        "tokens_per_s_written_p50": p(speed, 0.5),
        "answers": [{"id": r["case"].id, "question": r["case"].question, "gold": r["case"].gold_answers,
                     "answer": r["answer"].answer, "refused": r["answer"].refused,
                     "total_ms": round(r["total"])} for r in rows],
    }
