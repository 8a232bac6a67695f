"""``AddsToQuestion`` (rag/checks/adds_to_question.py): an answer made of the question's words is no answer."""

from rag.checks import Claim
from rag.checks.adds_to_question import AddsToQuestion
from tests.rag.checks.sheets import sheet_of


def test_an_answer_that_only_repeats_the_question_is_no_answer():
    sheet = sheet_of("Sprite is retiring its green bottles.", "Warnock and Walker head to a runoff.")
    question = "Sprite is dropping its green bottles. What will the new Sprite bottles look like?"
    verdict = AddsToQuestion().check(Claim(question, "new Sprite bottle", sheet.sentence(1)), sheet)
    assert not verdict.kept and verdict.reason == "it only repeats the question"
    assert AddsToQuestion().check(Claim(question, "clear plastic", sheet.sentence(1)), sheet).kept
    # a question that offers the choice is answered by one of its own words
    assert AddsToQuestion().check(Claim("Who leads, Warnock or Walker?", "Warnock", sheet.sentence(2)), sheet).kept


def test_the_question_s_own_name_with_a_generic_word_is_no_answer():
    """"Jackson State University" adds only "University" to "which team did Jackson State play?"; a name of
    generic words the question does not use ("Times Square") is an answer."""
    sheet = sheet_of("The undefeated Tigers face Texas Southern in Houston on Saturday.",
                     "Times Square was declared a gun-free zone.")
    check = AddsToQuestion()
    team = "Which team was Jackson State's football team due to play in Houston that weekend?"
    assert not check.check(Claim(team, "Jackson State University", sheet.sentence(1)), sheet).kept
    assert check.check(Claim(team, "Texas Southern", sheet.sentence(1)), sheet).kept
    place = "Which popular tourist destination was designated a gun-free zone this week?"
    assert check.check(Claim(place, "Times Square", sheet.sentence(2)), sheet).kept


def test_the_initials_of_the_question_s_own_name_are_no_answer():
    """"JSU" for "which team did Jackson State University play?" is the question's own subject; an acronym the
    question does not spell out ("NASA") is an answer."""
    sheet = sheet_of("JSU fell to Texas Southern in the Celebration Bowl.", "NASA confirmed the hit on Tuesday.")
    check = AddsToQuestion()
    jackson = "Which team beat Jackson State University in the Celebration Bowl?"
    assert not check.check(Claim(jackson, "JSU", sheet.sentence(1)), sheet).kept
    assert check.check(Claim(jackson, "Texas Southern", sheet.sentence(1)), sheet).kept
    assert check.check(Claim("Which agency confirmed the asteroid hit?", "NASA", sheet.sentence(2)), sheet).kept
