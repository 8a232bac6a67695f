"""Runs ``newsdesk index`` and SIGKILLs itself at a chosen point (used by test_crash.py), on the SQLite or the
PostgreSQL catalog as the environment's settings say.

usage: python crash_runner.py POINT N PATH...
(POINT: embed|upsert|put_article|store_delete|journal_done|story_put_edges|story_set_members|none)
"""

import os
import signal
import sys

from index.catalog import Catalog
from index.catalog.postgres_catalog import PostgresCatalog
from index.embedders import MiniLMEmbedder
from index.store import ChunkStore


def arm(owner, name: str, nth: int, after: bool) -> None:
    original = getattr(owner, name)
    calls = {"n": 0}

    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == nth and not after:
            os.kill(os.getpid(), signal.SIGKILL)
        result = original(*args, **kwargs)
        if calls["n"] == nth and after:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(owner, name, wrapper)


if __name__ == "__main__":
    point, nth, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    targets = {
        "embed": (MiniLMEmbedder, "embed", False),         # ids journaled, nothing in Chroma yet
        "upsert": (ChunkStore, "upsert", True),            # vectors in Chroma, catalog not switched
        "put_article": (Catalog, "put_article", True),     # in the middle of the catalog transaction
        "store_delete": (ChunkStore, "delete", False),     # catalog switched, old vectors still there
        "journal_done": (Catalog, "journal_done", False),  # old vectors gone, journal not cleared
        "story_put_edges": (Catalog, "story_put_edges", True),      # story links written, stories not yet
        "story_set_members": (Catalog, "story_set_members", True),  # one group's stories in, others not
    }
    if point in targets:
        owner, name, after = targets[point]
        arm(owner, name, nth, after)
        if owner is Catalog:  # the catalog the settings name (NEWSDESK_CATALOG_URL) is the one that runs
            arm(PostgresCatalog, name, nth, after)
    from cli import main

    sys.exit(main(["index", "--quiet", *paths]))
