"""Runs the watcher's way of indexing, ``sync(embed=False)`` then ``embed_pending`` in small steps, and
SIGKILLs itself at a chosen point (used by test_embed_queue.py).

usage: python queue_runner.py POINT N PATH...   (POINT: embed|upsert|set_vectors|journal_add|none)
"""

import sys

from index.catalog import Catalog
from index.catalog.postgres_catalog import PostgresCatalog
from index.embedders import MiniLMEmbedder
from index.store import ChunkStore
from tests.index.crash_runner import arm

if __name__ == "__main__":
    point, nth, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    targets = {
        "embed": (MiniLMEmbedder, "embed", False),        # queued ids journaled, nothing in Chroma yet
        "upsert": (ChunkStore, "upsert", True),           # vectors in Chroma, the catalog still says pending
        "set_vectors": (Catalog, "set_vectors", True),    # inside the step's transaction, before its commit
        "journal_done": (Catalog, "journal_done", False),  # before a journal entry is settled
    }
    if point in targets:
        owner, name, after = targets[point]
        arm(owner, name, nth, after)
        if owner is Catalog:  # the catalog the settings name (NEWSDESK_CATALOG_URL) is the one that runs
            arm(PostgresCatalog, name, nth, after)
    from index.sync import Indexer
    from settings import Settings

    indexer = Indexer(Settings())
    indexer.sync(paths, embed=False)
    while indexer.embed_pending(max_chunks=4):
        pass
    indexer.close()
