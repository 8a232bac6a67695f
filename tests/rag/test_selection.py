"""The sheet a local model reads (rag/selection.py): few articles, their best sentences with neighbours,
numbered; for a question about the latest state, the newest report first."""

from datetime import datetime, timezone

from rag.extractive import Candidate
from rag.selection import count_tokens, select
from rag.types import Evidence


def article(article_id: str, day: int, sentences: list[tuple[str, float]]) -> list[Candidate]:
    evidence = Evidence(f"{article_id}-c", article_id, f"Title {article_id}", "example.com", None,
                        datetime(2023, 3, day, tzinfo=timezone.utc), " ".join(t for t, _ in sentences), 0, 0)
    out, at = [], 0
    for text, score in sentences:
        out.append(Candidate(evidence, at, at + len(text), text, score))
        at += len(text) + 1
    return out


def ranked(*articles: list[Candidate]) -> list[Candidate]:
    return sorted([c for a in articles for c in a], key=lambda c: -c.score)


A = article("a", 2, [("The tram extension was approved on Saturday after debate.", 0.9),
                     ("Transport Minister Petra Vance said riders would double.", 0.3),
                     ("Construction starts in May, the city said.", 0.2),
                     ("The old depot will close in June next year.", 0.1)])
B = article("b", 9, [("The tram line opened on Thursday with free rides.", 0.8), ("Riders praised it.", 0.2)])
C = article("c", 20, [("A bakery opened near the tram stop this week.", 0.3)])


def test_the_best_articles_with_the_neighbours_of_their_best_sentences():
    sheet = select(ranked(A, B, C), budget=300, articles=2, neighbours=1, margin=0.15)
    assert [e.article_id for e, _ in sheet.articles] == ["a", "b"]  # c scores far below the best: not read
    texts = [s.text for s in sheet.sentences]
    assert "Transport Minister Petra Vance said riders would double." in texts  # beside the matching lead
    assert [s.n for s in sheet.sentences] == list(range(1, len(texts) + 1))
    first = sheet.articles[0][1]
    assert [s.start for s in first] == sorted(s.start for s in first)  # in the article's order
    assert "[1] The tram extension was approved" in sheet.render() and '(A) "Title a", example.com, 2023-03-02' \
        in sheet.render()


def test_the_budget_bounds_what_is_read():
    cost = count_tokens(A[0].text) + 3
    sheet = select(ranked(A, B, C), budget=cost, articles=3, neighbours=1, margin=1.0)
    assert [s.text for s in sheet.sentences] == [A[0].text]


def test_a_latest_state_question_reads_the_newest_report_first_whatever_its_score():
    sheet = select(ranked(A, B, C), budget=300, articles=2, neighbours=0, margin=0.15, newest_first=True,
                   newer={"c"})
    assert [e.article_id for e, _ in sheet.articles] == ["c", "a"]
    plain = select(ranked(A, B, C), budget=300, articles=2, neighbours=0, margin=0.15, newest_first=True)
    assert [e.article_id for e, _ in plain.articles] == ["b", "a"]  # newest first among those read


def test_the_article_retrieval_ranked_first_is_read_whatever_its_sentences_score():
    """A long article's answering sentence may score below another article's lead: the article that retrieval
    ranked first is read all the same, before the others."""
    sheet = select(ranked(A, B, C), budget=300, articles=2, neighbours=0, margin=0.15, first="c")
    assert [e.article_id for e, _ in sheet.articles] == ["c", "a"]
    kept = select(ranked(A, B, C), budget=300, articles=2, neighbours=0, margin=0.15, first="b")
    assert [e.article_id for e, _ in kept.articles] == ["a", "b"]  # read already: the order stays by score
    unknown = select(ranked(A, B, C), budget=300, articles=2, neighbours=0, margin=0.15, first="z")
    assert [e.article_id for e, _ in unknown.articles] == ["a", "b"]
