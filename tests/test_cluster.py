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


@pytest.mark.skipif(not (PG_BIN / "postgres").exists(), reason="PostgreSQL 15 is not installed")
def test_cluster_serves_a_dropped_article_on_both_readers_and_stops_clean(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    for n in range(2):
        write_story(folder / f"story-{n}.txt", n)
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, str(REPO / "scripts" / "cluster.py"), "--folder", str(folder)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=clean_env(),
                               cwd=tmp_path)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    output: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while not any(line.startswith("ready") for line in output):
            assert time.monotonic() < deadline and process.poll() is None, "".join(output)
            try:
                output.append(lines.get(timeout=1))
            except queue.Empty:
                pass
        text = "".join(output)
        readers = re.findall(r"reader \d\s+(http://127\.0\.0\.1:\d+)", text)
        pids = [int(pid) for pid in re.findall(r"\(pid (\d+)\)", text)]
        root = re.search(r"temporary\s+(\S+)", text).group(1)
        assert len(readers) == 2 and len(pids) == 5 and all(running(pid) for pid in pids), text
        assert all(any("Story 0" in hit["title"] for hit in search(url, "harbour story")) for url in readers)

        write_story(folder / "dropped.txt", 9, extra=f" The {WORD} ferry strike ended on Tuesday.")
        found: dict[str, bool] = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(found.get(url) for url in readers):
            for url in readers:
                found[url] = found.get(url) or any(WORD in hit["text"] for hit in search(url, f"{WORD} ferry"))
            time.sleep(0.5)
        assert all(found.get(url) for url in readers), f"not searchable on every reader: {found}"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    while not lines.empty():
        output.append(lines.get())
    text = "".join(output)
    assert process.returncode == 0, text
    assert all(f"stopped {name}" in text for name in ("reader 2", "reader 1", "writer", "Chroma", "PostgreSQL"))
    assert text.index("stopped reader 1") < text.index("stopped writer") < text.index("stopped PostgreSQL")
    assert not [pid for pid in pids if running(pid)], text
    assert processes_naming(root) == [], text
    assert not Path(root).exists()
    assert folder.exists()  # a folder given with --folder is the user's: kept
    print(f"cluster test: {time.monotonic() - started:.1f} s")
