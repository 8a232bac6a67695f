"""The catalog's interface (``index.catalog.base``) on both implementations: a real catalog file in tmp_path and
a schema of its own on a real PostgreSQL server, each holding real RealTime QA gold articles, chunked as the
indexer chunks them; every method gives what the tables hold, the same on both. On SQLite the keyword search
gives what the plain join-filter-rank query gives."""

import inspect
from dataclasses import fields, replace

import numpy as np
import pytest

from index.catalog import CATALOG_ERRORS, Catalog, CatalogInterface, FeedTable, FeedTableInterface
from index.catalog.postgres_catalog import PostgresCatalog
from index.catalog.postgres_feeds import PostgresFeedTable
from index.catalog.sqlite_search import fts_phrase, window_condition
from index.chunker import ArticleChunker
from index.types import ArticleBrief, Bm25Query, ChunkFilter, FeedState, StoredSignature, to_epoch
from ingest.loaders import ArticleLoader
from rag.text import query_terms

DIM = 8


def _public(cls) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(member) for name, member in vars(cls).items()
            if callable(member) and not name.startswith("_")}


@pytest.mark.parametrize("interface, implementation", [(CatalogInterface, Catalog), (FeedTableInterface, FeedTable),
                                                       (CatalogInterface, PostgresCatalog),
                                                       (FeedTableInterface, PostgresFeedTable)])
def test_the_classes_implement_every_method_of_the_interface(interface, implementation):
    for name, signature in _public(interface).items():
        assert hasattr(implementation, name), name
        assert list(inspect.signature(getattr(implementation, name)).parameters) == list(signature.parameters), name


@pytest.fixture(scope="module")
def articles(gold_file):
    loaded = ArticleLoader().load(gold_file, "gold-articles.jsonl.gz").articles[:60]
    return loaded[:-1] + [replace(loaded[-1], published_at=None)]  # one undated article


@pytest.fixture(scope="module")
def chunker():
    return ArticleChunker(256, 32)


def vector(chunk_id: str) -> bytes:
    seed = int.from_bytes(chunk_id.encode("utf-8")[:8].ljust(8, b"\0"), "little")
    return np.random.default_rng(seed).standard_normal(DIM).astype(np.float32).tobytes()


_schemas = iter(range(1_000_000))


class Place:
    """Where one test's catalog lives: a file in tmp_path, or a schema of its own on the test server."""

    def __init__(self, backend: str, tmp_path, request) -> None:
        self.backend = backend
        self.file = tmp_path / "catalog.sqlite"
        if backend == "postgres":
            self.url = request.getfixturevalue("postgres_server").url
            self.schema = f"newsdesk_interface_{next(_schemas)}"

    def catalog(self, read_only: bool = False):
        if self.backend == "sqlite":
            return Catalog(self.file, read_only=read_only)
        return PostgresCatalog(self.url, self.schema, read_only=read_only)

    def feeds(self, read_only: bool = False):
        if self.backend == "sqlite":
            return FeedTable(self.file, read_only=read_only)
        return PostgresFeedTable(self.url, self.schema, read_only=read_only)


@pytest.fixture(params=["sqlite", "postgres"])
def place(request, tmp_path) -> Place:
    return Place(request.param, tmp_path, request)


def written(catalog, articles, chunker):
    """The articles written as ``Indexer`` writes a batch; the first half with vectors, the rest queued."""
    with catalog.transaction():
        for n, article in enumerate(articles):
            chunks = chunker.chunk(article)
            catalog.put_article(article, "/corpus", chunks, {c.id: vector(c.id) for c in chunks} if n < 30 else {})
    return catalog


@pytest.fixture
def catalog(place, articles, chunker):
    """The written articles, on each backend."""
    catalog = written(place.catalog(), articles, chunker)
    yield catalog
    catalog.close()


@pytest.fixture
def sqlite_catalog(tmp_path, articles, chunker):
    """The written articles in a catalog file (the keyword search's checks read SQLite's FTS5 tables)."""
    catalog = written(Catalog(tmp_path / "catalog.sqlite"), articles, chunker)
    yield catalog
    catalog.close()


