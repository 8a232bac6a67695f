"""The sentence-vector cache in front of the extractive answerer (issue 12: the extractive answer spent most of
its time embedding the same evidence sentences again for every question)."""

import threading

import numpy as np
import pytest

from index.sync import Indexer
from rag.citations import CitationVerifier
from rag.engine import NewsDesk
from rag.extractive import ExtractiveAnswerer
from rag.sentence_cache import SentenceVectors
from settings import Settings

SENTENCES = [
    "North Korea fired at least two ballistic missiles toward the Sea of Japan on Sunday.",
    "About 28,500 US troops are stationed in South Korea.",
    "Netflix announced a new season of Squid Game, the company said in a statement on Tuesday afternoon.",
    "Short one here.",
]


class CountingEmbedder:
    """The real embedder, counting the texts it is asked for."""

    def __init__(self, embedder) -> None:
        self.inner, self.texts = embedder, []
        self.name, self.dimension = embedder.name, embedder.dimension

    def embed(self, texts):
        self.texts.extend(texts)
        return self.inner.embed(texts)


def test_a_cached_vector_is_the_one_a_fresh_embed_gives_whatever_the_batch(embedder):
    """What makes the cache answer-preserving: MiniLM's vector of a text does not depend on the texts batched
    with it, so vectors cached from one question's batch equal those of another's."""
    together = embedder.embed(SENTENCES)
    alone = np.stack([embedder.embed([s])[0] for s in SENTENCES])
    assert np.array_equal(together, alone)
    cache = SentenceVectors(embedder)
    cache.embed(SENTENCES[1:3])  # cached from a different batch
    assert np.array_equal(cache.embed(SENTENCES), together)


def test_known_texts_are_not_embedded_again_and_the_oldest_is_evicted(embedder):
    counting = CountingEmbedder(embedder)
    cache = SentenceVectors(counting, capacity=3)
    first = cache.embed([SENTENCES[0], SENTENCES[1], SENTENCES[0]])  # a repeat within one call is embedded once
    assert counting.texts == SENTENCES[:2] and np.array_equal(first[0], first[2])
    cache.embed(SENTENCES[:2])
    assert counting.texts == SENTENCES[:2] and (cache.hits, cache.misses) == (2, 2)
    cache.embed(SENTENCES[2:4])  # 4 texts for 3 places: the least recently used (SENTENCES[0]) goes
    assert len(cache) == 3
    cache.embed([SENTENCES[1], SENTENCES[0]])
    assert counting.texts == SENTENCES + [SENTENCES[0]]
    assert cache.embed([]).shape[0] == 0


def test_capacity_zero_caches_nothing(embedder):
    counting = CountingEmbedder(embedder)
    cache = SentenceVectors(counting, capacity=0)
    cache.embed(SENTENCES[:2])
    cache.embed(SENTENCES[:2])
    assert counting.texts == SENTENCES[:2] * 2 and len(cache) == 0


def test_one_cache_per_embedder_shared_by_the_answerer_and_the_verifier(embedder):
    answerer, verifier = ExtractiveAnswerer(embedder), CitationVerifier(embedder)
    assert answerer.vectors is verifier.vectors is SentenceVectors.shared(embedder)
    assert SentenceVectors.shared(CountingEmbedder(embedder)) is not answerer.vectors


def test_threads_sharing_the_cache_get_the_right_vectors(embedder):
    cache = SentenceVectors(embedder, capacity=2)  # small: threads evict each other's texts
    expected = {s: v for s, v in zip(SENTENCES, embedder.embed(SENTENCES))}
    wrong: list[str] = []

    def ask(offset: int) -> None:
        for i in range(12):
            texts = [SENTENCES[(offset + i) % 4], SENTENCES[(offset + i + 1) % 4]]
            for text, vector in zip(texts, cache.embed(texts)):
                if not np.array_equal(vector, expected[text]):
                    wrong.append(text)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not wrong


@pytest.fixture(scope="module")
def seed_desk(tmp_path_factory, seed_file, embedder):
    settings = Settings(_env_file=None, home=tmp_path_factory.mktemp("cache") / "home", answer_mode="extractive")
    indexer = Indexer(settings, embedder=embedder)
    indexer.sync([seed_file])
    indexer.close()
    desk = NewsDesk(settings, embedder=CountingEmbedder(embedder))
    yield desk
    desk.close()


QUESTIONS = ["Why did North Korea fire the missiles?", "How many US troops are stationed in South Korea?",
             "In which city did the Trump-Kim summit that ended diplomacy collapse?",
             "Did North Korea fire missiles toward the Sea of Japan?", "What did Netflix announce?"]


def test_answers_are_the_same_with_and_without_the_cache_and_a_question_is_embedded_once(seed_desk):
    def answers() -> list:
        return [(a.answer, a.refused, [(c.article_id, c.quote) for c in a.citations])
                for a in (seed_desk.ask(q) for q in QUESTIONS)]

    shared = seed_desk.extractive.vectors
    seed_desk.extractive.vectors = seed_desk.verifier.vectors = SentenceVectors(seed_desk.embedder, capacity=0)
    try:
        uncached = answers()
    finally:
        seed_desk.extractive.vectors = seed_desk.verifier.vectors = shared
    assert any(not refused for _, refused, _ in uncached)
    assert answers() == uncached
    seed_desk.embedder.texts.clear()
    assert answers() == uncached
    # asked again: nothing is embedded, neither a sentence nor the question (retrieval and the answerer share
    # one cache, so a question is embedded once, however often it is asked)
    assert seed_desk.embedder.texts == []
    new = "Where are the US troops in Korea stationed?"
    seed_desk.ask(new)
    assert seed_desk.embedder.texts.count(new) == 1
