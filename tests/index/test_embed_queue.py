"""Searchable before embedded: the keyword commit, the embedding queue, and kill -9 while it drains."""

import shutil
import signal
from pathlib import Path

import pytest

from index.search import Bm25Search
from index.sync import Indexer
from tests.helpers import (QUEUE_RUNNER, change_corpus, consistent, index_state, make_folder, run_index, snapshot,
                           write_story)


def test_keyword_first_then_vectors_oldest_first(indexer, tmp_path):
    folder = make_folder(tmp_path / "articles")
    report = indexer.sync([folder], embed=False)
    total = report.chunks
    assert report.added == 9 and report.chunks_embedded == 0
    assert indexer.pending_count() == total and indexer.store.count() == 0
    status = indexer.status()
    assert (status.pending_chunks, status.pending_articles) == (total, 9)
    assert indexer.verify() == {"missing_in_store": [], "stale_in_store": [], "pending": total}
    # answerable by keyword at once
    hits = Bm25Search(indexer.catalog, indexer.settings.retrieval).search(["wildfire"], 10)
    assert hits and all(cid in indexer.catalog.all_chunk_ids() for cid, _ in hits)
    assert unembedded_articles(indexer) == 9

    oldest = [row[0] for row in indexer.catalog.pending_chunks(3)]  # the queue's oldest
    progress: list[tuple[int, int]] = []
    assert indexer.embed_pending(max_chunks=3, on_progress=lambda *a: progress.append(a)) == 3
    assert sorted(indexer.store.all_ids()) == sorted(oldest) and progress[-1] == (3, 3)
    assert indexer.pending_count() == total - 3
    assert indexer.embed_pending() == total - 3 and indexer.embed_pending() == 0
    consistent(indexer)
    assert unembedded_articles(indexer) == 0


def test_changes_and_removals_while_queued_end_like_a_clean_index(indexer, store_settings, embedder, tmp_path):
    folder = make_folder(tmp_path / "articles", count=12)
    indexer.sync([folder], embed=False)
    indexer.embed_pending(max_chunks=5)
    change_corpus_small(folder)
    indexer.sync([folder], embed=False)  # drops queued and embedded chunks alike
    indexer.remove(under=[folder / "story-3.txt"])
    (folder / "story-3.txt").unlink()
    assert indexer.verify()["stale_in_store"] == [] and indexer.verify()["missing_in_store"] == []
    indexer.embed_pending()
    consistent(indexer)

    clean = Indexer(store_settings.updated(home=tmp_path / "clean", collection=store_settings.index.collection + "-c"),
                    embedder=embedder)
    copy = shutil.copytree(folder, tmp_path / "copy" / "articles")
    clean.sync([copy])
    mine, theirs = index_state(indexer), index_state(clean)
    clean.close()
    assert mine["articles"].values() and sorted(mine["articles"].values()) == sorted(theirs["articles"].values())
    # chunk ids hash their text and title: the same chunks, every one with its vector, in both stores
    assert mine["chunks"] == mine["embedded"] == mine["store"] == theirs["chunks"] == theirs["store"]
    assert mine["journal"] == theirs["journal"] == []


def unembedded_articles(indexer) -> int:
    """How many articles have no ``embedded_at`` yet, as the freshness view reads it (either backend)."""
    return sum(1 for _, _, embedded_at in indexer.catalog.arrivals_since("") if embedded_at is None)


def change_corpus_small(folder: Path) -> None:
    for n in (0, 6):
        write_story(folder / f"story-{n}.txt", n, extra=f" Update {n}: officials revised the figures.")
    (folder / "story-1.txt").unlink()
    write_story(folder / "story-40.txt", 40)


def test_sync_with_embed_drains_what_a_watcher_left(indexer, tmp_path):
    folder = make_folder(tmp_path / "articles")
    indexer.sync([folder], embed=False)
    queued = indexer.pending_count()
    report = indexer.sync([folder])  # nothing changed, but the queue is drained (`newsdesk index`)
    assert report.unchanged == 9 and report.chunks_embedded == queued
    consistent(indexer)


