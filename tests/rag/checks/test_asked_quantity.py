"""``AskedQuantity`` (rag/checks/asked_quantity.py): the answer gives the quantity asked."""

from rag.checks.asked_quantity import AskedQuantity


def test_a_sentence_about_the_event_without_the_quantity_is_withheld():
    check = AskedQuantity()
    question = "How far did the missiles fly?"
    assert check.applies(question) and not check.applies("Who fired the missiles?")
    verdict = check.check("The missiles flew toward the Sea of Japan [1].", question)
    assert not verdict.kept and verdict.reason == "it does not give the distance asked for"
    assert check.check("The missiles flew about 350 km [1].", question).kept


def test_a_count_must_count_what_is_asked():
    check = AskedQuantity()
    question = "How many US troops are stationed in South Korea?"
    assert check.check("Washington stations approximately 28,500 troops there [1].", question).kept
    assert not check.check("The alliance dates from 1953 [1].", question).kept  # a year is not a count
