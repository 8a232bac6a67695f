"""BM25 in PostgreSQL (``index.catalog.postgres_search``) against SQLite's FTS5 on the same real gold articles:
the same chunks in the same order with the same scores, for many queries, in every window path; the same
term and window counts; deletes keep the statistics exact. A real PostgreSQL holds the search tables and the
``articles``/``chunks`` columns they rely on (``evals.bench.pg_bm25``'s harness), a real catalog file the
FTS5 side."""

from dataclasses import replace
from itertools import count

import pytest

from evals.bench.pg_bm25 import PgSearchStore, copy_catalog
from index.catalog import Catalog
from index.catalog.fts5_terms import FTS5_TOKENIZE, chunk_terms, phrase_tokens
from index.catalog.postgres_search import delete_chunk_terms
from index.catalog.sqlite_schema import _INDEX
from index.chunker import ArticleChunker
from index.types import Bm25Query, ChunkFilter, to_epoch
from ingest.loaders import ArticleLoader
from rag.text import query_terms

_schemas = count()
DAY = 86_400


@pytest.fixture(scope="module")
def articles(gold_file):
    loaded = ArticleLoader().load(gold_file, "gold-articles.jsonl.gz").articles[:120]
    # a second outlet for the source filter, one undated article (it passes upper bounds only), and wire
    # copies (the same title and text under another id: equal scores, which rank by rowid)
    loaded = [replace(a, source="wire.example") if n % 5 == 0 else a for n, a in enumerate(loaded)]
    copies = [replace(a, id=f"copy-{a.id}", url=None) for a in loaded[1:40:6]]
    return loaded[:-1] + copies + [replace(loaded[-1], published_at=None)]


def sqlite_catalog(path, articles) -> Catalog:
    catalog = Catalog(path)
    chunker = ArticleChunker(256, 32)
    with catalog.transaction():
        for article in articles:
            catalog.put_article(article, "/corpus", chunker.chunk(article), {})
    return catalog


def pg_store(server, catalog: Catalog, batch: int = 97) -> PgSearchStore:
    """The catalog's chunks indexed into a fresh schema, ``batch`` chunks a call (the statistics add up)."""
    store = PgSearchStore(server.url, f"search_{next(_schemas)}")
    store.create()
    copy_catalog(catalog, store, batch)
    return store


@pytest.fixture(scope="module")
def pair(tmp_path_factory, postgres_server, articles):
    catalog = sqlite_catalog(tmp_path_factory.mktemp("fts") / "catalog.sqlite", articles)
    store = pg_store(postgres_server, catalog)
    yield catalog, store
    store.close()
    catalog.close()


@pytest.fixture(scope="module")
def term_lists(articles):
    """Question-like term lists: the content words of titles and sentences, common words, phrases of
    several tokens ("covid-19"), words sharing a stem (two FTS5 phrases of one token), unknown words."""
    lists = [tuple(query_terms(a.display_title)) for a in articles[:40]]
    lists += [tuple(query_terms(a.text[200:600]))[:12] for a in articles[40:80]]
    lists += [("said", "people", "government"), ("covid-19", "vaccine"), ("covid-19",), ("o'neill", "biden"),
              ("run", "running", "runs"), ("zzqxv", "biden"), ("zzqxv",), ("twenty-first", "century")]
    return [terms for terms in lists if terms]


def test_wire_copies_tie_in_fts5(pair, articles):
    catalog, _ = pair
    copy = next(a for a in articles if a.id.startswith("copy-"))
    ranked = catalog.bm25(Bm25Query(tuple(query_terms(copy.display_title)), 50, 0.6))
    scores = [s for _, s in ranked]
    assert any(scores.count(s) > 1 for s in scores)


def assert_same(expected: list[tuple[str, float]], got: list[tuple[str, float]], what) -> None:
    assert [cid for cid, _ in got] == [cid for cid, _ in expected], what
    for (_, a), (_, b) in zip(expected, got):
        assert b == pytest.approx(a, rel=1e-6), what


