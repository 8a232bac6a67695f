"""One writer per index: an exclusive lock file beside the catalog, or, when the catalog is in PostgreSQL and
shared between hosts, a session advisory lock on the collection's schema there (readers never take either).

The lock is re-entrant for the thread that holds it: a watcher holds it for its whole life and calls
``Indexer.sync``/``remove``/``embed_pending``, which take it again. Any other process, on this host or another,
or another thread of the same process, gets ``IndexBusy`` at once instead of waiting.

On PostgreSQL the lock's connection is also where the holding thread's catalog statements run
(``lock_connection``): a writer whose connection ended (and with it the lock) cannot commit anything more.
"""

from __future__ import annotations

import fcntl
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from errors import CatalogUnavailable, IndexBusy
from settings import Settings
from settings.store import CATALOG_WAIT_S

_guard = threading.Lock()
_held: dict[str, tuple[int, int, Callable[[], None]]] = {}  # lock -> (holding thread id, depth, its release)
_connections: dict[str, Any] = {}  # a PostgreSQL lock's location -> the connection that holds it


def writer_key(schema: str) -> str:
    """The text whose ``hashtext`` is the PostgreSQL advisory lock's key for a collection's schema."""
    return f"newsdesk-writer:{schema}"


@contextmanager
def index_lock(settings: Settings) -> Iterator[None]:
    index = settings.index
    where = index.catalog_location if index.catalog_dsn else str(index.catalog_path.with_suffix(".lock").resolve())
    me = threading.get_ident()
    with _guard:
        held = _held.get(where)
        if held is not None and held[0] != me:
            raise _busy(where)
        if held is None:
            held = (me, 0, _take_postgres(settings) if index.catalog_dsn else _take_file(settings))
        _held[where] = (me, held[1] + 1, held[2])
    try:
        yield
    finally:
        with _guard:
            owner, depth, release = _held[where]
            if depth > 1:
                _held[where] = (owner, depth - 1, release)
            else:
                del _held[where]
                release()


def lock_connection(location: str) -> Any | None:
    """The connection that holds the PostgreSQL writer's lock on the catalog at ``location`` when this thread holds
    that lock, else None."""
    with _guard:
        held = _held.get(location)
        if held is None or held[0] != threading.get_ident():
            return None
        return _connections.get(location)


def lock_backend(location: str) -> int | None:
    """The server process id of the connection through which this process holds the PostgreSQL writer's lock on
    the catalog at ``location``, whichever thread took it; None when it does not hold it. A helper thread of the
    writer (the watcher's heartbeat) writes only while that process still holds the lock (``set_writer_meta``)."""
    with _guard:
        conn = _connections.get(location)
        return None if conn is None else conn.info.backend_pid


def _take_file(settings: Settings) -> Callable[[], None]:
    lock_path = settings.index.catalog_path.with_suffix(".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(lock_path, "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise _busy(str(lock_path)) from None

    def release() -> None:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
    return release


def _take_postgres(settings: Settings) -> Callable[[], None]:
    """A session advisory lock on a connection of its own: the server frees it when that connection ends, so a
    writer that dies (or whose host does) never leaves the index locked."""
    import psycopg

    index = settings.index
    try:
        conn = psycopg.connect(index.catalog_dsn, autocommit=True, connect_timeout=CATALOG_WAIT_S)
        key = writer_key(index.catalog_schema)
        taken = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,))
        if not taken.fetchone()[0]:
            conn.close()
            raise _busy(index.catalog_location)
    except psycopg.Error as error:
        raise CatalogUnavailable(
            f"The PostgreSQL catalog at {index.catalog_location} could not be reached ({type(error).__name__}); "
            "check NEWSDESK_CATALOG_URL and that the server is up.") from None
    _connections[index.catalog_location] = conn

    def release() -> None:  # called under ``_guard``
        _connections.pop(index.catalog_location, None)
        # unlocked before the connection closes: the server frees a closing session's locks only once its backend
        # has exited, after close() returns, so the next take (a sync right after a sync) would find it held
        try:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
        except psycopg.Error:
            pass  # the connection is gone, and with it the lock
        finally:
            conn.close()
    return release


def _busy(where: str) -> IndexBusy:
    return IndexBusy(f"another newsdesk process is writing to this index ({where}); try again when it ends")
