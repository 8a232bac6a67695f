"""Which questions are answered in two steps, and which steps (rag/decompose.py)."""

import pytest

from rag.decompose import COMPARE, ORDER, steps_of


@pytest.mark.parametrize("question, kind, relation, parts", [
    ("Did the council vote on the budget before the mayor resigned?", ORDER, "before",
     ["the council vote on the budget", "the mayor resigned"]),
    ("Did the Avalanche win the Stanley Cup after the court overturned Roe v. Wade?", ORDER, "after",
     ["the Avalanche win the Stanley Cup", "the court overturned Roe v. Wade"]),  # "v." ends no sentence
    ("Which came first, the bridge opening or the library's new hours?", ORDER, "first",
     ["the bridge opening", "the library's new hours"]),
    ("Two storms hit the coast this fall, Ada in September and Bo in October. What category was the stronger of the "
     "two when it made landfall?", COMPARE, "max",
     ["What category was Ada in September when it made landfall?",
      "What category was Bo in October when it made landfall?"]),
    ("Two mergers were agreed: Acme buying Bolt and Crest buying Dune. How much was the smaller of the two deals "
     "worth?", COMPARE, "min", ["How much was Acme buying Bolt worth?", "How much was Crest buying Dune worth?"]),
    ("Were the mayor and the governor the same age when they took office?", COMPARE, "same",
     ["What was the age of the mayor when the mayor took office?",
      "What was the age of the governor when the governor took office?"]),
])
def test_two_step_questions(question, kind, relation, parts):
    steps = steps_of(question)
    assert (steps.kind, steps.relation, steps.parts) == (kind, relation, parts)


def test_other_questions_are_one_step():
    assert steps_of("How many people died in the floods?") is None
    assert steps_of("Who won the election that was called after the prime minister resigned?") is None
    # a comparison whose two things the question does not list: the model splits it when it is answered
    assert steps_of("How old was the older of the two?").parts == []
