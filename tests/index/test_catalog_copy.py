"""`newsdesk catalog copy` (``index.copy``): a real index (SQLite catalog, embedded Chroma, real MiniLM vectors) of
the seed article, stories, dated feed items, a wire copy and a followed feed, copied into a real PostgreSQL
catalog beside a real Chroma server. The copy is stopped part way and resumed by the CLI; afterwards both
indexes hold the same rows, rank BM25 and hybrid searches the same and answer with the same citation, and
not one byte of the source changed. A target that holds other articles is refused."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from errors import BadInput
from index.catalog import open_catalog, open_feed_table
from index.copy import copy_index, source_settings
from index.search import Bm25Search
from index.sync import Indexer
from rag.engine import NewsDesk
from rag.text import query_terms
from settings import Settings
from tests.helpers import REPO, clean_env, make_folder, store_env, write_story

pytestmark = pytest.mark.server

QUESTION = "How many US troops are stationed in South Korea?"
QUERIES = [QUESTION, "wildfire story detail", "council met on day", "airline report figures", "harbour election"]


class Stop(Exception):
    pass


def _files(home: Path) -> dict[str, str]:
    """Every file under ``home`` with its bytes' hash, but for what any SQLite reader of a WAL file makes beside it
    (as ``newsdesk ask`` on that home does): the shared-memory index, and an empty log where there was none."""
    return {str(f.relative_to(home)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(home.rglob("*")) if f.is_file() and not f.name.endswith("-shm")
            and not (f.name.endswith("-wal") and f.stat().st_size == 0)}


@pytest.fixture
def indexes(tmp_path, seed_file, embedder, postgres_server, chroma_server):
    """(source settings, target settings): a real index under its own home, and an empty PostgreSQL catalog with a
    Chroma server collection of the same name."""
    collection = f"copy-{os.getpid()}-{tmp_path.name}"[-60:].strip("-_.")
    folder = make_folder(tmp_path / "articles", 6)
    shutil.copy(seed_file, folder / seed_file.name)
    write_story(folder / "story-0-again.txt", 0)  # a wire copy of story-0: same text, no chunks of its own
    target = Settings(_env_file=None, home=tmp_path / "target-home", chunk_size=64, chunk_overlap=8,
                      collection=collection, catalog_url=postgres_server.url, chroma_host="127.0.0.1",
                      chroma_port=chroma_server.port)
    source = source_settings(target, tmp_path / "source-home")
    indexer = Indexer(source, embedder=embedder)
    indexer.sync([folder])
    indexer.close()
    feeds = open_feed_table(source)
    feeds.insert("https://feeds.example.com/world.xml", "world", "world", "2026-12-01T00:00:00+00:00")
    feeds.update("https://feeds.example.com/world.xml", {"status": "ok", "items": 4, "etag": '"abc"'})
    feeds.close()
    return source, target


def _rows(settings: Settings) -> dict:
    catalog, feeds = open_catalog(settings, read_only=True), open_feed_table(settings, read_only=True)
    try:
        ids = sorted(catalog.article_hashes())
        return {"articles": {i: catalog.get_article(i) for i in ids},
                "chunks": {i: catalog.chunk_ids_of(i) for i in ids},
                "records": catalog.chunk_records(sorted(catalog.all_chunk_ids())),
                "embedded": catalog.embedded_chunk_ids(), "pending": catalog.pending_counts(),
                "vectors": dict(zip(*catalog.window_vectors(_everything()))),
                "clusters": catalog.wire_cluster_of(ids), "signatures": catalog.wire_signatures(ids),
                "roots": catalog.roots(), "feeds": feeds.list(), "counts": catalog.counts(),
                "stories": catalog.story_list(min_articles=1, limit=1000), "story_of": catalog.story_of(ids)}
    finally:
        catalog.close()
        feeds.close()


def _everything():
    from index.types import ChunkFilter

    return ChunkFilter()


def _searches(settings: Settings, embedder) -> dict:
    desk = NewsDesk(settings.updated(answer_mode="extractive"), embedder=embedder)
    try:
        bm25 = Bm25Search(desk.catalog, settings.retrieval)
        out = {}
        for query in QUERIES:
            out[query] = {"bm25": bm25.search(query_terms(query), 20),
                          "hybrid": [(e.chunk_id, e.score) for e in desk.retrieve(query, k=8)[0]],
                          "as_of": [(e.chunk_id, e.score) for e in desk.retrieve(query, k=8, as_of="2022-08-03")[0]]}
        answer = desk.ask(QUESTION, mode="extractive")
        out["answer"] = (answer.answer, [(c.article_id, c.quote) for c in answer.citations])
        return out
    finally:
        desk.close()


def _same_ranking(a: list[tuple[str, float]], b: list[tuple[str, float]]) -> None:
    assert [i for i, _ in a] == [i for i, _ in b]
    assert [s for _, s in a] == pytest.approx([s for _, s in b], rel=1e-9, abs=1e-12)


def test_a_copy_stopped_part_way_is_resumed_and_answers_as_the_source(indexes, embedder):
    source, target = indexes
    before = _files(source.index.home)
    total = len(_rows(source)["articles"])

    def stop_after_two_batches(done: int, of: int) -> None:
        if done >= 6:
            raise Stop
    with pytest.raises(Stop):
        copy_index(source, target, embedder, on_progress=stop_after_two_batches, batch_articles=3)
    partial = open_catalog(target, read_only=True)
    assert partial.count_articles() == 6  # two whole batches, nothing of the third
    partial.close()

    env = clean_env(PYTHONPATH=str(REPO), NEWSDESK_HOME=str(target.index.home), NEWSDESK_CHUNK_SIZE="64",
                    NEWSDESK_CHUNK_OVERLAP="8", NEWSDESK_COLLECTION=target.index.collection,
                    **store_env({"catalog_url": target.index.catalog_dsn, "chroma_host": "127.0.0.1",
                                 "chroma_port": target.index.chroma_port}))
    run = subprocess.run([sys.executable, "-m", "cli", "catalog", "copy", "--from", str(source.index.home), "--json"],
                         env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert (report["resumed_after"], report["articles"]) == (6, total - 6)
    assert report["feeds"] == 1 and report["roots"] == 1 and report["queued"] == 0

    copied, original = _rows(target), _rows(source)
    assert copied == original
    assert any(row.articles >= 2 for row in original["stories"])  # the wire copy's story, made again on the copy
    assert any(n == 0 for n in (len(c) for c in original["chunks"].values()))  # the wire copy came over too
    assert len(set(original["clusters"].values())) < len(original["clusters"])
    assert _files(source.index.home) == before  # the source was never written

    theirs, ours = _searches(source, embedder), _searches(target, embedder)
    for query in QUERIES:
        for kind in ("bm25", "hybrid", "as_of"):
            _same_ranking(ours[query][kind], theirs[query][kind])
        assert ours[query]["hybrid"]
    assert ours["answer"] == theirs["answer"]
    assert "28,500" in ours["answer"][0] and ours["answer"][1]

    # the copy is a working index: the next index run there finds every article unchanged
    indexer = Indexer(target, embedder=embedder)
    try:
        assert indexer.store.count() == len(original["embedded"])
        assert indexer.sync([Path(r) for r in original["roots"]]).unchanged == total
    finally:
        indexer.close()


def test_a_target_holding_other_articles_is_refused(indexes, embedder, tmp_path):
    source, target = indexes
    other = tmp_path / "other"
    other.mkdir()
    write_story(other / "story-99.txt", 99)
    indexer = Indexer(target, embedder=embedder)
    indexer.sync([other])
    indexer.close()
    with pytest.raises(BadInput, match="already holds 1 articles that are not a copy of"):
        copy_index(source, target, embedder)
    catalog = open_catalog(target, read_only=True)
    assert catalog.count_articles() == 1
    catalog.close()
