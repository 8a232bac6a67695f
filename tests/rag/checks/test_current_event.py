"""``CurrentEvent`` (rag/checks/current_event.py): this week's question is not answered by an earlier year."""

from rag.checks import Claim
from rag.checks.current_event import CurrentEvent
from tests.rag.checks.sheets import sheet_of


def test_this_weeks_question_is_not_answered_by_an_earlier_years_event():
    sheet = sheet_of("Legalization had passed in South Dakota in 2020, but courts nullified it.",
                     "Voters in Maryland and Missouri legalized marijuana on Tuesday.", published="2022-11-10")
    question = "Which state legalized recreational marijuana this week?"
    verdict = CurrentEvent().check(Claim(question, "South Dakota", sheet.sentence(1)), sheet)
    assert not verdict.kept and "earlier year" in verdict.reason
    assert CurrentEvent().check(Claim(question, "Maryland", sheet.sentence(2)), sheet).kept
    # a question that does not ask about the last days may be answered by background
    assert CurrentEvent().check(Claim("Which state legalized it first?", "South Dakota", sheet.sentence(1)), sheet).kept
