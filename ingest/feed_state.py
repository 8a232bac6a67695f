"""Which feeds newsdesk follows and how each last went: kept beside the catalog (``index.catalog.FeedTable``).

``FeedStates.for_settings(settings)`` (or ``FeedStates(catalog_path)`` for a catalog file) adds, removes, lists
and updates feeds, in the SQLite file or the PostgreSQL schema of the catalog. It opens the feed table on its own (the
feeds are not part of the index: ``Catalog.clear()`` never touches them), so the watcher, ``newsdesk feeds``
and the freshness view can read and write them from separate processes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from errors import BadInput
from index.catalog import FeedTable, FeedTableInterface, open_feed_table, utcnow_iso
from index.types import FeedState

if TYPE_CHECKING:
    from settings import Settings

__all__ = ["FeedState", "FeedStates", "check_feed_url", "default_name", "slug_for"]

_UPDATABLE = {f.name for f in fields(FeedState)} - {"url", "name", "slug", "added"}


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

    def __init__(self, catalog_path: str | Path, read_only: bool = False,
                 table: FeedTableInterface | None = None) -> None:
        """``read_only``: for views (no table is created; ``list()`` is empty until a feed was added);
        ``table``: an open feed table to use instead of the one beside the catalog file at ``catalog_path``."""
        self.path = catalog_path
        self.read_only = read_only
        self.table = table if table is not None else FeedTable(Path(catalog_path), read_only)

    @classmethod
    def for_settings(cls, settings: Settings, read_only: bool = False) -> FeedStates:
        """The feeds beside the catalog the settings name (SQLite or PostgreSQL)."""
        table = open_feed_table(settings, read_only)
        return cls(getattr(table, "path", settings.index.catalog_location), read_only, table)

    def close(self) -> None:
        self.table.close()

    def __enter__(self) -> "FeedStates":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def add(self, url: str, name: str | None = None, added: str = "") -> FeedState:
        """Follow a feed (already followed: returned as it is, unless another feed has that name)."""
        url = check_feed_url(url)
        existing = self.get(url)
        if existing is not None:
            return existing
        name = (name or default_name(url)).strip()
        if self.get(name) is not None:
            raise BadInput(f"a feed named '{name}' is already followed; choose another --name.")
        self.table.insert(url, name, slug_for(name), added or utcnow_iso())
        return self.get(url)  # type: ignore[return-value]

    def get(self, url_or_name: str) -> FeedState | None:
        return self.table.get(url_or_name.strip())

    def list(self) -> list[FeedState]:
        return self.table.list()

    def remove(self, url_or_name: str) -> FeedState | None:
        """Stop following a feed; returns what it was (None if it was not followed)."""
        state = self.get(url_or_name)
        if state is not None:
            self.table.delete(state.url)
        return state

    def update(self, url: str, **values) -> FeedState | None:
        unknown = set(values) - _UPDATABLE
        if unknown:
            raise ValueError(f"not feed state fields: {sorted(unknown)}")
        self.table.update(url, values)
        return self.get(url)
