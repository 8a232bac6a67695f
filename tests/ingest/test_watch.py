"""The watcher on real folders: files appear, change, move and disappear; slow writes are read once
complete; one writer at a time; a watched folder deleted; a full disk; feeds through the watcher;
and kill -9 during a burst, after which a restart gives exactly what a clean `newsdesk index` gives."""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from errors import DiskFull, IndexBusy
from index.catalog import catalog_exists, open_catalog
from ingest.feed_state import FeedStates
from ingest.feeds import feeds_dir
from index.sync import Indexer
from ingest.watch import Watcher
from settings import Settings
from tests.helpers import REPO, article_hashes, clean_env, store_env, write_story
from tests.ingest.feed_server import FeedServer, Item, Route, rss

FAST = dict(chunk_size=64, chunk_overlap=8, watch_debounce_seconds=0.3, watch_poll_seconds=0.3,
            watch_heartbeat_seconds=0.5, watch_retry_seconds=0.2, feed_host_delay_seconds=0)


def wsettings(home: Path, store: dict | None = None, **extra) -> Settings:
    """The watcher's settings; ``store``: a shared store (the ``watch_store`` fixture), else the home's files."""
    return Settings(_env_file=None, home=home, **{**FAST, **(store or {}), **extra})


BACKENDS = pytest.mark.parametrize("watch_store", ["sqlite", "postgres"], indirect=True)
_collections = iter(range(1_000_000))


