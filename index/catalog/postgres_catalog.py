"""The catalog in PostgreSQL (``PostgresCatalog``): connections, transactions, meta, roots and the journal here;
the other tables' SQL in the modules of their concern, mixed in as on SQLite.

Each collection has a schema of its own in the database the URL names; every connection's search path is that
schema. Outside a transaction each call takes a pooled connection in autocommit; ``transaction()`` holds one
connection for the thread until it ends, and every call of that thread inside it runs there, so the writes
that belong together commit or roll back together. Several hosts may open the same URL and collection: each
sees the others' committed writes. A read-only catalog opens its connections read-only: a write raises.

While a thread holds the writer's lock (``index.lock``), its statements run on the lock's own connection: a
writer whose connection ended has lost the lock with it, and its next statement fails instead of writing.
A server that cannot be reached (down, restarting, or the connection dropped) is ``CatalogUnavailable`` naming
the catalog, and a server whose disk is full (SQLSTATE 53100) is ``DiskFull`` naming it, both raised in
``connection()`` and ``transaction()``, the one way in to the server; every other
PostgreSQL error (a bad statement, a refused write) stays as it is, so a bug shows. The pool drops a connection
that fails its check when it is handed out and connects again, so questions are answered again as soon as the
server is back, with no restart.

``backup_to`` is not supported: PostgreSQL is copied with its own tools (``pg_dump --schema``).
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

import psycopg
import psycopg_pool

from errors import CatalogUnavailable, DiskFull, LockLost, NewsdeskError
from index.catalog.base import utcnow_iso
from index.catalog.postgres_articles import PostgresArticleRows
from index.catalog.postgres_schema import check_version, create_index_tables, set_search_path
from index.catalog.postgres_stories import PostgresStoryRows
from index.catalog.postgres_vectors import PostgresVectorRows
from index.catalog.postgres_wire import PostgresWireRows
from index.lock import lock_backend, lock_connection, writer_key
from settings.store import CATALOG_WAIT_S, redact_url

# keyword search on PostgreSQL lives in its own module; without it everything but search works
try:
    from index.catalog.postgres_search import SEARCH_DDL, PostgresSearchRows
except ModuleNotFoundError as missing:
    if missing.name != "index.catalog.postgres_search":
        raise
    SEARCH_DDL: list[str] = []

    class PostgresSearchRows:  # type: ignore[no-redef]
        """Stands in for the keyword search until ``postgres_search`` is present."""

        def window_chunk_count(self, where: Any) -> int:
            raise NotImplementedError("BM25 on PostgreSQL needs index.catalog.postgres_search")

        def term_document_counts(self, terms: list[str]) -> dict[str, int]:
            raise NotImplementedError("BM25 on PostgreSQL needs index.catalog.postgres_search")

        def bm25(self, query: Any) -> list[tuple[str, float]]:
            raise NotImplementedError("BM25 on PostgreSQL needs index.catalog.postgres_search")


# what a failing PostgreSQL catalog raises besides the error family (a refused write, a statement that fails);
# a lost server is ``CatalogUnavailable``, but callers that catch these keep catching every psycopg error
POSTGRES_ERRORS: tuple[type[Exception], ...] = (psycopg.Error, psycopg_pool.PoolTimeout)
POOL_SIZE = 8  # connections per catalog: the writer, the embedding queue and a few readers at once (a choice)
# the SQLSTATE classes of a lost server: 08 connection exception, 57P01-57P03 shut down or starting up
_LOST_STATES = ("08", "57P01", "57P02", "57P03")


def server_full(error: BaseException, where: str) -> DiskFull | None:
    """``DiskFull`` naming the catalog when ``error`` is the server's SQLSTATE 53100 (disk_full: it could not
    extend a table's or the log's file), else None. The statement failed whole, so nothing committed was lost."""
    if getattr(error, "sqlstate", None) != "53100":
        return None
    return DiskFull(f"the disk of the database server holding the catalog at {where} is full; what was indexed "
                    "before is intact. Free some space there and run the same command again.")


def server_lost(error: BaseException) -> bool:
    """Whether ``error`` says the server cannot be reached, rather than that a statement failed: no connection in
    time, a connection that failed or ended (psycopg gives those no SQLSTATE), or the server going down."""
    if isinstance(error, psycopg_pool.PoolTimeout | psycopg_pool.PoolClosed):
        return True
    if not isinstance(error, psycopg.OperationalError):
        return False
    state = error.sqlstate
    return state is None or state.startswith(_LOST_STATES)


def cannot_open(where: str, error: BaseException) -> CatalogUnavailable:
    """The one sentence for a catalog whose server could not be reached when it was opened."""
    return CatalogUnavailable(f"The PostgreSQL catalog at {where} could not be opened ({type(error).__name__}); "
                              "check NEWSDESK_CATALOG_URL and that the server is up.")


def checked_pool(url: str, name: str, size: int, configure) -> psycopg_pool.ConnectionPool:
    """A pool of autocommit connections to the catalog's server. ``check``: a connection is tried as it is handed
    out, and one the server dropped is replaced. ``reconnect_timeout``: the pool stops retrying in the background
    as soon as a caller stops waiting, so the next request after the server is back connects at once instead of
    after a long back-off."""
    return psycopg_pool.ConnectionPool(
        url, min_size=1, max_size=size, open=True, name=name, timeout=CATALOG_WAIT_S,
        reconnect_timeout=CATALOG_WAIT_S, kwargs={"autocommit": True, "connect_timeout": CATALOG_WAIT_S},
        configure=configure, check=psycopg_pool.ConnectionPool.check_connection)


class PostgresCatalog(PostgresArticleRows, PostgresSearchRows, PostgresVectorRows, PostgresWireRows,
                      PostgresStoryRows):
    """Read and write access to one collection's catalog schema (``index.catalog.base.CatalogInterface``).

    ``path`` is where the catalog is, for people: the URL without its password and the schema."""

    errors = POSTGRES_ERRORS
    remote = True

    def __init__(self, url: str, schema: str, read_only: bool = False) -> None:
        self.schema = schema
        self.read_only = read_only
        self.path = f"{redact_url(url)} (schema {schema})"
        self._local = threading.local()
        self._lock_configured: psycopg.Connection | None = None  # the lock connection given this schema's path
        try:  # one connection first: an unreachable server is said at once, and a writer makes the tables on it
            with psycopg.connect(url, autocommit=True, connect_timeout=CATALOG_WAIT_S) as conn:
                if read_only:  # a reader checks the version (a writer migrates an older one)
                    set_search_path(conn, schema)
                    check_version(conn, self.path)
                else:
                    create_index_tables(conn, schema, SEARCH_DDL, self.path)
        except psycopg.Error as error:
            full = server_full(error, self.path)
            if full is not None:
                raise full from error
            raise cannot_open(self.path, error) from None
        self._pool = checked_pool(url, f"catalog-{schema}", POOL_SIZE, self._configure)

    def __repr__(self) -> str:
        return f"PostgresCatalog({self.path!r}, read_only={self.read_only})"

    def _configure(self, conn: psycopg.Connection) -> None:
        set_search_path(conn, self.schema)
        # no JIT: a BM25 query whose row estimate runs high (the one-row statistics table before its first
        # ANALYZE is guessed at 1,450 rows) passes jit_above_cost, and compiling it took 2.3 s of a 2.4 s
        # search on the RealTime QA copy; the catalog's queries are short, so compiling never pays
        # (docs/benchmarks/2026-12-07-postgres-retrieval.md)
        conn.execute("SET jit = off")
        if self.read_only:
            conn.execute("SET default_transaction_read_only = on")

    # --- connections --------------------------------------------------------------------------
    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A connection whose search path is the catalog's schema: inside ``transaction()``, its connection; while
        this thread holds the writer's lock, the lock's connection."""
        held = getattr(self._local, "connection", None)
        if held is not None:
            yield held
            return
        with self._reached() as conn:
            yield conn

    @contextmanager
    def _reached(self) -> Iterator[psycopg.Connection]:
        """The connection to use, with a lost server said as a ``NewsdeskError`` (see the module's docstring)."""
        locked = None if self.read_only else lock_connection(self.path)
        try:
            if locked is None:
                with self._pool.connection() as conn:
                    yield conn
            else:
                if self._lock_configured is not locked:
                    self._configure(locked)
                    self._lock_configured = locked
                yield locked
        except psycopg.Error as error:
            full = server_full(error, self.path)
            if full is not None:
                raise full from error
            if not server_lost(error):
                raise
            if locked is not None:
                raise LockLost(f"this writer lost its lock on the catalog at {self.path} (its connection to the "
                               "server ended), so it stopped without writing more; run it again") from error
            raise CatalogUnavailable(f"the catalog at {self.path} is unreachable; try again when it is back") \
                from error

    def _all(self, query: str, params: Any = ()) -> list[tuple]:
        with self.connection() as conn:
            return conn.execute(query, params).fetchall()

    def _one(self, query: str, params: Any = ()) -> tuple | None:
        with self.connection() as conn:
            return conn.execute(query, params).fetchone()

    def _run(self, query: str, params: Any = ()) -> int:
        """Run a statement; how many rows it touched."""
        with self.connection() as conn:
            return conn.execute(query, params).rowcount

    def _many(self, query: str, rows: list) -> None:
        if rows:
            with self.connection() as conn, conn.cursor() as cursor:
                cursor.executemany(query, rows)

    def close(self) -> None:
        self._pool.close()
        self._local = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Writes that commit together; a nested one is a savepoint of the outer."""
        held = getattr(self._local, "connection", None)
        if held is not None:
            with held.transaction():
                yield
            return
        with self._reached() as conn:
            self._local.connection = conn
            try:
                with conn.transaction():
                    yield
            finally:
                self._local.connection = None

    def backup_to(self, path: Any) -> None:
        raise NewsdeskError(f"Copying the PostgreSQL catalog ({self.path}) is not supported here: use "
                            f"pg_dump --schema {self.schema}.")

    # --- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = %s", (key,))
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._run("INSERT INTO meta VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                  (key, value))

    def set_writer_meta(self, key: str, value: str) -> bool:
        """``set_meta`` from a writer's helper thread (the watcher's heartbeat), which runs on a pooled connection,
        not the lock's: written only while this process still holds the writer's lock, checked in the same
        statement (the lock's connection is alive and holds the lock). Whether it was written.

        Between that check and the commit of this one statement the lock could still end: what lands then is
        this one meta value (a heartbeat), never the index's rows, which are written on the lock's connection."""
        if lock_connection(self.path) is not None:  # the lock's own thread: its statements already need the lock
            self.set_meta(key, value)
            return True
        backend = lock_backend(self.path)
        if backend is None:
            return False
        return self._run(
            "INSERT INTO meta SELECT %s, %s WHERE EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
            "AND granted AND pid = %s AND objid = (hashtext(%s)::bigint & 4294967295)::oid) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (key, value, backend, writer_key(self.schema))) > 0

    # --- roots ------------------------------------------------------------------------------
    def roots(self) -> list[str]:
        return [r[0] for r in self._all('SELECT path FROM roots ORDER BY path COLLATE "C"')]

    def add_root(self, path: str) -> None:
        self._run("INSERT INTO roots VALUES (%s, %s) ON CONFLICT (path) DO UPDATE SET indexed_at = EXCLUDED.indexed_at",
                  (path, utcnow_iso()))

    # --- journal ----------------------------------------------------------------------------
    def journal_add(self, chroma_ids: Iterable[str]) -> int:
        row = self._one("INSERT INTO journal (chroma_ids) VALUES (%s) RETURNING id", (json.dumps(list(chroma_ids)),))
        return int(row[0])

    def journal_entries(self) -> list[tuple[int, list[str]]]:
        return [(int(r[0]), json.loads(r[1])) for r in self._all("SELECT id, chroma_ids FROM journal ORDER BY id")]

    def journal_done(self, entry_id: int) -> None:
        self._run("DELETE FROM journal WHERE id = %s", (entry_id,))
