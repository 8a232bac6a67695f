"""The catalog on PostgreSQL beyond the interface (tests/index/test_catalog_interface.py runs that on both
backends): the settings that choose it, the refusal of the embedded Chroma store beside it, a password that
never shows, two hosts sharing one collection's schema, and transactions that leave nothing half written."""

import logging
import subprocess
import sys
import threading
from dataclasses import replace

import pytest

from errors import BadInput, NewsdeskError, StoreUnavailable
from index.catalog import Catalog, catalog_exists, open_catalog, open_feed_table
from index.catalog.postgres_catalog import PostgresCatalog
from index.catalog.postgres_feeds import PostgresFeedTable
from index.chunker import ArticleChunker
from index.status import read_freshness
from index.sync import Indexer, index_lock
from ingest.feed_state import FeedStates
from ingest.loaders import ArticleLoader
from settings import Settings
from settings.store import IndexSettings, redact_url, schema_for
from tests.helpers import REPO, clean_env, free_port, make_folder, write_story

SECRET = "s3cret-Pa55word"
_collections = iter(range(1_000_000))


@pytest.fixture(scope="module")
def articles(gold_file):
    return ArticleLoader().load(gold_file, "gold-articles.jsonl.gz").articles[:4]


@pytest.fixture(scope="module")
def chunker():
    return ArticleChunker(256, 32)


def with_password(url: str) -> str:
    """The test server's URL with a password in it (trust authentication ignores it)."""
    return url.replace("postgres@", f"postgres:{SECRET}@")


@pytest.fixture
def pg_settings(tmp_path, postgres_server) -> Settings:
    return Settings(_env_file=None, home=tmp_path / "home", catalog_url=with_password(postgres_server.url),
                    chroma_host="127.0.0.1", chroma_port=free_port(), collection=f"Test.pg-{next(_collections)}")


def test_the_schema_is_a_safe_name_made_from_the_collection():
    assert schema_for("newsdesk") == "newsdesk_newsdesk"
    assert schema_for("My-News.2026") == "newsdesk_my_news_2026"
    long = schema_for("a" * 200)
    assert len(long) <= 63 and long != schema_for("a" * 199) and set(long) <= set("abcdefghijklmnopqrstuvwxyz0123456789_")


def test_a_postgres_catalog_beside_the_embedded_chroma_store_is_refused(tmp_path, pg_settings):
    url = f"postgresql://newsdesk:{SECRET}@db.example:5432/news"
    with pytest.raises(BadInput, match="NEWSDESK_CHROMA_HOST") as refused:
        Settings(_env_file=None, home=tmp_path, catalog_url=url)
    assert SECRET not in str(refused.value)
    with pytest.raises(BadInput, match="postgresql://"):
        Settings(_env_file=None, home=tmp_path, catalog_url=f"mysql://u:{SECRET}@h/db", chroma_host="h")
    # settings made without validation are refused again when the catalog is opened
    embedded = pg_settings.index.model_copy(update={"chroma_host": None})
    unchecked = Settings(index=embedded)
    for opener in (open_catalog, open_feed_table, catalog_exists):
        with pytest.raises(BadInput, match="NEWSDESK_CHROMA_HOST"):
            opener(unchecked)


def test_the_password_never_shows(pg_settings, caplog):
    assert SECRET not in repr(pg_settings) and SECRET not in pg_settings.index.catalog_location
    assert pg_settings.index.catalog_location.startswith("postgresql://postgres:***@127.0.0.1:")
    assert redact_url("postgresql://u@h/db") == "postgresql://u@h/db"
    catalog = open_catalog(pg_settings)
    assert isinstance(catalog, PostgresCatalog) and SECRET not in repr(catalog) and SECRET not in str(catalog.path)
    catalog.close()
    caplog.set_level(logging.DEBUG)
    unreachable = f"postgresql://postgres:{SECRET}@127.0.0.1:{free_port()}/newsdesk"
    with pytest.raises(StoreUnavailable) as failed:
        PostgresCatalog(unreachable, "newsdesk_nowhere")
    assert "NEWSDESK_CATALOG_URL" in str(failed.value) and "***" in str(failed.value)
    with pytest.raises(StoreUnavailable) as failed_feeds:
        PostgresFeedTable(unreachable, "newsdesk_nowhere")
    for shown in (str(failed.value), repr(failed.value), str(failed_feeds.value), caplog.text):
        assert SECRET not in shown
    with pytest.raises(BadInput) as invalid:
        Settings(_env_file=None, catalog_url=f"postgresql://u:{SECRET}@h/db")
    assert SECRET not in str(invalid.value) and invalid.value.__cause__ is None
    with pytest.raises(ValueError) as raw:  # the settings group on its own: pydantic's error hides the input
        IndexSettings(_env_file=None, catalog_url=f"postgresql://u:{SECRET}@h/db")
    assert SECRET not in str(raw.value)


