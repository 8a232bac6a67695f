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


def test_a_kind_of_thing_is_answered_by_a_word_not_a_name():
    sheet = sheet_of("Five lions escaped from their enclosure at Taronga Zoo.", "The zoo went into lockdown.")
    check = AnswersKind()
    question = "Which animals slipped loose from their enclosure at a Sydney zoo?"
    assert check.check(Claim(question, "five lions", sheet.sentence(1)), sheet).kept
    assert not check.check(Claim(question, "enclosure", sheet.sentence(1)), sheet).kept  # only the question's word
    product = "Authorities seized cocaine disguised as which household product?"
    assert check.check(Claim(product, "baby wipes", sheet.sentence(1)), sheet).kept


def test_a_toll_is_counted_however_the_article_words_it():
    """"How many deaths" is answered by "13 infants died"; a count of something else is not."""
    sheet = sheet_of("At least 13 infants died while lying in the rockers, the agency said.",
                     "The company sold 17 million rockers since 2009.")
    check = AnswersKind()
    question = "In June 2022, regulators linked how many infant deaths to two rocker models?"
    assert check.check(Claim(question, "13", sheet.sentence(1)), sheet).kept
    assert not check.check(Claim(question, "17 million", sheet.sentence(2)), sheet).kept


def test_a_scene_setting_clause_does_not_say_what_is_asked():
    """"When officials declared ..., the virus was found in which sewage works?" asks a place, not a date;
    "When did ..." asks a date."""
    sheet = sheet_of("The virus was found in samples from the Beckton Sewage Treatment Works.",
                     "Officials declared a national incident on Wednesday.")
    check = AnswersKind()
    scene = ("When UK health officials declared a national incident over polio in June 2022, the virus had been "
             "found in waste from which sewage treatment works?")
    assert check.check(Claim(scene, "Beckton Sewage Treatment Works", sheet.sentence(1)), sheet).kept
    when = "When did UK health officials declare a national incident over polio?"
    assert not check.check(Claim(when, "Beckton Sewage Treatment Works", sheet.sentence(1)), sheet).kept


def test_a_share_is_answered_by_a_share_not_a_count():
    """"What share of the vote" is answered by "50.90%" (or "just over half"), not by "60 million votes" from the
    sentence before it."""
    sheet = sheet_of("Lula da Silva received more than 60 million votes, the most in Brazilian history.",
                     "Lula da Silva won 50.90% of the vote and Bolsonaro received 49.10%.")
    check = AnswersKind()
    question = "What share of the vote did Lula da Silva win in Brazil's presidential election?"
    assert not check.check(Claim(question, "60 million votes", sheet.sentence(1)), sheet).kept
    assert check.check(Claim(question, "50.90%", sheet.sentence(2)), sheet).kept
    assert check.check(Claim(question, "just over half", sheet.sentence(2)), sheet).kept
    assert check.check(Claim("How many votes did Lula da Silva receive?", "60 million", sheet.sentence(1)), sheet).kept
