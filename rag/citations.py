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


_CAPITALIZED = re.compile(r"\b[A-Z][\w’'-]*")
_COUNTED = re.compile(r"\b\d[\d,.]*\s+(?:(?:percent|per cent|million|billion|trillion|more|than|over|about|"
                      r"approximately|roughly|nearly|at|least)\s+)*([A-Za-z][\w’'-]+)", re.I)


def names_agree(claim: str, quote: str, context: str = "") -> bool:
    """Every name the claim mentions is in the quote (or in ``context``: the rest of what the model was
    shown of the same article, so "the Sea of Japan" named in another of its sentences counts), and
    what each of the claim's numbers counts is in the quote itself.

    Shared words and equal numbers are not enough: a small model wrote "Iran launched at least two
    ballistic missiles toward Israel" from "North Korea fired at least two ballistic missiles toward
    the Sea of Japan", and "North Korea has approximately 28,500 nuclear warheads" from a sentence on
    28,500 troops; both passed the word and number checks (seed suite, Qwen2.5-Coder-1.5B, 2026-12-01).
    """
    text = MARKER.sub("", claim)
    quote_stems = content_stems(quote)
    known = quote_stems | content_stems(context) if context else quote_stems
    for word in _CAPITALIZED.findall(text):
        if word.lower() in _NOT_NAMES:
            continue
        stems = content_stems(word)
        if stems and not stems <= known and not _ALIASES.get(word.lower().replace(".", ""), set()) & known:
            return False
    for counted in _COUNTED.findall(text):
        stems = content_stems(counted)
        if stems and not stems <= quote_stems:
            return False
    return True


# a country named by its usual other names (news says "Washington" for the US, "London" for the UK)
_ALIASES = {name: content_stems(" ".join(group)) for group in [
    ("us", "usa", "america", "american", "americans", "washington", "united", "states"),
    ("uk", "britain", "british", "london", "england", "united", "kingdom"),
    ("un", "united", "nations"), ("eu", "european", "union", "brussels")] for name in group[:3]}

# capitalized words that are not names: sentence openers and the pronouns a claim starts with
_NOT_NAMES = {"the", "a", "an", "it", "its", "they", "he", "she", "his", "her", "their", "this", "that", "these",
              "those", "there", "yes", "no", "according", "in", "on", "at", "as", "after", "before", "during",
              "while", "since", "by", "for", "with", "from", "both", "but", "and", "so", "however", "i", "we"}


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

    def supports(self, claims: list[str], quotes: list[str], contexts: list[str] | None = None) -> list[bool]:
        """Whether each quote supports its claim: enough shared words, or close meaning with some; the
        same numbers; its names in the quote or its ``contexts`` (see ``names_agree``)."""
        if not claims:
            return []
        vectors = self.embedder.embed([MARKER.sub("", c) for c in claims] + quotes)
        n = len(claims)
        cosines = np.sum(vectors[:n] * vectors[n:], axis=1)
        verdicts = []
        contexts = contexts or [""] * len(claims)
        for claim, quote, cosine, context in zip(claims, quotes, cosines, contexts):
            lexical = lexical_support(claim, quote)
            ok = numbers_agree(claim, quote) and names_agree(claim, quote, context) and (
                lexical >= self.thresholds.lexical
                or (cosine >= self.thresholds.semantic and lexical >= self.thresholds.lexical_floor)
            )
            verdicts.append(bool(ok))
        return verdicts
