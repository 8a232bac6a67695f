"""Feeds against a real HTTP server on 127.0.0.1: parsing, article pages, conditional GET, politeness,
robots.txt, the faults (each a clear status, the other feeds keep flowing), and the index they make."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time

import pytest

from ingest.feed_state import FeedStates
from ingest.feeds import FeedPoller, feed_folder, html_to_text
from ingest.fetch import PoliteFetcher, retry_after_seconds
from index.sync import Indexer
from index.types import article_id_for
from settings import Settings
from tests.ingest.feed_server import FeedServer, Item, Route, article_page, atom, dated, rss

_collections = iter(range(1_000_000))


@pytest.fixture
def server():
    feed_server = FeedServer().start()
    feed_server.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private/\n", "text/plain")
    yield feed_server
    feed_server.stop()


BACKENDS = pytest.mark.parametrize("fsettings", ["sqlite", "postgres"], indirect=True)  # where the feed state lives


@pytest.fixture
def fsettings(request, tmp_path) -> Settings:
    """The feed tests' settings: the SQLite catalog in the home; a test marked ``BACKENDS`` (the ones that keep
    feed state or index items) also runs on the PostgreSQL catalog with a Chroma server."""
    values = {}
    if getattr(request, "param", "sqlite") == "postgres":
        values = dict(catalog_url=request.getfixturevalue("postgres_server").url, chroma_host="127.0.0.1",
                      chroma_port=request.getfixturevalue("chroma_server").port,
                      collection=f"feeds-{os.getpid()}-{next(_collections)}")
    return Settings(_env_file=None, home=tmp_path / "home", chunk_size=64, chunk_overlap=8,
                    feed_host_delay_seconds=0.05, feed_timeout_seconds=3, feed_max_mb=1, **values)


class Feeds:
    """A poller over real feed state and a real fetcher (closed by the fixture)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.states = FeedStates.for_settings(settings)
        self.fetcher = PoliteFetcher(settings)
        self.poller = FeedPoller(settings, self.states, self.fetcher)

    def add_and_poll(self, url: str, name: str | None = None):
        return self.poller.poll(self.states.add(url, name=name))

    def items(self, url: str) -> dict[str, dict]:
        folder = feed_folder(self.settings, self.states.get(url))
        return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


@pytest.fixture
def feeds(fsettings):
    made = Feeds(fsettings)
    yield made
    made.fetcher.close()
    made.states.close()


def news_items(server: FeedServer) -> list[Item]:
    server.routes["/a/harbour-terminal-opens"] = Route(article_page("Harbour terminal opens"), "text/html")
    server.routes["/private/locked-story"] = Route(article_page("Locked story"), "text/html")
    return [
        Item("Full text in the feed", link=server.url("/a/full-text"), summary="Short summary.",
             content="<p>The council approved the budget on Monday.</p><p>It includes a new library.</p>"),
        Item("Harbour terminal opens", link=server.url("/a/harbour-terminal-opens"), summary="Terminal opens in spring."),
        Item("Locked story", link=server.url("/private/locked-story"), summary="Only this summary may be indexed."),
        Item("No link, but a guid", guid="urn:example:guid-1", summary="A story known only by its guid."),
        Item("Neither link nor guid", summary="This item cannot be tracked."),
    ]


