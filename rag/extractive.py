"""The offline answerer: picks the evidence sentences that answer the question and quotes them."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from index.embedders import Embedder
from rag.citations import MARKER, content_stems
from rag.safety import is_instruction_like
from rag.sentences import sentence_spans
from rag.types import Citation, Evidence

_YES_NO = re.compile(r"^(is|are|was|were|did|does|do|has|have|had|can|could|will|would|should)\b", re.I)
_NEGATION = re.compile(r"\b(not|no|never|n't|denied|denies|rejected|refused|without|none)\b", re.I)
_NUMBER = re.compile(r"\b\d[\d,.]*\b")


@dataclass
class Candidate:
    evidence: Evidence
    start: int  # offsets in the article text
    end: int
    text: str
    score: float = 0.0
    cosine: float = 0.0
    lexical: float = 0.0


@dataclass
class Draft:
    text: str
    citations: list[Citation]
    refused: bool
    notes: list[str]
    best_score: float


class ExtractiveAnswerer:
    """Scores every sentence of the top evidence against the question (embedding + shared words)."""

    def __init__(self, embedder: Embedder, refuse_below: float = 0.38, max_chunks: int = 8) -> None:
        self.embedder = embedder
        self.refuse_below = refuse_below
        self.max_chunks = max_chunks

    def candidates(self, question: str, evidence: list[Evidence], focus: str | None = None) -> list[Candidate]:
        """Sentences of the evidence, best first. ``focus``: the user's own words of a follow-up whose
        standalone form is ``question``: its words say what is asked, the context only where."""
        out: list[Candidate] = []
        seen: set[tuple[str, int]] = set()
        for item in evidence[: self.max_chunks]:
            for a, b in sentence_spans(item.text):
                key = (item.article_id, item.start + a)
                text = item.text[a:b]
                if key in seen or len(text) < 20 or len(text.split()) < 4 or text.endswith("?") \
                        or is_instruction_like(text):
                    continue
                seen.add(key)
                out.append(Candidate(item, item.start + a, item.start + b, text))
        if not out:
            return out
        queries = [question] + ([focus] if focus else [])
        vectors = self.embedder.embed(queries + [c.text for c in out])
        cosines = vectors[len(queries):] @ vectors[:len(queries)].mean(axis=0)
        terms = content_stems(focus) or content_stems(question) if focus else content_stems(question)
        for candidate, cosine in zip(out, cosines):
            shared = terms & content_stems(candidate.text)
            candidate.cosine = float(cosine)
            candidate.lexical = len(shared) / len(terms) if terms else 0.0
            candidate.score = 0.6 * candidate.cosine + 0.4 * candidate.lexical
        out.sort(key=lambda c: -c.score)
        return out

    def answer(self, question: str, evidence: list[Evidence], parts: list[str] | None = None,
               focus: str | None = None) -> Draft:
        ranked = self.candidates(question, evidence, focus)
        if not ranked or ranked[0].score < self.refuse_below or not _mentions_key_terms(question, ranked[0].evidence):
            return Draft("", [], True, [], ranked[0].score if ranked else 0.0)
        best = ranked[0]
        notes: list[str] = []
        chosen: list[Candidate] = [best]
        prefix = ""

        if parts:
            chosen = self._one_per_part(parts, evidence) or chosen
            if len(chosen) == 2 and all(c.evidence.published_at for c in chosen):
                first, second = sorted(chosen, key=lambda c: c.evidence.published_at)
                prefix = (f"By publication date, the report on \"{_short(first.evidence.title)}\" "
                          f"({first.evidence.published_at.date().isoformat()}) came before the one on "
                          f"\"{_short(second.evidence.title)}\" ({second.evidence.published_at.date().isoformat()}). ")
        else:
            rival = self._conflicting(best, ranked)
            if rival is not None:
                chosen = [best, rival]
                a, b = best.evidence.published_at, rival.evidence.published_at
                if a and b and a.date() != b.date():
                    newer, older = (best, rival) if a > b else (rival, best)
                    chosen = [newer, older]
                    prefix = (f"The reports disagree; the newest is from "
                              f"{newer.evidence.published_at.date().isoformat()}. ")
                    notes.append("conflict over time: newest report first")
                else:
                    prefix = "Reports from the same day disagree. "
                    notes.append("conflict between outlets")
            elif _YES_NO.match(question.strip()) and best.lexical >= 0.6:
                negated = bool(_NEGATION.search(best.text)) != bool(_NEGATION.search(question))
                prefix = "No. " if negated else "Yes. "

        citations: list[Citation] = []
        sentences: list[str] = []
        for n, candidate in enumerate(chosen, start=1):
            e = candidate.evidence
            citations.append(Citation(
                n=n, article_id=e.article_id, title=e.title, source=e.source, url=e.url,
                published_at=e.published_at.isoformat() if e.published_at else None,
                quote=candidate.text, start=candidate.start, end=candidate.end))
            sentence = MARKER.sub("", candidate.text).rstrip()
            closing = sentence[-1] if sentence and sentence[-1] in ".!?" else "."
            sentences.append(f"{sentence.rstrip('.!?')} [{n}]{closing}")
        joiner = " An earlier report said: " if prefix.startswith("The reports disagree") else " "
        return Draft(prefix + joiner.join(sentences), citations, False, notes, best.score)

    def _one_per_part(self, parts: list[str], evidence: list[Evidence]) -> list[Candidate]:
        picked: list[Candidate] = []
        for part in parts:
            pool = [e for e in evidence if e.query == part] or evidence
            ranked = [c for c in self.candidates(part, pool) if all(c.evidence.article_id != p.evidence.article_id for p in picked)]
            if ranked:
                picked.append(ranked[0])
        return picked if len(picked) == len(parts) else []

    def _conflicting(self, best: Candidate, ranked: list[Candidate]) -> Candidate | None:
        """A close runner-up from another article that states different figures about the same thing."""
        best_numbers = set(_NUMBER.findall(best.text))
        if not best_numbers:
            return None
        for other in ranked[1:6]:
            if other.evidence.article_id == best.evidence.article_id or other.score < 0.9 * best.score:
                continue
            numbers = set(_NUMBER.findall(other.text))
            if not numbers or numbers == best_numbers:
                continue
            vectors = self.embedder.embed([best.text, other.text])
            if float(vectors[0] @ vectors[1]) >= 0.75 and len(content_stems(best.text) & content_stems(other.text)) >= 4:
                return other
        return None


_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b([A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)*)")


def key_terms(question: str) -> tuple[set[str], set[str]]:
    """Numbers and proper names in a question: what the evidence must mention to answer it."""
    numbers = {n.strip(".,").replace(",", "") for n in _NUMBER.findall(question)}
    names = set()
    for match in _NAME.finditer(question.strip()):
        for word in match.group(1).split():
            word = word.strip("’'").removesuffix("’s").removesuffix("'s")
            if word.lower() not in _COMMON_CAPITALS and len(word) > 1:
                names.add(word.lower())
    return numbers, names


_COMMON_CAPITALS = {"i", "us", "u.s", "which", "what", "who", "when", "where", "how", "why", "did", "does", "is",
                    "are", "was", "were", "the", "a", "an", "in", "on", "of", "and", "or", "dr", "mr", "mrs", "ms"}


def _mentions_key_terms(question: str, evidence: Evidence) -> bool:
    """Refuse when the best evidence never mentions the question's numbers or most of its names."""
    numbers, names = key_terms(question)
    haystack = f"{evidence.title} {evidence.text}".lower().replace(",", "")
    if any(n not in haystack for n in numbers):
        return False
    missing = [n for n in names if n not in haystack]
    return len(missing) <= len(names) // 3


def _short(title: str, limit: int = 70) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"


