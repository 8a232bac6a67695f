"""Sentence vectors embedded once per process: the extractive answerer scores every sentence of the top
chunks against the question, and the same chunks come back for many questions (and twice within one:
``_one_per_part``, ``_conflicting``, the generative answerer's fallback), so each sentence's vector is kept.
The retriever embeds its queries through the same cache, so the answerer reuses the question's vector and a
question asked again (many users, the API) costs no embedding (about 10 ms of CPU a question on 2 cores).

A vector depends only on its text (MiniLM pads each batch under an attention mask, and its outputs do not
change with the batch: ``tests/rag/test_sentence_cache.py`` checks it), so a cached vector is the one a fresh
``embed`` would give and the answers do not change. The cache is shared by everything that embeds with the
same embedder object (``SentenceVectors.shared``): the answerers and the citation verifier of a desk, and the
desks of one app process.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import Sequence

import numpy as np

from index.embedders import Embedder

# 20,000 MiniLM vectors are 31 MB (384 float32 each); the 236 gold articles have about 11,000 sentences,
# so a demo corpus stays whole and a large one keeps the recently asked-about part (a choice).
CAPACITY = 20_000


class SentenceVectors:
    """An LRU of text -> unit vector in front of an embedder; thread-safe (the API and ``bench load``
    answer from many threads with one desk)."""

    def __init__(self, embedder: Embedder, capacity: int = CAPACITY) -> None:
        self.embedder = embedder
        self.capacity = capacity
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    _shared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    _shared_lock = threading.Lock()

    @classmethod
    def shared(cls, embedder: Embedder) -> SentenceVectors:
        """The one cache of ``embedder`` in this process (created on first use, gone with the embedder)."""
        with cls._shared_lock:
            try:
                cache = cls._shared.get(embedder)
            except TypeError:  # an embedder that cannot be weakly referenced gets a cache of its own
                return cls(embedder)
            if cache is None:
                cache = cls._shared[embedder] = cls(embedder)
            return cache

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """``embedder.embed(texts)``, reading known texts from the cache; the others are embedded in one call."""
        if not texts:
            return self.embedder.embed([])
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for text in dict.fromkeys(texts):
                vector = self._vectors.get(text)
                if vector is not None:
                    self._vectors.move_to_end(text)
                    found[text] = vector
            self.hits += len(found)
        missing = [text for text in dict.fromkeys(texts) if text not in found]
        if missing:
            # outside the lock: two threads may embed the same new sentence at once, which costs time, not answers
            vectors = self.embedder.embed(missing)
            with self._lock:
                self.misses += len(missing)
                for text, vector in zip(missing, vectors):
                    self._vectors[text] = vector
                    self._vectors.move_to_end(text)
                while len(self._vectors) > self.capacity:
                    self._vectors.popitem(last=False)
            found.update(zip(missing, vectors))
        return np.stack([found[text] for text in texts])

    def __len__(self) -> int:
        return len(self._vectors)

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()
