"""Which evidence sentences a local model reads, numbered: the ``Sheet`` the reader answers from.

A small model answers best from few articles: the articles whose best sentence scores near the best
one (at most ``articles`` of them), each read as its best sentences with their neighbours (the sentence
that names the person often follows the one that repeats the question's words), within a token budget.
Every sentence carries a number, so the model cites by number and each citation is a real sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.extractive import Candidate
from rag.safety import as_source_text
from rag.types import Citation, Evidence

_SEPARATOR_TOKENS = 3  # what a sentence's number and line cost beside its own tokens
_ANCHORS = 3  # best sentences of an article that bring their neighbours


def count_tokens(text: str) -> int:
    import tiktoken

    return len(tiktoken.get_encoding("cl100k_base").encode(text, disallowed_special=()))


@dataclass
class Numbered:
    """One sentence on the sheet: its number, its article, its offsets in the article text."""

    n: int
    evidence: Evidence
    start: int
    end: int
    text: str

    def citation(self, number: int) -> Citation:
        return Citation.from_evidence(number, self.evidence, self.text, self.start, self.end)


@dataclass
class Sheet:
    """The numbered sentences of the articles a model reads, article by article."""

    articles: list[tuple[Evidence, list[Numbered]]] = field(default_factory=list)

    @property
    def sentences(self) -> list[Numbered]:
        return [s for _, sentences in self.articles for s in sentences]

    def sentence(self, n: int) -> Numbered | None:
        return next((s for s in self.sentences if s.n == n), None)

    def render(self) -> str:
        lines = []
        for i, (evidence, sentences) in enumerate(self.articles):
            date = evidence.published_at.date().isoformat() if evidence.published_at else "unknown date"
            title = as_source_text(evidence.title).replace('"', "'")
            lines.append(f'({chr(65 + i)}) "{title}", {evidence.source or "unknown outlet"}, {date}')
            lines += [f"[{s.n}] {as_source_text(s.text)}" for s in sentences]
        return "\n".join(lines)


def select(ranked: list[Candidate], budget: int, articles: int, neighbours: int, margin: float,
           newest_first: bool = False, newer: set[str] = frozenset(), first: str | None = None) -> Sheet:
    """The sheet for ``ranked`` sentences (best first): the best ``articles`` articles within ``margin`` of the
    best sentence's score, each with its ``_ANCHORS`` best sentences and ``neighbours`` on each side, taken
    anchor rank by anchor rank across the articles while ``budget`` tokens last; sentences in article
    order, articles by relevance. ``newest_first`` (a question about the latest state): the newest of the
    ``newer`` reports (``HybridRetriever.newer_reports``) is read whatever its score, and the articles are
    shown newest first. ``first``: the article retrieval ranked first, read whatever its sentences score (hybrid
    retrieval ranks the article that answers first more often than one sentence's similarity does)."""
    if not ranked:
        return Sheet()
    best: dict[str, Candidate] = {}
    by_article: dict[str, list[Candidate]] = {}
    seen: set[tuple[str, str]] = set()
    for candidate in ranked:
        key = (candidate.evidence.article_id, candidate.text[:80])
        if key in seen:  # the same sentence read from two overlapping chunks
            continue
        seen.add(key)
        best.setdefault(candidate.evidence.article_id, candidate)
        by_article.setdefault(candidate.evidence.article_id, []).append(candidate)
    top = ranked[0].score
    kept = [a for a in best if best[a].score >= top - margin]
    if newest_first and newer & set(best):
        newest = max(newer & set(best), key=lambda a: _timestamp(best[a]))
        kept = [newest] + [a for a in kept if a != newest]
    if first in best and first not in kept[:articles]:
        kept = [first] + [a for a in kept if a != first]
    kept = kept[:articles]
    groups: list[tuple[int, str, list[Candidate]]] = []
    for article in kept:
        in_order = sorted(by_article[article], key=lambda c: c.start)
        for rank, anchor in enumerate(by_article[article][:_ANCHORS]):
            i = in_order.index(anchor)
            around = in_order[max(0, i - neighbours):i + neighbours + 1]
            groups.append((rank, article, [anchor] + [c for c in around if c is not anchor]))
    groups.sort(key=lambda g: g[0])  # every article's best sentence first, then the second best ...
    picked: dict[str, list[Candidate]] = {a: [] for a in kept}
    taken: set[int] = set()
    spent = 0
    for _, article, group in groups:
        for candidate in group:
            cost = count_tokens(candidate.text) + _SEPARATOR_TOKENS
            if id(candidate) in taken or spent + cost > budget:
                continue
            picked[article].append(candidate)
            taken.add(id(candidate))
            spent += cost
    order = [a for a in kept if picked[a]]
    if newest_first:
        order.sort(key=lambda a: _timestamp(best[a]), reverse=True)
    sheet, n = Sheet(), 0
    for article in order:
        numbered = []
        for candidate in sorted(picked[article], key=lambda c: c.start):
            n += 1
            numbered.append(Numbered(n, candidate.evidence, candidate.start, candidate.end, candidate.text))
        sheet.articles.append((best[article].evidence, numbered))
    return sheet


def _timestamp(candidate: Candidate) -> float:
    published = candidate.evidence.published_at
    return published.timestamp() if published else 0.0


__all__ = ["Numbered", "Sheet", "select", "count_tokens"]