def windows(articles) -> list[ChunkFilter]:
    stamps = sorted(to_epoch(a.published_at) for a in articles if a.published_at)
    middle, late = stamps[len(stamps) // 2], stamps[-10]
    return [ChunkFilter(since_ts=stamps[0]), ChunkFilter(until_ts=middle), ChunkFilter(since_ts=middle),
            ChunkFilter(since_ts=late, until_ts=late + 3 * DAY), ChunkFilter(sources=("wire.example",)),
            ChunkFilter(since_ts=middle, sources=("cnn.com", "nowhere.example")), ChunkFilter(until_ts=0),
            ChunkFilter(sources=("nowhere.example",))]


def test_the_terms_are_fts5s():
    assert f"tokenize = '{FTS5_TOKENIZE}'" in _INDEX
    assert phrase_tokens("Covid-19") == ("covid", "19")
    assert phrase_tokens("running") == ("run",)
    assert phrase_tokens("café") == ("cafe",)
    assert phrase_tokens("-") == ()
    terms = chunk_terms([(7, "Runs in Rome", "He ran; she runs. Café-run!")])[7]
    assert (terms.title_len, terms.text_len) == (3, 6)
    assert terms.positions["run"] == ([0], [3, 5])


def test_unfiltered_ranking_equals_fts5(pair, term_lists):
    catalog, store = pair
    for terms in term_lists:
        for limit, weight in ((10, 0.6), (50, 0.6), (25, 1.0), (30, 0.0)):
            query = Bm25Query(terms, limit, weight)
            expected = catalog.bm25(query)
            assert_same(expected, store.bm25(query), (terms, limit, weight))
    assert store.bm25(Bm25Query((), 10, 0.6)) == catalog.bm25(Bm25Query((), 10, 0.6)) == []
    assert store.bm25(Bm25Query(("-",), 10, 0.6)) == []


@pytest.mark.parametrize("share", [1.0, 0.3, 0.01], ids=["broad", "broad-short-ranks", "narrow"])
def test_windowed_ranking_equals_fts5_in_every_path(pair, articles, term_lists, share):
    catalog, store = pair
    found = 0
    for where in windows(articles):
        for terms in term_lists[::3]:
            # few first ranks make the broad path walk the whole ranking when the window is rare in them
            query = Bm25Query(terms, 20, 0.6, where=where, window_share=share,
                              broad_window_ranks=2000 if share == 1.0 else 25)
            expected = catalog.bm25(query)
            assert_same(expected, store.bm25(query), (terms, where, share))
            found += len(expected)
    assert found > 1000


def test_window_and_term_counts_agree(pair, articles, term_lists):
    catalog, store = pair
    for where in [ChunkFilter(), *windows(articles)]:
        assert store.window_chunk_count(where) == catalog.window_chunk_count(where), where
    terms = sorted({t for terms in term_lists for t in terms}) + ["-", "covid-19", "o'neill"]
    assert store.term_document_counts(terms) == catalog.term_document_counts(terms)


def test_deleting_chunks_keeps_the_statistics_exact(tmp_path, postgres_server, articles):
    subset = articles[:30]
    catalog = sqlite_catalog(tmp_path / "catalog.sqlite", subset)
    store = pg_store(postgres_server, catalog, batch=11)
    gone = [a.id for a in subset[::4]]
    rowids = [r[0] for r in catalog.db.execute(
        f"SELECT rowid FROM chunks WHERE article_id IN ({','.join('?' * len(gone))})", gone)]
    with store.connection() as conn, conn.transaction():
        delete_chunk_terms(conn, rowids)
        delete_chunk_terms(conn, rowids)  # a second delete of the same chunks changes nothing
        conn.execute("DELETE FROM chunks WHERE rowid = ANY(%s)", (rowids,))
        conn.execute("DELETE FROM articles WHERE id = ANY(%s)", (gone,))
    with catalog.transaction():
        for article_id in gone:
            catalog.delete_article(article_id)
    clean_catalog = sqlite_catalog(tmp_path / "clean.sqlite", [a for a in subset if a.id not in gone])
    clean = pg_store(postgres_server, catalog)  # the rest indexed from scratch
    try:
        tables = ("SELECT chunks, title_tokens, text_tokens FROM bm25_stats",
                  "SELECT term, chunks FROM bm25_terms ORDER BY term",
                  "SELECT term, chunk, title_tf, text_tf, length, title_pos, text_pos FROM bm25_postings ORDER BY 1, 2")
        with store.connection() as a, clean.connection() as b:
            for sql in tables:
                assert a.execute(sql).fetchall() == b.execute(sql).fetchall(), sql
        for terms in [tuple(query_terms(a.display_title)) for a in subset] + [("said", "covid-19")]:
            query = Bm25Query(terms, 20, 0.6)
            expected = clean_catalog.bm25(query)
            assert [s for _, s in catalog.bm25(query)] == pytest.approx([s for _, s in expected], rel=1e-9)
            assert_same(catalog.bm25(query), store.bm25(query), terms)
            assert_same(catalog.bm25(query), clean.bm25(query), terms)
    finally:
        clean.close()
        store.close()
        clean_catalog.close()
        catalog.close()
