"""The catalog in PostgreSQL (``PostgresCatalog``): connections, transactions, meta, roots and the journal here;
the other tables' SQL in the modules of their concern, mixed in as on SQLite.

Each collection has a schema of its own in the database the URL names; every connection's search path is that
schema. Outside a transaction each call takes a pooled connection in autocommit; ``transaction()`` holds one
connection for the thread until it ends, and every call of that thread inside it runs there, so the writes
that belong together commit or roll back together. Several hosts may open the same URL and collection: each
sees the others' committed writes. A read-only catalog opens its connections read-only: a write raises.

``backup_to`` is not supported: PostgreSQL is copied with its own tools (``pg_dump --schema``).
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

import psycopg
import psycopg_pool

from errors import NewsdeskError, StoreUnavailable
from index.catalog.base import utcnow_iso
from index.catalog.postgres_articles import PostgresArticleRows
from index.catalog.postgres_schema import create_index_tables, set_search_path
from index.catalog.postgres_vectors import PostgresVectorRows
from index.catalog.postgres_wire import PostgresWireRows
from settings.store import redact_url

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


# what a failing PostgreSQL catalog raises (a lost server, a refused write, no connection free in time)
POSTGRES_ERRORS: tuple[type[Exception], ...] = (psycopg.Error, psycopg_pool.PoolTimeout)
POOL_SIZE = 8  # connections per catalog: the writer, the embedding queue and a few readers at once (a choice)
CONNECT_TIMEOUT_S = 15  # seconds a connection (and a wait for a free one) may take before the server counts as unreachable


class PostgresCatalog(PostgresArticleRows, PostgresSearchRows, PostgresVectorRows, PostgresWireRows):
    """Read and write access to one collection's catalog schema (``index.catalog.base.CatalogInterface``).

    ``path`` is where the catalog is, for people: the URL without its password and the schema."""

    errors = POSTGRES_ERRORS

    def __init__(self, url: str, schema: str, read_only: bool = False) -> None:
        self.schema = schema
        self.read_only = read_only
        self.path = f"{redact_url(url)} (schema {schema})"
        self._local = threading.local()
        try:  # one connection first: an unreachable server is said at once, and a writer makes the tables on it
            with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
                if not read_only:
                    create_index_tables(conn, schema, SEARCH_DDL)
        except psycopg.Error as error:
            raise StoreUnavailable(f"The PostgreSQL catalog at {self.path} could not be opened "
                                   f"({type(error).__name__}); check NEWSDESK_CATALOG_URL and that the server is up.") \
                from None
        self._pool = psycopg_pool.ConnectionPool(
            url, min_size=1, max_size=POOL_SIZE, open=True, name=f"catalog-{schema}", timeout=CONNECT_TIMEOUT_S,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S}, configure=self._configure,
            check=psycopg_pool.ConnectionPool.check_connection)

    def __repr__(self) -> str:
        return f"PostgresCatalog({self.path!r}, read_only={self.read_only})"

    def _configure(self, conn: psycopg.Connection) -> None:
        set_search_path(conn, self.schema)
        if self.read_only:
            conn.execute("SET default_transaction_read_only = on")

    # --- connections --------------------------------------------------------------------------
    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A connection whose search path is the catalog's schema: inside ``transaction()``, its connection."""
        held = getattr(self._local, "connection", None)
        if held is not None:
            yield held
            return
        with self._pool.connection() as conn:
            yield conn

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
        with self._pool.connection() as conn:
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
