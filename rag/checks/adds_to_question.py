"""``AddsToQuestion``: an answer made only of the question's words is no answer."""

from __future__ import annotations

import re

from rag.asked import GENERIC_NAME_WORDS
from rag.checks import Claim, Verdict
from rag.checks.grounded import YES_NO
from rag.selection import Sheet
from rag.text import content_stems, number_values


class AddsToQuestion:
    """An answer made only of the question's own words is no answer ("new Sprite bottle" for "what will the new
    Sprite bottles look like?", "Jackson State University" for "which team did Jackson State play?"), unless the
    question offers the choice ("Warnock or Walker", "between A and B")."""

    def check(self, claim: Claim, sheet: Sheet) -> Verdict:
        if YES_NO.match(claim.answer) or _CHOICE.search(claim.question):
            return Verdict(True, claim.sentence)
        answer, question = content_stems(claim.answer.replace("-", " ")), content_stems(claim.question.replace("-", " "))
        if number_values(claim.answer) - number_values(claim.question):
            return Verdict(True, claim.sentence)
        # the question's own name with a generic word added ("Jackson State University" for "which team did
        # Jackson State play?") names nothing new; a name of generic words alone ("Times Square") may
        added = answer - question
        if _initials(claim.answer) in _names_initials(claim.question):
            return Verdict(False, None, "it only repeats the question")  # "JSU" for "Jackson State University"
        if added and (added - GENERIC_NAME_WORDS or not answer & question):
            return Verdict(True, claim.sentence)
        return Verdict(False, None, "it only repeats the question")


_CHOICE = re.compile(r"\bor\b|\bbetween\b|\bwhich of\b", re.I)

_CAPITALISED = re.compile(r"[A-Z][\w’'&.-]*")


def _initials(answer: str) -> str | None:
    """An answer that is one all-capital word of 2 to 5 letters ("JSU", "U.N."), as its letters; else None."""
    letters = answer.strip().rstrip(".").replace(".", "")
    return letters if 2 <= len(letters) <= 5 and letters.isalpha() and letters.isupper() else None


def _names_initials(question: str) -> set[str]:
    """The initials of every run of two or more capitalised words of the question ("Jackson State University":
    JSU, JS, SU)."""
    runs, run = [], []
    for token in re.findall(r"[\w’'&.-]+", question):
        if _CAPITALISED.fullmatch(token) and token.lower() not in ("the", "of", "and"):
            run.append(token[0])
        else:
            runs.append(run)
            run = []
    runs.append(run)
    return {"".join(r[i:j]) for r in runs for i in range(len(r)) for j in range(i + 2, len(r) + 1)}
