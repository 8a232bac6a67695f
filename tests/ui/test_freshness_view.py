"""The freshness view in the app (AppTest on a real index): the sidebar's queue and watcher lines, the
Library's freshness panel, and the chat's warning when the index was not updated for too long."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from index.catalog import Catalog
from index.sync import Indexer
from settings import Settings
from tests.helpers import make_folder, new_session, unescaped


def queued_home(tmp_path, embedder, days_old: float):
    home = tmp_path / "home"
    indexer = Indexer(Settings(_env_file=None, home=home), embedder=embedder)
    indexer.sync([make_folder(tmp_path / "articles")], embed=False)
    indexer.close()
    catalog = Catalog(Settings(_env_file=None, home=home).index.catalog_path)
    written = datetime.now(timezone.utc) - timedelta(days=days_old)
    catalog.set_meta("last_indexed", written.isoformat(timespec="seconds"))
    catalog.set_meta("watcher", json.dumps({"pid": 777, "host": "desk-1", "started": written.isoformat(),
                                            "last_seen": written.isoformat(), "state": "idle"}))
    catalog.close()
    return home


def test_stale_index_warning_queue_and_watcher_in_chat_and_library(tmp_path, use_home, embedder):
    use_home(queued_home(tmp_path, embedder, days_old=2))
    chat = new_session()
    warnings = [unescaped(w.value) for w in chat.warning]
    assert any("The index was last updated 2.0 d ago (more than 24 h)" in w for w in warnings), warnings
    sidebar = unescaped(" ".join(c.value for c in chat.sidebar.caption))
    assert "Waiting for embeddings: 9 article(s)" in sidebar and "Watcher: not running: last seen" in sidebar

    library = new_session("library")
    panel = next(e for e in library.expander if e.label.startswith("Freshness"))
    assert panel.label == "Freshness · 9 waiting for embeddings"
    shown = unescaped(" ".join(m.value for m in panel.markdown))
    assert "- **waiting for embeddings**: 9 article(s)" in shown and "- **watcher**: not running: last seen" in shown


def test_no_warning_while_fresh(tmp_path, use_home, embedder):
    use_home(queued_home(tmp_path, embedder, days_old=0), NEWSDESK_STALE_AFTER_HOURS="1")
    chat = new_session()
    assert not any("last updated" in w.value for w in chat.warning)
