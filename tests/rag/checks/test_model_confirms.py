"""``ModelConfirms`` (rag/checks/model_confirms.py): the model's yes or no on a sentence the word checks cannot judge.

The client here replies a fixed word (the protocol); the real default model's verdicts are tested in
tests/rag/test_claim_check.py."""

from rag.checks.model_confirms import ModelConfirms
from rag.claim_check import ClaimCheck
from tests.rag.checks.sheets import Replies

QUOTE = "The missile launch represents North Korea's second such test this month."
QUESTION = "Which airline cancelled flights because of the missile test?"


def confirms(word: str | None) -> tuple[ModelConfirms, Replies]:
    client = Replies(word)
    return ModelConfirms(ClaimCheck(lambda: client, [QUOTE])), client


def test_a_premise_no_article_holds_is_put_to_the_model_and_withheld_on_no():
    check, client = confirms("No.")
    premise = "North Korea cancelled flights because of the missile test [1]."
    assert check.needed(premise, QUESTION)  # "cancelled flights" is the question's, not an article's
    verdict = check.check(premise, [QUOTE])
    assert not verdict.kept and verdict.reason == "its source does not say it"
    assert client.asked and QUOTE in client.asked[0] and "[1]" not in client.asked[0]


def test_a_yes_an_unclear_reply_or_a_failed_call_keeps_the_sentence():
    claim = "North Korea cancelled flights because of the missile test [1]."
    for word in ("Yes", "Maybe", None):
        check, _ = confirms(word)
        assert check.check(claim, [QUOTE]).kept, word


def test_a_sentence_the_word_checks_can_judge_is_not_put_to_the_model():
    check, _ = confirms("No.")
    assert not check.needed("It was North Korea's second missile test this month [1].", QUESTION)