# --- kill -9 while the queue drains, then run again -------------------------------------------------
def run(home: Path, folder: Path, point: str = "none", nth: int = 1, store: dict | None = None) -> int:
    """The watcher's way of indexing (tests/index/queue_runner.py), killing itself at the ``nth`` ``point``;
    ``store``: a shared store (``shared_store``), else the home's own files."""
    return run_index(home, folder, point, nth, runner=QUEUE_RUNNER, store=store)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """v1 indexed by a clean run; the inputs changed to v2; the reference is a clean `index` of v2."""
    base = tmp_path_factory.mktemp("queue-crash")
    folder = make_folder(base / "articles", count=16)
    template = base / "home-v1"
    assert run_index(template, folder) == 0
    change_corpus(folder)
    reference_home = base / "home-ref"
    assert run_index(reference_home, folder) == 0
    return {"base": base, "folder": folder, "template": template, "reference": snapshot(reference_home)}


TRIALS = [("embed", 2), ("upsert", 1), ("upsert", 3), ("set_vectors", 2), ("journal_done", 3)]


@pytest.mark.slow
@pytest.mark.parametrize("point, nth", TRIALS, ids=[f"{p}-{n}" for p, n in TRIALS])
def test_kill_while_embedding_then_run_again_equals_clean_index(scenario, point, nth):
    home = scenario["base"] / f"home-{point}-{nth}"
    shutil.copytree(scenario["template"], home)
    assert run(home, scenario["folder"], point, nth) == -signal.SIGKILL, "the run ended before the crash point"
    crashed = snapshot(home)
    assert crashed["verify"]["missing_in_store"] == []  # what the catalog holds as embedded has its vector
    assert crashed["verify"].get("pending", 0) > 0
    assert run(home, scenario["folder"]) == 0
    final = snapshot(home)
    assert final == scenario["reference"], f"{point}-{nth} did not converge to the clean index"
    shutil.rmtree(home)


@pytest.mark.slow
def test_kill_while_embedding_then_the_article_goes_away(scenario):
    """A vector upserted by a killed step whose chunk is then dropped (its file deleted before the
    restart) is removed by the journal, not left stale in Chroma."""
    home = scenario["base"] / "home-vanish"
    folder = make_folder(scenario["base"] / "vanish-articles", count=8)
    assert run(home, folder, "upsert", 1) == -signal.SIGKILL
    crashed = snapshot(home)
    upserted = set(crashed["store"]) - set(crashed["embedded"])
    assert upserted and crashed["journal"]  # in Chroma, still queued in the catalog, journaled
    for path in folder.iterdir():
        path.unlink()
    assert run(home, folder) == 0
    final = snapshot(home)
    assert final["articles"] == {} and final["store"] == [] and final["journal"] == []
    shutil.rmtree(home)


PG_TRIALS = [("upsert", 1), ("set_vectors", 2), ("journal_done", 3)]


@pytest.mark.slow
@pytest.mark.parametrize("point, nth", PG_TRIALS, ids=[f"{p}-{n}" for p, n in PG_TRIALS])
def test_kill_while_embedding_on_postgres_then_run_again_equals_clean_index(scenario, shared_store, point, nth):
    """The same on PostgreSQL and a Chroma server: v1 indexed afresh into a store of its own (a shared store is no
    folder to copy), v2 killed while embedding, run again: the clean index of v2, from the same folder."""
    store, home = shared_store(), scenario["base"] / f"home-pg-{point}-{nth}"
    v1 = make_folder(scenario["base"] / f"pg-{point}-{nth}" / "articles", count=16)
    assert run_index(home, v1, store=store) == 0
    change_corpus(v1)
    reference = scenario["base"] / f"home-pg-ref-{point}-{nth}"
    assert run_index(reference, v1, store=(clean := shared_store())) == 0
    assert run(home, v1, point, nth, store=store) == -signal.SIGKILL, "the run ended before the crash point"
    crashed = snapshot(home, store)
    assert crashed["verify"]["missing_in_store"] == [] and crashed["verify"].get("pending", 0) > 0
    assert run(home, v1, store=store) == 0  # the dead writer's lock is free
    assert snapshot(home, store) == snapshot(reference, clean), f"{point}-{nth} did not converge to the clean index"
