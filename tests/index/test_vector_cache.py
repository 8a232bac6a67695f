"""The per-host copy of the catalog's vectors (``index.vector_cache``): a reader on another host (a catalog object
of its own, with its own connections) sees what a writer embeds after its next refresh, and its nearest chunks in
any window equal those of a from-scratch read of the catalog, through additions, re-embedded and deleted
articles, queued chunks and the clock margin; on both backends. Dense search uses it where the catalog is remote."""

import hashlib
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from index.catalog import Catalog
from index.catalog.postgres_catalog import PostgresCatalog
from index.chunker import ArticleChunker
from index.types import ChunkFilter, to_epoch
from index.vector_cache import SKEW_S, VectorCache, top_by_score
from index.vectors import WindowVectors
from ingest.loaders import ArticleLoader

DIM = 8
_schemas = iter(range(1_000_000))


@pytest.fixture(scope="module")
def articles(gold_file):
    loaded = ArticleLoader().load(gold_file, "gold-articles.jsonl.gz").articles[:40]
    return loaded[:-1] + [replace(loaded[-1], published_at=None)]  # one undated article


@pytest.fixture(params=["sqlite", "postgres"])
def hosts(request, tmp_path):
    """(the writer's catalog, a reader's catalog on another connection to the same store)."""
    if request.param == "sqlite":
        writer = Catalog(tmp_path / "catalog.sqlite")
        reader = Catalog(tmp_path / "catalog.sqlite", read_only=True)
    else:
        url, schema = request.getfixturevalue("postgres_server").url, f"newsdesk_cache_{next(_schemas)}"
        writer, reader = PostgresCatalog(url, schema), PostgresCatalog(url, schema, read_only=True)
    yield writer, reader
    reader.close()
    writer.close()


def vector(chunk_id: str, salt: str = "") -> bytes:
    """A vector of its own per chunk: identical vectors (wire copies) tie, and a tie's order may differ between two
    reads by the last bit of a dot product, which the equality below does not allow for."""
    seed = int.from_bytes(hashlib.sha256((salt + chunk_id).encode("utf-8")).digest()[:8], "little")
    drawn = np.random.default_rng(seed).standard_normal(DIM)
    return (drawn / np.linalg.norm(drawn)).astype(np.float32).tobytes()  # unit length, as the embedders' are


def put(writer, article, vectors: bool | str = True) -> list:
    """Write an article as a writer's batch does (with the writer marker); ``vectors``: False leaves its chunks
    queued, a string salts them (a re-embedded article)."""
    chunks = ArticleChunker(256, 32).chunk(article)
    salt = vectors if isinstance(vectors, str) else ""
    with writer.transaction():
        writer.put_article(article, "/corpus", chunks, {c.id: vector(c.id, salt) for c in chunks} if vectors else {})
        writer.set_meta("writer", str(time.time_ns()))
    return chunks


def windows(articles) -> list[ChunkFilter]:
    dated = sorted(to_epoch(a.published_at) for a in articles if a.published_at)
    middle = dated[len(dated) // 2]
    sources = tuple(sorted({a.source for a in articles if a.source}))[:1]
    return [ChunkFilter(), ChunkFilter(since_ts=middle), ChunkFilter(until_ts=middle),
            ChunkFilter(dated[3], dated[-3]), ChunkFilter(sources=sources), ChunkFilter(since_ts=dated[-1] + 1)]


def from_scratch(catalog, query: np.ndarray, where: ChunkFilter, limit: int) -> list[tuple[str, float]]:
    ids, blobs = catalog.window_vectors(where)
    if not ids:
        return []
    return top_by_score(ids, np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), -1) @ query, limit)


def assert_same(cache: VectorCache, reader, articles) -> None:
    rng = np.random.default_rng(7)
    for where in windows(articles):
        for limit in (5, 1000):
            query = rng.standard_normal(DIM).astype(np.float32)
            got, expected = cache.nearest(query, limit, where), from_scratch(reader, query, where, limit)
            assert [i for i, _ in got] == [i for i, _ in expected]
            assert np.allclose([s for _, s in got], [s for _, s in expected], atol=1e-5)


def nearest_to(cache: VectorCache, chunk_id: str, salt: str = "") -> str:
    return cache.nearest(np.frombuffer(vector(chunk_id, salt), dtype=np.float32), 1, ChunkFilter())[0][0]