def test_articles_come_back_as_they_were_written(catalog, articles, chunker):
    first = articles[0]
    record = catalog.get_article(first.id)
    assert (record.title, record.source, record.url, record.content_hash, record.root) == \
        (first.title, first.source, first.url, first.content_hash, "/corpus")
    stored, root = catalog.stored_article(first.id)
    assert stored == first and stored.content_hash == first.content_hash and root == "/corpus"
    assert catalog.stored_article("no-such-article") is None and catalog.get_article("no-such-article") is None
    assert catalog.article_text(first.id) == first.text
    assert catalog.article_hashes()[first.id] == (first.content_hash, first.path, first.line)
    assert {i for i, _ in catalog.article_ids_under(str(first.path))} == {a.id for a in articles}
    chunks = chunker.chunk(first)
    assert catalog.chunk_ids_of(first.id) == [c.id for c in chunks]
    records = catalog.chunk_records([c.id for c in chunks] + ["no-such-chunk"])
    assert set(records) == {c.id for c in chunks}
    assert records[chunks[0].id].text == chunks[0].text and records[chunks[0].id].article_id == first.id
    briefs = catalog.article_briefs([first.id, articles[-1].id, "no-such-article"])
    assert briefs == {first.id: ArticleBrief(first.id, first.title, first.source, first.url,
                                             first.published_at.isoformat(), to_epoch(first.published_at)),
                      articles[-1].id: ArticleBrief(articles[-1].id, articles[-1].title, articles[-1].source,
                                                    articles[-1].url, None, None)}


def test_listing_counting_moving_and_removing(catalog, articles, chunker):
    counts = catalog.counts()
    n_chunks = sum(len(chunker.chunk(a)) for a in articles)
    assert (counts.articles, counts.chunks) == (len(articles), n_chunks)
    assert sum(s.articles for s in counts.sources) == len(articles)
    assert catalog.count_articles() == len(articles) == len(catalog.list_articles())
    newest = max((a for a in articles if a.published_at), key=lambda a: a.published_at)
    assert catalog.list_articles(limit=1)[0].published_at == newest.published_at.isoformat()
    assert catalog.list_articles()[-1].article_id == articles[-1].id  # undated last
    assert catalog.count_articles(source="COVID.cdc.gov") == sum(a.source == "covid.cdc.gov" for a in articles)
    assert len(catalog.all_chunk_ids()) == n_chunks
    catalog.move_article(articles[1].id, "/elsewhere", "/elsewhere/a.jsonl", 7)
    moved = catalog.get_article(articles[1].id)
    assert (moved.root, moved.path, moved.line) == ("/elsewhere", "/elsewhere/a.jsonl", 7)
    assert [i for i, _ in catalog.article_ids_under("/elsewhere")] == [articles[1].id]
    gone = catalog.chunk_ids_of(articles[2].id)
    with catalog.transaction():
        assert catalog.delete_article(articles[2].id) == gone
    assert catalog.get_article(articles[2].id) is None and not catalog.live_chunk_ids(gone)
    with catalog.transaction():
        catalog.clear()
    assert catalog.counts().articles == 0 and catalog.all_chunk_ids() == set()
    if isinstance(catalog, Catalog):
        assert catalog.bm25(Bm25Query(("ukraine",), 5, 0.6)) == []


def test_replacing_an_article_returns_the_chunks_it_dropped_and_keeps_kept_vectors(catalog, articles, chunker):
    article = articles[0]
    old = catalog.chunk_ids_of(article.id)
    changed = replace(article, text=article.text + "\n\nA closing paragraph added later about the merger talks.")
    new = chunker.chunk(changed)
    with catalog.transaction():
        dropped = catalog.put_article(changed, "/corpus", new, {})
    assert dropped == sorted(set(old) - {c.id for c in new})
    kept = [c.id for c in new if c.id in old]
    assert kept and catalog.pending_among([c.id for c in new]) == {c.id for c in new} - set(kept)


def test_the_journal_and_a_transaction_that_fails(catalog, articles):
    entry = catalog.journal_add(["a", "b"])
    assert catalog.journal_entries() == [(entry, ["a", "b"])]
    catalog.journal_done(entry)
    assert catalog.journal_entries() == []
    live = catalog.chunk_ids_of(articles[0].id)
    assert catalog.live_chunk_ids(live + ["dead"]) == set(live)
    with pytest.raises(RuntimeError):
        with catalog.transaction():
            catalog.delete_article(articles[0].id)
            catalog.set_meta("writer", "half")
            raise RuntimeError("killed")
    assert catalog.get_article(articles[0].id) is not None and catalog.get_meta("writer") is None
    catalog.set_meta("writer", "1")
    catalog.add_root("/corpus")
    assert catalog.get_meta("writer") == "1" and catalog.roots() == ["/corpus"]


def test_the_embedding_queue_and_arrivals(catalog, articles):
    queued = [i for a in articles[30:] for i in catalog.chunk_ids_of(a.id)]
    assert catalog.pending_counts() == (len(queued), len(articles) - 30)
    oldest = catalog.pending_chunks(3)
    assert [r[0] for r in oldest] == queued[:3] and oldest[0][1] == articles[30].id
    assert oldest[0][2] == articles[30].display_title
    assert catalog.embedded_chunk_ids() == catalog.all_chunk_ids() - set(queued)
    assert catalog.arrival_of(articles[30].url)[1] is None and catalog.arrival_of(articles[0].url)[1] is not None
    assert catalog.arrival_of("https://no.such/url") is None
    with catalog.transaction():
        catalog.set_vectors({i: vector(i) for i in catalog.chunk_ids_of(articles[30].id)})
    assert catalog.arrival_of(articles[30].url)[1] is not None
    assert catalog.pending_counts()[1] == len(articles) - 31
    newest = catalog.newest_arrival()  # the last write: the vectors do not count
    assert newest[0] in {a.id for a in articles} and newest[5] == catalog.article_text(newest[0])[:100]
    assert len(catalog.arrivals_since("2000-01-01")) == len(articles) and catalog.arrivals_since("2999-01-01") == []


