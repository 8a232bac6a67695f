"""``Attribution`` (rag/checks/attribution.py): a written sentence is cited to the sentences that support it."""

import pytest

from rag.checks.attribution import SILENT, Attribution, CitationLedger
from rag.citations import CitationVerifier
from tests.rag.checks.sheets import source_of

TROOPS = "Washington stations approximately 28,500 troops in South Korea."
MISSILES = "Japan's coast guard reported two ballistic missiles flying toward the Sea of Japan."
QUESTION = "How many US troops are stationed in South Korea?"


@pytest.fixture(scope="module")
def attribution(embedder):
    return Attribution(CitationVerifier(embedder))


def test_a_marker_whose_source_supports_the_sentence_stays(attribution):
    ledger = CitationLedger()
    sources = [source_of(1, TROOPS), source_of(2, MISSILES)]
    verdict = attribution.check("About 28,500 US troops are in South Korea [1].", sources, ledger, QUESTION)
    assert verdict.kept and verdict.text == "About 28,500 US troops are in South Korea [1]."
    assert [c.quote for c in ledger.citations] == [TROOPS]


def test_a_wrong_marker_or_one_pointing_nowhere_is_cited_to_the_source_that_says_it(attribution):
    sources = [source_of(1, MISSILES), source_of(2, TROOPS)]
    for written in ("About 28,500 US troops are in South Korea [1].", "About 28,500 US troops are in South Korea [7].",
                    "About 28,500 US troops are in South Korea."):
        ledger = CitationLedger()
        verdict = attribution.check(written, sources, ledger, QUESTION)
        assert verdict.kept and verdict.text.endswith("[1].") and ledger.citations[0].quote == TROOPS, written


def test_a_sentence_no_source_supports_is_withheld(attribution):
    ledger = CitationLedger()
    sources = [source_of(1, TROOPS), source_of(2, MISSILES)]
    assert not attribution.check("About 40,000 US troops are in South Korea [1].", sources, ledger, QUESTION).kept
    assert not attribution.check("The moon is made of green cheese [2].", sources, ledger, QUESTION).kept
    assert not ledger.citations


def test_a_sentence_saying_the_sources_are_silent_is_withheld_as_such(attribution):
    verdict = attribution.check("The sources do not mention the number of troops.", [source_of(1, TROOPS)],
                                CitationLedger(), QUESTION)
    assert not verdict.kept and verdict.reason == SILENT


def test_a_bare_yes_leads_in_and_a_quote_cited_again_keeps_its_number(attribution):
    ledger = CitationLedger()
    sources = [source_of(1, TROOPS)]
    assert attribution.check("Yes.", sources, ledger, "Are US troops in South Korea?").text == "Yes."
    first = attribution.check("About 28,500 US troops are in South Korea [1].", sources, ledger, QUESTION)
    again = attribution.check("Washington stations 28,500 troops there [1].", sources, ledger, QUESTION)
    assert first.kept and again.kept and len(ledger.citations) == 1
    ledger.forget_after(0)
    assert not ledger.citations
