"""One writer per index: an exclusive lock file beside the catalog (readers never take it).

The lock is re-entrant for the thread that holds it: a watcher holds it for its whole life and calls
``Indexer.sync``/``remove``/``embed_pending``, which take it again. Any other process, or another
thread of the same process, gets ``IndexBusy`` at once instead of waiting.
"""

from __future__ import annotations

import fcntl
import threading
from contextlib import contextmanager
from typing import IO, Iterator

from errors import IndexBusy
from settings import Settings

_guard = threading.Lock()
_held: dict[str, tuple[int, int, IO]] = {}  # lock path -> (holding thread id, depth, open lock file)


@contextmanager
def index_lock(settings: Settings) -> Iterator[None]:
    lock_path = settings.index.catalog_path.with_suffix(".lock")
    key = str(lock_path.resolve())
    me = threading.get_ident()
    with _guard:
        held = _held.get(key)
        if held is not None and held[0] != me:
            raise _busy(lock_path)
        if held is None:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(lock_path, "w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                raise _busy(lock_path) from None
            held = (me, 0, handle)
        _held[key] = (me, held[1] + 1, held[2])
    try:
        yield
    finally:
        with _guard:
            owner, depth, handle = _held[key]
            if depth > 1:
                _held[key] = (owner, depth - 1, handle)
            else:
                del _held[key]
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()


def _busy(lock_path) -> IndexBusy:
    return IndexBusy(f"another newsdesk process is writing to this index ({lock_path}); try again when it ends")
