"""The catalog in a SQLite file under NEWSDESK_HOME (``catalog.sqlite``): connections, transactions, meta,
roots and the journal here; the other tables' SQL in the modules of their concern, mixed in.

One connection per thread (readers never share a cursor); readers open the file read-only while a writer
works (WAL). A transaction is ``BEGIN IMMEDIATE``: a writer takes the file's write lock when it starts, so
two writers never interleave inside one.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from index.catalog.base import utcnow_iso
from index.catalog.sqlite_articles import ArticleRows
from index.catalog.sqlite_schema import connect, create_index_tables
from index.catalog.sqlite_search import SearchRows
from index.catalog.sqlite_vectors import VectorRows
from index.catalog.sqlite_stories import StoryRows
from index.catalog.sqlite_wire import WireRows

# what a failing catalog raises (a full disk, a locked or damaged file)
CATALOG_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error,)


class Catalog(ArticleRows, SearchRows, VectorRows, WireRows, StoryRows):
    """Read and write access to the catalog file (``index.catalog.base.CatalogInterface``)."""

    errors = CATALOG_ERRORS
    remote = False

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            create_index_tables(self.db)

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection (the SQLite side's own: callers outside the catalog use its methods)."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = connect(self.path, self.read_only)
            if not self.read_only:
                connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def close(self) -> None:
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def backup_to(self, path: Path) -> None:
        """A consistent copy of the whole catalog at ``path`` (through SQLite's backup, while others read)."""
        with sqlite3.connect(path) as target:
            self.db.backup(target)
        target.close()

    # --- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def set_writer_meta(self, key: str, value: str) -> bool:
        """``set_meta`` from a writer's helper thread: the lock file cannot be lost while the process lives."""
        self.set_meta(key, value)
        return True

    # --- roots ------------------------------------------------------------------------------
    def roots(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT path FROM roots ORDER BY path")]

    def add_root(self, path: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO roots VALUES (?, ?)", (path, utcnow_iso()))

    # --- journal ----------------------------------------------------------------------------
    def journal_add(self, chroma_ids: Iterable[str]) -> int:
        cursor = self.db.execute("INSERT INTO journal (chroma_ids) VALUES (?)", (json.dumps(list(chroma_ids)),))
        return int(cursor.lastrowid)

    def journal_entries(self) -> list[tuple[int, list[str]]]:
        return [(row[0], json.loads(row[1])) for row in self.db.execute("SELECT id, chroma_ids FROM journal ORDER BY id")]

    def journal_done(self, entry_id: int) -> None:
        self.db.execute("DELETE FROM journal WHERE id = ?", (entry_id,))
