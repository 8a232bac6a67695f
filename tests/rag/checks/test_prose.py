"""``ProseChecks`` (rag/checks/prose.py): the checks of a model's cited prose, run in order on its stream."""

import pytest

from rag.checks.asked_quantity import AskedQuantity
from rag.checks.attribution import Attribution
from rag.checks.model_confirms import ModelConfirms
from rag.checks.prose import ProseChecks
from rag.citations import CitationVerifier
from rag.claim_check import ClaimCheck
from tests.rag.checks.sheets import Replies, source_of

TROOPS = "Washington stations approximately 28,500 troops in South Korea."
ALLIANCE = "The alliance between the United States and South Korea was forged during the Korean War."
QUESTION = "How many US troops are stationed in South Korea?"


def pieces(*sentences: str, refused: bool = False):
    """A model's answer split into sentences, as ``rag.generative`` streams it."""
    for sentence in sentences:
        yield sentence
    return " ".join(sentences), refused


@pytest.fixture(scope="module")
def checks(embedder):
    return ProseChecks(Attribution(CitationVerifier(embedder)), AskedQuantity())


def run(checks, *sentences, confirms=None):
    stream = checks.run(pieces(*sentences), [source_of(1, ALLIANCE, TROOPS)], QUESTION, confirms=confirms)
    shown = []
    while True:
        try:
            shown.append(next(stream))
        except StopIteration as stop:
            return shown, stop.value


def test_sentences_are_held_until_one_gives_the_asked_quantity(checks):
    shown, kept = run(checks, "The alliance was forged during the Korean War [1].",
                      "About 28,500 US troops are there [1].")
    assert len(shown) == 2 and not kept.refused and [c.quote for c in kept.citations] == [ALLIANCE, TROOPS]
    shown, kept = run(checks, "The alliance was forged during the Korean War [1].")
    assert shown == [] and kept.refused and kept.notes[-1].endswith("it does not give the number asked for")


def test_unsupported_sentences_drop_before_the_quantity_is_read(checks):
    shown, kept = run(checks, "About 40,000 US troops are there [1].")  # another number: attribution withholds it
    assert shown == [] and kept.refused and "do not say what it says" in kept.notes[-1]


def test_the_model_saying_no_to_the_first_sentence_withholds_the_answer(checks):
    client = Replies("No.")
    confirms = ModelConfirms(ClaimCheck(lambda: client, [ALLIANCE, TROOPS]))
    premise = "About 28,500 US troops are stationed in South Korea [1]."  # adds nothing to the question
    shown, kept = run(checks, premise, "Washington stations them [1].", confirms=confirms)
    assert client.asked and shown == [] and kept.refused and kept.declined
    assert "its source does not say it" in kept.notes[0]