def test_open_catalog_chooses_by_the_settings(tmp_path, pg_settings):
    plain = Settings(_env_file=None, home=tmp_path / "plain")
    assert not catalog_exists(plain)
    catalog = open_catalog(plain)
    assert isinstance(catalog, Catalog) and catalog.path == plain.index.catalog_path and catalog_exists(plain)
    catalog.close()
    assert not catalog_exists(pg_settings)
    writer = open_catalog(pg_settings)
    assert catalog_exists(pg_settings) and writer.schema == pg_settings.index.catalog_schema
    reader = open_catalog(pg_settings, read_only=True)
    assert reader.read_only and reader.get_meta("schema_version") == "1"
    for opened in (reader, writer):
        opened.close()


def test_two_hosts_on_one_collection_see_each_others_writes(pg_settings, articles, chunker):
    one, other = open_catalog(pg_settings), open_catalog(pg_settings)  # two processes, on two hosts
    article = articles[0]
    chunks = chunker.chunk(article)
    with one.transaction():
        one.put_article(article, "/corpus", chunks, {})
        one.journal_add([c.id for c in chunks])
    assert other.chunk_ids_of(article.id) == [c.id for c in chunks] and other.pending_counts() == (len(chunks), 1)
    with other.transaction():
        other.set_vectors({c.id: b"\0" * 32 for c in chunks})
    assert one.pending_counts() == (0, 0) and one.arrival_of(article.url)[1] is not None
    other.set_meta("watcher", "host-2")
    assert one.get_meta("watcher") == "host-2" and one.journal_entries() == other.journal_entries()
    feeds_one, feeds_other = open_feed_table(pg_settings), open_feed_table(pg_settings, read_only=True)
    feeds_one.insert("https://news.example.com/rss", "Example", "example-1", "2026-12-01T00:00:00+00:00")
    assert [f.name for f in feeds_other.list()] == ["Example"]
    with FeedStates.for_settings(pg_settings, read_only=True) as states:
        assert [f.name for f in states.list()] == ["Example"] and SECRET not in str(states.path)
    assert [f.name for f in read_freshness(other, pg_settings).feeds] == ["Example"]  # the status view
    other_collection = open_catalog(pg_settings.updated(collection="another-one"))
    assert other_collection.counts().articles == 0  # a schema per collection
    for opened in (one, other, other_collection, feeds_one, feeds_other):
        opened.close()


def test_a_transaction_that_fails_leaves_no_partial_article(pg_settings, articles, chunker):
    catalog = open_catalog(pg_settings)
    first, second = articles[:2]
    with catalog.transaction():
        catalog.put_article(first, "/corpus", chunker.chunk(first), {})
    before = (catalog.counts(), catalog.chunk_ids_of(first.id), catalog.get_article(first.id))
    with pytest.raises(RuntimeError):
        with catalog.transaction():
            catalog.put_article(second, "/corpus", chunker.chunk(second), {})
            catalog.journal_add(["x"])
            raise RuntimeError("killed between the article and the commit")
    assert catalog.get_article(second.id) is None and catalog.chunk_ids_of(second.id) == []
    assert catalog.journal_entries() == [] and catalog.counts() == before[0]
    # a new version whose chunks cannot be written (an id another article holds) keeps the old one whole
    changed = replace(first, text=first.text + "\n\nA later paragraph.")
    with catalog.transaction():
        catalog.put_article(second, "/corpus", chunker.chunk(second), {})
    clashing = chunker.chunk(changed)
    clashing[-1] = replace(clashing[-1], id=catalog.chunk_ids_of(second.id)[0])
    with pytest.raises(catalog.errors):
        catalog.put_article(changed, "/corpus", clashing, {})
    assert (catalog.chunk_ids_of(first.id), catalog.get_article(first.id)) == before[1:]
    catalog.close()


