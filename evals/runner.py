"""Runs a suite: index its corpus, ask every case (newsdesk and, optionally, the baselines), score,
and write a run directory (results.jsonl, summary.json, report.md, charts). Resumable."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from evals.metrics import contains_answer, exact_match, hit_at, mrr_at, ndcg_at, normalize
from evals.suite import Case, Suite, cases_for, corpus_paths, load_suite, write_rgb_corpus, REINDEX_URL
from index.settings import Settings

Progress = Callable[[int, int, str], None]  # (done, total, label)
BASELINES = ("bm25", "llamaindex")


def corpus_settings(settings: Settings, suite: Suite) -> Settings:
    """Each suite corpus has its own index under NEWSDESK_HOME/evals/corpora (reused across runs)."""
    key = suite.name if isinstance(suite.corpus, str) else "-".join(Path(p).name.split(".")[0] for p in suite.corpus)
    return settings.model_copy(update={"home": settings.home / "evals" / "corpora" / key, "chroma_host": None})


def prepare_corpus(suite: Suite, settings: Settings, embedder, on_progress: Progress | None = None) -> Settings:
    from index.sync import Indexer

    home = corpus_settings(settings, suite)
    if suite.corpus == "reindex":
        shutil.rmtree(home.home, ignore_errors=True)  # the scenario starts from a known state every run
        paths = [reindex_folder(home)]
    elif suite.corpus == "rgb":
        paths = [write_rgb_corpus(home.home / "source")]
    else:
        paths = corpus_paths(suite)
        missing = [p for p in paths if not p.exists()]
        if missing:
            raise FileNotFoundError(f"suite corpus missing: {', '.join(map(str, missing))}")
    indexer = Indexer(home, embedder=embedder)
    try:
        callback = (lambda done, total, embedded: on_progress(done, total, "indexing corpus")) if on_progress else None
        indexer.sync(paths, on_progress=callback)
    finally:
        indexer.close()
    return home


def reindex_folder(settings: Settings) -> Path:
    from index.bench import datasets_dir

    folder = settings.home / "source"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(datasets_dir() / "seed" / "000_0854de60a5b65581.txt", folder / "seed.txt")
    return folder


def apply_step(case: Case, home: Settings, embedder) -> None:
    """The reindex scenario's corpus change before a question, followed by a sync."""
    from index.sync import Indexer

    folder = home.home / "source"
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


def pick_choice(answer_text: str, evidence_texts: list[str], choices: list[str]) -> str:
    """Multiple choice from a free answer: the choice the answer (or else the evidence) states."""
    real = [c for c in choices if not normalize(c).startswith("none of above")]
    scored = []
    for choice in real:
        score = 2.0 * contains_answer(answer_text, [choice])
        score += sum(contains_answer(text, [choice]) / (rank + 1) for rank, text in enumerate(evidence_texts))
        scored.append((score, choice))
    best = max(scored, default=(0.0, ""))
    if best[0] == 0.0:
        nota = [c for c in choices if normalize(c).startswith("none of above")]
        return nota[0] if nota else (real[0] if real else "")
    return best[1]


def score_case(case: Case, answer: dict, evidence_texts: list[str], citation_checks: list[bool]) -> dict:
    ranked = list(dict.fromkeys(r["article_id"] for r in answer["retrieved"]))
    gold = set(case.gold_article_ids)
    scores: dict = {"refused": float(answer["refused"])}
    if gold:
        scores.update({"hit@1": hit_at(ranked, gold, 1), "hit@5": hit_at(ranked, gold, 5),
                       "hit@10": hit_at(ranked, gold, 10), "mrr@10": mrr_at(ranked, gold, 10),
                       "ndcg@10": ndcg_at(ranked, gold, 10)})
    if case.type in ("multiple-choice", "nota"):
        choice = pick_choice(answer["answer"] if not answer["refused"] else "", evidence_texts, case.choices)
        scores["choice"] = choice
        refused_choice = normalize(choice).startswith("none of above")
        scores["refused"] = float(refused_choice)
        if case.gold_answers:
            scores["accuracy"] = float(normalize(choice) == normalize(case.gold_answers[0]))
    elif case.gold_answers:
        scores["accuracy"] = contains_answer(answer["answer"], case.gold_answers) if not answer["refused"] else 0.0
        scores["exact_match"] = exact_match(answer["answer"], case.gold_answers)
    if case.fake_answers:
        text = answer["answer"]
        scores["repeats_fake"] = float(contains_answer(text, case.fake_answers) and not answer["refused"])
        scores["flags_conflict"] = float("disagree" in text.lower() or len({c["article_id"] for c in answer["citations"]}) > 1)
    if answer["citations"]:
        scores["citation_validity"] = sum(citation_checks) / len(citation_checks)
        if gold:
            scores["citation_precision"] = sum(c["article_id"] in gold for c in answer["citations"]) / len(answer["citations"])
    return scores


