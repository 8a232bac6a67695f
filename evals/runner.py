"""Runs a suite: index its corpus, ask every case (newsdesk, or several newsdesk answerers side by side,
and optionally the baselines), score it (``evals/scoring.py``, with an optional LLM judge), and write
a run directory (results.jsonl, summary.json, report.md, charts). Resumable."""

from __future__ import annotations

import json
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from errors import BadInput
from evals.scoring import check_citations, judges_correctness, score_case
from evals.suite import (SPLITS, Case, Suite, cases_for, corpus_paths, load_suite, split_of, write_rgb_corpus,
                         REINDEX_URL)
from evals.systems import Answerer, parse_answerers
from prompts import REFUSAL
from rag.types import first_per_article
from settings import Settings

Progress = Callable[[int, int, str], None]  # (done, total, label)
BASELINES = ("bm25", "llamaindex")
# Rank metrics read the first 10 distinct articles (hit@10, mrr@10, ndcg@10: the depth the docs and the
# gate report). newsdesk keeps at most 3 chunks of one article (settings retrieval.per_article), so 30
# chunks hold 10 articles whenever the corpus has them; the baselines are asked for the same 30.
RANKED_ARTICLES = 10
RANKED_CHUNKS = 30


def corpus_settings(settings: Settings, suite: Suite) -> Settings:
    """Each suite corpus has its own index under NEWSDESK_HOME/evals/corpora (reused across runs)."""
    key = suite.name if isinstance(suite.corpus, str) else "-".join(Path(p).name.split(".")[0] for p in suite.corpus)
    return settings.updated(home=settings.index.home / "evals" / "corpora" / key, chroma_host=None)


def prepare_corpus(suite: Suite, settings: Settings, embedder, on_progress: Progress | None = None) -> Settings:
    from index.sync import Indexer

    home = corpus_settings(settings, suite)
    if suite.corpus == "reindex":
        shutil.rmtree(home.index.home, ignore_errors=True)  # the scenario starts from a known state every run
        paths = [reindex_folder(home)]
    elif suite.corpus == "rgb":
        paths = [write_rgb_corpus(home.index.home / "source")]
    else:
        paths = corpus_paths(suite)
        missing = [p for p in paths if not p.exists()]
        if missing:
            raise BadInput(f"suite corpus missing: {', '.join(map(str, missing))}")
    indexer = Indexer(home, embedder=embedder)
    try:
        callback = (lambda done, total, embedded: on_progress(done, total, "indexing corpus")) if on_progress else None
        indexer.sync(paths, on_progress=callback)
    finally:
        indexer.close()
    return home


def reindex_folder(settings: Settings) -> Path:
    from evals.datasets import datasets_dir

    folder = settings.index.home / "source"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(datasets_dir() / "seed" / "000_0854de60a5b65581.txt", folder / "seed.txt")
    return folder


def apply_step(case: Case, home: Settings, embedder) -> None:
    """The reindex scenario's corpus change before a question, followed by a sync."""
    from index.sync import Indexer

    folder = home.index.home / "source"
    target = folder / "portvale.json"
    if case.step["action"] == "write":
        target.write_text(json.dumps({"url": REINDEX_URL, "title": "Portvale council and the bridge toll",
                                      "source": "portvale-news.example", "published_at": "2023-02-07",
                                      "text": case.step["text"]}))
    elif case.step["action"] == "delete":
        target.unlink(missing_ok=True)
    indexer = Indexer(home, embedder=embedder)
    try:
        indexer.sync([folder])
    finally:
        indexer.close()


