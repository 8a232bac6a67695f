"""File events for the watcher: watchdog observers over the watched roots, turned into pending paths.

An event only records that a path changed and when it may be read (``PendingPaths``); what to do
with it (sync or remove) is decided later from what the path is then, so the order of events and
a missed one never matter. ``FolderWatch`` falls back to polling where OS events do not work, and
re-watches a root that was deleted and comes back (an OS watch dies with its folder).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from settings import Settings

log = logging.getLogger("newsdesk.watch")


class PendingPaths:
    """Paths touched by events, each with the time it may be read (thread-safe)."""

    def __init__(self) -> None:
        self._ready_at: dict[str, float] = {}
        self._touched: dict[str, float] = {}
        self._lock = threading.Lock()

    def touch(self, path: str, delay: float) -> None:
        now = time.monotonic()
        with self._lock:
            self._ready_at[path] = now + delay
            self._touched[path] = now

    def take_ready(self, limit: int) -> list[str]:
        now = time.monotonic()
        with self._lock:
            ready = sorted((t, p) for p, t in self._ready_at.items() if t <= now)[:limit]
            for _, path in ready:
                del self._ready_at[path], self._touched[path]
        return [p for _, p in ready]

    def discard_under(self, folder: str, touched_before: float) -> None:
        """Forget paths under ``folder`` that a scan started after their last event has already read."""
        prefix = folder.rstrip("/") + "/"
        with self._lock:
            for path in [p for p, t in self._touched.items() if p.startswith(prefix) and t < touched_before]:
                del self._ready_at[path], self._touched[path]

    def __len__(self) -> int:
        with self._lock:
            return len(self._ready_at)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _hidden(path: Path, root: Path) -> bool:
    try:
        return any(part.startswith(".") for part in path.relative_to(root).parts)
    except ValueError:
        return True


class FolderWatch:
    """A watchdog observer over ``roots`` (folders, or single files through their folder)."""

    def __init__(self, settings: Settings, roots: list[Path], pending: PendingPaths) -> None:
        self.fresh = settings.ingest
        self.roots = roots
        self.pending = pending
        self.kind = ""
        self._watches: dict[Path, tuple[object, tuple[int, int]]] = {}  # root -> (watch, its folder's inode)
        self._observer = None

    def start(self) -> None:
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver

        if not self.fresh.watch_force_polling:
            self._observer = Observer()
            try:
                self._schedule_all()
                self._observer.start()
                self.kind = "os events"
                return
            except OSError as error:  # no inotify, or its watch limit reached
                log.warning("file events unavailable (%s); polling every %g s instead", error,
                            self.fresh.watch_poll_seconds)
                self._watches.clear()
        self._observer = PollingObserver(timeout=self.fresh.watch_poll_seconds)
        self._schedule_all()
        self._observer.start()
        self.kind = f"polling every {self.fresh.watch_poll_seconds:g} s"

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=10)

    def _schedule_all(self) -> None:
        for root in self.roots:
            self._schedule(root)

    def _schedule(self, root: Path) -> bool:
        from watchdog.events import FileSystemEventHandler

        on_event = self._on_event

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event):
                on_event(event, root)

        folder = root if root.is_dir() else root.parent
        identity = _identity(folder)
        if identity is None or not folder.is_dir():
            return False
        self._watches[root] = (self._observer.schedule(Handler(), str(folder), recursive=root.is_dir()), identity)
        return True

    def _on_event(self, event, root: Path) -> None:
        if event.event_type in ("opened", "closed_no_write") or (event.is_directory and event.event_type == "modified"):
            return
        paths = [event.src_path] + ([event.dest_path] if getattr(event, "dest_path", "") else [])
        for raw in paths:
            path = Path(os.fsdecode(raw))
            if root.is_dir() or not root.exists():
                if path != root and _hidden(path, root):
                    continue  # temporary files (editors, atomic writes) and paths outside the root
            elif path != root:
                continue  # a watched single file: its folder is watched, other files there are not
            self.pending.touch(str(path), self.fresh.watch_debounce_seconds)

    def check_roots(self) -> None:
        """Watches die with their folder; when a watched folder comes back, watch and sync it again."""
        for root in self.roots:
            watched = self._watches.get(root)
            folder = root if root.is_dir() or not root.exists() else root.parent
            if watched is not None and _identity(folder) != watched[1]:  # deleted, or deleted and made again
                log.warning("watched %s was deleted or replaced; its articles follow what is there now", root)
                try:
                    self._observer.unschedule(watched[0])
                except (KeyError, ValueError, OSError):
                    pass
                self._watches.pop(root, None)
                self.pending.touch(str(root), 0)
                watched = None
            if watched is None and root.exists() and self._schedule(root):
                log.info("watching %s (again); syncing it", root)
                self.pending.touch(str(root), self.fresh.watch_debounce_seconds)
