"""Declarative evaluation suites (``evals/suites/*.toml``) and the cases each one asks."""

from __future__ import annotations

import gzip
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from evals.datasets import EVALS_DATA, Question, load_jsonl_questions, realtimeqa_questions, unanswerable_questions
from index.bench import datasets_dir

SUITES = Path(__file__).resolve().parent / "suites"


@dataclass
class Suite:
    name: str
    description: str
    corpus: list[str] | str
    questions: str
    variants: list[str] = field(default_factory=lambda: ["open"])
    mode: str | None = None
    thresholds: dict[str, float] = field(default_factory=dict)
    # RealTime QA suites: keep only these question ids (their variants follow: "<id>-mc", "<id>_nota");
    # the project's unanswerable questions are always all kept. None: every question.
    question_ids: list[str] | None = None


@dataclass
class Case:
    """One question to ask, with what a correct answer looks like."""

    id: str
    type: str
    question: str
    gold_answers: list[str] = field(default_factory=list)
    gold_article_ids: list[str] = field(default_factory=list)
    as_of: str | None = None
    choices: list[str] = field(default_factory=list)
    expect_refusal: bool = False
    fake_answers: list[str] = field(default_factory=list)
    step: dict | None = None  # reindex scenario: what to do to the corpus before asking


def list_suites() -> list[str]:
    return sorted(p.stem for p in SUITES.glob("*.toml"))


def load_suite(name: str) -> Suite:
    path = SUITES / f"{name}.toml"
    if not path.exists():
        raise ValueError(f"no suite '{name}': choose one of {', '.join(list_suites())}")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return Suite(**data)


def corpus_paths(suite: Suite) -> list[Path]:
    if isinstance(suite.corpus, str):
        return []
    return [datasets_dir() / p for p in suite.corpus]


def _from_question(q: Question, type_: str) -> Case:
    return Case(q.id, type_, q.question, list(q.gold_answers), list(q.gold_article_ids), q.as_of, list(q.choices),
                expect_refusal=not q.answerable)


def cases_for(suite: Suite) -> list[Case]:
    if suite.questions == "seed":
        from index.article import article_id_for

        seed_id = article_id_for(None, "000_0854de60a5b65581.txt")
        out = []
        for q in load_jsonl_questions(EVALS_DATA / "seed.jsonl"):
            case = _from_question(q, "answerable" if q.answerable else "unanswerable")
            case.gold_article_ids = [seed_id] if q.answerable else []
            out.append(case)
        return out
    if suite.questions == "realtimeqa":
        out: list[Case] = []
        if "open" in suite.variants:
            out += [_from_question(q, "open") for q in _selected(suite, realtimeqa_questions())]
        if "multiple-choice" in suite.variants:
            for q in _selected(suite, realtimeqa_questions()):
                case = _from_question(q, "multiple-choice")
                case.id += "-mc"
                out.append(case)
        if "nota" in suite.variants:
            for q in _selected(suite, realtimeqa_questions(nota=True)):
                case = _from_question(q, "nota")
                case.expect_refusal = q.kind == "nota"  # the gold choice was replaced by "None of the above"
                out.append(case)
        if "unanswerable" in suite.variants:
            out += [_from_question(q, "unanswerable") for q in unanswerable_questions()]
        return out
    if suite.questions == "rgb":
        out = []
        for row in _rgb_rows():
            out.append(Case(f"rgb-{row['id']}", "counterfactual", row["query"], [row["answer"]],
                            fake_answers=[row["fakeanswer"]]))
        return out
    if suite.questions == "reindex":
        return reindex_cases()
    raise ValueError(f"unknown question set '{suite.questions}'")


def _selected(suite: Suite, questions: list[Question]) -> list[Question]:
    """The suite's ``question_ids`` of these questions (all when it has none); an unknown id is an error."""
    if suite.question_ids is None:
        return questions
    wanted = set(suite.question_ids)
    kept = [q for q in questions if q.id.removesuffix("_nota") in wanted]
    missing = wanted - {q.id.removesuffix("_nota") for q in kept}
    if missing:
        raise ValueError(f"suite {suite.name}: unknown question ids {', '.join(sorted(missing)[:5])}")
    return kept


def _rgb_rows() -> list[dict]:
    path = datasets_dir() / "rgb_en_fact" / "en_fact.json"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_rgb_corpus(folder: Path) -> Path:
    """Each RGB question's true and falsified passages as same-day articles from two outlets."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "rgb.jsonl.gz"
    if target.exists():
        return target
    with gzip.open(target.with_suffix(".tmp"), "wt", encoding="utf-8") as out:
        for row in _rgb_rows():
            for kind, passages in (("true", row["positive"]), ("falsified", row["positive_wrong"]),
                                   ("irrelevant", row["negative"])):
                for i, text in enumerate(passages):
                    out.write(json.dumps({"url": f"https://rgb.example/{row['id']}/{kind}/{i}", "title": row["query"],
                                          "source": f"{kind}.rgb.example", "published_at": "2023-01-15",
                                          "text": text}) + "\n")
    target.with_suffix(".tmp").rename(target)
    return target


REINDEX_URL = "https://portvale-news.example/council-bridge"


def reindex_cases() -> list[Case]:
    """Ask; add the answer; ask; change it; ask; delete it; ask."""
    from index.article import article_id_for

    question = "What did the Portvale council decide about the harbour bridge toll?"
    article = article_id_for(REINDEX_URL, "")
    return [
        Case("reindex-1-before", "reindex", question, expect_refusal=True, step={"action": "none"}),
        Case("reindex-2-added", "reindex", question, ["scrap the toll"], [article],
             step={"action": "write", "text": "The Portvale council voted on Tuesday to scrap the toll on the harbour "
                                              "bridge from March, after a petition signed by 9,000 residents."}),
        Case("reindex-3-changed", "reindex", question, ["double the toll"], [article], fake_answers=["scrap the toll"],
             step={"action": "write", "text": "The Portvale council voted on Tuesday to double the toll on the harbour "
                                              "bridge from March, to pay for urgent repairs to its cables."}),
        Case("reindex-4-deleted", "reindex", question, expect_refusal=True, fake_answers=["double the toll", "scrap the toll"],
             step={"action": "delete"}),
    ]
