"""``Grounded``: the answer is what a sentence of the sheet says."""

from __future__ import annotations

import re

from rag.checks import Claim, Verdict
from rag.citations import names_agree
from rag.selection import Numbered, Sheet
from rag.text import DIGITS, content_stems, number_value, number_values

YES_NO = re.compile(r"^\s*(yes|no)\b", re.I)
# an answer is grounded in a sentence that holds at least this share of its content words (its numbers and
# names all): a small model copies the words of the sentence it read, with a word or two of its own
# ("clear plastic" from "clear PET Sprite bottles"); a choice, the same share as the support check's
GROUNDED_SHARE = 0.5
# a sentence "about" a yes/no question holds at least this share of the question's content words (a choice)
RELEVANT_SHARE = 0.5


def grounding(answer: str, sentence: str, context: str = "") -> float:
    """How much of ``answer`` the ``sentence`` states: 0 unless it holds all its numbers and names (a name may
    be given in full in ``context``, the rest of its article the model read: "Boris Johnson" for "Johnson
    announced ..." under the title "Boris Johnson: UK Prime Minister resigns", as news names a person in full
    once and by surname after), else the share of its content words the sentence itself holds ("53,804 acres"
    is in "the 53,804-acre monument")."""
    if not {number_value(n) for n in DIGITS.findall(answer)} <= number_values(sentence):
        return 0.0  # "40 goats" is in "Forty goats escaped"; "$1.34 billion" is not in "$1.337 billion"
    if not names_agree(answer.replace("-", " "), sentence.replace("-", " "), context.replace("-", " ")):
        return 0.0
    stems = content_stems(answer.replace("-", " "))
    return len(stems & content_stems(sentence.replace("-", " "))) / len(stems) if stems else 1.0


def grounded_in(answer: str, sentence: str) -> bool:
    """Whether ``sentence`` states ``answer``: its numbers and names, and most of its words."""
    return grounding(answer, sentence) >= GROUNDED_SHARE


def article_context(sheet: Sheet, sentence: Numbered) -> str:
    """What the model read of ``sentence``'s article besides it: its title and its other sentences."""
    for evidence, sentences in sheet.articles:
        if any(s is sentence for s in sentences):
            return " ".join([evidence.title or ""] + [s.text for s in sentences if s is not sentence])
    return ""


class Grounded:
    """The answer is what a sentence of the sheet says: the sentence the model cited, else the first one that
    states it (a small model often gives the right answer with the number of the sentence beside it). A
    yes or no is grounded in a cited sentence about the question."""

    def check(self, claim: Claim, sheet: Sheet) -> Verdict:
        if YES_NO.match(claim.answer):
            about = claim.sentence is not None and len(content_stems(claim.question) & content_stems(
                claim.sentence.text)) >= RELEVANT_SHARE * len(content_stems(claim.question))
            return Verdict(about, claim.sentence, "" if about else "the sentence cited is not about the question")
        order = ([claim.sentence] if claim.sentence else []) + [s for s in sheet.sentences if s is not claim.sentence]
        shares = [grounding(claim.answer, sentence.text, article_context(sheet, sentence)) for sentence in order]
        best = max(range(len(order)), key=lambda i: shares[i], default=None)  # the first of the best: the model's
        if best is None or shares[best] < GROUNDED_SHARE:
            return Verdict(False, None, "no article states it")
        return Verdict(True, order[best])
