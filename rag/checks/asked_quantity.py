"""``AskedQuantity``: an answer to "how far / how long / how many / when" holds the quantity asked.

A sentence supported by its quote can be about the asked event and still lack the answer ("How far did the
missiles fly?" -> "The missiles flew toward the Sea of Japan [1]."). Names and causes are left to the
support check: models paraphrase them.
"""

from __future__ import annotations

from rag.asked import DISTANCE, DURATION, NUMBER, WHEN, asked_for, holds
from rag.checks import Verdict
from rag.citations import MARKER


class AskedQuantity:
    """Whether a written sentence gives the quantity its question asks for."""

    KINDS = frozenset({DISTANCE, DURATION, NUMBER, WHEN})

    def applies(self, question: str) -> bool:
        return asked_for(question).kind in self.KINDS

    def check(self, sentence: str, question: str) -> Verdict:
        asked = asked_for(question)
        if holds(asked, MARKER.sub("", sentence), question):
            return Verdict(True, text=sentence)
        return Verdict(False, reason=f"it does not give the {asked.kind} asked for")


__all__ = ["AskedQuantity"]
