"""The checks a model's short answer passes (rag/answer_checks.py), each on its own."""

from datetime import datetime, timezone

from rag.answer_checks import AnswersKind, Claim, CurrentEvent, Grounded, grounding
from rag.selection import Numbered, Sheet
from rag.types import Evidence


def sheet_of(*texts: str, published: str = "2022-11-08") -> Sheet:
    evidence = Evidence("c1", "a1", "Title", "example.com", None, datetime.fromisoformat(published).replace(
        tzinfo=timezone.utc), " ".join(texts), 0, 0)
    numbered, at = [], 0
    for n, text in enumerate(texts, start=1):
        numbered.append(Numbered(n, evidence, at, at + len(text), text))
        at += len(text) + 1
    return Sheet([(evidence, numbered)])


def test_an_answer_is_grounded_in_the_sentence_that_states_it():
    assert grounding("53,804 acres", "It protects the 53,804-acre Camp Hale monument.") == 1.0  # hyphens read apart
    assert grounding("clear plastic", "Clear PET bottles can be remade.") == 0.5  # most words: a small model's own word
    assert grounding("$1.34 billion", "The jackpot rose to $1.337 billion.") == 0.0  # another number
    assert grounding("Joseph Chahayed", "The shop owner sold the ticket.") == 0.0  # a name the sentence lacks


def test_a_right_answer_cited_to_the_wrong_sentence_is_cited_to_the_right_one():
    sheet = sheet_of("The tram extension was approved on Saturday.", "Minister Petra Vance said it would open in May.")
    verdict = Grounded().check(Claim("Which minister approved it?", "Petra Vance", sheet.sentence(1)), sheet)
    assert verdict.kept and verdict.sentence.n == 2
    verdict = Grounded().check(Claim("Which minister approved it?", "Omar Reyes", sheet.sentence(1)), sheet)
    assert not verdict.kept and verdict.reason == "no article states it"


def test_a_yes_or_no_needs_a_sentence_about_the_question():
    sheet = sheet_of("Federer announced his retirement on Thursday.", "The weather was fine.")
    question = "Did Federer announce his retirement?"
    assert Grounded().check(Claim(question, "Yes", sheet.sentence(1)), sheet).kept
    assert not Grounded().check(Claim(question, "Yes", sheet.sentence(2)), sheet).kept


def test_an_answer_of_another_kind_is_withheld():
    sheet = sheet_of("The jury deliberated for more than 50 hours.", "Pebbles earned the crown in April.")
    check = AnswersKind()
    prison = "How long a prison sentence did Holmes receive?"
    assert not check.check(Claim(prison, "50 hours", sheet.sentence(1)), sheet).kept  # hours of deliberation
    assert check.check(Claim("Which dog held the title?", "Pebbles", sheet.sentence(2)), sheet).kept
    verdict = check.check(Claim("Which dog held the title?", "public health emergency", sheet.sentence(2)), sheet)
    assert not verdict.kept and "name" in verdict.reason
    assert check.check(Claim("Was it approved?", "No", sheet.sentence(1)), sheet).kept  # yes/no: not a kind


def test_this_weeks_question_is_not_answered_by_an_earlier_years_event():
    sheet = sheet_of("Legalization had passed in South Dakota in 2020, but courts nullified it.",
                     "Voters in Maryland and Missouri legalized marijuana on Tuesday.", published="2022-11-10")
    question = "Which state legalized recreational marijuana this week?"
    assert not CurrentEvent().check(Claim(question, "South Dakota", sheet.sentence(1)), sheet).kept
    assert CurrentEvent().check(Claim(question, "Maryland", sheet.sentence(2)), sheet).kept
    assert CurrentEvent().check(Claim("Which state legalized it first?", "South Dakota", sheet.sentence(1)), sheet).kept


def test_an_answer_that_only_repeats_the_question_is_no_answer():
    from rag.answer_checks import AddsToQuestion

    sheet = sheet_of("Sprite is retiring its green bottles.", "Warnock and Walker head to a runoff.")
    question = "Sprite is dropping its green bottles. What will the new Sprite bottles look like?"
    assert not AddsToQuestion().check(Claim(question, "new Sprite bottle", sheet.sentence(1)), sheet).kept
    assert AddsToQuestion().check(Claim(question, "clear plastic", sheet.sentence(1)), sheet).kept
    assert AddsToQuestion().check(Claim("Who leads, Warnock or Walker?", "Warnock", sheet.sentence(2)), sheet).kept
