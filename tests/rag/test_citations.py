from rag.citations import CitationVerifier, lexical_support, numbers_agree

ARTICLE = ("Japan's coast guard reported two ballistic missiles flying toward the Sea of Japan. "
           "Washington stations approximately 28,500 troops in South Korea.")


def test_support_needs_shared_meaning_and_the_same_numbers(embedder):
    verifier = CitationVerifier(embedder)
    troops = "Washington stations approximately 28,500 troops in South Korea."
    missiles = "Japan's coast guard reported two ballistic missiles flying toward the Sea of Japan."
    claims = ["The US keeps about 28,500 troops in South Korea.",
              "The US keeps about 40,000 troops in South Korea.",
              "The US keeps about 28,500 troops in South Korea.",
              "Two ballistic missiles flew toward the Sea of Japan."]
    quotes = [troops, troops, missiles, missiles]
    assert verifier.supports(claims, quotes) == [True, False, False, True]


def test_lexical_helpers():
    assert lexical_support("missiles flying toward Japan [1]", "two missiles flying toward Japan") == 1.0
    assert lexical_support("missiles launched toward Japan", "two missiles flying toward Japan") == 0.75
    assert numbers_agree("about 28,500 troops", "approximately 28500 troops")
    assert not numbers_agree("about 30,000 troops", "approximately 28,500 troops")


def test_names_and_counted_things_must_be_in_the_quote(embedder):
    """Regression: two claims a small model wrote on the seed suite passed the word and number checks."""
    verifier = CitationVerifier(embedder)
    launch = ("In a significant escalation of military posturing, North Korea fired at least two ballistic "
              "missiles toward the Sea of Japan on Tuesday, January 27.")
    troops = ("The United States and South Korea maintain a formidable military partnership, with Washington "
              "currently stationing approximately 28,500 troops on South Korean soil.")
    claims = ["Iran launched at least two ballistic missiles toward Israel [1].",
              "North Korea has approximately 28,500 nuclear warheads [1].",
              "North Korea fired at least two ballistic missiles toward the Sea of Japan [1].",
              "The US stations approximately 28,500 troops in South Korea [1]."]
    assert verifier.supports(claims, [launch, troops, launch, troops]) == [False, False, True, True]


def test_a_verdict_by_meaning_is_a_plain_bool():
    """Pins a crash: a claim supported by meaning (few shared words, close embeddings) gave numpy's bool, which an
    evaluation run could not write as JSON."""
    import json

    import numpy as np

    from rag.citations import Support
    from settings import AnswerSettings

    verdict = Support(lexical=0.3, cosine=np.float32(0.9), agrees=True).passes(AnswerSettings(_env_file=None))
    assert verdict is True and json.dumps(verdict) == "true"
