"""Fixtures of the index tests."""

import pytest

from index.sync import Indexer


@pytest.fixture
def indexer(store_settings, embedder):
    """An ``Indexer`` on a fresh home, once on the embedded store and once on a Chroma server (``store_settings``;
    a module that wants one store parametrizes ``store_settings`` itself, indirectly)."""
    ix = Indexer(store_settings, embedder=embedder)
    yield ix
    ix.close()
