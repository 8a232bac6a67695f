"""``Verbatim`` (rag/checks/verbatim.py): every quote is its article's text, the last check of every answer."""

from rag.checks.verbatim import Verbatim, quote_in_article
from rag.types import Answer, Citation

ARTICLE = ("Japan's coast guard reported two ballistic missiles flying toward the Sea of Japan. "
           "Washington stations approximately 28,500 troops in South Korea.")
TROOPS = "Washington stations approximately 28,500 troops in South Korea."


def test_quote_must_be_verbatim_in_the_article():
    start = ARTICLE.index(TROOPS)
    assert quote_in_article(TROOPS, ARTICLE, start, start + len(TROOPS)) == (start, start + len(TROOPS))
    assert quote_in_article(TROOPS, ARTICLE, 0, 10) == (start, start + len(TROOPS))  # wrong offsets repaired
    altered = TROOPS.replace("28,500", "38,500")
    assert quote_in_article(altered, ARTICLE, start, start + len(altered)) is None
    assert quote_in_article("North Korea fired ten missiles.", ARTICLE, 0, 30) is None
    assert quote_in_article("", ARTICLE, 0, 0) is None


def citation(n: int, quote: str) -> Citation:
    return Citation(n=n, article_id="a1", title="T", source="example.com", url=None, published_at=None,
                    quote=quote, start=0, end=len(quote))


def test_a_quote_not_in_its_article_goes_with_its_marker_and_an_answer_left_bare_is_refused():
    verbatim = Verbatim(lambda article_id: ARTICLE if article_id == "a1" else None)
    answer = Answer("How many troops?", "About 28,500 [1]. Ten missiles flew [2].", False, "llm",
                    [citation(1, TROOPS), citation(2, "North Korea fired ten missiles.")], [])
    kept = verbatim.keep(answer)
    assert kept.answer == "About 28,500 [1]. Ten missiles flew." and not kept.refused
    assert [c.n for c in kept.citations] == [1] and kept.citations[0].start == ARTICLE.index(TROOPS)
    bare = verbatim.keep(Answer("q", "Ten missiles flew [1].", False, "llm",
                                [citation(1, "North Korea fired ten missiles.")], []))
    assert bare.refused and not bare.citations
