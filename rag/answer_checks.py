"""The checks a model's short answer passes before anyone sees it, one component each.

Each check takes a ``Claim`` (the question, the answer, the numbered sentence it is cited to) and the
``Sheet`` the model read, and returns a ``Verdict``: kept (possibly cited to another sentence of the
sheet) or withheld, with the reason in a reader's words. ``SentenceReader`` runs them in the order of
its ``checks`` list; the first that withholds ends the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.asked import PAST_YEAR, RECENT, YESNO, answers_kind, asked_for
from rag.citations import names_agree
from rag.selection import Numbered, Sheet
from rag.text import DIGITS, content_stems, number_value, number_values

_YES_NO = re.compile(r"^\s*(yes|no)\b", re.I)
# an answer is grounded in a sentence that holds at least this share of its content words (its numbers and
# names all): a small model copies the words of the sentence it read, with a word or two of its own
# ("clear plastic" from "clear PET Sprite bottles"); a choice, the same share as the support check's
GROUNDED_SHARE = 0.5
# a sentence "about" a yes/no question holds at least this share of the question's content words (a choice)
RELEVANT_SHARE = 0.5


@dataclass
class Claim:
    question: str
    answer: str
    sentence: Numbered | None
    earlier: Numbered | None = None  # an earlier report of the same figure this answer replaces (latest state)


@dataclass
class Verdict:
    kept: bool
    sentence: Numbered | None = None  # the sentence the answer is cited to (it may differ from the model's)
    reason: str = ""  # why it was withheld, in a reader's words


def grounding(answer: str, sentence: str) -> float:
    """How much of ``answer`` the ``sentence`` states: 0 unless it holds all its numbers and names, else the
    share of its content words it holds ("53,804 acres" is in "the 53,804-acre monument")."""
    if not {number_value(n) for n in DIGITS.findall(answer)} <= number_values(sentence):
        return 0.0  # "40 goats" is in "Forty goats escaped"; "$1.34 billion" is not in "$1.337 billion"
    if not names_agree(answer.replace("-", " "), sentence.replace("-", " ")):
        return 0.0
    stems = content_stems(answer.replace("-", " "))
    return len(stems & content_stems(sentence.replace("-", " "))) / len(stems) if stems else 1.0


def grounded_in(answer: str, sentence: str) -> bool:
    """Whether ``sentence`` states ``answer``: its numbers and names, and most of its words."""
    return grounding(answer, sentence) >= GROUNDED_SHARE


class Grounded:
    """The answer is what a sentence of the sheet says: the sentence the model cited, else the first one that
    states it (a small model often gives the right answer with the number of the sentence beside it). A
    yes or no is grounded in a cited sentence about the question."""

    def check(self, claim: Claim, sheet: Sheet) -> Verdict:
        if _YES_NO.match(claim.answer):
            about = claim.sentence is not None and len(content_stems(claim.question) & content_stems(
                claim.sentence.text)) >= RELEVANT_SHARE * len(content_stems(claim.question))
            return Verdict(about, claim.sentence, "" if about else "the sentence cited is not about the question")
        order = ([claim.sentence] if claim.sentence else []) + [s for s in sheet.sentences if s is not claim.sentence]
        shares = [grounding(claim.answer, sentence.text) for sentence in order]
        best = max(range(len(order)), key=lambda i: shares[i], default=None)  # the first of the best: the model's
        if best is None or shares[best] < GROUNDED_SHARE:
            return Verdict(False, None, "no article states it")
        return Verdict(True, order[best])


class AnswersKind:
    """The answer is of the kind asked: a count for "how many", a date for "when", a name for "who"."""

    def check(self, claim: Claim, sheet: Sheet) -> Verdict:
        asked = asked_for(claim.question)
        if asked.kind == YESNO or answers_kind(asked, claim.answer, claim.sentence.text if claim.sentence else "",
                                               claim.question):
            return Verdict(True, claim.sentence)
        return Verdict(False, None, f"it does not give the {asked.kind} asked for")


class AddsToQuestion:
    """An answer made only of the question's own words is no answer ("new Sprite bottle" for "what will the new
    Sprite bottles look like?"), unless the question offers the choice ("Warnock or Walker", "between A and B")."""

    def check(self, claim: Claim, sheet: Sheet) -> Verdict:
        if _YES_NO.match(claim.answer) or _CHOICE.search(claim.question):
            return Verdict(True, claim.sentence)
        if content_stems(claim.answer.replace("-", " ")) - content_stems(claim.question.replace("-", " ")) \
                or number_values(claim.answer) - number_values(claim.question):
            return Verdict(True, claim.sentence)
        return Verdict(False, None, "it only repeats the question")


_CHOICE = re.compile(r"\bor\b|\bbetween\b|\bwhich of\b", re.I)


class CurrentEvent:
    """A question about the last days ("this week", "recently") is not answered by a sentence that dates what it
    tells to an earlier year: "Legalization had passed in South Dakota in 2020" is background in a 2022
    article, not what happened this week."""

    def check(self, claim: Claim, sheet: Sheet) -> Verdict:
        published = claim.sentence.evidence.published_at if claim.sentence else None
        if published is None or not RECENT.search(claim.question):
            return Verdict(True, claim.sentence)
        if any(int(year) < published.year for year in PAST_YEAR.findall(claim.sentence.text)):
            return Verdict(False, None, "the sentence cited tells of an earlier year, not of the days asked about")
        return Verdict(True, claim.sentence)


__all__ = ["Claim", "Verdict", "Grounded", "AnswersKind", "AddsToQuestion", "CurrentEvent", "grounded_in",
           "grounding"]
