"""Stories under the index's crash guarantee: ``newsdesk index`` killed (SIGKILL) while it writes story links or
stories, then run again, leaves the stories a clean run of the same articles makes, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal

import pytest

from index.catalog import open_catalog
from settings import Settings
from tests.helpers import run_index
from tests.stories.story_set import BAKERY, DELIA, GORDO, story_state, write

_counter = iter(range(1_000_000))
TRIALS = [("story_put_edges", 1), ("story_set_members", 1), ("story_set_members", 2)]


def _store(backend: str, request) -> dict:
    if backend == "sqlite":
        return {}
    return {"catalog_url": request.getfixturevalue("postgres_server").url, "chroma_host": "127.0.0.1",
            "chroma_port": request.getfixturevalue("chroma_server").port,
            "collection": f"stories-{os.getpid()}-{next(_counter)}"}


def _state(home, store: dict) -> dict:
    catalog = open_catalog(Settings(_env_file=None, home=home, chunk_size=64, chunk_overlap=8, **store))
    try:
        return story_state(catalog)
    finally:
        catalog.close()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@pytest.mark.parametrize("point, nth", TRIALS, ids=[f"{p}-{n}" for p, n in TRIALS])
def test_kill_while_stories_are_written_then_reindex_equals_clean_run(backend, point, nth, tmp_path, request):
    reference_store = _store(backend, request)
    assert run_index(tmp_path / "home-ref", write(tmp_path / "all"), store=reference_store) == 0
    reference = _state(tmp_path / "home-ref", reference_store)
    assert len({reference["members"][item[1]] for item in DELIA}) == 1

    store = _store(backend, request)
    folder = write(tmp_path / "articles", [*DELIA[:2], BAKERY])
    assert run_index(tmp_path / "home", folder, store=store) == 0
    write(folder, [*DELIA[2:], GORDO])
    assert run_index(tmp_path / "home", folder, point=point, nth=nth, store=store) == -signal.SIGKILL
    assert _state(tmp_path / "home", store) != reference
    assert run_index(tmp_path / "home", folder, store=store) == 0
    assert _state(tmp_path / "home", store) == reference
