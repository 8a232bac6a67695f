"""``AnswersKind`` (rag/checks/answers_kind.py): the answer is of the kind asked."""

from rag.checks import Claim
from rag.checks.answers_kind import AnswersKind
from tests.rag.checks.sheets import sheet_of


def test_an_answer_of_another_kind_is_withheld():
    sheet = sheet_of("The jury deliberated for more than 50 hours.", "Pebbles earned the crown in April.")
    check = AnswersKind()
    prison = "How long a prison sentence did Holmes receive?"
    assert not check.check(Claim(prison, "50 hours", sheet.sentence(1)), sheet).kept  # hours of deliberation
    assert check.check(Claim("Which dog held the title?", "Pebbles", sheet.sentence(2)), sheet).kept
    verdict = check.check(Claim("Which dog held the title?", "public health emergency", sheet.sentence(2)), sheet)
    assert not verdict.kept and "name" in verdict.reason
    assert check.check(Claim("Was it approved?", "No", sheet.sentence(1)), sheet).kept  # yes/no: not a kind
