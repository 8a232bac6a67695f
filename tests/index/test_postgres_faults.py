"""Faults of the shared catalog in PostgreSQL: a server stopped while questions come (a clear 503 and CLI error
naming the catalog, then answers again once it is back, with no restart), and a writer whose lock connection
was ended (its next write fails, nothing more is committed, and another host can take the lock)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
import time

import httpx
import psycopg
import pytest

from api.app import create_app
from api.service import Service
from errors import CatalogUnavailable, LockLost
from index.catalog import open_catalog
from index.sync import Indexer, index_lock
from ingest.watch import Watcher
from settings import Settings
from tests.helpers import REPO, TROOPS_QUESTION, PostgresServer, ThreadServer, clean_env

pytestmark = pytest.mark.server


@pytest.fixture
def own_postgres():
    """A server of the test's own, which it may stop and start (the session's server stays up)."""
    with PostgresServer() as pg:
        yield pg


@pytest.fixture
def shared(own_postgres, chroma_server, tmp_path) -> dict:
    return dict(catalog_url=own_postgres.url, chroma_host="127.0.0.1", chroma_port=chroma_server.port,
                collection=f"faults-{tmp_path.name}"[:60])


@pytest.fixture
def indexed(shared, tmp_path, seed_file, embedder) -> Settings:
    """A reader host's settings on a catalog that holds the seed article."""
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(seed_file, folder / seed_file.name)
    writer = Indexer(Settings(_env_file=None, home=tmp_path / "writer-host", **shared), embedder=embedder)
    try:
        assert writer.sync([folder]).added == 1
    finally:
        writer.close()
    return Settings(_env_file=None, home=tmp_path / "reader-host", answer_mode="extractive", **shared)


def unreachable(pg: PostgresServer) -> re.Pattern:
    return re.compile(re.escape(f"catalog at postgresql://postgres@127.0.0.1:{pg.port}/newsdesk (schema ") + r".*")


def test_a_question_while_the_server_is_down_is_a_503_then_answered_when_it_is_back(indexed, own_postgres, embedder):
    service = Service(indexed, embedder=embedder)
    with ThreadServer(create_app(indexed, service=service, host="127.0.0.1")) as server:
        ask = {"question": TROOPS_QUESTION, "mode": "extractive"}
        first = httpx.post(server.url + "/v1/ask", json=ask, timeout=120)
        assert first.status_code == 200 and "28,500" in first.json()["answer"]

        own_postgres.stop()
        started = time.monotonic()
        down = httpx.post(server.url + "/v1/ask", json=ask, timeout=120)
        assert time.monotonic() - started < 20  # the pool's wait (settings.store.CATALOG_WAIT_S), not a hang
        assert down.status_code == 503 and down.headers["Retry-After"] == "5"
        error = down.json()["error"]
        assert error["type"] == "catalog_unavailable"
        where = f"postgresql://postgres@127.0.0.1:{own_postgres.port}/newsdesk (schema {indexed.index.catalog_schema})"
        assert error["message"] == f"the catalog at {where} is unreachable; try again when it is back"

        own_postgres.start()  # the same server back, the same service: its pool connects again
        again = httpx.post(server.url + "/v1/ask", json=ask, timeout=120)
        assert again.status_code == 200, again.text
        assert "28,500" in again.json()["answer"]
    service.close()


def test_the_catalog_says_a_lost_server_and_keeps_sql_errors(indexed, own_postgres):
    with_password = own_postgres.url.replace("postgres@", "postgres:s3cret@")  # the test server trusts any
    catalog = open_catalog(indexed.updated(catalog_url=with_password), read_only=True)
    try:
        assert catalog.get_meta("schema_version")
        with pytest.raises(psycopg.errors.UndefinedTable):  # a bug in a statement stays visible
            catalog._one("SELECT 1 FROM no_such_table")
        own_postgres.stop()
        for _ in range(2):  # a dropped connection, then no connection at all
            with pytest.raises(CatalogUnavailable) as lost:
                catalog.get_meta("schema_version")
            where = f"postgresql://postgres:***@127.0.0.1:{own_postgres.port}/newsdesk"
            assert str(lost.value).startswith(f"the catalog at {where} (schema ")
            assert "s3cret" not in str(lost.value) and str(lost.value).endswith("try again when it is back")
        own_postgres.start()
        assert catalog.get_meta("schema_version")
    finally:
        catalog.close()


def test_newsdesk_ask_while_the_server_is_down_is_one_sentence(indexed, own_postgres):
    env = clean_env(NEWSDESK_HOME=str(indexed.index.home), NEWSDESK_CATALOG_URL=own_postgres.url,
                    NEWSDESK_CHROMA_HOST="127.0.0.1", NEWSDESK_CHROMA_PORT=str(indexed.index.chroma_port),
                    NEWSDESK_COLLECTION=indexed.index.collection)
    own_postgres.stop()
    done = subprocess.run([sys.executable, "-m", "cli", "ask", TROOPS_QUESTION], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("newsdesk: ") and unreachable(own_postgres).search(done.stderr)


def lock_backend(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted").fetchone()[0]


def test_a_writer_whose_lock_connection_ended_cannot_commit(indexed, own_postgres):
    writer = indexed.updated(home=indexed.index.home.parent / "writer-host")
    catalog = open_catalog(writer)
    try:
        with psycopg.connect(own_postgres.url, autocommit=True) as admin:
            with pytest.raises(LockLost, match="lost its lock on the catalog at postgresql://"):
                with index_lock(writer):
                    catalog.set_meta("fault", "before")  # on the lock's connection
                    admin.execute("SELECT pg_terminate_backend(%s)", (lock_backend(admin),))
                    with catalog.transaction():
                        catalog.set_meta("fault", "after")
            assert catalog.get_meta("fault") == "before"  # nothing of the writer's was committed after
            key = f"newsdesk-writer:{writer.index.catalog_schema}"
            assert admin.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,)).fetchone()[0]  # another host
            admin.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
        with index_lock(writer):  # this host may write again with a new lock
            catalog.set_meta("fault", "again")
        assert catalog.get_meta("fault") == "again"
    finally:
        catalog.close()


def test_an_indexer_that_lost_its_lock_stops(indexed, own_postgres, tmp_path, embedder):
    writer = Indexer(indexed.updated(home=indexed.index.home.parent / "writer-host"), embedder=embedder)
    try:
        with index_lock(writer.settings):  # held for a long life, as the watcher holds it
            with psycopg.connect(own_postgres.url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (lock_backend(admin),))
            with pytest.raises(LockLost, match="run it again"):
                writer.sync([tmp_path / "articles"])
    finally:
        writer.close()


def test_a_watcher_that_lost_its_lock_stops(indexed, own_postgres, tmp_path, seed_file, embedder):
    """It holds the lock for its whole life: without it, it stops with the error instead of retrying."""
    folder = tmp_path / "articles"
    watcher = Watcher(indexed.updated(home=indexed.index.home.parent / "writer-host"), [folder], embedder=embedder)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            watcher.run()
        except BaseException as error:  # noqa: BLE001 - surfaced in the test's thread
            failure.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not watcher.folders.kind and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert watcher.folders.kind and not failure, failure
    with psycopg.connect(own_postgres.url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (lock_backend(admin),))
    (folder / "more.txt").write_text(seed_file.read_text().replace("28,500", "31,400"))
    thread.join(120)
    watcher.stop()
    assert not thread.is_alive()
    assert len(failure) == 1 and isinstance(failure[0], LockLost), failure
