"""``Grounded`` (rag/checks/grounded.py): the answer is what a sentence of the sheet says."""

from rag.checks import Claim
from rag.checks.grounded import Grounded, grounded_in, grounding
from tests.rag.checks.sheets import sheet_of


def test_an_answer_is_grounded_in_the_sentence_that_states_it():
    assert grounding("53,804 acres", "It protects the 53,804-acre Camp Hale monument.") == 1.0  # hyphens read apart
    assert grounding("clear plastic", "Clear PET bottles can be remade.") == 0.5  # most words: a small model's own word
    assert grounding("$1.34 billion", "The jackpot rose to $1.337 billion.") == 0.0  # another number
    assert grounding("Joseph Chahayed", "The shop owner sold the ticket.") == 0.0  # a name the sentence lacks
    assert grounded_in("40 goats", "Forty goats escaped from the farm.")  # a number in words
    assert not grounded_in("Omar Reyes", "Minister Petra Vance said it would open in May.")


def test_a_right_answer_cited_to_the_wrong_sentence_is_cited_to_the_right_one():
    sheet = sheet_of("The tram extension was approved on Saturday.", "Minister Petra Vance said it would open in May.")
    verdict = Grounded().check(Claim("Which minister approved it?", "Petra Vance", sheet.sentence(1)), sheet)
    assert verdict.kept and verdict.sentence.n == 2
    verdict = Grounded().check(Claim("Which minister approved it?", "Omar Reyes", sheet.sentence(1)), sheet)
    assert not verdict.kept and verdict.reason == "no article states it"


def test_a_name_given_by_surname_is_grounded_where_its_article_gives_it_in_full():
    question = "Which head of state announced his resignation this week?"
    said = "Johnson announced that he would be stepping down."
    sheet = sheet_of(said, "Party officials will set a timetable.", title="Boris Johnson: UK Prime Minister resigns")
    verdict = Grounded().check(Claim(question, "Boris Johnson", sheet.sentence(1)), sheet)
    assert verdict.kept and verdict.sentence.n == 1
    # the full name in the article is not enough: the cited sentence must name the person
    elsewhere = sheet_of("Party officials will set a timetable.", said.replace("Johnson", "He"),
                         title="Boris Johnson: UK Prime Minister resigns")
    assert not Grounded().check(Claim(question, "Boris Johnson", elsewhere.sentence(1)), elsewhere).kept
    # nor a name the article never gives
    untitled = sheet_of(said, "Party officials will set a timetable.")
    assert not Grounded().check(Claim(question, "Boris Johnson", untitled.sentence(1)), untitled).kept


def test_a_yes_or_no_needs_a_sentence_about_the_question():
    sheet = sheet_of("Federer announced his retirement on Thursday.", "The weather was fine.")
    question = "Did Federer announce his retirement?"
    assert Grounded().check(Claim(question, "Yes", sheet.sentence(1)), sheet).kept
    verdict = Grounded().check(Claim(question, "Yes", sheet.sentence(2)), sheet)
    assert not verdict.kept and "not about the question" in verdict.reason