@pytest.fixture
def watch_store(request) -> dict:
    """The store a watcher keeps in sync: the home's files (SQLite, embedded Chroma) or, in a test marked
    ``BACKENDS``, a fresh PostgreSQL schema and Chroma server collection."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return {}
    return {"catalog_url": request.getfixturevalue("postgres_server").url, "chroma_host": "127.0.0.1",
            "chroma_port": request.getfixturevalue("chroma_server").port, "collection": f"watch-{next(_collections)}"}


def wait_for(condition, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except sqlite3.OperationalError:  # the writer holds the catalog for a moment
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def articles(settings: Settings) -> dict[str, tuple[str, str, str]]:
    """id -> (path, content_hash, text) as the catalog holds them now (either backend)."""
    if not catalog_exists(settings):
        return {}
    catalog = open_catalog(settings, read_only=True)
    try:
        return {i: (path, content_hash, catalog.article_text(i))
                for i, (content_hash, path, _) in catalog.article_hashes().items()}
    finally:
        catalog.close()


def paths_indexed(settings: Settings) -> set[str]:
    return {Path(p).name for p, _, _ in articles(settings).values()}


def heartbeat(settings: Settings) -> dict:
    catalog = open_catalog(settings, read_only=True)
    try:
        return json.loads(catalog.get_meta("watcher") or "{}")
    finally:
        catalog.close()


@contextmanager
def running(settings: Settings, roots, embedder, **kwargs):
    watcher = Watcher(settings, roots, embedder=embedder, **kwargs)
    failure: list[BaseException] = []

    def run():
        try:
            watcher.run()
        except BaseException as error:  # surfaced in the test thread
            failure.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    wait_for(lambda: watcher.folders.kind or failure, "the watcher to start")
    if failure:
        raise failure[0]
    try:
        yield watcher
    finally:
        watcher.stop()
        thread.join(60)
        assert not thread.is_alive()
    if failure:
        raise failure[0]


def reference(tmp_path: Path, embedder, *inputs: Path, **chunking) -> dict:
    """What a clean `newsdesk index` of the same inputs gives: id -> content_hash."""
    settings = wsettings(tmp_path / f"ref-{time.monotonic_ns()}", **chunking)
    indexer = Indexer(settings, embedder=embedder)
    try:
        indexer.sync([p for p in inputs if p.exists()])
        return article_hashes(indexer.catalog)
    finally:
        indexer.close()


@pytest.mark.slow  # a watcher through a dozen events, twice: ~10 s
@pytest.mark.parametrize("polling", [False, True], ids=["os-events", "polling"])
@BACKENDS
def test_files_appear_change_move_and_disappear(tmp_path, embedder, polling, watch_store):
    settings = wsettings(tmp_path / "home", watch_store, watch_force_polling=polling)
    folder = tmp_path / "articles"
    folder.mkdir()
    write_story(folder / "story-0.txt", 0)  # there before the watcher: the start-up sync takes it
    with running(settings, [folder], embedder) as watcher:
        assert ("polling" in watcher.folders.kind) == polling
        assert paths_indexed(settings) == {"story-0.txt"}
        write_story(folder / "story-1.txt", 1)
        wait_for(lambda: paths_indexed(settings) == {"story-0.txt", "story-1.txt"}, "a new file")
        write_story(folder / "story-1.txt", 1, extra=" Update: the vote was postponed.")
        wait_for(lambda: any("postponed" in t for _, _, t in articles(settings).values()), "a changed file")
        (folder / "story-1.txt").rename(folder / "renamed.txt")
        wait_for(lambda: paths_indexed(settings) == {"story-0.txt", "renamed.txt"}, "a renamed file")
        (folder / "feed.jsonl").write_text("\n".join(json.dumps({"url": f"https://news.example.com/w{i}",
                                                                 "title": f"Wire {i}", "text": f"Wire story {i} text."})
                                                     for i in range(3)) + "\n")
        wait_for(lambda: len(articles(settings)) == 5, "a JSONL file")
        ids_before = set(articles(settings))
        (folder / "sub").mkdir()
        (folder / "feed.jsonl").rename(folder / "sub" / "feed-moved.jsonl")  # URL articles keep their ids
        wait_for(lambda: "feed-moved.jsonl" in paths_indexed(settings) and "feed.jsonl" not in paths_indexed(settings),
                 "a file moved into a new folder")
        assert set(articles(settings)) == ids_before
        (folder / "renamed.txt").unlink()
        (folder / ".hidden.txt").write_text("Hidden\n\nNot an article to index.")
        wait_for(lambda: paths_indexed(settings) == {"story-0.txt", "feed-moved.jsonl"}, "a deleted file")
        shutil.rmtree(folder / "sub")
        wait_for(lambda: paths_indexed(settings) == {"story-0.txt"}, "a deleted folder")
        write_story(folder / "story-2.txt", 2)
        wait_for(lambda: len(articles(settings)) == 2, "the last file")
    state = {i: h for i, (_, h, _) in articles(settings).items()}
    assert state == reference(tmp_path, embedder, folder)


@pytest.mark.slow  # writes a file slowly on purpose: ~5 s
def test_a_slow_write_is_read_once_complete(tmp_path, embedder):
    settings = wsettings(tmp_path / "home", watch_debounce_seconds=1.5)
    folder = tmp_path / "articles"
    folder.mkdir()
    with running(settings, [folder], embedder) as watcher:
        reports = []
        original = watcher.indexer.sync

        @functools.wraps(original)
        def spy(paths, *args, **kwargs):
            report = original(paths, *args, **kwargs)
            reports.append(report)
            return report

        watcher.indexer.sync = spy
        pieces = ["Port strike ends\n\n", "Dock workers voted to return on Monday. ", "The deal raises pay by 6%. ",
                  "Ships queued outside the harbour for a week. ", "The union said talks would resume in spring."]
        with open(folder / "strike.txt", "w") as handle:
            for piece in pieces:
                handle.write(piece)
                handle.flush()
                time.sleep(0.3)  # each pause is shorter than the debounce: the file is not complete yet
        wait_for(lambda: any("resume in spring" in t for _, _, t in articles(settings).values()), "the complete file")
        time.sleep(1.5)
    assert [(r.added, r.updated) for r in reports if r.added or r.updated] == [(1, 0)]  # read once, complete


@BACKENDS
def test_one_writer_heartbeat_and_clear_busy_messages(tmp_path, embedder, watch_store):
    settings = wsettings(tmp_path / "home", watch_store)
    folder = tmp_path / "articles"
    folder.mkdir()
    write_story(folder / "story-0.txt", 0)
    with running(settings, [folder], embedder, feed_interval=30):
        beat = wait_for(lambda: heartbeat(settings).get("state") in ("idle", "embedding") and heartbeat(settings),
                        "a heartbeat")
        assert beat["pid"] == os.getpid() and str(folder.resolve()) in beat["roots"]
        assert str(feeds_dir(settings)) in beat["roots"] and beat["last_seen"]
        with pytest.raises(IndexBusy, match=r"a newsdesk watcher \(pid \d+ .*\) is already keeping this index in sync"):
            Watcher(settings, [folder], embedder=embedder).run()
        done = subprocess.run([sys.executable, "-m", "cli", "index", "--quiet", str(folder)], cwd=REPO, timeout=120,
                              env=clean_env(NEWSDESK_HOME=str(settings.index.home), PYTHONPATH=str(REPO),
                                            **store_env(watch_store)),
                              capture_output=True, text=True)
        assert done.returncode == 2 and "another newsdesk process is writing to this index" in done.stderr
    assert heartbeat(settings)["state"] == "stopped"


@BACKENDS
def test_a_single_watched_file(tmp_path, embedder, watch_store):
    settings = wsettings(tmp_path / "home", watch_store)
    folder = tmp_path / "drop"
    folder.mkdir()
    wire = folder / "wire.jsonl"
    line = lambda i: json.dumps({"url": f"https://wire.example.com/{i}", "title": f"Wire {i}", "text": f"Wire text {i}."})
    wire.write_text(line(0) + "\n")
    with running(settings, [wire], embedder):
        assert len(articles(settings)) == 1
        with open(wire, "a") as handle:
            handle.write(line(1) + "\n")
        write_story(folder / "not-watched.txt", 1)  # beside the file, but not watched
        wait_for(lambda: len(articles(settings)) == 2, "a line appended to the watched file")
        time.sleep(1.0)
        assert paths_indexed(settings) == {"wire.jsonl"}
        wire.unlink()
        wait_for(lambda: not articles(settings), "the watched file's articles to go")


@BACKENDS
def test_a_watched_folder_deleted_and_made_again(tmp_path, embedder, watch_store):
    settings = wsettings(tmp_path / "home", watch_store)
    folder = tmp_path / "articles"
    folder.mkdir()
    for n in range(3):
        write_story(folder / f"story-{n}.txt", n)
    with running(settings, [folder], embedder):
        assert len(articles(settings)) == 3
        shutil.rmtree(folder)
        wait_for(lambda: not articles(settings), "the deleted folder's articles to go")
        folder.mkdir()
        write_story(folder / "story-9.txt", 9)
        wait_for(lambda: paths_indexed(settings) == {"story-9.txt"}, "the folder made again to be watched")
        write_story(folder / "story-8.txt", 8)
        wait_for(lambda: paths_indexed(settings) == {"story-9.txt", "story-8.txt"}, "a new file in it")


def test_a_full_disk_is_logged_and_retried(tmp_path, embedder, caplog):
    settings = wsettings(tmp_path / "home")
    folder = tmp_path / "articles"
    folder.mkdir()
    with running(settings, [folder], embedder) as watcher:
        original, failures = watcher.indexer.sync, []

        @functools.wraps(original)
        def full_then_free(paths, *args, **kwargs):
            if len(failures) < 2:  # the indexer's own DiskFull, as a full disk raises it
                failures.append(paths)
                raise DiskFull("the disk under home is full; what was indexed before is intact.")
            return original(paths, *args, **kwargs)

        watcher.indexer.sync = full_then_free
        write_story(folder / "story-1.txt", 1)
        wait_for(lambda: paths_indexed(settings) == {"story-1.txt"}, "the retry after the disk was freed")
        assert len(failures) == 2
    assert any("disk under home is full" in r.getMessage() and "keeps running" in r.getMessage() for r in caplog.records)


@pytest.mark.slow  # a watcher polling a feed server: ~2.5 s
def test_feeds_flow_through_the_watcher(tmp_path, embedder):
    server = FeedServer().start()
    try:
        settings = wsettings(tmp_path / "home")
        items = [Item("Bridge opens", link=server.url("/a/bridge"), content="<p>The bridge opened today.</p>")]
        server.routes["/rss.xml"] = Route(kind="dynamic", make=lambda: rss(items))
        with FeedStates(settings.index.catalog_path) as states:
            states.add(server.url("/rss.xml"), name="local")
        with running(settings, [], embedder, feed_interval=0.5):
            wait_for(lambda: {t for _, _, t in articles(settings).values()} == {"The bridge opened today."}, "a feed item")
            items.append(Item("Tunnel closes", link=server.url("/a/tunnel"), content="<p>The tunnel closed.</p>"))
            items[0] = Item("Bridge opens", link=server.url("/a/bridge"), content="<p>The bridge opened at noon.</p>")
            wait_for(lambda: {t for _, _, t in articles(settings).values()}
                     == {"The bridge opened at noon.", "The tunnel closed."}, "a new and an updated item")
            with FeedStates(settings.index.catalog_path) as states:
                from ingest.feeds import remove_feed_folder

                remove_feed_folder(settings, states.remove("local"))
            wait_for(lambda: not articles(settings), "a removed feed's articles to go")
    finally:
        server.stop()


def start_watch(home: Path, folder: Path) -> subprocess.Popen:
    # default chunking (one chunk per story): the test is about the burst, not about embedding many chunks
    env = clean_env(NEWSDESK_HOME=str(home), PYTHONPATH=str(REPO), NEWSDESK_WATCH_DEBOUNCE_SECONDS="0.3", NEWSDESK_WATCH_HEARTBEAT_SECONDS="0.5",
                    NEWSDESK_WRITE_BATCH_CHUNKS="16", NEWSDESK_WATCH_FOLDER_FILES="1000")
    return subprocess.Popen([sys.executable, "-m", "cli", "watch", str(folder)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=open(home.parent / "watch.log", "ab"))


@pytest.mark.slow
def test_kill_9_during_a_burst_then_restart_equals_a_clean_index(tmp_path, embedder):
    home, folder, staging = tmp_path / "home", tmp_path / "articles", tmp_path / "staging"
    folder.mkdir()
    staging.mkdir()
    for n in range(300):
        write_story(staging / f"story-{n:03d}.txt", n)
    default_chunking = dict(chunk_size=224, chunk_overlap=32)
    settings = wsettings(home, **default_chunking)
    watcher = start_watch(home, folder)
    try:
        wait_for(lambda: heartbeat(settings).get("state") in ("idle", "embedding"), "the watcher to start", 120)
        for file in sorted(staging.iterdir()):  # the burst
            shutil.copy(file, folder / file.name)
        wait_for(lambda: len(articles(settings)) >= 20, "part of the burst to be indexed", 120)
        tasks = Path(f"/proc/{watcher.pid}/task")
        if tasks.is_dir():  # its embedding yields the cores to questions (watch_nice); its keyword commits do not
            base = os.getpriority(os.PRIO_PROCESS, 0)
            lowered = min(base + 10, 19)  # a run already niced: the kernel stops at 19

            def niceness() -> set[int]:
                found = set()
                for task in tasks.iterdir():
                    try:
                        found.add(os.getpriority(os.PRIO_PROCESS, int(task.name)))
                    except ProcessLookupError:
                        continue
                return found
            wait_for(lambda: lowered in niceness(), "the watcher's embedding threads at nice +10", 60)
            assert os.getpriority(os.PRIO_PROCESS, watcher.pid) == base  # the main thread: keyword commits
            assert niceness() <= {base, lowered}
    finally:
        watcher.send_signal(signal.SIGKILL)
        watcher.wait(30)
    catalog = open_catalog(settings, read_only=True)
    waiting = catalog.pending_counts()[0]
    catalog.close()
    assert len(articles(settings)) < 300 or waiting, "the kill came after the burst was done: nothing was tested"
    write_story(folder / "story-000.txt", 0, extra=" Changed while the watcher was down.")
    (folder / "story-001.txt").unlink()
    watcher = start_watch(home, folder)  # Ctrl-C during its start-up sync: a clean exit, part done
    try:
        wait_for(lambda: heartbeat(settings).get("pid") == watcher.pid, "the second watcher to start", 120)
    finally:
        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(120) == 0
    watcher = start_watch(home, folder)
    try:
        wait_for(lambda: len(articles(settings)) == 299 and heartbeat(settings).get("state") == "idle"
                 and heartbeat(settings).get("pending_paths") == 0, "the restarted watcher to converge", 180)
    finally:
        watcher.send_signal(signal.SIGTERM)
        assert watcher.wait(60) == 0
    assert heartbeat(settings)["state"] == "stopped"
    indexer = Indexer(settings, embedder=embedder)
    try:
        state = article_hashes(indexer.catalog)
        assert indexer.verify() == {"missing_in_store": [], "stale_in_store": []}
        assert indexer.catalog.all_chunk_ids() == indexer.store.all_ids()
        assert indexer.catalog.journal_entries() == []
    finally:
        indexer.close()
    assert state == reference(tmp_path, embedder, folder, **default_chunking)


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_a_really_full_disk_keeps_the_watcher_running_until_space_returns(tmp_path, embedder, caplog):
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)], check=True)
    try:
        settings = wsettings(mount / "home")
        folder = tmp_path / "articles"
        folder.mkdir()
        write_story(folder / "story-0.txt", 0)
        with running(settings, [folder], embedder) as watcher:
            wait_for(lambda: watcher.state == "idle", "the first article")
            free = shutil.disk_usage(mount).free
            (mount / "filler").write_bytes(b"\0" * max(free - 64 * 1024, 0))
            for n in range(1, 20):  # about 3x the space left, as text, chunks and keyword index
                write_story(folder / f"story-{n}.txt", n, extra=" Extra detail. " * 200)
            wait_for(lambda: watcher.state.startswith("retrying"), "the full disk to be met", 120)
            assert any("full" in r.getMessage() and "keeps running" in r.getMessage() for r in caplog.records)
            (mount / "filler").unlink()
            wait_for(lambda: len(articles(settings)) == 20 and watcher.state == "idle", "the retry to converge", 180)
        state = {i: h for i, (_, h, _) in articles(settings).items()}
        assert state == reference(tmp_path, embedder, folder)
        indexer = Indexer(settings, embedder=embedder)
        try:
            assert indexer.verify() == {"missing_in_store": [], "stale_in_store": []}
        finally:
            indexer.close()
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