@BACKENDS
def test_rss_items_become_article_files_the_indexer_reads(server, feeds, fsettings, embedder):
    server.routes["/rss.xml"] = Route(rss(news_items(server)), etag='"v1"')
    result = feeds.add_and_poll(server.url("/rss.xml"), name="Example")
    assert (result.status, result.new_items, result.items) == ("ok", 4, 4)
    assert "without a link or id" in result.error  # the untrackable item is named in the status
    items = feeds.items(server.url("/rss.xml"))
    full = items[article_id_for(server.url("/a/full-text"), "")]
    assert full["text_from"] == "feed" and "new library" in full["text"] and not full["summary_only"]
    page = items[article_id_for(server.url("/a/harbour-terminal-opens"), "")]
    assert page["text_from"] == "page" and "container terminal" in page["text"] and not page["summary_only"]
    locked = items[article_id_for(server.url("/private/locked-story"), "")]
    assert locked["summary_only"] and locked["text"] == "Only this summary may be indexed."
    assert not server.hits_for("/private/locked-story")  # robots.txt said no
    assert any(name.startswith("guid-") for name in items)
    assert all("newsdesk" in hit.user_agent for hit in server.hits)
    state = feeds.states.get("Example")
    assert (state.status, state.new_items, state.items, state.etag) == ("ok", 4, 4, '"v1"')

    indexer = Indexer(fsettings, embedder=embedder)
    try:
        report = indexer.sync([feed_folder(fsettings, state)])
        assert (report.added, report.skipped) == (4, [])
        # item ids are the indexer's own: the normalized link
        assert indexer.catalog.get_article(article_id_for(server.url("/a/full-text").upper().replace("HTTP:", "https:"), "")) is None
        assert indexer.catalog.get_article(article_id_for(server.url("/a/full-text"), "")).summary_only is False
        # the summary-only mark reaches the catalog and the article list
        assert indexer.catalog.get_article(article_id_for(server.url("/private/locked-story"), "")).summary_only
        listed = {a.article_id: a.summary_only for a in indexer.catalog.list_articles()}
        assert listed[article_id_for(server.url("/private/locked-story"), "")]
        assert not listed[article_id_for(server.url("/a/full-text"), "")]
        assert not listed[article_id_for(server.url("/a/harbour-terminal-opens"), "")]  # its page was read
        assert indexer.verify() == {"missing_in_store": [], "stale_in_store": []}
    finally:
        indexer.close()


@BACKENDS
def test_conditional_get_and_unchanged_items(server, feeds):
    server.routes["/rss.xml"] = Route(rss(news_items(server)[:2]), etag='"v1"')
    feeds.add_and_poll(server.url("/rss.xml"))
    second = feeds.poller.poll(feeds.states.get(server.url("/rss.xml")))
    assert second.status == "not_modified" and second.new_items == 0
    assert server.hits_for("/rss.xml")[-1].if_none_match == '"v1"'
    assert feeds.states.get(server.url("/rss.xml")).items == 2


@BACKENDS
def test_date_churn_rewrites_nothing_and_an_update_replaces_the_item(server, feeds, fsettings, embedder):
    link = server.url("/a/churn")
    version = {"title": "Mayor opens bridge"}

    def churning_feed() -> bytes:  # every poll: new dates on every item, no ETag
        return rss([Item(version["title"], link=link, summary="The bridge opened at noon.", content="<p>The new bridge "
                         "opened at noon after three years of building, the mayor said.</p>", published=dated(0)),
                    Item("Other", link=server.url("/a/other"), content="<p>Another story entirely.</p>",
                         published=dated(0))])

    server.routes["/churn.xml"] = Route(kind="dynamic", make=churning_feed)
    feeds.add_and_poll(server.url("/churn.xml"))
    folder = feed_folder(fsettings, feeds.states.get(server.url("/churn.xml")))
    indexer = Indexer(fsettings, embedder=embedder)
    try:
        assert indexer.sync([folder]).added == 2
        before = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.json")}
        time.sleep(1.1)  # a new second: the feed's dates now differ
        again = feeds.poller.poll(feeds.states.get(server.url("/churn.xml")))
        assert (again.new_items, again.updated_items, again.unchanged_items) == (0, 0, 2)
        assert {p.name: p.stat().st_mtime_ns for p in folder.glob("*.json")} == before
        report = indexer.sync([folder])
        assert (report.unchanged, report.updated, report.chunks_embedded) == (2, 0, 0)

        version["title"] = "Mayor opens bridge, two years late"  # the same URL, updated
        updated = feeds.poller.poll(feeds.states.get(server.url("/churn.xml")))
        assert (updated.new_items, updated.updated_items) == (0, 1)
        report = indexer.sync([folder])
        assert (report.added, report.updated, report.articles) == (0, 1, 2)
        assert indexer.catalog.get_article(article_id_for(link, "")).title == version["title"]
    finally:
        indexer.close()