def reference_bm25(catalog, terms, limit, where=ChunkFilter(), title_weight=0.6):
    """The obvious query: join every match to its article, filter, rank."""
    condition, params = window_condition(where)
    sql = (f"SELECT c.id, bm25(chunks_fts, {title_weight}, 1.0) AS s FROM chunks_fts JOIN chunks c "
           "ON c.rowid = chunks_fts.rowid JOIN articles a ON a.id = c.article_id "
           f"WHERE chunks_fts MATCH ? AND {condition} ORDER BY s, c.rowid LIMIT ?")
    query = " OR ".join(fts_phrase(t) for t in terms)
    return [(r[0], round(-r[1], 6)) for r in catalog.db.execute(sql, [query, *params, limit])]


def admitted_chunks(catalog, articles, where):
    """The window's chunks, by the rule in Python."""
    return {c for a in articles if where.admits(to_epoch(a.published_at), a.source) for c in catalog.chunk_ids_of(a.id)}


WINDOWS = [ChunkFilter(1656633600, 1656633600 + 30 * 86400),  # July 2022
           ChunkFilter(None, 1640995200),  # up to 2022: undated articles pass
           ChunkFilter(1655683200),  # from 20 June 2022 on
           ChunkFilter(sources=("covid.cdc.gov", "e.newsletters.cnn.com"))]


@pytest.mark.parametrize("where", WINDOWS)
def test_bm25_in_a_window_is_the_plain_query(sqlite_catalog, articles, where):
    catalog = sqlite_catalog
    total = catalog.window_chunk_count(ChunkFilter())
    assert catalog.window_chunk_count(where) == len(admitted_chunks(catalog, articles, where)) > 0
    share = catalog.window_chunk_count(where) / total
    for question in ["Which airlines agreed to merge?", "What did the CDC say about covid vaccines for children?",
                     "Who won the election in Brazil?"]:
        terms = tuple(query_terms(question))
        for broad, ranks in ((0.2, 2000), (1.0, 2000), (0.0, 3)):  # broad or narrow, and a ranking too shallow
            query = Bm25Query(terms, 10, 0.6, where, share, broad, ranks)
            assert [(i, round(s, 6)) for i, s in catalog.bm25(query)] == reference_bm25(catalog, terms, 10, where)
        assert [(i, round(s, 6)) for i, s in catalog.bm25(Bm25Query(terms, 10, 2.0))] == \
            reference_bm25(catalog, terms, 10, title_weight=2.0)


def test_term_counts_are_the_chunks_containing_each_term(sqlite_catalog):
    catalog = sqlite_catalog
    counts = catalog.term_document_counts(["airlines", "zzyzxnotaword", "covid-19"])
    assert counts["zzyzxnotaword"] == 0 and counts["airlines"] > 0
    for term, count in counts.items():
        assert count == len(catalog.db.execute("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?",
                                               (fts_phrase(term),)).fetchall())


@pytest.mark.parametrize("where", WINDOWS)
def test_window_vectors(catalog, articles, where):
    inside = admitted_chunks(catalog, articles, where)
    embedded = catalog.embedded_chunk_ids()
    ids, blobs = catalog.window_vectors(where)
    assert set(ids) == inside & embedded and all(b == vector(i) for i, b in zip(ids, blobs))
    assert catalog.chunks_in_window(sorted(catalog.all_chunk_ids()) + ["no-such-chunk"], where) == inside
    assert catalog.vectors_changed_since("2999-01-01", where) == ([], [])
    assert set(catalog.vectors_changed_since("2000-01-01", where)[0]) == inside & embedded


