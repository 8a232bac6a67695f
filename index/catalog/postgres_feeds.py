"""The followed feeds in PostgreSQL (``sqlite_feeds`` on SQLite): the ``feeds`` table of the collection's schema,
through a small pool of its own in autocommit, so the watcher, ``newsdesk feeds`` and the freshness view read
and write it from separate processes and hosts.

The pool checks a connection as it hands it out and replaces one the server dropped, so the table is read and
written again as soon as a restarted server is back; while it is down, a call raises ``CatalogUnavailable``
naming the catalog (as the catalog's own calls do, ``postgres_catalog.server_lost``)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import fields
from typing import Any, Iterator

import psycopg
import psycopg_pool

from errors import CatalogUnavailable
from index.catalog.postgres_catalog import cannot_open, checked_pool, server_full, server_lost
from index.catalog.postgres_schema import FEEDS_DDL, create_tables, has_table, set_search_path
from index.types import FeedState
from settings.store import CATALOG_WAIT_S, redact_url

_COLUMNS = [f.name for f in fields(FeedState)]
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM feeds"
_POOL_SIZE = 2  # the watcher's feed thread and one more caller at once (a choice: feed calls are rare and short)


class PostgresFeedTable:
    """Rows of the ``feeds`` table as ``FeedState`` (``index.catalog.base.FeedTableInterface``)."""

    def __init__(self, url: str, schema: str, read_only: bool = False) -> None:
        """``read_only``: no table is made (``list()`` is empty until a writer made it)."""
        self.schema = schema
        self.read_only = read_only
        self.path = f"{redact_url(url)} (schema {schema})"
        try:  # one connection first: an unreachable server is said at once, and a writer makes the table on it
            with psycopg.connect(url, autocommit=True, connect_timeout=CATALOG_WAIT_S) as conn:
                if not read_only:
                    create_tables(conn, schema, FEEDS_DDL)
        except psycopg.Error as error:
            raise cannot_open(self.path, error) from None
        self._pool = checked_pool(url, f"feeds-{schema}", _POOL_SIZE, self._configure)

    def __repr__(self) -> str:
        return f"PostgresFeedTable({self.path!r}, read_only={self.read_only})"

    def _configure(self, conn: psycopg.Connection) -> None:
        set_search_path(conn, self.schema)
        if self.read_only:
            conn.execute("SET default_transaction_read_only = on")

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        try:
            with self._pool.connection() as conn:
                yield conn
        except (psycopg.Error, psycopg_pool.PoolTimeout) as error:
            full = server_full(error, self.path)
            if full is not None:
                raise full from error
            if not server_lost(error):
                raise
            raise CatalogUnavailable(f"the catalog at {self.path} is unreachable; try again when it is back") \
                from error

    def _all(self, query: str, params: Any = ()) -> list[tuple]:
        with self._connection() as conn:
            return conn.execute(query, params).fetchall()

    def _run(self, query: str, params: Any = ()) -> None:
        with self._connection() as conn:
            conn.execute(query, params)

    def close(self) -> None:
        self._pool.close()

    def insert(self, url: str, name: str, slug: str, added: str) -> None:
        self._run("INSERT INTO feeds (url, name, slug, added) VALUES (%s, %s, %s, %s)", (url, name, slug, added))

    def get(self, url_or_name: str) -> FeedState | None:
        """The feed whose URL or name is ``url_or_name``."""
        rows = self._all(f"{_SELECT} WHERE url = %s OR name = %s LIMIT 1", (url_or_name, url_or_name))
        return FeedState(*rows[0]) if rows else None

    def list(self) -> list[FeedState]:
        """Every feed, by name."""
        if self.read_only:
            with self._connection() as conn:
                if not has_table(conn, "feeds"):  # no feed was ever added: no table yet
                    return []
        return [FeedState(*row) for row in self._all(f'{_SELECT} ORDER BY name COLLATE "C"')]

    def delete(self, url: str) -> None:
        self._run("DELETE FROM feeds WHERE url = %s", (url,))

    def update(self, url: str, values: dict[str, Any]) -> None:
        """Set fields of a feed's state (``FeedState`` field names)."""
        unknown = set(values) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"not feed state fields: {sorted(unknown)}")
        if values:
            assignments = ", ".join(f"{key} = %s" for key in values)
            self._run(f"UPDATE feeds SET {assignments} WHERE url = %s", (*values.values(), url))
