"""Fixtures of the UI tests: the app driven by streamlit.testing.v1.AppTest on real indexes.

Every AppTest runs the real entry point (app.py, st.navigation) against a real index in a temporary
NEWSDESK_HOME: the packaged MiniLM embedder, an embedded Chroma store and the SQLite catalog. A
page other than the chat is chosen as a browser would by its URL: ``new_session("library")``
runs the app once, then ``AppTest.switch_page("ui/pages/library.py")``. The helpers (``new_session``,
``ask``, the payloads) are in tests/helpers.py; ``use_home`` is in tests/conftest.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.sync import Indexer
from settings import Settings
from tests.helpers import HOSTILE


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory, seed_file, embedder) -> Path:
    """A read-only index for the chat tests: the seed article and a hostile article."""
    root = tmp_path_factory.mktemp("app")
    articles = root / "articles"
    articles.mkdir()
    (articles / "hostile.json").write_text(json.dumps(HOSTILE), encoding="utf-8")
    (articles / "weather.txt").write_text("Heavy rain expected in Bergen\nForecasters expect 80 mm of rain in "
                                          "Bergen on Friday, the most since 2019.\n", encoding="utf-8")
    home = root / "home"
    indexer = Indexer(Settings(_env_file=None, home=home), embedder=embedder)
    report = indexer.sync([seed_file, articles])
    indexer.close()
    assert report.added == 3 and not report.skipped
    return home
