"""The followed feeds in PostgreSQL (``sqlite_feeds`` on SQLite): the ``feeds`` table of the collection's schema,
through a connection of its own in autocommit, so the watcher, ``newsdesk feeds`` and the freshness view read
and write it from separate processes and hosts."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import psycopg

from errors import CatalogUnavailable
from index.catalog.postgres_schema import FEEDS_DDL, create_tables, has_table, set_search_path
from index.types import FeedState
from settings.store import CATALOG_WAIT_S, redact_url

_COLUMNS = [f.name for f in fields(FeedState)]
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM feeds"


class PostgresFeedTable:
    """Rows of the ``feeds`` table as ``FeedState`` (``index.catalog.base.FeedTableInterface``)."""

    def __init__(self, url: str, schema: str, read_only: bool = False) -> None:
        """``read_only``: no table is made (``list()`` is empty until a writer made it)."""
        self.schema = schema
        self.read_only = read_only
        self.path = f"{redact_url(url)} (schema {schema})"
        try:
            self._db = psycopg.connect(url, autocommit=True, connect_timeout=CATALOG_WAIT_S)
        except psycopg.Error as error:
            raise CatalogUnavailable(
                f"The PostgreSQL catalog at {self.path} could not be opened ({type(error).__name__}); "
                "check NEWSDESK_CATALOG_URL and that the server is up.") from None
        if read_only:
            set_search_path(self._db, schema)
            self._db.execute("SET default_transaction_read_only = on")
        else:
            create_tables(self._db, schema, FEEDS_DDL)

    def __repr__(self) -> str:
        return f"PostgresFeedTable({self.path!r}, read_only={self.read_only})"

    def close(self) -> None:
        self._db.close()

    def insert(self, url: str, name: str, slug: str, added: str) -> None:
        self._db.execute("INSERT INTO feeds (url, name, slug, added) VALUES (%s, %s, %s, %s)", (url, name, slug, added))

    def get(self, url_or_name: str) -> FeedState | None:
        """The feed whose URL or name is ``url_or_name``."""
        row = self._db.execute(f"{_SELECT} WHERE url = %s OR name = %s LIMIT 1", (url_or_name, url_or_name)).fetchone()
        return FeedState(*row) if row else None

    def list(self) -> list[FeedState]:
        """Every feed, by name."""
        if self.read_only and not has_table(self._db, "feeds"):  # no feed was ever added: no table yet
            return []
        return [FeedState(*row) for row in self._db.execute(f'{_SELECT} ORDER BY name COLLATE "C"').fetchall()]

    def delete(self, url: str) -> None:
        self._db.execute("DELETE FROM feeds WHERE url = %s", (url,))

    def update(self, url: str, values: dict[str, Any]) -> None:
        """Set fields of a feed's state (``FeedState`` field names)."""
        unknown = set(values) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"not feed state fields: {sorted(unknown)}")
        if values:
            assignments = ", ".join(f"{key} = %s" for key in values)
            self._db.execute(f"UPDATE feeds SET {assignments} WHERE url = %s", (*values.values(), url))