class SuiteRun:
    """One run of one suite; ``run()`` returns the run directory.

    - ``answerers``: newsdesk systems to put side by side (``evals/systems.py``), e.g.
      ``["extractive", "local:qwen2.5-coder-0.5b", "local:qwen2.5-coder-1.5b"]``, each asked through its
      own ``NewsDesk``; unset: one system, "newsdesk", in ``mode``. Thresholds apply to the first one.
    - ``baselines``: peers whose retrieved chunks feed the extractive answerer (``evals/baselines.py``).
    - ``judge``: the settings of an LLM judge (``evals/judge.py``); unset (the default, so CI and
      extractive runs stay fast): no ``judged_correct`` and no ``citation_judged_support``.
    """

    def __init__(self, settings: Settings, suite_name: str, mode: str | None = None, limit: int | None = None,
                 out: Path | None = None, baselines: list[str] | None = None, on_progress: Progress | None = None,
                 answerers: list[str] | None = None, judge: Settings | None = None, split: str | None = None) -> None:
        self.settings = settings
        if split is not None and split not in SPLITS:
            raise BadInput(f"unknown split '{split}': choose {' or '.join(SPLITS)}")
        self.split = split  # "odd" or "even" ids only (archive-qa's tuning and held-out halves)
        self.suite = load_suite(suite_name)
        self.mode = mode or self.suite.mode or settings.answer_mode_for(None)
        self.limit = limit
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        self.out = Path(out) if out else settings.index.home / "evals" / "runs" / f"{self.suite.name}-{stamp}"
        self.baselines = [b for b in (baselines or []) if b]
        unknown = set(self.baselines) - set(BASELINES)
        if unknown:
            raise BadInput(f"unknown baseline(s) {', '.join(sorted(unknown))}: choose from {', '.join(BASELINES)}")
        self.answerers = parse_answerers(answerers) if answerers else [
            Answerer("default", "newsdesk", self.mode, {})]
        self.judge_settings = judge
        self.judge = None
        self.on_progress = on_progress or (lambda done, total, label: None)

    @property
    def systems(self) -> list[str]:
        return [a.system for a in self.answerers] + self.baselines

    def run(self) -> Path:
        from index.embedders import make_embedder
        from evals.report import write_reports

        self.out.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        embedder = make_embedder(self.settings)
        home = prepare_corpus(self.suite, self.settings, embedder, self.on_progress)
        cases = cases_for(self.suite)
        if self.split:
            cases = [c for c in cases if split_of(c.id) == self.split]
        if self.limit:
            cases = self._limited(cases)
        results_path = self.out / "results.jsonl"
        done = self._done(results_path)
        systems = self.systems
        total = len(cases) * len(systems)
        self._write_meta(cases, systems, home)
        desks = self._desks(home, embedder)
        primary = desks[self.answerers[0].system]
        if self.judge_settings is not None:
            from evals.judge import Judge

            self.judge = Judge(self.judge_settings)
        peers = self._peers(primary, embedder, home)
        count = len(done)
        try:
            with open(results_path, "a", encoding="utf-8") as sink:
                for case in cases:
                    if case.step is not None:
                        if all((s, case.id) in done for s in systems):
                            continue
                        apply_step(case, home, embedder)
                    for system in systems:
                        if (system, case.id) in done:
                            continue
                        record = self._ask(system, case, desks.get(system, primary), peers)
                        sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                        sink.flush()  # every finished question survives a crash
                        count += 1
                        self.on_progress(count, total, f"{system}: {case.id}")
        finally:
            for desk in desks.values():
                desk.close()
        write_reports(self.out, self.suite, wall_seconds=time.perf_counter() - started)
        return self.out

    def _desks(self, home: Settings, embedder) -> dict:
        """One NewsDesk per answerer, over the same index (one Chroma client)."""
        from rag.engine import NewsDesk

        desks: dict = {}
        for answerer in self.answerers:
            client = next(iter(desks.values())).store.client if desks else None
            desks[answerer.system] = NewsDesk(home.updated(**answerer.update), embedder=embedder, client=client)
        return desks

    def _limited(self, cases: list[Case]) -> list[Case]:
        """The first ``limit`` cases of each type, so every type stays represented."""
        seen: dict[str, int] = {}
        out = []
        for case in cases:
            seen[case.type] = seen.get(case.type, 0) + 1
            if seen[case.type] <= self.limit or case.type == "reindex":
                out.append(case)
        return out

    @staticmethod
    def _done(path: Path) -> set[tuple[str, str]]:
        done: set[tuple[str, str]] = set()
        if not path.exists():
            return done
        lines = path.read_text(encoding="utf-8").splitlines()
        good = []
        for line in lines:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                break  # a line cut by a crash: drop it and everything after
            good.append(line)
            done.add((record["system"], record["id"]))
        if len(good) != len(lines):
            path.write_text("".join(g + "\n" for g in good), encoding="utf-8")
        return done

    def _write_meta(self, cases: list[Case], systems: list[str], home: Settings) -> None:
        meta = self.out / "run.json"
        if meta.exists():
            return
        models = {}  # system -> the model that wrote its answers (None: extractive)
        for a in self.answerers:
            llm = home.updated(**a.update)
            models[a.system] = llm.llm.name if a.mode == "llm" else None
        judge = self.judge_settings
        mode = "+".join(dict.fromkeys(a.mode for a in self.answerers))  # e.g. "extractive+llm" side by side
        meta.write_text(json.dumps({"suite": self.suite.name, "mode": mode, "systems": systems,
                                    "answerers": {a.system: a.spec for a in self.answerers},
                                    "models": models, "limit": self.limit, "split": self.split, "cases": len(cases),
                                    "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                    "llm_model": models.get(systems[0]),
                                    "judge": (judge.llm.name or judge.llm.llm_model) if judge is not None else None},
                                   indent=2))

    def _peers(self, desk, embedder, home: Settings) -> dict:
        from evals.baselines import BM25Alone, LlamaIndexStarter

        peers = {}
        if "bm25" in self.baselines:
            peers["bm25"] = BM25Alone(desk.catalog, desk.settings.retrieval)
        if "llamaindex" in self.baselines:
            starter = LlamaIndexStarter(home.index.home / "baselines" / "llamaindex-starter", embedder)
            starter.build(corpus_paths(self.suite) or sorted((home.index.home / "source").glob("*")))
            peers["llamaindex"] = starter
        return peers

    def _ask(self, system: str, case: Case, desk, peers: dict) -> dict:
        started = time.perf_counter()
        if system not in peers:
            mode = next(a.mode for a in self.answerers if a.system == system)
            answer = desk.ask(case.question, as_of=case.as_of, mode=mode, k=None)
            data = answer.to_dict()
            evidence = answer.retrieved
            data["usage"] = answer.usage
            data["model_output"] = answer.model_output
            data["notes"] = answer.notes
            data["citations"] = [c.to_dict() | {"start": c.start, "end": c.end} for c in answer.citations]
            data["evidence"] = list(dict.fromkeys(e.article_id for e in evidence))  # what the answerer read
            if case.gold_article_ids:  # rank metrics look at 10 articles, more than the answer's evidence
                ranked, _, _ = desk.retrieve(case.question, k=RANKED_CHUNKS, as_of=case.as_of)
                data["retrieved"] = [{"article_id": e.article_id, "url": e.url, "title": e.title, "score": e.score}
                                     for e in ranked]
        else:  # a baseline: its retrieval, newsdesk's extractive answerer
            evidence = peers[system].evidence(case.question, k=RANKED_CHUNKS)
            retrieved_at = time.perf_counter()
            draft = desk.extractive.answer(case.question, evidence[:desk.settings.retrieval.top_k])
            data = {"answer": draft.text if not draft.refused else REFUSAL,
                    "refused": draft.refused, "notes": draft.notes, "citations": [c.to_dict() | {"start": c.start, "end": c.end} for c in draft.citations],
                    "retrieved": [{"article_id": e.article_id, "url": e.url, "title": e.title, "score": e.score} for e in evidence],
                    "evidence": list(dict.fromkeys(e.article_id for e in evidence[:desk.settings.retrieval.top_k])),
                    "timings_ms": {"retrieve": (retrieved_at - started) * 1000,
                                   "answer": (time.perf_counter() - retrieved_at) * 1000,
                                   "total": (time.perf_counter() - started) * 1000}}
        judging = time.perf_counter()  # the judge's time is kept apart from the system's latency
        checks = check_citations(desk.catalog, desk.verifier, data, self.judge, case.question)
        verdict = None
        if self.judge is not None and judges_correctness(case) and not data["refused"]:
            verdict = self.judge.judge_answer(case.question, case.gold_answers, data["answer"])
        # a multiple-choice pick reads the answer, then the best chunks as far as the rank metrics look
        scores = score_case(case, data, [e.text for e in evidence[:RANKED_ARTICLES]], checks, verdict,
                            judged=self.judge is not None)
        record = {"system": system, "id": case.id, "type": case.type, "question": case.question,
                  "gold_answers": case.gold_answers, "gold_article_ids": case.gold_article_ids, "as_of": case.as_of,
                  "answer": data["answer"], "refused": data["refused"], "citations": data["citations"],
                  "citation_checks": checks, "retrieved": first_per_article(data["retrieved"], RANKED_ARTICLES),
                  "scores": scores, "timings_ms": data["timings_ms"], "usage": data.get("usage"),
                  "notes": data["notes"],  # why an answer was withheld, which fallback answered
                  "evidence": data.get("evidence"), "model_output": data.get("model_output")}
        if self.judge is not None:
            record["judge_ms"] = round((time.perf_counter() - judging) * 1000, 1)
        return record
