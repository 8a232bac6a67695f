"""kill -9 at many points of an index run, then index again: exactly the index a clean run gives."""

import json
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from settings import Settings
from index.sync import Indexer
from tests.conftest import REPO, clean_env
from tests.index.test_sync import make_folder, write_story

RUNNER = Path(__file__).with_name("crash_runner.py")
ENV = {"NEWSDESK_CHUNK_SIZE": "64", "NEWSDESK_CHUNK_OVERLAP": "8", "NEWSDESK_WRITE_BATCH_CHUNKS": "6"}


def run_index(home: Path, folder: Path, point: str = "none", nth: int = 1, kill_after: float | None = None) -> int:
    env = clean_env(NEWSDESK_HOME=str(home), PYTHONPATH=str(REPO), **ENV)
    process = subprocess.Popen([sys.executable, str(RUNNER), point, str(nth), str(folder)], env=env, cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if kill_after is not None:
        try:
            process.wait(kill_after)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
    _, err = process.communicate(timeout=300)
    if process.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(err.decode())
    return process.returncode


def snapshot(home: Path) -> dict:
    settings = Settings(_env_file=None, home=home, chunk_size=64, chunk_overlap=8)
    indexer = Indexer(settings)
    try:
        state = {
            "articles": dict(indexer.catalog.db.execute("SELECT id, content_hash FROM articles")),
            "chunks": sorted(indexer.catalog.all_chunk_ids()),
            "embedded": sorted(indexer.catalog.embedded_chunk_ids()),
            "store": sorted(indexer.store.all_ids()),
            "metadatas": sorted(json.dumps(m, sort_keys=True) for m in indexer.store.collection.get(include=["metadatas"])["metadatas"]),
            "journal": indexer.catalog.journal_entries(),
        }
    finally:
        indexer.close()
    return state


def change_corpus(folder: Path) -> None:
    """v1 -> v2: edits, deletions, additions, a changed JSONL line."""
    for n in (1, 4, 7, 10):
        write_story(folder / f"story-{n}.txt", n, extra=f" Update {n}: officials revised the figures.")
    for n in (2, 5, 8):
        (folder / f"story-{n}.txt").unlink()
    for n in range(30, 35):
        write_story(folder / f"story-{n}.txt", n)
    feed = folder / "feed.jsonl"
    feed.write_text(feed.read_text().replace("council met on day 1", "council adjourned on day 1"))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    base = tmp_path_factory.mktemp("crash")
    v1 = make_folder(base / "articles", count=24)
    template = base / "home-v1"
    assert run_index(template, v1) == 0
    change_corpus(v1)
    reference_home = base / "home-ref"
    assert run_index(reference_home, v1) == 0
    reference = snapshot(reference_home)
    assert reference["chunks"] == reference["store"] and len(reference["articles"]) == 24 - 3 + 5 + 3
    return {"base": base, "folder": v1, "template": template, "reference": reference}


TRIALS = [("embed", 1), ("embed", 3), ("upsert", 1), ("upsert", 4), ("put_article", 2), ("put_article", 9),
          ("store_delete", 1), ("store_delete", 3), ("journal_done", 2), ("journal_done", 5)]


def trial(scenario, name: str, must_die: bool, **crash) -> None:
    home = scenario["base"] / f"home-{name}"
    shutil.copytree(scenario["template"], home)
    code = run_index(home, scenario["folder"], **crash)
    if must_die:
        assert code == -signal.SIGKILL, f"{name}: the run ended before the crash point"
    after_crash = snapshot(home)
    # what the catalog says is embedded always has its vectors, even right after a crash (the other
    # chunks are answerable by keyword and wait in the embedding queue)
    assert set(after_crash["embedded"]) <= set(after_crash["store"])
    assert run_index(home, scenario["folder"]) == 0
    final = snapshot(home)
    assert final == scenario["reference"], f"{name} (exit {code}) did not converge to the clean index"
    shutil.rmtree(home)


@pytest.mark.slow
@pytest.mark.parametrize("point, nth", TRIALS, ids=[f"{p}-{n}" for p, n in TRIALS])
def test_kill_at_a_point_then_reindex_equals_clean_run(scenario, point, nth):
    trial(scenario, f"{point}-{nth}", True, point=point, nth=nth)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10))
def test_kill_at_a_random_moment_then_reindex_equals_clean_run(scenario, seed):
    delay = random.Random(seed).uniform(2.0, 7.0)  # imports take ~2 s; the run itself a few seconds
    trial(scenario, f"timed-{seed}", False, kill_after=delay)
