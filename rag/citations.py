"""Citation checks: a quote must be an exact sentence of the cited article and must support its claim.

``CitationVerifier.supports`` is the support check both answerers use (its thresholds are measured by
``python -m evals.calibrate_support``); the verbatim check that ends every answer is ``rag.checks.verbatim``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from index.embedders import Embedder
from rag.sentence_cache import SentenceVectors
from rag.text import DIGITS, content_stems, number_value
from settings import AnswerSettings

MARKER = re.compile(r"\s?\[(\d{1,2})\]")


def cited(sentence: str, numbers: list[int]) -> str:
    """``sentence`` with its markers before the closing stop: "It fell [1] [2]." """
    closing = sentence[-1] if sentence[-1:] and sentence[-1] in ".!?" else "."
    return sentence.rstrip(".!?") + "".join(f" [{n}]" for n in dict.fromkeys(numbers)) + closing


def lexical_support(claim: str, quote: str, question: str = "") -> float:
    """Share of the claim's content words (stemmed) and numbers that the quote contains. With the ``question``:
    share of what the claim adds to it (the words it repeats from the question are the asker's, and an
    article words them its own way: "in June 2022", "the OECD"); a claim that adds nothing scores 1 here and
    is left to the model's check (``rag.claim_check``)."""
    claim_terms = content_stems(MARKER.sub("", claim))
    if question:
        claim_terms -= content_stems(question)
    if not claim_terms:
        return 1.0
    quote_terms = content_stems(quote)
    return len(claim_terms & quote_terms) / len(claim_terms)


def numbers_agree(claim: str, quote: str, question: str = "") -> bool:
    """Every number in the claim (but those of the ``question``) appears in the quote: a changed figure is not
    supported."""
    return _numbers(MARKER.sub("", claim)) - _numbers(question) <= _numbers(quote)


def _numbers(text: str) -> set[str]:
    return {number_value(n) for n in DIGITS.findall(text)}


_CAPITALIZED = re.compile(r"\b[A-Z][\w’'-]*")
_COUNTED = re.compile(rf"\b{DIGITS.pattern}\s+(?:(?:percent|per cent|million|billion|trillion|more|than|over|about|"
                      r"approximately|roughly|nearly|at|least)\s+)*([A-Za-z][\w’'-]+)", re.I)


def names_agree(claim: str, quote: str, context: str = "", question: str = "") -> bool:
    """Every name the claim mentions is in the quote (or in ``context``: the rest of what the model was
    shown of the same article, so "the Sea of Japan" named in another of its sentences counts), and
    what each of the claim's numbers counts is in the quote itself.

    Shared words and equal numbers are not enough: a small model wrote "Iran launched at least two
    ballistic missiles toward Israel" from "North Korea fired at least two ballistic missiles toward
    the Sea of Japan", and "North Korea has approximately 28,500 nuclear warheads" from a sentence on
    28,500 troops; both passed the word and number checks.
    """
    text = MARKER.sub("", claim)
    # the quote's words also read apart at hyphens and apostrophes: "Zawahiri" of "al-Zawahiri", "Alene" of "d'Alene"
    quote_stems = content_stems(quote) | content_stems(re.sub(r"[-'’]", " ", quote))
    known = quote_stems | content_stems(context) if context else quote_stems
    asked = content_stems(question)  # the question's own names and counted things are the asker's words
    for word in _CAPITALIZED.findall(text):
        if word.lower() in _NOT_NAMES:
            continue
        stems = content_stems(word) - asked
        if stems and not stems <= known and not _ALIASES.get(word.lower().replace(".", ""), set()) & known:
            return False
    for counted in _COUNTED.findall(text):
        stems = content_stems(counted) - asked
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


class CitationVerifier:
    def __init__(self, embedder: Embedder, thresholds: AnswerSettings | None = None) -> None:
        """``thresholds``: the answer settings' support_* values (defaults when None)."""
        self.embedder = embedder
        self.vectors = SentenceVectors.shared(embedder)  # the quotes are evidence sentences the answerer embedded
        self.thresholds = thresholds or AnswerSettings(_env_file=None)

    def supports(self, claims: list[str], quotes: list[str], contexts: list[str] | None = None,
                 question: str = "") -> list[bool]:
        """Whether each quote supports its claim: enough shared words, or close meaning with some; the
        same numbers; its names in the quote or its ``contexts`` (see ``names_agree``). With the ``question``,
        what a claim repeats of it is not asked of the quote, what it adds is."""
        return [m.passes(self.thresholds) for m in self.measure(claims, quotes, contexts, question)]

    def measure(self, claims: list[str], quotes: list[str], contexts: list[str] | None = None,
                question: str = "") -> list[Support]:
        """What the support check reads of each (claim, quote) pair."""
        if not claims:
            return []
        vectors = self.vectors.embed([MARKER.sub("", c) for c in claims] + quotes)
        n = len(claims)
        cosines = np.sum(vectors[:n] * vectors[n:], axis=1)
        contexts = contexts or [""] * len(claims)
        return [Support(lexical_support(claim, quote, question), cosine,
                        numbers_agree(claim, quote, question) and names_agree(claim, quote, context, question))
                for claim, quote, cosine, context in zip(claims, quotes, cosines, contexts)]


@dataclass
class Support:
    """One (claim, quote) pair as the support check sees it."""

    lexical: float  # share of the claim's stems in the quote (``lexical_support``)
    cosine: float  # of their embeddings (float32, as computed)
    agrees: bool  # the same numbers, and the claim's names in the quote or its context

    def passes(self, thresholds: AnswerSettings) -> bool:
        return bool(self.agrees and (self.lexical >= thresholds.support_lexical or (
            self.cosine >= thresholds.support_semantic and self.lexical >= thresholds.support_lexical_floor)))