def test_a_transaction_belongs_to_its_thread(pg_settings, articles, chunker):
    catalog = open_catalog(pg_settings)
    seen: list[int] = []
    with catalog.transaction():
        catalog.put_article(articles[0], "/corpus", chunker.chunk(articles[0]), {})
        reader = threading.Thread(target=lambda: seen.append(catalog.counts().articles))
        reader.start()
        reader.join()
        assert catalog.counts().articles == 1  # this thread reads its own uncommitted writes
    assert seen == [0] and catalog.counts().articles == 1
    with pytest.raises(NewsdeskError, match="pg_dump"):
        catalog.backup_to("copy.sqlite")
    catalog.close()


def test_an_index_kept_in_sync_in_postgres(tmp_path, postgres_server, chroma_server, embedder):
    """The indexer on a PostgreSQL catalog and a Chroma server: files in, the same again, one changed, one gone."""
    settings = Settings(_env_file=None, home=tmp_path / "home", catalog_url=with_password(postgres_server.url),
                        chroma_host="127.0.0.1", chroma_port=chroma_server.port, chunk_size=64, chunk_overlap=8,
                        collection=f"test-pg-sync-{next(_collections)}")
    folder = make_folder(tmp_path / "articles")
    indexer = Indexer(settings, embedder=embedder)
    try:
        first = indexer.sync([folder])
        assert (first.added, first.articles) == (9, 9) and first.chunks == indexer.store.count() > 9
        assert indexer.sync([folder]).unchanged == 9
        write_story(folder / "story-2.txt", 2, extra=" A late update: the wildfire is now contained.")
        (folder / "story-0.txt").unlink()
        report = indexer.sync([folder])
        assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 1, 7)
        assert indexer.verify() == {"missing_in_store": [], "stale_in_store": []}
        assert indexer.catalog.journal_entries() == [] and indexer.catalog.pending_counts() == (0, 0)
        status = indexer.status()
        assert status.articles == 8 and SECRET not in status.catalog and "(schema newsdesk_test_pg_sync_" in status.catalog
    finally:
        indexer.close()
    reader = open_catalog(settings, read_only=True)  # another process, another host
    assert reader.counts().articles == 8 and len(reader.all_chunk_ids()) == status.chunks
    reader.close()


def test_one_writer_per_collection_across_hosts(pg_settings, tmp_path):
    """The writer's lock lives in PostgreSQL: a process on another host (another home) is refused at once, and a
    writer whose connection ends frees it."""
    elsewhere = pg_settings.updated(home=tmp_path / "other-host")
    with index_lock(pg_settings):
        with index_lock(pg_settings):  # re-entrant for its thread
            pass
        values = dict(home=str(elsewhere.index.home), catalog_url=elsewhere.index.catalog_dsn,
                      chroma_host="127.0.0.1", collection=elsewhere.index.collection)
        script = ("import sys\nfrom errors import IndexBusy\nfrom index.sync import index_lock\n"
                  f"from settings import Settings\ns = Settings(_env_file=None, **{values!r})\n"
                  "try:\n    with index_lock(s):\n        sys.exit(0)\n"
                  "except IndexBusy as busy:\n    print(busy)\n    sys.exit(3)\n")
        refused = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                                 env=clean_env(), cwd=REPO)
        assert refused.returncode == 3, refused.stderr
        assert "another newsdesk process is writing" in refused.stdout and SECRET not in refused.stdout
        with index_lock(pg_settings.updated(collection="yet-another")):  # another collection: its own lock
            pass
    with index_lock(elsewhere):  # released: the other host may write now
        pass


def test_a_released_lock_is_free_at_once(pg_settings, postgres_server):
    """A writer that releases its lock frees it before ``index_lock`` returns, so a sync right after a sync (or a
    remove) in the same process, or a writer on another host, is never refused by a lock already let go."""
    import psycopg

    with psycopg.connect(postgres_server.url, autocommit=True) as watcher:
        for _ in range(20):
            with index_lock(pg_settings):
                pass
            held = watcher.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()[0]
            assert held == 0
