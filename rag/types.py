"""Plain data types of the question side: evidence in, answer with citations out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TypeVar


@dataclass
class AlsoReported:
    """Another article of the same story (a wire copy, a version, the same text at another URL) that was
    folded into the evidence shown (``rag.wire``): listed as "also reported by"."""

    article_id: str
    title: str | None
    source: str | None
    url: str | None
    published_at: str | None


@dataclass
class Evidence:
    """A retrieved chunk with the article it belongs to and how it was found."""

    chunk_id: str
    article_id: str
    title: str
    source: str | None
    url: str | None
    published_at: datetime | None
    text: str
    start: int
    end: int
    score: float = 0.0
    dense_rank: int | None = None
    bm25_rank: int | None = None
    query: str = ""  # the (sub-)question that found it
    also_reported_by: list[AlsoReported] = field(default_factory=list)  # copies of its story folded away


@dataclass
class Citation:
    """What a marker ``[n]`` points to: an article and the exact sentence that supports the claim."""

    n: int
    article_id: str
    title: str
    source: str | None
    url: str | None
    published_at: str | None
    quote: str
    start: int = 0
    end: int = 0
    also_reported_by: list[AlsoReported] = field(default_factory=list)  # the same story elsewhere (rag.wire)

    @classmethod
    def from_evidence(cls, n: int, evidence: Evidence, quote: str, start: int, end: int) -> "Citation":
        return cls(n, evidence.article_id, evidence.title, evidence.source, evidence.url,
                   evidence.published_at.isoformat() if evidence.published_at else None, quote, start, end,
                   list(evidence.also_reported_by))

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("start")
        data.pop("end")
        if not data["also_reported_by"]:  # the key appears only when another outlet carried the story
            data.pop("also_reported_by")
        return data


@dataclass
class Source:
    """One numbered source sent to the model: an article and the sentences of it that were kept."""

    number: int
    evidence: Evidence
    spans: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end) in the article, text

    def text(self) -> str:
        """The kept sentences, best first (small models read the start of a source most closely);
        a sentence's neighbours stay beside it in document order."""
        out, last_end = [], None
        for start, end, text in self.spans:
            if last_end is not None:
                out.append(" " if 0 <= start - last_end <= 2 else " ... ")
            out.append(text)
            last_end = end
        return "".join(out)

    def citation(self, n: int, span: tuple[int, int, str]) -> Citation:
        return Citation.from_evidence(n, self.evidence, span[2], span[0], span[1])


@dataclass
class Preview:
    """What ``NewsDesk.stream(..., preview=True)`` yields first, before a model starts writing: the
    evidence found and the best quote in it, so a face can show sources at once."""

    evidence: list[Evidence]
    best: Citation | None


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    mode: str
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[Evidence] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    standalone_question: str | None = None
    notes: list[str] = field(default_factory=list)  # e.g. the date window used, a conflict noticed
    usage: dict | None = None  # llm mode: {"prompt_tokens", "completion_tokens"} (tiktoken estimate)
    model_output: str | None = None  # llm mode: everything the model wrote, before the checks (for evaluation)

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "mode": self.mode,
            "citations": [c.to_dict() for c in self.citations],
            "retrieved": [{"article_id": e.article_id, "url": e.url, "title": e.title, "source": e.source,
                           "published_at": e.published_at.isoformat() if e.published_at else None,
                           "score": round(e.score, 6)}
                          for e in first_per_article(self.retrieved)],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }


Ranked = TypeVar("Ranked")


def first_per_article(ranked: Iterable[Ranked], limit: int | None = None) -> list[Ranked]:
    """The first item of each article, in the order given (for a ranking: each article's best chunk, and
    the articles in the order their first chunk was retrieved), at most ``limit`` of them. An item is
    evidence (``item.article_id``) or a retrieved row of a result (``item["article_id"]``)."""
    first: dict[str, Ranked] = {}
    for item in ranked:
        if limit is not None and len(first) >= limit:
            break
        first.setdefault(item["article_id"] if isinstance(item, Mapping) else item.article_id, item)
    return list(first.values())
