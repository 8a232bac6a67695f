"""``Attribution``: a written sentence is cited to the sentences of the sources that support it.

A sentence with markers keeps the markers whose source has a sentence that supports it; one without a
marker, with a wrong one (a small model cites source 2 for what source 1 says) or with one that points to
no source ("[2]" beside the only source) is cited to the first source, by relevance, that supports it; one
that none supports is withheld. Support is ``CitationVerifier``'s (what the sentence adds to the question is
in the quote, its numbers and names agree) and, for "what did X say?", a quote X is named beside.
"""

from __future__ import annotations

import re

from rag.asked import speaker_named
from rag.checks import Verdict
from rag.citations import MARKER, CitationVerifier, cited, lexical_support
from rag.text import content_stems
from rag.types import Citation, Source

# the model telling that the sources are silent, in words instead of the refusal token
SAYS_SILENT = re.compile(r"\b(sources?|articles?|texts?|information)\b.{0,40}\b(do(es)? not|don'?t|doesn'?t|no|not)\b"
                         r".{0,30}\b(mention|say|state|contain|provide|include|answer|specify|give)", re.I)
SILENT = "the model says the articles do not answer"
_YES_NO = re.compile(r"^(yes|no)\b", re.I)
_ONLY_MARKERS = re.compile(r"[\[\]\d\s,]*")


class CitationLedger:
    """The citations of one answer, numbered as first cited: a quote cited again keeps its number."""

    def __init__(self) -> None:
        self.citations: list[Citation] = []
        self._numbers: dict[tuple[str, int], int] = {}

    def cite(self, source: Source, span: tuple[int, int, str]) -> int:
        key = (source.evidence.article_id, span[0])
        if key not in self._numbers:
            self._numbers[key] = len(self.citations) + 1
            self.citations.append(source.citation(self._numbers[key], span))
        return self._numbers[key]

    def forget_after(self, count: int) -> None:
        """Drops the citations numbered after ``count`` (those only a withheld sentence cited)."""
        del self.citations[count:]
        for key in [k for k, n in self._numbers.items() if n > count]:
            del self._numbers[key]


class Attribution:
    """Cites a written sentence to the source sentences that support it."""

    def __init__(self, verifier: CitationVerifier) -> None:
        self.verifier = verifier

    def check(self, sentence: str, sources: list[Source], ledger: CitationLedger, question: str = "",
              speaker: str | None = None) -> Verdict:
        """``sentence`` with its markers; ``question``: the one asked, beside which a quote must hold what the
        sentence adds; ``speaker``: whom a "what did X say?" question asks about. Kept: the sentence as shown
        (``Verdict.text``); a sentence saying the sources are silent is withheld with the reason ``SILENT``."""
        markers = [int(m) for m in MARKER.findall(sentence)]
        claim = MARKER.sub("", sentence).strip()
        if not claim or _ONLY_MARKERS.fullmatch(claim):
            return Verdict(False)
        if SAYS_SILENT.search(claim):
            return Verdict(False, reason=SILENT)
        pool = [s for s in sources if s.number in dict.fromkeys(markers)]  # markers that point nowhere drop out
        added = content_stems(claim) - content_stems(question)  # the claim's answer to the question
        numbers = self._cite(claim, pool, True, speaker, added, ledger, question) if pool else []
        if not numbers:
            others = [s for s in sources if s not in pool]
            numbers = self._cite(claim, others, False, speaker, added, ledger, question)
        if not numbers:
            if not markers and _YES_NO.match(claim) and len(claim.split()) <= 3:  # "Yes.", "No, it did not."
                return Verdict(True, text=claim)  # a "Yes." / "No." leads in to a cited sentence
            return Verdict(False)
        return Verdict(True, text=cited(claim, numbers))

    def _cite(self, claim: str, pool: list[Source], every: bool, speaker: str | None, added: set[str],
              ledger: CitationLedger, question: str) -> list[int]:
        """The citation numbers of the sources of ``pool`` whose sentences support ``claim``: every one (the
        sources its markers name), or only the first, by the order of relevance (an unmarked claim)."""
        numbers: list[int] = []
        for source in pool:
            span = self.best_quote(claim, source, speaker, added, question)
            if span is None:
                continue
            numbers.append(ledger.cite(source, span))
            if not every:
                break
        return numbers

    def best_quote(self, claim: str, source: Source, speaker: str | None = None,
                   added: frozenset[str] | set[str] = frozenset(), question: str = "") -> tuple[int, int, str] | None:
        """The source's sentence that supports the claim, preferring the one that holds what the claim adds
        to the question (its answer), then the most of its words: "South Korea calls the Sea of Japan the
        East Sea" is cited to the sentence naming the East Sea, not to one naming the Sea of Japan, which
        supports it as well once the article's other sentences lend it "East"."""
        spans = [s for s in source.spans if speaker_named(speaker, source.evidence, s[0], s[1])]
        if not spans:
            return None
        context = f"{source.evidence.title} {source.text()}"  # what the model read of this article
        verdicts = self.verifier.supports([claim] * len(spans), [s[2] for s in spans], [context] * len(spans),
                                          question)
        supported = [s for s, ok in zip(spans, verdicts) if ok]
        if not supported:
            return None
        return max(supported, key=lambda s: (len(added & content_stems(s[2])), lexical_support(claim, s[2])))


__all__ = ["Attribution", "CitationLedger", "SAYS_SILENT", "SILENT"]
