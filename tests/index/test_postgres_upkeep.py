"""The PostgreSQL catalog's upkeep, on real servers: the feed table recovers after a server restart, the watcher's
heartbeat writes only while its process holds the writer's lock, a full disk on the server (SQLSTATE 53100) is
``DiskFull`` naming the catalog, and the schema's version is migrated forward or refused when newer."""

from __future__ import annotations

import json
import shutil
import threading
import time

import psycopg
import pytest
from psycopg import sql

from errors import CatalogUnavailable, DiskFull, NewsdeskError
from index.catalog import open_catalog, open_feed_table, postgres_schema
from index.catalog.postgres_catalog import server_full
from index.lock import index_lock, writer_key
from index.sync import Indexer
from settings import Settings
from tests.helpers import PostgresServer, free_port

pytestmark = pytest.mark.server
_names = iter(range(1_000_000))


@pytest.fixture
def own_postgres():
    """A server of the test's own, which it may stop and start (the session's server stays up)."""
    with PostgresServer() as pg:
        yield pg


def settings_on(url: str, tmp_path, chroma_port: int | None = None) -> Settings:
    """A host's settings on a fresh collection of the catalog at ``url`` (no Chroma is reached unless given)."""
    return Settings(_env_file=None, home=tmp_path / f"host-{next(_names)}", catalog_url=url, chroma_host="127.0.0.1",
                    chroma_port=chroma_port or free_port(), collection=f"upkeep-{tmp_path.name}"[:50])


def in_thread(call):
    """``call()`` from another thread (as the watcher's heartbeat runs), its result."""
    result: list = []
    thread = threading.Thread(target=lambda: result.append(call()))
    thread.start()
    thread.join(30)
    return result[0]


def test_the_feed_table_answers_again_after_the_server_restarts(own_postgres, tmp_path):
    settings = settings_on(own_postgres.url, tmp_path)
    feeds, view = open_feed_table(settings), open_feed_table(settings, read_only=True)
    try:
        feeds.insert("http://127.0.0.1:9/feed.xml", "wire", "wire", "2026-12-07T00:00:00+00:00")
        own_postgres.stop()
        for table in (feeds, view):
            with pytest.raises(CatalogUnavailable, match="the catalog at postgresql://.* is unreachable"):
                table.list()
        own_postgres.start()
        feeds.update("http://127.0.0.1:9/feed.xml", {"status": "ok", "items": 3})
        assert [(f.name, f.status, f.items) for f in view.list()] == [("wire", "ok", 3)]
        assert feeds.get("wire").status == "ok"
    finally:
        feeds.close()
        view.close()


def lock_backend(admin: psycopg.Connection, schema: str) -> int:
    return admin.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = "
                         "(hashtext(%s)::bigint & 4294967295)::oid", (writer_key(schema),)).fetchone()[0]


def test_a_heartbeat_is_written_only_while_its_process_holds_the_lock(own_postgres, tmp_path):
    settings = settings_on(own_postgres.url, tmp_path)
    catalog = open_catalog(settings)
    try:
        assert not in_thread(lambda: catalog.set_writer_meta("watcher", "unlocked"))  # no lock, no heartbeat
        with psycopg.connect(own_postgres.url, autocommit=True) as admin, index_lock(settings):
            assert in_thread(lambda: catalog.set_writer_meta("watcher", "beat 1"))
            assert catalog.set_writer_meta("watcher", "beat 2")  # the lock's own thread
            admin.execute("SELECT pg_terminate_backend(%s)", (lock_backend(admin, settings.index.catalog_schema),))
            assert not in_thread(lambda: catalog.set_writer_meta("watcher", "beat 3"))
            key = writer_key(settings.index.catalog_schema)
            assert admin.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,)).fetchone()[0]  # another host
            assert not in_thread(lambda: catalog.set_writer_meta("watcher", "beat 4"))
            in_thread(lambda: catalog.set_meta("probe", "pooled"))  # a plain pooled write still lands: hence the check
        assert catalog.get_meta("watcher") == "beat 2" and catalog.get_meta("probe") == "pooled"
    finally:
        catalog.close()


