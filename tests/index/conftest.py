"""Fixtures of the index tests."""

import os
from itertools import count

import pytest

from index.sync import Indexer


@pytest.fixture
def indexer(store_settings, embedder):
    """An ``Indexer`` on a fresh home, on each backend of ``store_settings`` (a module that wants fewer
    parametrizes ``store_settings`` itself, indirectly)."""
    ix = Indexer(store_settings, embedder=embedder)
    yield ix
    ix.close()


@pytest.fixture(scope="module")
def shared_store(request, postgres_server, chroma_server):
    """``shared_store()``: the settings of a fresh shared store, a Chroma server collection and its PostgreSQL
    schema, for the crash tests' subprocesses (``run_index(..., store=...)``, ``snapshot(home, store)``). A
    fresh collection name per call, so no trial sees another's index."""
    names = count()
    module = request.module.__name__.rsplit(".", 1)[-1]

    def fresh() -> dict:
        return {"catalog_url": postgres_server.url, "chroma_host": "127.0.0.1", "chroma_port": chroma_server.port,
                "collection": f"{module}-{os.getpid()}-{next(names)}"}
    return fresh
