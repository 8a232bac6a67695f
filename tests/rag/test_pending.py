"""An article committed by keyword only (its vectors still queued) is found, fused fairly and answered,
with a note that it is not yet in semantic search; after ``embed_pending`` dense search finds it too."""

import json

import pytest

from index.sync import Indexer
from rag.engine import NewsDesk
from settings import Settings
from tests.helpers import make_folder

NEW = {"url": "https://wire.example.org/harbour-crane", "title": "Crane collapse shuts Port Alderney",
       "source": "wire.example.org", "published_at": "2022-08-20",
       "text": "A container crane collapsed at Port Alderney on Friday, shutting the harbour for three days. "
               "The port authority said 41 ships were diverted to Kingsbridge while engineers inspected the quay."}
QUESTION = "How many ships were diverted after the crane collapse at Port Alderney?"


@pytest.fixture
def index(tmp_path, embedder):
    settings = Settings(_env_file=None, home=tmp_path / "home", answer_mode="extractive", chunk_size=64,
                        chunk_overlap=8)
    folder = make_folder(tmp_path / "articles", count=12)
    indexer = Indexer(settings, embedder=embedder)
    indexer.sync([folder])
    (folder / "new.jsonl").write_text(json.dumps(NEW) + "\n")
    indexer.sync([folder], embed=False)
    yield settings, indexer
    indexer.close()


def test_a_queued_article_is_answered_by_keyword_then_by_both(index, embedder):
    settings, indexer = index
    queued = indexer.pending_count()
    assert queued > 0
    desk = NewsDesk(settings, embedder=embedder)
    try:
        answer = desk.ask(QUESTION)
        assert not answer.refused and "41 ships" in answer.answer
        assert answer.citations and answer.citations[0].url == NEW["url"]
        assert "1 new article is not yet in semantic search (found by keyword only until embedded)" in answer.notes
        found = [e for e in answer.retrieved if e.url == NEW["url"]]
        assert found and found[0].dense_rank is None and found[0].bm25_rank == 1
        # fused as if dense search had ranked it where BM25 did, not penalized for lacking a vector
        config = settings.retrieval
        best = desk.retriever.retrieve(QUESTION, k=3)[0]
        assert best.url == NEW["url"]
        assert best.score == pytest.approx((config.dense_weight + config.bm25_weight) / (config.rrf_k + 1))

        assert indexer.embed_pending() == queued
        answer = desk.ask(QUESTION)  # the desk sees the new vectors (refresh on the writer's marker)
        assert not answer.refused and "41 ships" in answer.answer and answer.citations[0].url == NEW["url"]
        assert not any("semantic search" in note for note in answer.notes)
        found = [e for e in answer.retrieved if e.url == NEW["url"]]
        assert found[0].dense_rank is not None and found[0].bm25_rank == 1
    finally:
        desk.close()


def test_queued_chunks_are_found_within_a_date_window(index, embedder):
    """The exact route (the catalog's window vectors) skips queued chunks instead of giving up on the window."""
    settings, indexer = index
    desk = NewsDesk(settings, embedder=embedder)
    try:
        evidence, _, _ = desk.retrieve(QUESTION, since="2022-08-15", until="2022-08-31")
        assert evidence and evidence[0].url == NEW["url"] and evidence[0].dense_rank is None
    finally:
        desk.close()