class SuiteRun:
    """One run of one suite; ``run()`` returns the run directory."""

    def __init__(self, settings: Settings, suite_name: str, mode: str | None = None, limit: int | None = None,
                 out: Path | None = None, baselines: list[str] | None = None, on_progress: Progress | None = None) -> None:
        self.settings = settings
        self.suite = load_suite(suite_name)
        self.mode = mode or self.suite.mode or ("llm" if settings.llm_configured and settings.answer_mode != "extractive" else "extractive")
        self.limit = limit
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        self.out = Path(out) if out else settings.home / "evals" / "runs" / f"{self.suite.name}-{stamp}"
        self.baselines = [b for b in (baselines or []) if b]
        unknown = set(self.baselines) - set(BASELINES)
        if unknown:
            raise ValueError(f"unknown baseline(s) {', '.join(sorted(unknown))}: choose from {', '.join(BASELINES)}")
        self.on_progress = on_progress or (lambda done, total, label: None)

    def run(self) -> Path:
        from index.embedders import make_embedder
        from evals.report import write_reports

        self.out.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        embedder = make_embedder(self.settings)
        home = prepare_corpus(self.suite, self.settings, embedder, self.on_progress)
        cases = cases_for(self.suite)
        if self.limit:
            cases = self._limited(cases)
        results_path = self.out / "results.jsonl"
        done = self._done(results_path)
        systems = ["newsdesk"] + self.baselines
        total = len(cases) * len(systems)
        self._write_meta(cases, systems)
        from rag.engine import NewsDesk

        desk = NewsDesk(home, embedder=embedder)
        peers = self._peers(desk, embedder, home)
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
                        record = self._ask(system, case, desk, peers)
                        sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                        sink.flush()  # every finished question survives a crash
                        count += 1
                        self.on_progress(count, total, f"{system}: {case.id}")
        finally:
            desk.close()
        write_reports(self.out, self.suite, wall_seconds=time.perf_counter() - started)
        return self.out

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

    def _write_meta(self, cases: list[Case], systems: list[str]) -> None:
        meta = self.out / "run.json"
        if not meta.exists():
            meta.write_text(json.dumps({"suite": self.suite.name, "mode": self.mode, "systems": systems,
                                        "limit": self.limit, "cases": len(cases),
                                        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                        "llm_model": self.settings.llm_model if self.mode == "llm" else None}, indent=2))

    def _peers(self, desk, embedder, home: Settings) -> dict:
        from evals.baselines import BM25Alone, LlamaIndexStarter

        peers = {}
        if "bm25" in self.baselines:
            peers["bm25"] = BM25Alone(desk.catalog)
        if "llamaindex" in self.baselines:
            starter = LlamaIndexStarter(home.home / "baselines" / "llamaindex-starter", embedder)
            starter.build(corpus_paths(self.suite) or sorted((home.home / "source").glob("*")))
            peers["llamaindex"] = starter
        return peers

    def _ask(self, system: str, case: Case, desk, peers: dict) -> dict:
        started = time.perf_counter()
        if system == "newsdesk":
            answer = desk.ask(case.question, as_of=case.as_of, mode=self.mode, k=None)
            data = answer.to_dict()
            evidence = answer.retrieved
            data["usage"] = answer.usage
            if case.gold_article_ids:  # rank metrics look at 10 articles, more than the answer's evidence
                ranked, _, _ = desk.retrieve(case.question, k=30, as_of=case.as_of)
                data["retrieved"] = [{"article_id": e.article_id, "url": e.url, "title": e.title, "score": e.score}
                                     for e in ranked]
        else:
            evidence = peers[system].evidence(case.question, k=30)
            retrieved_at = time.perf_counter()
            draft = desk.extractive.answer(case.question, evidence[:desk.settings.top_k])
            data = {"answer": draft.text if not draft.refused else "The indexed articles do not answer this question.",
                    "refused": draft.refused, "citations": [c.to_dict() | {"start": c.start, "end": c.end} for c in draft.citations],
                    "retrieved": [{"article_id": e.article_id, "url": e.url, "title": e.title, "score": e.score} for e in evidence],
                    "timings_ms": {"retrieve": (retrieved_at - started) * 1000,
                                   "answer": (time.perf_counter() - retrieved_at) * 1000,
                                   "total": (time.perf_counter() - started) * 1000}}
        if system == "newsdesk":
            data["citations"] = [c.to_dict() | {"start": c.start, "end": c.end} for c in answer.citations]
        checks = self._check_citations(desk, data)
        scores = score_case(case, data, [e.text for e in evidence[:10]], checks)
        return {"system": system, "id": case.id, "type": case.type, "question": case.question,
                "gold_answers": case.gold_answers, "gold_article_ids": case.gold_article_ids, "as_of": case.as_of,
                "answer": data["answer"], "refused": data["refused"], "citations": data["citations"],
                "retrieved": _first_per_article(data["retrieved"])[:10],
                "scores": scores, "timings_ms": data["timings_ms"],
                "usage": data.get("usage")}

    @staticmethod
    def _check_citations(desk, data: dict) -> list[bool]:
        """A citation is valid when its quote is verbatim at its offsets and supports its sentence."""
        from rag.citations import MARKER
        from rag.sentences import sentence_spans

        checks = []
        text = data["answer"]
        sentences = [text[a:b] for a, b in sentence_spans(text)]
        for citation in data["citations"]:
            article = desk.catalog.article_text(citation["article_id"]) or ""
            verbatim = article[citation["start"]:citation["end"]] == citation["quote"]
            claim = next((s for s in sentences if f"[{citation['n']}]" in s), "")
            claim = MARKER.sub("", claim)
            supported = bool(claim) and desk.verifier.supports([claim], [citation["quote"]])[0]
            checks.append(verbatim and supported)
        return checks


def _first_per_article(retrieved: list[dict]) -> list[dict]:
    first: dict[str, dict] = {}
    for row in retrieved:
        first.setdefault(row["article_id"], row)
    return list(first.values())


def run_suite(settings: Settings, suite: str, **options) -> Path:
    return SuiteRun(settings, suite, **options).run()
