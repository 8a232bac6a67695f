"""Where the shared benchmark data lives (``datasets_dir``), and its questions in one shape: ``Question``."""

from __future__ import annotations

import glob
import gzip
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from index.types import article_id_for

EVALS_DATA = Path(__file__).resolve().parent / "data"


def datasets_dir() -> Path:
    """../shared/datasets beside the repository, or NEWSDESK_DATASETS."""
    configured = os.environ.get("NEWSDESK_DATASETS")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"


@dataclass
class Question:
    id: str
    question: str
    gold_answers: list[str] = field(default_factory=list)  # empty for unanswerable questions
    gold_article_ids: list[str] = field(default_factory=list)
    as_of: str | None = None
    choices: list[str] = field(default_factory=list)
    kind: str = "answerable"  # answerable | unanswerable | nota | ...
    newest_date: str | None = None  # latest-value questions: the ISO day of the newest report of the value

    @property
    def answerable(self) -> bool:
        return bool(self.gold_answers)


# What realtimeqa-articles keeps of 10 CNN video pages whose gold records hold a text: the player's ad survey
# ("1. How relevant is this ad to you? Video player was slow to load ..."). A question whose gold articles
# all read so is not answerable from the indexed corpus (10 of the 206; 8 were in the realtimeqa-llm slice
# as first drawn, and were replaced there).
AD_SURVEY = "How relevant is this ad to you?"


def indexed_gold_texts() -> dict[str, bool]:
    """Per gold article URL: whether the indexed corpus (realtimeqa-articles) holds a text for it."""
    path = datasets_dir() / "realtimeqa-articles" / "gold-articles.jsonl.gz"
    texts = {}
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            article = json.loads(line)
            text = (article.get("text") or "").strip()
            texts[article["url"]] = bool(text) and AD_SURVEY not in text[:80]
    return texts


def realtimeqa_questions(nota: bool = False) -> list[Question]:
    """The RealTime QA CNN questions that have a gold article with text (206; in 10 of them the indexed
    corpus keeps only ``AD_SURVEY`` of every gold article: ``indexed_gold_texts``)."""
    root = datasets_dir() / "realtimeqa"
    gold: dict[str, list[str]] = {}
    for path in sorted(glob.glob(str(root / "gold" / "*.jsonl"))):
        for line in open(path, encoding="utf-8"):
            record = json.loads(line)
            urls = [r["url"] for r in record.get("search_result", []) if (r.get("text") or "").strip()]
            if urls:
                gold[record["question_id"]] = urls
    folder, suffix = ("qa_nota", "_nota") if nota else ("qa", "")
    questions: list[Question] = []
    for path in sorted(glob.glob(str(root / folder / "*.jsonl"))):
        for line in open(path, encoding="utf-8"):
            record = json.loads(line)
            base_id = record["question_id"].removesuffix("_nota")
            if base_id not in gold:
                continue
            choices = record["choices"]
            answer = choices[int(record["answer"][0])]
            kind = "answerable"
            if nota and answer.lower().startswith("none of the above"):
                kind = "nota"
            questions.append(Question(
                id=record["question_id"] + ("" if record["question_id"].endswith(suffix) else suffix),
                question=record["question_sentence"], gold_answers=[answer] if kind == "answerable" else [],
                gold_article_ids=[article_id_for(u, "") for u in gold[base_id]],
                as_of=record["question_date"], choices=choices, kind=kind))
    return questions


def load_jsonl_questions(path: Path) -> list[Question]:
    out = []
    for line in open(path, encoding="utf-8"):
        if line.strip():
            record = json.loads(line)
            out.append(Question(**record))
    return out


def archive_qa_questions(path: Path | None = None) -> list[Question]:
    """archive-qa (``datasets/archive-qa``): questions as news readers ask them over the whole RealTime QA
    corpus, with no as-of date; ``kind`` is the dataset's type (single, multi, temporal, null). ``path``: another
    set in its format (``evals/data/archive-dev``, the tuning set from other articles)."""
    path = path or datasets_dir() / "archive-qa" / "archive-qa.jsonl"
    out = []
    for line in open(path, encoding="utf-8"):
        if line.strip():
            record = json.loads(line)
            out.append(Question(record["id"], record["question"], list(record["gold"]),
                                _archive_gold_articles(record), kind=record["type"]))
    return out


def story_latest_questions() -> list[Question]:
    """Latest-value questions over the labelled stories (``evals/data/stories/latest.jsonl``), in archive-qa's
    format: each asks a story's newest value of a figure that moved. Its gold articles are the newest labelled
    report and the story's reports of that day or later: an answer citing a report as new counts as citing the
    newest."""
    out = []
    for line in open(EVALS_DATA / "stories" / "latest.jsonl", encoding="utf-8"):
        if line.strip():
            record = json.loads(line)
            articles = [article_id_for(u, "") for u in [record["urls"][0], *record["newer_urls"]]]
            out.append(Question(record["id"], record["question"], list(record["gold"]), articles, kind=record["type"],
                                newest_date=record["date"]))
    return out


def _archive_gold_articles(record: dict) -> list[str]:
    """The articles that answer: every listed one (a two-article question needs each), the newest report
    alone for a latest-value question (its other urls are the older reports), none for a null one."""
    if not record["gold"]:
        return []
    urls = record["urls"][:1] if record["type"] == "temporal" else record["urls"]
    return [article_id_for(u, "") for u in urls]


def unanswerable_questions() -> list[Question]:
    """Questions written for this project that the RealTime QA corpus cannot answer."""
    return load_jsonl_questions(EVALS_DATA / "unanswerable-realtimeqa.jsonl")
