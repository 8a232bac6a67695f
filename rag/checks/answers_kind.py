"""``AnswersKind``: the answer is of the kind asked."""

from __future__ import annotations

from rag.asked import YESNO, answers_kind, asked_for
from rag.checks import Claim, Verdict
from rag.selection import Sheet


class AnswersKind:
    """The answer is of the kind asked: a count for "how many", a date for "when", a name for "who"."""

    def check(self, claim: Claim, sheet: Sheet) -> Verdict:
        asked = asked_for(claim.question)
        if asked.kind == YESNO or answers_kind(asked, claim.answer, claim.sentence.text if claim.sentence else "",
                                               claim.question):
            return Verdict(True, claim.sentence)
        return Verdict(False, None, f"it does not give the {asked.kind} asked for")