def test_atom_feed(server, feeds):
    server.routes["/atom.xml"] = Route(atom([
        Item("Atom entry", link=server.url("/a/atom-entry"), content="<p>Atom carries the whole text here.</p>"),
        Item("Atom summary only", link=server.url("/private/atom-2"), summary="Just a summary.")]),
        "application/atom+xml")
    result = feeds.add_and_poll(server.url("/atom.xml"))
    assert (result.status, result.new_items) == ("ok", 2)
    texts = {v["title"]: v for v in feeds.items(server.url("/atom.xml")).values()}
    assert texts["Atom entry"]["text"] == "Atom carries the whole text here."
    assert texts["Atom summary only"]["summary_only"] is True


@pytest.mark.parametrize("route, expected", [
    (Route(b"<?xml version='1.0'?><rss version='2.0'><channel><title>x</title><item><title>Broken & bad</title>"
           b"<link>http://127.0.0.1:9/a/broken</link><description>Body text.</description></item></channel>",
           "application/rss+xml"), "malformed XML"),
    (Route(b"<!DOCTYPE html><html><body><p>Welcome to our home page</p></body></html>", "text/html"),
     "an HTML page, not an RSS or Atom feed"),
    (Route(b"<?xml version='1.0'?><catalog><book>not a feed</book></catalog>", "application/xml"), "neither RSS nor Atom"),
    (Route(kind="huge"), "larger than 1 MB (20.0 MB declared)"),
    (Route(kind="huge_chunked"), "larger than 1 MB; reading stopped there"),
    pytest.param(Route(kind="slow"), "did not finish within 3 s", marks=pytest.mark.slow),  # waits out the 3 s
    (Route(kind="redirect_loop", headers={"Location": "/loop.xml"}), "too many redirects"),
    (Route(b"slow down", "text/plain", status=429, headers={"Retry-After": "120"}), "HTTP 429; it asked to wait 120 s"),
    (Route(b"oops", "text/plain", status=503), "HTTP 503"),
    (Route(b"gone", "text/plain", status=404), "HTTP 404"),
], ids=["malformed", "html", "other-xml", "huge", "huge-chunked", "never-ends", "redirect-loop", "429", "503", "404"])
def test_a_bad_feed_gets_a_clear_status_and_the_others_keep_flowing(server, feeds, route, expected):
    server.routes["/loop.xml"] = route
    server.routes["/good.xml"] = Route(rss([Item("Good item", link=server.url("/a/good"),
                                                 content="<p>Good feeds keep flowing.</p>")]))
    feeds.states.add(server.url("/loop.xml"), name="bad")
    feeds.states.add(server.url("/good.xml"), name="good")
    results = {r.name: r for r in feeds.poller.poll_round()}
    assert expected in (results["bad"].error or ""), results["bad"]
    assert (results["good"].status, results["good"].new_items) == ("ok", 1)
    bad = feeds.states.get("bad")
    assert expected in bad.last_error
    if route.status == 429:
        assert bad.status == "backoff" and bad.next_poll >= time.time() + 100
        assert feeds.poller.poll_round()[0].status == "waiting"  # a round respects Retry-After
    elif "malformed" in expected:
        assert bad.status == "ok" and "items that could be read were kept" in bad.last_error
    else:
        assert bad.status in ("error", "backoff") and bad.failures == 1 and bad.next_poll > time.time()


