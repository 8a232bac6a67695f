"""``ModelConfirms``: a written sentence the word checks cannot judge is shown only if the model, shown its
quote, says the quote states it (``rag.claim_check``): a sentence that repeats words of the question no
article read holds (a premise, "North Korea cancelled flights ...") or that adds nothing to the question."""

from __future__ import annotations

from rag.checks import Verdict
from rag.citations import MARKER
from rag.claim_check import ClaimCheck


class ModelConfirms:
    """Asks the answering model about the sentences that need it."""

    def __init__(self, model: ClaimCheck) -> None:
        self.model = model

    def needed(self, sentence: str, question: str) -> bool:
        return self.model.needed(MARKER.sub("", sentence), question)

    def check(self, sentence: str, quotes: list[str]) -> Verdict:
        """Kept unless the model says no to every quote the sentence cites (no reply, or a failed call, keeps it)."""
        if self.model.confirms_any(MARKER.sub("", sentence).strip(), quotes):
            return Verdict(True, text=sentence)
        return Verdict(False, reason="its source does not say it")


__all__ = ["ModelConfirms"]
