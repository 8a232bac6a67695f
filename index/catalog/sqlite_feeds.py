"""The followed feeds in SQLite: the ``feeds`` table of the catalog file, through a connection of its own, so
the watcher, ``newsdesk feeds`` and the freshness view read and write it from separate processes (WAL)."""

from __future__ import annotations

import sqlite3
from dataclasses import fields
from pathlib import Path
from typing import Any

from index.catalog.sqlite_schema import connect, create_feed_table
from index.types import FeedState

_COLUMNS = [f.name for f in fields(FeedState)]
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM feeds"


class FeedTable:
    """Rows of the ``feeds`` table as ``FeedState`` (``index.catalog.base.FeedTableInterface``)."""

    def __init__(self, catalog_path: str | Path, read_only: bool = False) -> None:
        """``read_only``: no table is made (``list()`` is empty until a writer made it)."""
        self.path = Path(catalog_path)
        self.read_only = read_only
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = connect(self.path, read_only)
        if not read_only:
            create_feed_table(self._db)

    def close(self) -> None:
        self._db.close()

    def insert(self, url: str, name: str, slug: str, added: str) -> None:
        self._db.execute("INSERT INTO feeds (url, name, slug, added) VALUES (?, ?, ?, ?)", (url, name, slug, added))

    def get(self, url_or_name: str) -> FeedState | None:
        """The feed whose URL or name is ``url_or_name``."""
        row = self._db.execute(f"{_SELECT} WHERE url = ? OR name = ?", (url_or_name, url_or_name)).fetchone()
        return FeedState(*row) if row else None

    def list(self) -> list[FeedState]:
        """Every feed, by name."""
        try:
            rows = self._db.execute(f"{_SELECT} ORDER BY name").fetchall()
        except sqlite3.OperationalError:
            if self.read_only:  # no feed was ever added: no table yet
                return []
            raise
        return [FeedState(*row) for row in rows]

    def delete(self, url: str) -> None:
        self._db.execute("DELETE FROM feeds WHERE url = ?", (url,))

    def update(self, url: str, values: dict[str, Any]) -> None:
        """Set fields of a feed's state (``FeedState`` field names)."""
        unknown = set(values) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"not feed state fields: {sorted(unknown)}")
        if values:
            assignments = ", ".join(f"{key} = ?" for key in values)
            self._db.execute(f"UPDATE feeds SET {assignments} WHERE url = ?", (*values.values(), url))