def test_vectors_changed_since_a_moment_and_the_backfill(catalog, articles):
    assert catalog.vectors_changed_count("2000-01-01") == len(catalog.embedded_chunk_ids())
    assert catalog.vectors_changed_count("2999-01-01") == 0
    queued = catalog.unembedded_chunk_ids()
    assert set(queued) == catalog.all_chunk_ids() - catalog.embedded_chunk_ids()
    half = queued[:len(queued) // 2]  # a partly embedded article counts as changed: still queued
    with catalog.transaction():
        catalog.fill_vectors({i: vector(i) for i in half})
    assert set(catalog.vectors_changed_since("2999-01-01", ChunkFilter())[0]) == set(half)
    assert catalog.vectors_changed_count("2999-01-01") == len(half)
    assert catalog.arrival_of(articles[30].url)[1] is None  # a backfill stamps no article


def signature(article, text_hash: str) -> StoredSignature:
    """A stored signature of an article (or of an id the catalog does not hold)."""
    article_id, content_hash = (article, "gone") if isinstance(article, str) else (article.id, article.content_hash)
    values = np.arange(16, dtype=np.uint32) + len(article_id)
    return StoredSignature(article_id, content_hash, text_hash, 300, frozenset({"airline", "merger"}), values.tobytes())


def test_wire_clusters(catalog, articles):
    a, b, c = (x.id for x in articles[:3])
    assert catalog.wire_ready() and catalog.wire_next_seq() == 1
    with catalog.transaction():
        catalog.wire_put(signature(articles[0], "t1"), 1, [10, 20])
        catalog.wire_put(signature(articles[1], "t1"), 2, [10, 21])
        catalog.wire_put(signature(articles[2], "t2"), 3, [11, 22])
        catalog.wire_put(signature("removed-article", "t3"), 4, [12, 23])
        catalog.wire_set_clusters([(a, a), (b, a), (c, c)])
    assert catalog.wire_next_seq() == 5
    assert catalog.wire_candidates([10, 99]) == {a, b} and catalog.wire_candidates([99, 22]) == {c}
    assert catalog.wire_signatures([a, "nothing"]) == {a: signature(articles[0], "t1")}
    assert catalog.wire_seqs([b, c]) == {b: 2, c: 3}
    assert catalog.wire_content_hashes([a]) == {a: articles[0].content_hash}
    assert catalog.wire_cluster_of([a, b, c, "nothing"]) == {a: a, b: a, c: c}
    assert catalog.wire_members(a) == [a, b] and catalog.wire_members_of([a, c, "x"]) == {a: [a, b], c: [c], "x": []}
    assert catalog.wire_same_text("t1", a) == [b] and catalog.wire_cluster_sizes() == [2]
    assert catalog.wire_gone() == ["removed-article"]
    assert set(catalog.wire_unsigned()) == {x.id for x in articles} - {a, b, c}
    assert [r[0] for r in catalog.texts_to_sign([a])] == [a] and catalog.texts_to_sign([a])[0][1] == articles[0].text
    assert catalog.chunked_among([a, b, "nothing"]) == {a, b} and catalog.wire_unchunked() == []
    with catalog.transaction():
        assert catalog.wire_delete([b, "removed-article", "nothing"]) == 2
    assert catalog.wire_members(a) == [a] and catalog.wire_candidates([10]) == {a}
    with catalog.transaction():
        catalog.wire_clear()
    assert catalog.wire_cluster_of([a, c]) == {} and catalog.wire_next_seq() == 1


def test_feeds_live_beside_the_index(place, catalog):
    view = place.feeds(read_only=True)
    assert view.list() == []  # no feed was ever added: no table, no error
    table = place.feeds()
    with pytest.raises(ValueError):
        table.update("x", {"no_such_field": 1})
    table.insert("https://news.example.com/rss", "Example", "example-1", "2026-12-01T00:00:00+00:00")
    table.update("https://news.example.com/rss", {"status": "ok", "new_items": 3, "next_poll": 12.5})
    got = table.get("Example")
    assert got == table.get("https://news.example.com/rss") == view.get("Example")
    assert (got.status, got.new_items, got.next_poll, got.failures) == ("ok", 3, 12.5, 0)
    assert [f.name for f in fields(FeedState)][:4] == ["url", "name", "slug", "added"]
    with catalog.transaction():
        catalog.clear()
    assert view.list() == [got]  # the index's clear keeps the feeds
    table.delete(got.url)
    assert table.list() == [] and table.get("Example") is None
    table.close()
    view.close()


def test_a_read_only_catalog(place, catalog):
    catalog.set_meta("writer", "7")
    reader = place.catalog(read_only=True)
    assert reader.counts() == catalog.counts() and reader.get_meta("writer") == "7"
    with pytest.raises(reader.errors):
        reader.set_meta("writer", "8")  # the question side never writes
    assert reader.errors == (CATALOG_ERRORS if place.backend == "sqlite" else PostgresCatalog.errors)
    reader.close()


def test_a_copy_of_a_catalog_file(tmp_path, sqlite_catalog):
    catalog = sqlite_catalog
    catalog.set_meta("writer", "7")
    reader = Catalog(catalog.path, read_only=True)
    reader.backup_to(tmp_path / "copy.sqlite")
    copy = Catalog(tmp_path / "copy.sqlite", read_only=True)
    assert copy.counts() == catalog.counts() and copy.get_meta("writer") == "7"
    copy.close()
    reader.close()
