"""`newsdesk watch`: keeps the index equal to watched folders (and followed feeds) as files come and go.

File events come from watchdog (inotify, or its PollingObserver where events do not work). Each
event only marks its path as pending; a path is read once no event has touched it for the debounce
time and its file was last written at least that long ago, so a file being written is read once it
is complete. Ready paths are handled in batches: a path that exists is synced, one that does not
is removed (a move is both), and many files in one folder are synced as the folder. What happened
while the watcher was down is caught by a full sync at start, so ``kill -9`` at any moment loses
nothing: the indexer is crash-safe, and the next start converges.

The watcher is the one writer for its lifetime (``index_lock``), writes a heartbeat to the catalog
meta key ``watcher``, polls followed feeds in a thread (their items are files under
``NEWSDESK_HOME/feeds``, a watched root), and between events embeds pending chunks in small steps
when the indexer has an embedding queue.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Sequence

from errors import IndexBusy, LockLost, NewsdeskError
from index.catalog import CATALOG_ERRORS, utcnow_iso
from index.embedders import LowPriorityEmbedder, make_embedder
from ingest.feeds import FeedPoller, feeds_dir
from index.sync import Indexer, index_lock
from ingest.watch_events import FolderWatch, PendingPaths
from settings import Settings

log = logging.getLogger("newsdesk.watch")


class _Stopped(Exception):
    """Raised from the progress callback to end a long start-up sync when the watcher is stopped."""


def watcher_indexer(settings: Settings, embedder=None) -> Indexer:
    """The indexer a background writer (the watcher, bench fresh's writer) writes with: its ONNX threads are
    ``watch_embed_threads``, and its vectors are computed at ``watch_nice`` lower CPU priority than questions
    elsewhere while its keyword commits keep the normal one (``embedder``, when given, is used as it is)."""
    writing = settings.updated(embed_threads=settings.ingest.watch_embed_threads)
    embedder = embedder or LowPriorityEmbedder(make_embedder(writing), settings.ingest.watch_nice)
    return Indexer(writing, embedder=embedder)


class Watcher:
    """Watches ``roots`` (and the feeds folder) and keeps the index equal to them until stopped."""

    def __init__(self, settings: Settings, roots: Sequence[str | Path], feed_interval: float | None = None,
                 embedder=None) -> None:
        self.settings = settings
        self.fresh = settings.ingest
        self.feeds_root = feeds_dir(settings)
        self.roots = list(dict.fromkeys([Path(r).expanduser().resolve() for r in roots] + [self.feeds_root]))
        self.feed_interval = feed_interval
        self.embedder = embedder
        self.pending = PendingPaths()
        self.stop_event = threading.Event()
        self.state = "starting"
        self.started = utcnow_iso()
        self.feed_names: list[str] = []
        self.folders = FolderWatch(settings, self.roots, self.pending)
        self._retry_delay = 0.0
        self._retry_at = 0.0
        self.indexer: Indexer | None = None

    # --- life cycle ---------------------------------------------------------------------------
    def stop(self) -> None:
        self.stop_event.set()

    def run(self) -> int:
        """Watch until stopped (SIGTERM, Ctrl-C or ``stop()``). Raises IndexBusy when another writer holds the index."""
        with ExitStack() as stack:
            self._install_signals(stack)  # first: a SIGTERM while the model loads also stops cleanly
            try:
                stack.enter_context(index_lock(self.settings))  # re-entrant for this thread: sync/remove take it too
            except IndexBusy:
                raise IndexBusy(self._busy_message()) from None
            self.feeds_root.mkdir(parents=True, exist_ok=True)
            self.indexer = watcher_indexer(self.settings, self.embedder)
            stack.callback(self.indexer.close)
            if self.stop_event.is_set():
                return 0
            heartbeat = threading.Thread(target=self._heartbeat_loop, name="watch-heartbeat", daemon=True)
            heartbeat.start()
            feeds = threading.Thread(target=self._feed_loop, name="watch-feeds", daemon=True)
            try:
                self._full_sync()
                if not self.stop_event.is_set():
                    self.folders.start()
                    stack.callback(self.folders.stop)
                    feeds.start()
                    log.info("watching %s (%s); stop with Ctrl-C or SIGTERM", ", ".join(map(str, self.roots)),
                             self.folders.kind)
                    self._loop()
            finally:
                self.stop_event.set()
                if feeds.is_alive():
                    feeds.join(timeout=self.fresh.feed_timeout_seconds + 5)
                heartbeat.join(timeout=5)
                self.state = "stopped"
                self._beat()
                log.info("watcher stopped")
        return 0

    def _busy_message(self) -> str:
        from index.catalog import open_catalog

        try:
            catalog = open_catalog(self.settings, read_only=True)
            beat = json.loads(catalog.get_meta("watcher") or "null")
            catalog.close()
        except Exception:  # an unreadable heartbeat only makes the message less specific
            beat = None
        if beat and beat.get("state") != "stopped":
            return (f"a newsdesk watcher (pid {beat.get('pid')} on {beat.get('host')}, started {beat.get('started')}) "
                    "is already keeping this index in sync; stop it (Ctrl-C or SIGTERM) before starting another")
        return ("another newsdesk process is writing to this index (an `index` or `remove` run); "
                "start the watcher when it ends")

    def _install_signals(self, stack: ExitStack) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # tests run the watcher in a thread and stop it with stop()

        def on_signal(signum, frame):
            if self.stop_event.is_set() and signum == signal.SIGINT:
                raise KeyboardInterrupt  # a second Ctrl-C: stop now (the next start converges)
            log.info("stopping after the current batch (%s)", signal.Signals(signum).name)
            self.stop_event.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            stack.callback(signal.signal, signum, signal.signal(signum, on_signal))

    # --- heartbeat ------------------------------------------------------------------------------
    def _beat(self) -> None:
        beat = {"pid": os.getpid(), "host": socket.gethostname(), "started": self.started, "last_seen": utcnow_iso(),
                "state": self.state, "roots": [str(r) for r in self.roots], "feeds": self.feed_names,
                "pending_paths": len(self.pending), "observer": self.folders.kind}
        try:  # from the heartbeat thread: written only while this process holds the writer's lock
            if not self.indexer.catalog.set_writer_meta("watcher", json.dumps(beat)):
                log.warning("heartbeat not written: this watcher no longer holds the writer's lock")
        except Exception as error:  # a busy or full disk must not stop the watcher; the next beat retries
            log.warning("heartbeat not written: %s", error)

    def _heartbeat_loop(self) -> None:
        while not self.stop_event.is_set():
            self._beat()
            self.stop_event.wait(self.fresh.watch_heartbeat_seconds)

    # --- the main loop ----------------------------------------------------------------------------
    def _loop(self) -> None:
        next_root_check = 0.0
        while not self.stop_event.is_set():
            if time.monotonic() >= next_root_check:
                self.folders.check_roots()
                next_root_check = time.monotonic() + self.fresh.watch_poll_seconds
            batch = self.pending.take_ready(self.fresh.watch_batch_files)
            if batch:
                self._handle(batch)
            elif not self._embed_step():
                if time.monotonic() >= self._retry_at:  # else the state still says what is being retried
                    self.state = "idle"
                self.stop_event.wait(0.2)

    def _full_sync(self) -> None:
        self.state = "syncing"
        present = [r for r in self.roots if r.exists()]
        for root in self.roots:
            if not root.exists():
                log.warning("%s does not exist; it is watched for and synced when it appears", root)
        last = [0.0]

        def progress(read: int, total: int, embedded: int) -> None:
            if self.stop_event.is_set():  # called between committed batches: stopping here is clean
                raise _Stopped
            if time.monotonic() - last[0] > 5:
                last[0] = time.monotonic()
                log.info("start-up sync: %d of about %d articles read, %d chunks embedded", read, total, embedded)

        self._sync_with_retry([str(p) for p in present], progress)

    def _sync_with_retry(self, paths: list[str], progress=None) -> None:
        while not self.stop_event.is_set():
            try:
                report = self.indexer.sync(paths, on_progress=progress, embed=False)
            except _Stopped:
                log.info("start-up sync stopped part-way; the next start finishes it")
                return
            except Exception as error:  # disk full, store down, a busy catalog: log, wait, retry
                self._failed(error)
                self.stop_event.wait(self._retry_delay)
                continue
            self._retry_delay = 0.0
            self._log_report(report, len(paths))
            return

    def _handle(self, batch: list[str]) -> None:
        self.state = "syncing"
        now = time.time()
        existing, missing, later = [], [], []
        for raw in batch:
            path = Path(raw)
            try:
                info = path.stat()
            except OSError:
                missing.append(raw)
                continue
            if path.is_file() and now - info.st_mtime < self.fresh.watch_debounce_seconds:
                later.append(raw)  # still being written
            else:
                existing.append(raw)
        for raw in later:
            self.pending.touch(raw, self.fresh.watch_debounce_seconds)
        scan_started = time.monotonic()
        paths, folders = self._coalesce(existing)
        try:
            if paths:
                report = self.indexer.sync(paths, embed=False)
                self._log_report(report, len(existing))
            if missing:
                removed, _ = self.indexer.remove(under=missing, embed=False)
                if removed:
                    log.info("removed %d article(s) of %d deleted path(s)", len(removed), len(missing))
        except Exception as error:  # disk full, store down, a busy catalog: log, keep running, retry later
            self._failed(error)
            for raw in existing + missing:
                self.pending.touch(raw, self._retry_delay)
            return
        self._retry_delay = 0.0
        for folder in folders:
            self.pending.discard_under(folder, scan_started)

    def _coalesce(self, existing: list[str]) -> tuple[list[str], list[str]]:
        """Many changed files in one watched folder: sync the folder once instead."""
        by_parent: dict[str, list[str]] = {}
        for raw in existing:
            by_parent.setdefault(str(Path(raw).parent), []).append(raw)
        paths, folders = [], []
        for parent, files in by_parent.items():
            inside = any(Path(parent) == r or r in Path(parent).parents for r in self.roots if r.is_dir())
            if inside and len(files) >= self.fresh.watch_folder_files:
                paths.append(parent)
                folders.append(parent)
            else:
                paths.extend(files)
        return paths, folders

    def _failed(self, error: Exception) -> None:
        if isinstance(error, LockLost):  # another writer may hold the index now: stop instead of retrying
            self.stop_event.set()
            raise error
        self._retry_delay = min(600.0, max(self.fresh.watch_retry_seconds, self._retry_delay * 2))
        self._retry_at = time.monotonic() + self._retry_delay
        self.state = f"retrying: {error}"
        catalog_errors = self.indexer.catalog.errors if self.indexer is not None else CATALOG_ERRORS
        expected = isinstance(error, (NewsdeskError, OSError, *CATALOG_ERRORS, *catalog_errors))
        log.error("sync failed: %s; retrying in %g s (the watcher keeps running)", error, self._retry_delay,
                  exc_info=not expected)

    def _log_report(self, report, n_paths: int) -> None:
        if report.added or report.updated or report.removed or report.skipped:
            log.info("synced %d path(s): %d added, %d updated, %d removed, %d skipped in %.1f s; index: %d articles",
                     n_paths, report.added, report.updated, report.removed, len(report.skipped), report.seconds,
                     report.articles)
        for skipped in report.skipped[:5]:
            log.warning("skipped %s: %s", skipped.path, skipped.reason)

    def _embed_step(self) -> bool:
        """Embed a few queued chunks between events; False when there is nothing to do."""
        if time.monotonic() < self._retry_at:
            return False
        try:
            if not self.indexer.pending_count():
                return False
            self.state = "embedding"
            done = self.indexer.embed_pending(max_chunks=self.fresh.embed_step_chunks)
            self._retry_delay = 0.0
            return bool(done)
        except Exception as error:
            self._failed(error)
            return False

    # --- feeds ----------------------------------------------------------------------------------
    def _feed_loop(self) -> None:
        from ingest.feed_state import FeedStates
        from ingest.fetch import PoliteFetcher

        states = FeedStates.for_settings(self.settings)
        fetcher = PoliteFetcher(self.settings, stop=self.stop_event)
        poller = FeedPoller(self.settings, states, fetcher, interval=self.feed_interval)
        try:
            while not self.stop_event.is_set():
                self.feed_names = [s.name for s in states.list()]
                for state in poller.due():
                    if self.stop_event.is_set():
                        break
                    result = poller.poll(state)
                    for path in result.written:
                        self.pending.touch(str(path), 0)
                self.stop_event.wait(1.0)
        finally:
            fetcher.close()
            states.close()
