"""Declarative evaluation suites (``evals/suites/*.toml``) and the cases each one asks."""

from __future__ import annotations

import gzip
import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from errors import BadInput
from evals.datasets import (EVALS_DATA, Question, archive_qa_questions, datasets_dir, load_jsonl_questions,
                            realtimeqa_questions, story_latest_questions, unanswerable_questions)

SUITES = Path(__file__).resolve().parent / "suites"


class Suite(BaseModel):
    """One ``evals/suites/<name>.toml`` file: what to index, which questions to ask, what must hold."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str
    # files under the datasets folder, or a corpus the harness writes itself (the reindex scenario, RGB passages)
    corpus: list[str] | Literal["reindex", "rgb"]
    questions: Literal["seed", "realtimeqa", "rgb", "reindex", "archive-qa", "archive-dev", "stories-latest"]
    variants: list[Literal["open", "multiple-choice", "nota", "unanswerable"]] = ["open"]
    mode: Literal["extractive", "llm"] | None = None  # None: the run's mode, else the settings' answer mode
    # metric name -> the value it must reach (``*false_refusal_rate``: must not exceed); where each value
    # comes from is written beside it in the TOML file
    thresholds: dict[str, float] = {}
    # RealTime QA suites: keep only these question ids (their variants follow: "<id>-mc", "<id>_nota");
    # the project's unanswerable questions are always all kept. None: every question.
    question_ids: list[str] | None = None

    @field_validator("corpus", mode="before")
    @classmethod
    def _corpus(cls, value):
        files = isinstance(value, list) and value and all(isinstance(p, str) and p for p in value)
        if files or value in ("reindex", "rgb"):
            return value
        raise ValueError("give a list of files under the datasets folder, or 'reindex' or 'rgb'")


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
    # how a free answer is matched to its gold strings: normalized containment, or archive-qa's whole words
    matching: Literal["contains", "whole-words"] = "contains"
    newest_date: str | None = None  # latest-value questions: the ISO day of the newest report of the value


def list_suites() -> list[str]:
    return sorted(p.stem for p in SUITES.glob("*.toml"))


def load_suite(name: str) -> Suite:
    path = SUITES / f"{name}.toml"
    if not path.exists():
        raise BadInput(f"no suite '{name}': choose one of {', '.join(list_suites())}")
    try:
        suite = Suite.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except tomllib.TOMLDecodeError as error:
        raise BadInput(f"suite file {path} is not valid TOML: {error}.") from None
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
                             for e in error.errors())
        raise BadInput(f"suite file {path} is invalid: {problems}.") from None
    if suite.name != name:
        raise BadInput(f"suite file {path} names itself '{suite.name}': its name must be its file name, '{name}'.")
    return suite


def corpus_paths(suite: Suite) -> list[Path]:
    if isinstance(suite.corpus, str):
        return []
    return [datasets_dir() / p for p in suite.corpus]


def _from_question(q: Question, type_: str) -> Case:
    return Case(q.id, type_, q.question, list(q.gold_answers), list(q.gold_article_ids), q.as_of, list(q.choices),
                expect_refusal=not q.answerable, newest_date=q.newest_date)


def cases_for(suite: Suite) -> list[Case]:
    if suite.questions == "seed":
        from index.types import article_id_for

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
    if suite.questions in ARCHIVE_STYLE:
        # asked "now" (no as-of date): the reference is the newest indexed article, as for a user
        asked = {"archive-qa": archive_qa_questions,
                 "archive-dev": lambda: archive_qa_questions(EVALS_DATA / "archive-dev" / "archive-dev.jsonl"),
                 "stories-latest": story_latest_questions}[suite.questions]()
        cases = [_from_question(q, q.kind) for q in asked]
        for case in cases:
            case.matching = "whole-words"
        return cases
    if suite.questions == "rgb":
        out = []
        for row in _rgb_rows():
            out.append(Case(f"rgb-{row['id']}", "counterfactual", row["query"], _rgb_golds(row["answer"]),
                            fake_answers=_rgb_golds(row["fakeanswer"])))
        return out
    if suite.questions == "reindex":
        return reindex_cases()
    raise BadInput(f"unknown question set '{suite.questions}'")


SPLITS = ("odd", "even")
# question sets in archive-qa's style: asked "now" over the whole corpus, graded on whole words
ARCHIVE_STYLE = ("archive-qa", "archive-dev", "stories-latest")


def split_of(case_id: str) -> str | None:
    """"odd" or "even" by the number in a case id ("a017" is odd): the tuning and held-out halves of
    archive-qa; None for an id without a number."""
    digits = "".join(ch for ch in case_id if ch.isdigit())
    return SPLITS[int(digits) % 2 == 0] if digits else None


def _selected(suite: Suite, questions: list[Question]) -> list[Question]:
    """The suite's ``question_ids`` of these questions (all when it has none); an unknown id is an error."""
    if suite.question_ids is None:
        return questions
    wanted = set(suite.question_ids)
    kept = [q for q in questions if q.id.removesuffix("_nota") in wanted]
    missing = wanted - {q.id.removesuffix("_nota") for q in kept}
    if missing:
        raise BadInput(f"suite {suite.name}: unknown question ids {', '.join(sorted(missing)[:5])}")
    return kept


def _rgb_golds(answer: str | list) -> list[str]:
    """RGB's answer is a string, or (28 of its 100 rows) a list holding one list of spellings of the
    same answer ("July 21 2017", "Jul 21, 2017", ...): any spelling counts."""
    if isinstance(answer, str):
        return [answer]
    return [spelling for part in answer for spelling in ([part] if isinstance(part, str) else part)]


def _rgb_rows() -> list[dict]:
    path = datasets_dir() / "rgb_en_fact" / "en_fact.json"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_rgb_corpus(folder: Path) -> Path:
    """Each RGB question's true and falsified passages as same-day articles from two outlets (and its
    irrelevant ones from a third)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "rgb-outlets.jsonl.gz"  # not "rgb.jsonl.gz": that one, written before, named the outlets "true"/"falsified"
    if target.exists():
        return target
    with gzip.open(target.with_suffix(".tmp"), "wt", encoding="utf-8") as out:
        for row in _rgb_rows():
            # nothing an answerer reads (outlet, URL) tells the true passages from the falsified ones: which
            # outlet carries which is a coin flipped per question, from its id
            flip = hashlib.sha256(str(row["id"]).encode()).digest()[0] % 2
            outlets = {"true": "ab"[flip], "falsified": "ba"[flip], "irrelevant": "c"}
            for kind, passages in (("true", row["positive"]), ("falsified", row["positive_wrong"]),
                                   ("irrelevant", row["negative"])):
                for i, text in enumerate(passages):
                    outlet = f"outlet-{outlets[kind]}.example"
                    out.write(json.dumps({"url": f"https://{outlet}/rgb/{row['id']}/{i}", "title": row["query"],
                                          "source": outlet, "published_at": "2023-01-15",
                                          "text": text}) + "\n")
    target.with_suffix(".tmp").rename(target)
    return target


REINDEX_URL = "https://portvale-news.example/council-bridge"


def reindex_cases() -> list[Case]:
    """Ask; add the answer; ask; change it; ask; delete it; ask."""
    from index.types import article_id_for

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