def test_one_request_at_a_time_per_host_with_a_pause(server, fsettings):
    settings = fsettings.updated(feed_host_delay_seconds=0.3)
    for n in range(3):
        body = rss([Item(f"Item {n}", link=server.url(f"/a/{n}"), content="<p>x y z</p>")])
        server.routes[f"/f{n}.xml"] = Route(kind="dynamic", make=lambda body=body: (time.sleep(0.2), body)[1])
    fetcher = PoliteFetcher(settings)
    try:
        threads = [threading.Thread(target=fetcher.get, args=(server.url(f"/f{n}.xml"),)) for n in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        fetcher.close()
    hits = sorted(server.hits, key=lambda h: h.started)
    # each answer takes 0.2 s and the next request may only leave 0.3 s after it came back: requests that
    # overlapped, or followed without the pause, would start closer together than 0.5 s
    assert len(hits) == 3 and all(b.started - a.started >= 0.49 for a, b in zip(hits, hits[1:]))


def test_robots_txt_rules(server, fsettings):
    server.routes["/robots.txt"] = Route(b"User-agent: newsdesk\nDisallow: /\n\nUser-agent: *\nAllow: /\n", "text/plain")
    fetcher = PoliteFetcher(fsettings)
    try:
        assert not fetcher.allowed(server.url("/a/anything"))
        server.routes.pop("/robots.txt")
        fresh = PoliteFetcher(fsettings)
        assert fresh.allowed(server.url("/a/anything"))  # no robots.txt: allowed
        fresh.close()
    finally:
        fetcher.close()


@BACKENDS
def test_feed_states_and_helpers(fsettings):
    if not fsettings.index.catalog_dsn:
        fsettings.index.catalog_path.parent.mkdir(parents=True)
        sqlite3.connect(fsettings.index.catalog_path).close()  # an empty catalog file
    with FeedStates.for_settings(fsettings, read_only=True) as view:
        assert view.list() == []  # a view before any feed: no table, no error
    with FeedStates.for_settings(fsettings) as states:
        one = states.add("https://news.example.com/rss", name="Example")
        assert states.add("https://news.example.com/rss") == one  # adding twice keeps one
        states.add("https://other.example.org/feed.xml")
        assert [s.name for s in states.list()] == ["Example", "other.example.org/feed.xml"]
        states.update(one.url, status="ok", new_items=3, items=7, last_poll="2026-12-01T10:00:00+00:00")
        got = states.get("Example")
        assert (got.status, got.new_items, got.items, got.last_error) == ("ok", 3, 7, None)
        with FeedStates.for_settings(fsettings, read_only=True) as view:
            assert [s.name for s in view.list()] == ["Example", "other.example.org/feed.xml"]
            assert view.list()[0].items == 7
        assert states.remove("Example").url == one.url and states.get("Example") is None
        assert states.add("https://user:secret@private.example.net/feed?token=abc").name == "private.example.net/feed"
        from errors import BadInput

        with pytest.raises(BadInput, match="not an http"):
            states.add("ftp://example.com/feed")
    assert html_to_text("<p>One &amp; two.</p><script>x()</script><p>Three</p>") == "One & two.\n\nThree"
    assert retry_after_seconds("120") == 120 and retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412400) == 80


def test_feeds_cli_add_poll_list_remove(server, tmp_path, monkeypatch, capsys):
    from cli import main

    monkeypatch.setenv("NEWSDESK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NEWSDESK_FEED_HOST_DELAY_SECONDS", "0")
    server.routes["/rss.xml"] = Route(rss([Item("Cli item", link=server.url("/a/cli"), content="<p>Added from the "
                                                "command line and indexed at once.</p>")]))
    assert main(["feeds", "add", server.url("/rss.xml"), "--name", "cli"]) == 0
    assert main(["feeds", "poll", "--json"]) == 0
    polled = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert polled["feeds"][0]["new_items"] == 1 and "1 added" in polled["indexed"]
    assert main(["feeds", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert listed[0]["name"] == "cli" and listed[0]["status"] == "ok" and listed[0]["items"] == 1
    assert main(["feeds", "remove", "cli"]) == 0
    assert "1 removed" in capsys.readouterr().out
    assert main(["feeds", "remove", "cli"]) == 1


@BACKENDS
def test_items_per_poll_is_a_limit(server, fsettings):
    feeds = Feeds(fsettings.updated(feed_items_per_poll=2))
    try:
        server.routes["/many.xml"] = Route(rss([Item(f"Item {n}", link=server.url(f"/a/item-{n}"),
                                                     content=f"<p>Story number {n}.</p>") for n in range(5)]))
        result = feeds.add_and_poll(server.url("/many.xml"))
        assert (result.status, result.new_items, result.items) == ("ok", 2, 2)
        assert "3 new or changed items over the per-poll limit (2) wait for the next poll" in result.error
        second = feeds.poller.poll(feeds.states.get(server.url("/many.xml")))
        third = feeds.poller.poll(feeds.states.get(server.url("/many.xml")))
        assert [(r.new_items, r.unchanged_items, r.items) for r in (second, third)] == [(2, 2, 4), (1, 4, 5)]
        assert third.error is None
    finally:
        feeds.fetcher.close()
        feeds.states.close()