def test_a_watcher_that_lost_its_lock_leaves_the_heartbeat_alone(own_postgres, chroma_server, tmp_path, seed_file,
                                                                embedder):
    from ingest.watch import Watcher

    settings = settings_on(own_postgres.url, tmp_path, chroma_server.port)
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(seed_file, folder / seed_file.name)
    watcher = Watcher(settings.updated(watch_heartbeat_seconds=0.2), [folder], embedder=embedder)
    reader = open_catalog(settings)  # makes the schema; it only reads
    thread = threading.Thread(target=lambda: pytest.raises(NewsdeskError, watcher.run), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 120
        while json.loads(reader.get_meta("watcher") or "{}").get("state") != "idle" and time.monotonic() < deadline:
            time.sleep(0.1)
        with psycopg.connect(own_postgres.url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (lock_backend(admin, settings.index.catalog_schema),))
        last = reader.get_meta("watcher")
        (folder / "more.txt").write_text(seed_file.read_text().replace("28,500", "31,400"))
        thread.join(120)
        assert not thread.is_alive()
        assert json.loads(last)["state"] == "idle" and json.loads(reader.get_meta("watcher"))["state"] != "stopped"
    finally:
        watcher.stop()
        reader.close()


def test_a_full_disk_on_the_server_is_disk_full(postgres_server, chroma_server, tmp_path, seed_file, embedder):
    """The server's own SQLSTATE 53100, raised by a trigger as PostgreSQL raises it when it cannot extend a file."""
    assert isinstance(server_full(psycopg.errors.DiskFull("could not extend file"), "there"), DiskFull)
    assert server_full(psycopg.errors.UniqueViolation("duplicate key"), "there") is None
    settings = settings_on(postgres_server.url, tmp_path, chroma_server.port)
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(seed_file, folder / seed_file.name)
    writer = Indexer(settings, embedder=embedder)
    schema = sql.Identifier(settings.index.catalog_schema)
    try:
        with psycopg.connect(postgres_server.url, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE FUNCTION {}.disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE "
                                  "EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = "
                                  "'disk_full'; END $$").format(schema))
            admin.execute(sql.SQL("CREATE TRIGGER disk_full BEFORE INSERT ON {0}.articles FOR EACH ROW EXECUTE FUNCTION "
                                  "{0}.disk_full()").format(schema))
            with pytest.raises(DiskFull, match=r"the disk of the database server holding the catalog at "
                                               r"postgresql://.* is full; what was indexed before is intact"):
                writer.sync([folder])
            assert writer.catalog.count_articles() == 0
            admin.execute(sql.SQL("DROP TRIGGER disk_full ON {}.articles").format(schema))
        assert writer.sync([folder]).added == 1  # space again: the same command converges
    finally:
        writer.close()


def test_an_older_schema_is_migrated_once_and_a_newer_one_refused(postgres_server, tmp_path, monkeypatch):
    settings = settings_on(postgres_server.url, tmp_path)
    catalog = open_catalog(settings)
    assert catalog.get_meta("schema_version") == "1"
    catalog.close()
    # a later newsdesk's first step (it fails if it ever runs twice: no IF NOT EXISTS)
    monkeypatch.setattr(postgres_schema, "MIGRATIONS", [["CREATE TABLE step_two (x integer)"]])
    for _ in range(2):
        catalog = open_catalog(settings)
        assert catalog.get_meta("schema_version") == "2" and catalog._one("SELECT to_regclass('step_two')")[0]
        catalog.close()
    catalog = open_catalog(settings)
    catalog.set_meta("schema_version", "3")  # written by a newsdesk newer than this one
    catalog.close()
    for read_only in (False, True):
        with pytest.raises(NewsdeskError, match=r"^The catalog at postgresql://.* has schema version 3, newer than "
                                                r"this newsdesk's \(2\): a newer newsdesk wrote it. Upgrade"):
            open_catalog(settings, read_only=read_only)
