"""``ProseChecks``: a model's cited prose, checked sentence by sentence as it streams.

The checks run in this order, each on what the one before kept:

1. ``Attribution``: each sentence cited to the source sentences that support it, or withheld;
2. ``ModelConfirms``: a sentence the word checks cannot judge is held until the model has finished writing
   (the endpoint serves one request at a time), then shown only if the model says its quote states it;
   when the model does not confirm the answer's first sentence, the whole answer is withheld;
3. ``AskedQuantity``: for "how far / how long / how many / when", nothing is shown until a sentence gives
   the quantity asked; an answer where none does is withheld, as one nothing supports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generator

from rag.asked import speaker_of
from rag.checks.asked_quantity import AskedQuantity
from rag.checks.attribution import SILENT, Attribution, CitationLedger
from rag.checks.model_confirms import ModelConfirms
from rag.citations import MARKER
from rag.types import Citation, Source


@dataclass
class Generated:
    """What was kept of a model's answer."""

    text: str  # the checked sentences
    citations: list[Citation]
    refused: bool
    notes: list[str]
    raw: str  # everything the model wrote
    declined: bool = False  # the model said the sources do not answer (the refusal token, or a "silent" sentence)


# the sentences of an answer as they complete; returns (everything written, whether it ended at the refusal token)
Pieces = Generator[str, None, tuple[str, bool]]


class ProseChecks:
    """Runs ``Attribution``, then ``ModelConfirms`` (when given one), then ``AskedQuantity`` on a stream."""

    def __init__(self, attribution: Attribution, quantity: AskedQuantity | None = None) -> None:
        self.attribution = attribution
        self.quantity = quantity

    def run(self, pieces: Pieces, sources: list[Source], question: str, asked: str | None = None,
            confirms: ModelConfirms | None = None) -> Generator[str, None, Generated]:
        """The kept sentences as they are checked; returns what was kept. ``question``: the one asked, whose
        speaker ("what did X say?") a supporting quote must name and beside which a quote must hold what a
        sentence adds; ``asked``: the standalone question whose asked quantity an answer must give."""
        sentences = self._attributed(pieces, sources, question, confirms)
        asked = asked or question
        if self.quantity is not None and self.quantity.applies(asked):
            sentences = self._held_until_it_holds(sentences, asked)
        generated = yield from sentences
        return generated

    def _attributed(self, pieces: Pieces, sources: list[Source], question: str,
                    confirms: ModelConfirms | None) -> Generator[str, None, Generated]:
        speaker = speaker_of(question) if question else None
        ledger = CitationLedger()
        kept: list[str] = []
        held: list[tuple[str, bool]] = []  # (sentence, whether it needs the model's check)
        silent = rejected = False
        while True:
            try:
                text = next(pieces)
            except StopIteration as stop:
                raw, refused_by_token = stop.value
                break
            needed = confirms is not None and confirms.needed(text, question)
            if needed or held:
                held.append((text, needed))
                continue
            verdict = self.attribution.check(text, sources, ledger, question, speaker)
            silent = silent or verdict.reason == SILENT
            if verdict.kept:
                kept.append(verdict.text)
                yield verdict.text + " "
        for text, needed in held:
            before = len(ledger.citations)
            verdict = self.attribution.check(text, sources, ledger, question, speaker)
            silent = silent or verdict.reason == SILENT
            if verdict.kept and needed:
                quotes = [ledger.citations[int(n) - 1].quote for n in MARKER.findall(verdict.text)]
                if not confirms.check(verdict.text, quotes).kept:
                    ledger.forget_after(before)  # the quotes only this sentence cited go with it
                    rejected = True
                    if not kept:  # its answer (the prompt asks for it first) is not in the sources: nor is the rest
                        break
                    continue
            if verdict.kept:
                kept.append(verdict.text)
                yield verdict.text + " "
        citations = ledger.citations
        refused = refused_by_token or not citations
        notes = []
        if rejected:
            notes.append("a sentence of the model's answer is not shown: its source does not say it")
        if refused and not refused_by_token and not silent and not rejected and raw.strip():
            notes.append("the model's answer is not shown: the articles do not say what it says")
        # the model, asked, found no quote stating its answer: it declined, in effect (no extractive fallback)
        declined = refused_by_token or ((silent or rejected) and not citations)
        return Generated(" ".join(kept), [] if refused else citations, refused, notes, raw, declined)

    def _held_until_it_holds(self, sentences: Generator[str, None, Generated],
                             asked: str) -> Generator[str, None, Generated]:
        """The checked sentences, held back until one gives the asked quantity (then streamed on)."""
        held: list[str] = []
        holding = True
        reason = ""
        while True:
            try:
                piece = next(sentences)
            except StopIteration as stop:
                generated: Generated = stop.value
                break
            if not holding:
                yield piece
                continue
            held.append(piece)
            verdict = self.quantity.check(piece, asked)
            reason = verdict.reason
            if verdict.kept:
                yield from held
                holding = False
        if holding and not generated.refused:
            note = f"the model's answer is not shown: {reason}"
            return Generated("", [], True, generated.notes + [note], generated.raw)
        return generated


__all__ = ["Generated", "Pieces", "ProseChecks"]
