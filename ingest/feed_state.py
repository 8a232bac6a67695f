"""Which feeds newsdesk follows and how each last went: a ``feeds`` table in the catalog's SQLite file.

``FeedStates(catalog_path)`` adds, removes, lists and updates feeds. It keeps its own connection (the
table is not part of the index: ``Catalog.clear()`` never touches it), so the watcher, ``newsdesk
feeds`` and the freshness view can read and write it from separate processes (WAL).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

from errors import BadInput

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, slug TEXT NOT NULL UNIQUE, added TEXT NOT NULL,
    last_poll TEXT, status TEXT NOT NULL DEFAULT 'new', last_error TEXT,
    new_items INTEGER NOT NULL DEFAULT 0, items INTEGER NOT NULL DEFAULT 0,
    etag TEXT, last_modified TEXT, next_poll REAL NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class FeedState:
    """One followed feed: what it is and how its last poll went.

    ``status``: new (never polled), ok, not_modified (304), error, backoff (waiting after 429/5xx).
    ``new_items``: items written by the last poll; ``items``: item files kept for the feed.
    ``next_poll`` (epoch seconds) and ``failures`` drive the back-off after errors.
    """

    url: str
    name: str
    slug: str
    added: str
    last_poll: str | None = None
    status: str = "new"
    last_error: str | None = None
    new_items: int = 0
    items: int = 0
    etag: str | None = None
    last_modified: str | None = None
    next_poll: float = 0.0
    failures: int = 0


_COLUMNS = [f.name for f in fields(FeedState)]
_UPDATABLE = set(_COLUMNS) - {"url", "name", "slug", "added"}


def slug_for(name: str) -> str:
    """A folder name for a feed: its name's letters and digits, plus a short hash so two never collide."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "feed"
    return f"{base}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:6]}"


def default_name(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")  # never the user:password part
    path = parts.path.strip("/")
    return f"{host}/{path}" if path else host


def check_feed_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadInput(f"'{url}' is not an http(s) URL; give the feed's full address.")
    return url


class FeedStates:
    """The ``feeds`` table: add, remove, get, list, update."""

    def __init__(self, catalog_path: str | Path, read_only: bool = False) -> None:
        """``read_only``: for views (no table is created; ``list()`` is empty until a feed was added)."""
        self.path = Path(catalog_path)
        self.read_only = read_only
        if read_only:
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30, isolation_level=None,
                                       check_same_thread=False)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "FeedStates":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def add(self, url: str, name: str | None = None, added: str = "") -> FeedState:
        """Follow a feed (already followed: returned as it is, unless another feed has that name)."""
        from index.catalog import utcnow_iso

        url = check_feed_url(url)
        existing = self.get(url)
        if existing is not None:
            return existing
        name = (name or default_name(url)).strip()
        if self.get(name) is not None:
            raise BadInput(f"a feed named '{name}' is already followed; choose another --name.")
        self._db.execute("INSERT INTO feeds (url, name, slug, added) VALUES (?, ?, ?, ?)",
                         (url, name, slug_for(name), added or utcnow_iso()))
        return self.get(url)  # type: ignore[return-value]

    def get(self, url_or_name: str) -> FeedState | None:
        row = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM feeds WHERE url = ? OR name = ?",
                               (url_or_name.strip(), url_or_name.strip())).fetchone()
        return FeedState(*row) if row else None

    def list(self) -> list[FeedState]:
        try:
            rows = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM feeds ORDER BY name").fetchall()
        except sqlite3.OperationalError:
            if self.read_only:  # no feed was ever added: no table yet
                return []
            raise
        return [FeedState(*row) for row in rows]

    def remove(self, url_or_name: str) -> FeedState | None:
        """Stop following a feed; returns what it was (None if it was not followed)."""
        state = self.get(url_or_name)
        if state is not None:
            self._db.execute("DELETE FROM feeds WHERE url = ?", (state.url,))
        return state

    def update(self, url: str, **values) -> FeedState | None:
        unknown = set(values) - _UPDATABLE
        if unknown:
            raise ValueError(f"not feed state fields: {sorted(unknown)}")
        if values:
            assignments = ", ".join(f"{key} = ?" for key in values)
            self._db.execute(f"UPDATE feeds SET {assignments} WHERE url = ?", (*values.values(), url))
        return self.get(url)
