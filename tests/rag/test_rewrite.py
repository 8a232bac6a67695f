"""Follow-up rewriting by rule: only a real follow-up gets the earlier question as context."""

import pytest

from rag.rewrite import needs_context, rewrite_by_rule

EARLIER = "How many US troops are stationed in South Korea?"


@pytest.mark.parametrize("question", [
    "Why did North Korea fire the missiles?",  # a leading "why" is a new question
    "Which state legalized recreational marijuana this week?",  # "this week" is a date, not a pointer
    "Who won the election this year?",
    "What did Elbridge Colby say about his visit?",  # "his" has its name in the question
    "How much does it cost to raise a child to the age of 17?",
    "What did Kim Jong Un criticize last month?",
    "Which companies announced that they would cut jobs?",  # "that" and "they" point inside the question
])
def test_a_standalone_question_is_not_rewritten(question):
    """Regression (issue 10): "Why did North Korea fire the missiles?" after the troops question came
    back as "Understood as: Why did ...? (context: How many US troops ...)"."""
    assert not needs_context(question)
    assert rewrite_by_rule(question, [EARLIER]) == question


@pytest.mark.parametrize("question", [
    "What is his rank?",
    "And what about Japan?",
    "What about Japan?",
    "And in Japan?",
    "Why?",
    "When did they announce it?",
    "How did these sanctions affect the economy?",
    "Did the same happen in Japan?",
    "But why did he resign?",
])
def test_a_follow_up_is_rewritten_with_the_earlier_question(question):
    assert needs_context(question)
    assert rewrite_by_rule(question, [EARLIER]) == f"{question} (context: {EARLIER})"


def test_nothing_to_lean_on_without_history():
    assert rewrite_by_rule("What is his rank?", []) == "What is his rank?"
