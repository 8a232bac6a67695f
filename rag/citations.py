"""Citation checks: a quote must be an exact sentence of the cited article and must support its claim."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from index.embedders import Embedder
from rag.retriever import query_terms

MARKER = re.compile(r"\s?\[(\d{1,2})\]")
_NUMBER = re.compile(r"\d[\d,.]*")


# The shortest word each suffix is cut from, chosen on 67 word pairs (inflections and demonyms of the gold
# questions: "fired"/"fire" needs "ed" at 5, "Italy"/"Italian" "ly" at 6): all 67 pairs share a stem. On 1,500
# pairs of different sentences of one gold article the verifier's false support goes from 2.20% to 2.40%.
_PLURALS = (("ies", "y"), ("es", "e"), ("s", ""))
_SUFFIXES = (("ation", 8), ("edly", 7), ("ing", 6), ("ed", 5), ("ly", 6))  # (suffix, shortest word cut)
_DEMONYMS = (("ese", "", 7), ("ican", "ica", 6), ("ian", "ia", 5), ("ean", "ea", 5), ("i", "", 5))


def _stem(word: str) -> str:
    """A crude stem that inflections and demonyms share: "travelled" = "travel", "missiles" = "missile",
    "Korean" = "Korea", "Ukrainian" = "Ukraine", "Japanese" = "Japan". What counts is that every form
    is cut the same way: plural, then suffix, then demonym, then a doubled final consonant and final vowels."""
    for suffix, repl in _PLURALS:
        if len(word) >= len(suffix) + 3 and word.endswith(suffix) and not word.endswith(("ss", "us")):
            word = word[: -len(suffix)] + repl
            break
    for suffix, shortest in _SUFFIXES:
        if len(word) >= shortest and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    for suffix, repl, shortest in _DEMONYMS:
        if len(word) >= shortest and word.endswith(suffix):
            word = word[: -len(suffix)] + repl
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouys":
        word = word[:-1]  # "travell(ed)" -> "travel"
    stripped = word.rstrip("aeiouy")
    return stripped if len(stripped) >= 3 else word


def content_stems(text: str) -> set[str]:
    return {_stem(t) for t in query_terms(text, limit=200)}


def lexical_support(claim: str, quote: str) -> float:
    """Share of the claim's content words (stemmed) and numbers that the quote contains."""
    claim_terms = content_stems(MARKER.sub("", claim))
    if not claim_terms:
        return 1.0
    quote_terms = content_stems(quote)
    return len(claim_terms & quote_terms) / len(claim_terms)


def numbers_agree(claim: str, quote: str) -> bool:
    """Every number in the claim appears in the quote (a changed figure is not supported)."""
    norm = lambda s: {n.rstrip(".,").replace(",", "") for n in _NUMBER.findall(s)}  # noqa: E731
    return norm(MARKER.sub("", claim)) <= norm(quote)


@dataclass
class SupportThresholds:
    """Chosen on data (see evals/calibrate_support.py): claims vs their own and other sentences."""

    lexical: float = 0.5
    semantic: float = 0.62
    lexical_floor: float = 0.2  # below this even a similar embedding does not count


class CitationVerifier:
    def __init__(self, embedder: Embedder, thresholds: SupportThresholds | None = None) -> None:
        self.embedder = embedder
        self.thresholds = thresholds or SupportThresholds()

    @staticmethod
    def quote_in_article(quote: str, article_text: str, start: int, end: int) -> tuple[int, int] | None:
        """The quote's span if it is verbatim in the article (at its offsets, or anywhere), else None."""
        if not quote.strip():
            return None
        if 0 <= start < end <= len(article_text) and article_text[start:end] == quote:
            return start, end
        found = article_text.find(quote)
        return (found, found + len(quote)) if found >= 0 else None

    def supports(self, claims: list[str], quotes: list[str]) -> list[bool]:
        """Whether each quote supports its claim: enough shared words, or close meaning with some."""
        if not claims:
            return []
        vectors = self.embedder.embed([MARKER.sub("", c) for c in claims] + quotes)
        n = len(claims)
        cosines = np.sum(vectors[:n] * vectors[n:], axis=1)
        verdicts = []
        for claim, quote, cosine in zip(claims, quotes, cosines):
            lexical = lexical_support(claim, quote)
            ok = numbers_agree(claim, quote) and (
                lexical >= self.thresholds.lexical
                or (cosine >= self.thresholds.semantic and lexical >= self.thresholds.lexical_floor)
            )
            verdicts.append(bool(ok))
        return verdicts
