"""kill -9 at many points of an index run, then index again: exactly the index a clean run gives; on the SQLite
catalog (the home's files) and on PostgreSQL with a Chroma server, whose writer lock the dead process's session
frees."""

import random
import shutil
import signal
import time
from pathlib import Path

import pytest

from tests.helpers import change_corpus, make_folder, run_index, snapshot


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """v1 indexed by a clean run (the template every trial copies); the inputs changed to v2; the reference is a
    clean index of v2. ``before`` is the template's state, ``seconds`` how long an uninterrupted v1 -> v2 run took."""
    base = tmp_path_factory.mktemp("crash")
    v1 = make_folder(base / "articles", count=24)
    template = base / "home-v1"
    assert run_index(template, v1) == 0
    before = snapshot(template)
    change_corpus(v1)
    reference_home = base / "home-ref"
    assert run_index(reference_home, v1) == 0
    reference = snapshot(reference_home)
    assert reference["chunks"] == reference["store"] and len(reference["articles"]) == 24 - 3 + 5 + 3
    assert before["articles"] != reference["articles"]
    uninterrupted = base / "home-uninterrupted"
    shutil.copytree(template, uninterrupted)
    started = time.monotonic()
    assert run_index(uninterrupted, v1) == 0
    seconds = time.monotonic() - started
    assert snapshot(uninterrupted) == reference
    shutil.rmtree(uninterrupted)
    return {"base": base, "folder": v1, "template": template, "before": before, "reference": reference,
            "seconds": seconds}


def killed_run(scenario, name: str, **crash) -> tuple:
    """The v1 -> v2 run on a copy of the template, killed as ``crash`` says: (home, exit code, state after it)."""
    home = scenario["base"] / f"home-{name}"
    shutil.copytree(scenario["template"], home)
    code = run_index(home, scenario["folder"], **crash)
    return home, code, snapshot(home)


def converges(scenario, name: str, home, code: int, after_crash: dict) -> None:
    # what the catalog says is embedded always has its vectors, even right after a crash (the other
    # chunks are answerable by keyword and wait in the embedding queue)
    assert set(after_crash["embedded"]) <= set(after_crash["store"])
    assert run_index(home, scenario["folder"]) == 0
    final = snapshot(home)
    assert final == scenario["reference"], f"{name} (exit {code}) did not converge to the clean index"
    shutil.rmtree(home)


TRIALS = [("embed", 1), ("embed", 3), ("upsert", 1), ("upsert", 4), ("put_article", 2), ("put_article", 9),
          ("store_delete", 1), ("store_delete", 3), ("journal_done", 2), ("journal_done", 5)]


@pytest.mark.slow
@pytest.mark.parametrize("point, nth", TRIALS, ids=[f"{p}-{n}" for p, n in TRIALS])
def test_kill_at_a_point_then_reindex_equals_clean_run(scenario, point, nth):
    name = f"{point}-{nth}"
    home, code, after_crash = killed_run(scenario, name, point=point, nth=nth)
    assert code == -signal.SIGKILL, f"{name}: the run ended before the crash point"
    converges(scenario, name, home, code, after_crash)


MOMENTS = 10  # kills tried per seed until one lands while the run is writing


def moment(scenario, after_crash: dict, code: int) -> str:
    """When the kill came, from what the run had written: "early" (nothing yet: the template's state), "late" (the
    run was done: the clean index of v2) or "mid-run" (started and unfinished: some of its writes are in the
    catalog or Chroma, not all)."""
    if code == 0 or after_crash == scenario["reference"]:
        return "late"
    if after_crash == scenario["before"]:
        return "early"
    return "mid-run"


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10))
def test_kill_at_a_random_moment_then_reindex_equals_clean_run(scenario, seed):
    """Killed at a random moment of the run, proven to be mid-run. A kill before the run's first write or after its
    last proves nothing (its writes take well under a second of a run of about 4 s, most of it start-up), so then the
    moment is drawn again, from the middle of the span between the latest kill that came too early and the earliest
    that came too late."""
    rng = random.Random(seed)
    low, high = 0.0, 1.25 * scenario["seconds"]
    tried = []
    for attempt in range(MOMENTS):
        delay = low + (high - low) * rng.uniform(0.25, 0.75)
        name = f"timed-{seed}-{attempt}"
        home, code, after_crash = killed_run(scenario, name, kill_after=delay)
        when = moment(scenario, after_crash, code)
        tried.append(f"{delay:.2f} s: {when}")
        if when == "mid-run":
            assert code == -signal.SIGKILL
            converges(scenario, name, home, code, after_crash)
            return
        shutil.rmtree(home)
        if when == "early":
            low = delay
        else:
            high = delay
    pytest.fail(f"no kill landed while the run was writing (an uninterrupted run took {scenario['seconds']:.1f} s): "
                + ", ".join(tried))


# --- the same on PostgreSQL and a Chroma server ----------------------------------------------------
PG_TRIALS = [("embed", 3), ("upsert", 4), ("put_article", 2), ("store_delete", 1), ("journal_done", 2)]


def v1_folder(base: Path) -> Path:
    """v1 of the articles, written afresh at the same place every time (the same article ids)."""
    folder = base / "articles"
    shutil.rmtree(folder, ignore_errors=True)
    return make_folder(folder, count=24)


@pytest.fixture(scope="module")
def pg_scenario(tmp_path_factory, shared_store):
    """The reference: a clean index of v2 in a store of its own. A shared store is no folder to copy, so each trial
    indexes v1 afresh into a fresh collection (and schema) instead of copying a template."""
    base = tmp_path_factory.mktemp("pg-crash")
    change_corpus(v1_folder(base))
    store = shared_store()
    assert run_index(base / "home-ref", base / "articles", store=store) == 0
    reference = snapshot(base / "home-ref", store)
    assert reference["chunks"] == reference["store"] and len(reference["articles"]) == 24 - 3 + 5 + 3
    return {"base": base, "reference": reference}


@pytest.mark.slow
@pytest.mark.parametrize("point, nth", PG_TRIALS, ids=[f"{p}-{n}" for p, n in PG_TRIALS])
def test_kill_on_postgres_then_reindex_equals_clean_run(pg_scenario, shared_store, point, nth):
    base, store = pg_scenario["base"], shared_store()
    home = base / f"home-{point}-{nth}"
    assert run_index(home, v1_folder(base), store=store) == 0
    change_corpus(base / "articles")
    assert run_index(home, base / "articles", point=point, nth=nth, store=store) == -signal.SIGKILL
    after_crash = snapshot(home, store)
    assert set(after_crash["embedded"]) <= set(after_crash["store"])
    assert after_crash != pg_scenario["reference"]
    assert run_index(home, base / "articles", store=store) == 0  # the dead writer's lock is free
    assert snapshot(home, store) == pg_scenario["reference"], f"{point}-{nth} did not converge to the clean index"
