"""`make cluster` for real: scripts/cluster.py starts PostgreSQL, Chroma, a writer and two readers; an article
dropped into the watched folder is found over HTTP on both readers; SIGINT leaves no process and no folder."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import PG_BIN, REPO, clean_env, write_story

pytestmark = [pytest.mark.server, pytest.mark.timeout(180)]

WORD = "quokkaville"  # in no other article: a hit is the dropped one


def search(url: str, query: str) -> list[dict]:
    request = urllib.request.Request(f"{url}/v1/search", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())["results"]
    except (urllib.error.URLError, OSError):
        return []


def running(pid: int) -> bool:
    """Alive and not a zombie (a zombie is dead, only not yet reaped by its parent)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def processes_naming(text: str) -> list[int]:
    """Every live process whose command line holds ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if text in (entry / "cmdline").read_bytes().decode(errors="replace") and running(int(entry.name)):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


needs_postgres = pytest.mark.skipif(not (PG_BIN / "postgres").exists(), reason="PostgreSQL 15 is not installed")


class Run:
    """scripts/cluster.py as a subprocess on a folder of two stories; ``start()`` waits for its "ready" line."""

    def __init__(self, tmp_path: Path) -> None:
        self.folder = tmp_path / "articles"
        self.folder.mkdir()
        for n in range(2):
            write_story(self.folder / f"story-{n}.txt", n)
        self.process = subprocess.Popen([sys.executable, str(REPO / "scripts" / "cluster.py"), "--folder",
                                         str(self.folder)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, env=clean_env(), cwd=tmp_path)
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=lambda: [self.lines.put(line) for line in self.process.stdout], daemon=True).start()

    @property
    def text(self) -> str:
        while not self.lines.empty():
            self.output.append(self.lines.get())
        return "".join(self.output)

    def start(self) -> None:
        deadline = time.monotonic() + 120
        while not any(line.startswith("ready") for line in self.output):
            assert time.monotonic() < deadline and self.process.poll() is None, self.text
            try:
                self.output.append(self.lines.get(timeout=1))
            except queue.Empty:
                pass
        text = self.text
        self.readers = re.findall(r"reader \d\s+(http://127\.0\.0\.1:\d+)", text)
        self.pids = dict((name, int(pid)) for name, pid in re.findall(r"^  (\S+(?: \d)?)\s+.*\(pid (\d+)\)$", text, re.M))
        self.root = Path(re.search(r"temporary\s+(\S+)", text).group(1))
        assert len(self.readers) == 2 and len(self.pids) == 5 and all(map(running, self.pids.values())), text

    def end(self, wait: float = 60) -> int:
        """SIGINT unless it already ended; its exit code once it has stopped everything."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(wait)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def assert_all_gone(self) -> None:
        text = self.text
        assert not [name for name, pid in self.pids.items() if running(pid)], text
        assert processes_naming(str(self.root)) == [], text
        assert not self.root.exists()
        assert self.folder.exists()  # a folder given with --folder is the user's: kept


@needs_postgres
def test_cluster_serves_a_dropped_article_on_both_readers_and_stops_clean(tmp_path):
    started = time.monotonic()
    run = Run(tmp_path)
    try:
        run.start()
        assert all(any("Story 0" in hit["title"] for hit in search(url, "harbour story")) for url in run.readers)

        write_story(run.folder / "dropped.txt", 9, extra=f" The {WORD} ferry strike ended on Tuesday.")
        found: dict[str, bool] = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(found.get(url) for url in run.readers):
            for url in run.readers:
                found[url] = found.get(url) or any(WORD in hit["text"] for hit in search(url, f"{WORD} ferry"))
            time.sleep(0.5)
        assert all(found.get(url) for url in run.readers), f"not searchable on every reader: {found}"
    finally:
        code = run.end()
    text = run.text
    assert code == 0, text
    stops = [text.index(f"stopped {name}") for name in ("reader 2", "reader 1", "writer", "Chroma", "PostgreSQL")]
    assert stops == sorted(stops), text  # readers first, then the writer, Chroma, PostgreSQL
    run.assert_all_gone()
    print(f"cluster test: {time.monotonic() - started:.1f} s")


@needs_postgres
def test_a_child_that_dies_early_is_named_and_the_rest_stop(tmp_path):
    run = Run(tmp_path)
    try:
        run.start()
        os.kill(run.pids["reader 2"], signal.SIGKILL)
        code = run.process.wait(60)  # it stops by itself, with no signal from here
    finally:
        run.end()
    assert code == 1 and "reader 2 exited early" in run.text, run.text
    run.assert_all_gone()
