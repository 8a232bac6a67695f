"""The catalog's BM25 search on the real gold articles: fast paths give what the plain SQL gives."""

from datetime import datetime, timezone

import pytest

from evals.datasets import realtimeqa_questions
from index.catalog import Catalog, _fts_phrase
from index.dates import to_epoch
from rag.retriever import query_terms


@pytest.fixture(scope="module")
def catalog(gold_settings):
    catalog = Catalog(gold_settings.catalog_path, read_only=True)
    yield catalog
    catalog.close()


def reference_bm25(catalog, terms, limit, since_ts=None, until_ts=None, sources=None):
    """The obvious query: join every match to its article, filter, rank."""
    where, params = catalog._article_filter(since_ts, until_ts, sources)
    sql = ("SELECT c.id, bm25(chunks_fts, 0.6, 1.0) AS s FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid "
           f"JOIN articles a ON a.id = c.article_id WHERE chunks_fts MATCH ? AND {where} ORDER BY s, c.rowid LIMIT ?")
    query = " OR ".join(_fts_phrase(t) for t in terms)
    return [(r[0], round(-r[1], 6)) for r in catalog.db.execute(sql, [query, *params, limit])]


def rounded(hits):
    return [(cid, round(score, 6)) for cid, score in hits]


def ts(day: str) -> int:
    return to_epoch(datetime.fromisoformat(day).replace(tzinfo=timezone.utc))


QUESTIONS = [q.question for q in realtimeqa_questions()[:40:4]]


def test_document_counts_are_the_number_of_matching_chunks(catalog):
    terms = ["ukraine", "netflix", "zzyzxnotaword", "covid-19"]
    counts = catalog.document_counts(terms)
    for term in terms:
        matching = catalog.db.execute("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?", (_fts_phrase(term),)).fetchall()
        assert counts[term] == len(matching)
    assert counts["ukraine"] > counts["netflix"] > 0 and counts["zzyzxnotaword"] == 0


def test_rarest_terms_fit_the_budget_and_keep_at_least_one(catalog):
    terms = query_terms("Which wildly popular show was recently green lit for a new season on Netflix?")
    counts = catalog.document_counts(terms)
    budget = sum(counts.values()) // 3
    chosen = catalog.rarest_terms(terms, budget)
    assert len(chosen) > 1 and sum(counts[t] for t in chosen) <= budget
    left_out = [t for t in terms if t not in chosen and counts[t]]
    assert left_out and max(counts[t] for t in chosen) <= min(counts[t] for t in left_out)
    assert catalog.rarest_terms(terms, 1) == [min((t for t in terms if counts[t]), key=counts.get)]
    assert set(catalog.rarest_terms(terms, 10**9)) == {t for t in terms if counts[t]}


@pytest.mark.parametrize("question", QUESTIONS)
def test_unfiltered_bm25_matches_the_plain_query(catalog, question):
    terms = query_terms(question)
    assert rounded(catalog.search_bm25(terms, 40)) == reference_bm25(catalog, terms, 40)


@pytest.mark.parametrize("window", [
    ("2022-06-01", "2022-06-30", None),            # one month: the window's rowids first
    ("2022-06-10", "2022-06-12", None),            # three days
    (None, "2022-12-31", None),                    # upper bound only: broad, undated articles pass
    ("2022-01-01", None, None),                    # lower bound only: broad
    (None, None, ["edition.cnn.com", "covid.cdc.gov"]),
])
def test_filtered_bm25_matches_the_plain_query(catalog, window):
    since, until, sources = window
    since_ts = ts(since) if since else None
    until_ts = ts(until) + 86399 if until else None
    compared = 0
    for question in QUESTIONS:
        terms = query_terms(question)
        expected = reference_bm25(catalog, terms, 40, since_ts, until_ts, sources)
        got = rounded(catalog.search_bm25(terms, 40, since_ts, until_ts, sources))
        assert got == expected
        compared += bool(expected)
    assert compared >= 2


def test_budgeted_bm25_searches_only_the_rarest_terms(catalog):
    terms = query_terms("A bipartisan group of senators announced an agreement on gun safety legislation")
    budget = sum(catalog.document_counts(terms).values()) // 3
    chosen = catalog.rarest_terms(terms, budget)
    assert 1 < len(chosen) < len(terms)
    assert rounded(catalog.search_bm25(terms, 20, max_postings=budget)) == reference_bm25(catalog, chosen, 20)
