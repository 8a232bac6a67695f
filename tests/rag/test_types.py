"""The plain data types of the question side (rag/types.py)."""

from rag.types import Evidence, first_per_article


def test_first_per_article_keeps_each_articles_best_chunk_in_rank_order():
    rows = [{"article_id": "a", "score": 0.9}, {"article_id": "b", "score": 0.8}, {"article_id": "a", "score": 0.7},
            {"article_id": "c", "score": 0.6}, {"article_id": "b", "score": 0.5}]
    assert first_per_article(rows) == [rows[0], rows[1], rows[3]]
    assert first_per_article(rows, 2) == [rows[0], rows[1]] and first_per_article(rows, 0) == []
    evidence = [Evidence(chunk_id=f"{a}-{i}", article_id=a, title=a, source=None, url=None, published_at=None,
                         text="", start=0, end=0, score=1.0 - i / 10) for i, a in enumerate("bbab")]
    assert [e.chunk_id for e in first_per_article(evidence)] == ["b-0", "a-2"]
    assert first_per_article(iter(evidence), 1) == [evidence[0]]
