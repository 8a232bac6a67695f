"""BM25 search over the catalog on the real gold articles: fast paths give what the plain SQL gives."""

from datetime import datetime, timezone

import pytest

from evals.datasets import realtimeqa_questions
from index.catalog import Catalog
from index.types import to_epoch
from index.catalog.sqlite_search import fts_phrase, window_condition
from index.search import Bm25Search, ChunkFilter, WindowCounter
from index.vectors import WindowVectors
from rag.text import query_terms


@pytest.fixture(scope="module")
def catalog(gold_settings):
    catalog = Catalog(gold_settings.index.catalog_path, read_only=True)
    yield catalog
    catalog.close()


@pytest.fixture(scope="module")
def bm25(catalog, gold_settings):
    return Bm25Search(catalog, gold_settings.retrieval)


def reference_bm25(catalog, terms, limit, since_ts=None, until_ts=None, sources=None, title_weight=0.6):
    """The obvious query: join every match to its article, filter, rank."""
    where, params = window_condition(ChunkFilter(since_ts, until_ts, tuple(sources or ())))
    sql = (f"SELECT c.id, bm25(chunks_fts, {title_weight}, 1.0) AS s FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid "
           f"JOIN articles a ON a.id = c.article_id WHERE chunks_fts MATCH ? AND {where} ORDER BY s, c.rowid LIMIT ?")
    query = " OR ".join(fts_phrase(t) for t in terms)
    return [(r[0], round(-r[1], 6)) for r in catalog.db.execute(sql, [query, *params, limit])]


def rounded(hits):
    return [(cid, round(score, 6)) for cid, score in hits]


def ts(day: str) -> int:
    return to_epoch(datetime.fromisoformat(day).replace(tzinfo=timezone.utc))


QUESTIONS = [q.question for q in realtimeqa_questions()[:40:4]]


def test_document_counts_are_the_number_of_matching_chunks(catalog, bm25):
    terms = ["ukraine", "netflix", "zzyzxnotaword", "covid-19"]
    counts = bm25.document_counts(terms)
    for term in terms:
        matching = catalog.db.execute("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?", (fts_phrase(term),)).fetchall()
        assert counts[term] == len(matching)
    assert counts["ukraine"] > counts["netflix"] > 0 and counts["zzyzxnotaword"] == 0


def test_rarest_terms_fit_the_budget_and_keep_at_least_one(bm25):
    terms = query_terms("Which wildly popular show was recently green lit for a new season on Netflix?")
    counts = bm25.document_counts(terms)
    budget = sum(counts.values()) // 3
    chosen = bm25.rarest_terms(terms, budget)
    assert len(chosen) > 1 and sum(counts[t] for t in chosen) <= budget
    left_out = [t for t in terms if t not in chosen and counts[t]]
    assert left_out and max(counts[t] for t in chosen) <= min(counts[t] for t in left_out)
    assert bm25.rarest_terms(terms, 1) == [min((t for t in terms if counts[t]), key=counts.get)]
    assert set(bm25.rarest_terms(terms, 10**9)) == {t for t in terms if counts[t]}


@pytest.mark.parametrize("question", QUESTIONS)
def test_unfiltered_bm25_matches_the_plain_query(catalog, bm25, question):
    terms = query_terms(question)
    assert rounded(bm25.search(terms, 40)) == reference_bm25(catalog, terms, 40)


def test_the_title_weight_comes_from_the_settings(catalog, gold_settings):
    terms = query_terms(QUESTIONS[0])
    heavy = Bm25Search(catalog, gold_settings.updated(bm25_title_weight=3.0).retrieval)
    expected = reference_bm25(catalog, terms, 40, title_weight=3.0)
    assert rounded(heavy.search(terms, 40)) == expected != reference_bm25(catalog, terms, 40)


WINDOWS = [
    ("2022-06-01", "2022-06-30", None),            # one month: the window's rowids first
    ("2022-06-10", "2022-06-12", None),            # three days
    (None, "2022-12-31", None),                    # upper bound only: broad, undated articles pass
    ("2022-01-01", None, None),                    # lower bound only: broad
    (None, None, ["edition.cnn.com", "covid.cdc.gov"]),
]


def bounds(window):
    since, until, sources = window
    return ts(since) if since else None, ts(until) + 86399 if until else None, sources


@pytest.mark.parametrize("window", WINDOWS)
def test_filtered_bm25_matches_the_plain_query(catalog, bm25, window):
    since_ts, until_ts, sources = bounds(window)
    compared = 0
    for question in QUESTIONS:
        terms = query_terms(question)
        expected = reference_bm25(catalog, terms, 40, since_ts, until_ts, sources)
        got = rounded(bm25.search(terms, 40, ChunkFilter(since_ts, until_ts, tuple(sources or ()))))
        assert got == expected
        compared += bool(expected)
    assert compared >= 2


def test_budgeted_bm25_searches_only_the_rarest_terms(catalog, bm25):
    terms = query_terms("A bipartisan group of senators announced an agreement on gun safety legislation")
    budget = sum(bm25.document_counts(terms).values()) // 3
    chosen = bm25.rarest_terms(terms, budget)
    assert 1 < len(chosen) < len(terms)
    assert rounded(bm25.search(terms, 20, max_postings=budget)) == reference_bm25(catalog, chosen, 20)


@pytest.mark.parametrize("window", WINDOWS)
def test_the_filter_rule_is_the_same_in_sql_and_in_python(catalog, window):
    """Dense hits are filtered in Python (``ChunkFilter.admits``), BM25 and counts in SQL (``window_condition``): one rule."""
    since_ts, until_ts, sources = bounds(window)
    where = ChunkFilter(since_ts, until_ts, tuple(sources or ()))
    condition, params = window_condition(where)
    in_sql = {r[0] for r in catalog.db.execute(
        f"SELECT c.id FROM articles a JOIN chunks c ON c.article_id = a.id WHERE {condition}", params)}
    every = [r[0] for r in catalog.db.execute("SELECT id FROM chunks")]
    assert in_sql
    assert WindowVectors(catalog).admitted(every + ["no-such-chunk"], where) == in_sql
    assert WindowCounter(catalog).size(where) == len(in_sql)
