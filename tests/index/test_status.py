"""The freshness view: newest arrival, embedding queue, watcher heartbeat, feeds, lag, and `status`."""

import json
from datetime import datetime, timedelta, timezone

import pytest

from ingest.feed_state import FeedStates
from index.status import freshness_rows, read_freshness, stale_text
from tests.helpers import make_folder, store_env

# the ``indexer`` fixture (tests/index/conftest.py) on each catalog: the freshness view reads the catalog (the
# Chroma server case adds nothing the SQLite one lacks)
pytestmark = pytest.mark.parametrize("store_settings", ["embedded", "postgres"], indirect=True)


def test_queue_arrival_and_lag(indexer, tmp_path):
    indexer.sync([make_folder(tmp_path / "articles")], embed=False)
    status = indexer.status()
    fresh = status.freshness
    assert status.pending_articles == fresh.pending_articles == 9 and status.pending_chunks == fresh.pending_chunks > 9
    assert fresh.newest_arrival_at and fresh.newest_arrival_id and not fresh.stale
    arrived = datetime.fromisoformat(fresh.newest_arrival_at)
    assert abs((datetime.now(timezone.utc) - arrived).total_seconds()) < 600
    # the dated items were published in 2022: an archive indexed today, not news, so no years-long "lag"
    assert fresh.arrivals == 9 and fresh.news_arrivals == 0 and fresh.lag_p50_s is None
    assert fresh.embed_lag_p50_s is None
    rows = dict(freshness_rows(fresh))
    assert rows["waiting for embeddings"].startswith("9 article(s)")
    assert rows["publication to answerable"].startswith("no article published in the days before it arrived")
    # an article published two hours before it arrives is news: its lag is its age at arrival
    published = (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat(timespec="seconds")
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "fresh.json").write_text(json.dumps({"title": "Bridge reopens", "published_at": published,
                                                              "text": "The bridge reopened this morning."}))
    indexer.sync([make_folder(tmp_path / "articles"), tmp_path / "news"], embed=False)
    fresh = indexer.status().freshness
    assert fresh.news_arrivals == 1 and fresh.lag_p50_s == pytest.approx(2 * 3600, abs=600)
    assert "over 1 article(s) that arrived new" in dict(freshness_rows(fresh))["publication to answerable"]
    assert fresh.newest_arrival_title == "Bridge reopens"

    indexer.embed_pending()
    fresh = indexer.status().freshness
    assert fresh.pending_chunks == 0 and fresh.embed_lag_p50_s is not None and fresh.embed_lag_p95_s >= 0
    assert dict(freshness_rows(fresh))["waiting for embeddings"] == "none"


def test_watcher_running_or_last_seen(indexer):
    now = datetime.now(timezone.utc)
    assert read_freshness(indexer.catalog, indexer.settings).watcher is None
    beat = {"pid": 4242, "host": "desk-1", "started": now.isoformat(), "last_seen": now.isoformat(), "state": "idle"}
    indexer.catalog.set_meta("watcher", json.dumps(beat))
    watcher = read_freshness(indexer.catalog, indexer.settings).watcher
    assert watcher.running and watcher.pid == 4242
    assert dict(freshness_rows(read_freshness(indexer.catalog, indexer.settings)))["watcher"].startswith(
        "running (pid 4242 on desk-1), idle")
    beat["last_seen"] = (now - timedelta(hours=2)).isoformat()
    indexer.catalog.set_meta("watcher", json.dumps(beat))
    fresh = read_freshness(indexer.catalog, indexer.settings)
    assert not fresh.watcher.running
    assert dict(freshness_rows(fresh))["watcher"].startswith("not running: last seen ")
    indexer.catalog.set_meta("watcher", "{not json")
    assert read_freshness(indexer.catalog, indexer.settings).watcher is None


def test_feeds_are_listed_with_last_poll_new_items_and_error(indexer):
    with FeedStates.for_settings(indexer.settings) as feeds:
        feeds.add("https://news.example.com/rss", name="Example wire")
        feeds.update("https://news.example.com/rss", last_poll="2026-01-02T03:04:05+00:00", status="error",
                      new_items=3, last_error="HTTP 503 from news.example.com")
    fresh = read_freshness(indexer.catalog, indexer.settings)
    assert [(f.name, f.new_items, f.status) for f in fresh.feeds] == [("Example wire", 3, "error")]
    line = dict(freshness_rows(fresh))["feed Example wire"]
    assert line == "last poll 2026-01-02 03:04:05 UTC, 3 new, error, last error: HTTP 503 from news.example.com"


def test_stale_after_the_setting(indexer, tmp_path):
    indexer.sync([make_folder(tmp_path / "articles")])
    settings = indexer.settings
    assert stale_text(read_freshness(indexer.catalog, settings), settings.ingest.stale_after_hours) is None
    two_days_ago = (datetime.now(timezone.utc) - timedelta(days=2)).isoformat(timespec="seconds")
    indexer.catalog.set_meta("last_indexed", two_days_ago)
    fresh = read_freshness(indexer.catalog, settings)
    assert fresh.stale
    warning = stale_text(fresh, settings.ingest.stale_after_hours)
    assert warning.startswith("The index was last updated 2.0 d ago (more than 24 h)")
    later = settings.updated(stale_after_hours=72)
    assert not read_freshness(indexer.catalog, later).stale


def test_status_command_shows_freshness(indexer, tmp_path, monkeypatch, capsys):
    from cli import main

    indexer.sync([make_folder(tmp_path / "articles")], embed=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSDESK_HOME", str(indexer.settings.index.home))
    monkeypatch.setenv("NEWSDESK_CHUNK_SIZE", "64")
    monkeypatch.setenv("NEWSDESK_CHUNK_OVERLAP", "8")
    index = indexer.settings.index
    if index.catalog_dsn:  # the shared catalog and its Chroma server, as the indexer has them
        for key, value in store_env({"catalog_url": index.catalog_dsn, "chroma_host": index.chroma_host,
                                     "chroma_port": index.chroma_port, "collection": index.collection}).items():
            monkeypatch.setenv(key, value)
    assert main(["status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["pending_articles"] == 9 and data["freshness"]["pending_chunks"] == data["pending_chunks"] > 0
    assert {"newest_arrival_at", "watcher", "feeds", "lag_p50_s", "lag_p95_s"} <= set(data["freshness"])
    assert main(["status"]) == 0
    human = capsys.readouterr().out
    assert "waiting for embeddings" in human and "9 article(s)" in human and "publication to answerable" in human


def test_the_newest_arrival_without_a_title_is_named_by_its_url_or_first_words(indexer, tmp_path):
    """After `make run` the sidebar said "Newest arrival: untitled": an article without a title is shown by
    the title its URL gives, else by its first words."""
    folder = tmp_path / "untitled"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps({"url": "https://example.com/news/2023/bridge-reopens-after-floods",
                                               "title": "", "text": "The bridge reopened this morning."}))
    indexer.sync([folder], embed=False)
    assert read_freshness(indexer.catalog, indexer.settings).newest_arrival_title.lower().startswith("bridge reopens")
    (folder / "a.json").unlink()
    (folder / "b.json").write_text(json.dumps({"text": "Dunmore's library opens on Sundays from June."}))
    indexer.sync([folder], embed=False)
    assert read_freshness(indexer.catalog, indexer.settings).newest_arrival_title.startswith("Dunmore's library")