def test_a_reader_follows_the_writer_and_equals_a_fresh_read(hosts, articles):
    writer, reader = hosts
    for article in articles[:30]:
        put(writer, article)
    cache = VectorCache(reader)
    assert cache.refresh() and len(cache) == len(reader.embedded_chunk_ids())
    assert_same(cache, reader, articles)
    assert not cache.refresh()  # nothing written since: one meta read

    added = put(writer, articles[30])  # a new article, embedded on the writer's host
    assert nearest_to(cache, added[0].id) == added[0].id
    queued = put(writer, articles[31], vectors=False)  # answerable by keyword, no vector yet
    writer.set_vectors({queued[0].id: vector(queued[0].id)})  # one chunk of it embedded
    writer.set_meta("writer", str(time.time_ns()))
    assert nearest_to(cache, queued[0].id) == queued[0].id
    changed = put(writer, articles[0], vectors="again")  # re-embedded: its old vectors are gone
    assert nearest_to(cache, changed[0].id, "again") == changed[0].id
    edited = put(writer, replace(articles[1], text=articles[1].text + "\n\nAn editor's note."), vectors=False)
    with writer.transaction():
        writer.delete_article(articles[2].id)
        writer.set_meta("writer", str(time.time_ns()))
    assert_same(cache, reader, articles)
    held = set(cache.window(ChunkFilter())[0])
    assert held == reader.embedded_chunk_ids()
    assert edited[-1].id not in held and added[0].id in held  # the edit's new chunk waits in the queue
    assert not any(i in held for i in reader.chunk_ids_of(articles[2].id))
    dropped = cache._rows - len(cache)
    cache._compact()  # what a refresh does once dropped rows outnumber live ones (and ``COMPACT_ROWS``)
    assert dropped > 0 and cache._rows == len(cache)
    assert_same(cache, reader, articles)
    assert nearest_to(cache, added[0].id) == added[0].id

    with writer.transaction():  # everything at once, and a catalog emptied
        for article in articles[32:]:
            writer.put_article(article, "/corpus", ArticleChunker(256, 32).chunk(article), {})
        writer.clear()
        writer.set_meta("writer", str(time.time_ns()))
    assert cache.nearest(np.ones(DIM, dtype=np.float32), 5, ChunkFilter()) == [] and len(cache) == 0


def test_a_write_stamped_a_little_before_the_newest_is_still_read(hosts, articles):
    """``embedded_at`` is the writer's clock: a write committed late, or from a host whose clock is behind, may
    carry a stamp before the newest one a reader saw; within ``SKEW_S`` it is read."""
    writer, reader = hosts
    put(writer, articles[0])
    cache = VectorCache(reader)
    cache.refresh()
    late = put(writer, articles[1])
    seen = {row[0]: row[1] for row in reader.vector_rows_since("")}[articles[0].id]  # the newest the cache saw
    earlier = (datetime.fromisoformat(seen) - timedelta(seconds=SKEW_S / 2)).isoformat(timespec="milliseconds")
    behind(writer, articles[1].id, earlier)
    assert nearest_to(cache, late[0].id) == late[0].id


def behind(writer, article_id: str, stamp: str) -> None:
    """Give an article an older ``embedded_at`` stamp, as a writer whose clock is behind would have written."""
    if isinstance(writer, Catalog):
        writer.db.execute("UPDATE articles SET embedded_at = ? WHERE id = ?", (stamp, article_id))
    else:
        writer._run("UPDATE articles SET embedded_at = %s WHERE id = %s", (stamp, article_id))


def test_dense_search_uses_the_copy_only_where_the_catalog_is_remote(hosts, articles):
    writer, reader = hosts
    for article in articles[:10]:
        put(writer, article)
    vectors = WindowVectors(reader)
    assert (vectors.cache is not None) == isinstance(reader, PostgresCatalog)
    query = np.frombuffer(vector(reader.chunk_ids_of(articles[3].id)[0]), dtype=np.float32)
    where = ChunkFilter(until_ts=to_epoch(datetime.now(timezone.utc)))
    assert vectors.nearest(query, 7, where, 1000) == from_scratch(reader, query, where, 7)
