"""Faults: a Chroma server killed and restarted, a full disk, questions during a re-index."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from settings import Settings
from errors import StoreUnavailable
from index.sync import Indexer
from rag.engine import NewsDesk
from tests.helpers import REPO, ChromaServer, clean_env, consistent, make_folder, write_story

CLI = [sys.executable, "-m", "cli"]


def server_env(server: ChromaServer, home: Path, **extra) -> dict:
    return clean_env(NEWSDESK_HOME=str(home), NEWSDESK_CHROMA_HOST="127.0.0.1", NEWSDESK_CHROMA_PORT=str(server.port),
                     NEWSDESK_CHUNK_SIZE="64", NEWSDESK_CHUNK_OVERLAP="8", NEWSDESK_WRITE_BATCH_CHUNKS="4", **extra)


@pytest.mark.slow
def test_chroma_server_killed_during_indexing_and_questions(tmp_path, embedder):
    server = ChromaServer(tmp_path / "chroma")
    server.start()
    home = tmp_path / "home"
    folder = make_folder(tmp_path / "articles", count=40)
    try:
        writer = subprocess.Popen([*CLI, "index", "--quiet", str(folder)], cwd=REPO, env=server_env(server, home),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        catalog = home / f"catalog-127.0.0.1-{server.port}-newsdesk.sqlite"
        deadline = time.time() + 60
        while time.time() < deadline and not catalog.exists():
            time.sleep(0.1)
        time.sleep(2.0)  # somewhere in the middle of the run
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 2, (out, err)
        assert "Chroma" in err and "Traceback" not in err and "try again" in err

        settings = Settings(_env_file=None, home=home, chroma_host="127.0.0.1", chroma_port=server.port,
                            chunk_size=64, chunk_overlap=8)
        with pytest.raises(StoreUnavailable):
            NewsDesk(settings, embedder=embedder)
        server.start()  # same port, same data
        desk = NewsDesk(settings, embedder=embedder)
        assert desk.ask("What is the latest on the harbour story?", mode="extractive").answer
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        with pytest.raises(StoreUnavailable, match="try again"):
            desk.ask("What is the latest on the harbour story?", mode="extractive")
        server.start()
        assert desk.ask("What is the latest on the harbour story?", mode="extractive").answer  # the same object recovers
        desk.close()

        again = subprocess.run([*CLI, "index", "--json", "--quiet", str(folder)], cwd=REPO, env=server_env(server, home),
                               capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["articles"] == 43
        indexer = Indexer(settings, embedder=embedder)
        consistent(indexer)
        indexer.close()
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_full_disk_gives_a_clean_error_and_keeps_the_index(tmp_path, embedder):
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)], check=True)
    try:
        home = mount / "home"
        env = clean_env(NEWSDESK_HOME=str(home), NEWSDESK_CHUNK_SIZE="64", NEWSDESK_CHUNK_OVERLAP="8")
        first = make_folder(tmp_path / "first", count=6)
        assert subprocess.run([*CLI, "index", "--quiet", str(first)], cwd=REPO, env=env, capture_output=True).returncode == 0
        settings = Settings(_env_file=None, home=home, chunk_size=64, chunk_overlap=8)
        before = NewsDesk(settings, embedder=embedder).ask("harbour story", mode="extractive").answer
        free = shutil.disk_usage(mount).free
        (mount / "filler").write_bytes(b"\0" * max(free - 64 * 1024, 0))
        more = make_folder(tmp_path / "more", count=60)
        for n in range(60):
            write_story(more / f"story-{n}.txt", n, extra=" Extra detail. " * 200)
        full = subprocess.run([*CLI, "index", "--quiet", str(more)], cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=300)
        assert full.returncode == 2 and "full" in full.stderr and "Traceback" not in full.stderr, full.stderr
        (mount / "filler").unlink()
        status = subprocess.run([*CLI, "status", "--json"], cwd=REPO, env=env, capture_output=True, text=True)
        assert status.returncode == 0 and json.loads(status.stdout)["articles"] >= 9
        assert NewsDesk(settings, embedder=embedder).ask("harbour story", mode="extractive").answer == before
        redo = subprocess.run([*CLI, "index", "--json", "--quiet", str(first)], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=300)
        assert redo.returncode == 0, redo.stderr
        indexer = Indexer(settings, embedder=embedder)
        consistent(indexer)
        indexer.close()
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.slow
def test_questions_during_a_reindex_see_the_old_or_the_new_articles(tmp_path, embedder):
    home = tmp_path / "home"
    folder = tmp_path / "articles"
    folder.mkdir()
    old_text = "The Portvale council voted on Tuesday to scrap the toll on the harbour bridge."
    new_text = "The Portvale council voted on Tuesday to double the toll on the harbour bridge."
    (folder / "toll.json").write_text(json.dumps({"url": "https://p.example/toll", "title": "Toll", "text": old_text}))
    make_folder(folder / "others", count=30)
    settings = Settings(_env_file=None, home=home, chunk_size=64, chunk_overlap=8, answer_mode="extractive")
    indexer = Indexer(settings, embedder=embedder)
    indexer.sync([folder])
    indexer.close()
    (folder / "toll.json").write_text(json.dumps({"url": "https://p.example/toll", "title": "Toll", "text": new_text}))
    for n in range(30, 70):
        write_story(folder / "others" / f"story-{n}.txt", n)
    writer = subprocess.Popen([*CLI, "index", "--quiet", str(folder)], cwd=REPO, env=clean_env(
        NEWSDESK_HOME=str(home), NEWSDESK_CHUNK_SIZE="64", NEWSDESK_CHUNK_OVERLAP="8", NEWSDESK_WRITE_BATCH_CHUNKS="8"))
    desk = NewsDesk(settings, embedder=embedder)
    errors, answers = [], []

    def ask_loop():
        while writer.poll() is None:
            try:
                answer = desk.ask("What did the Portvale council decide about the harbour bridge toll?")
                answers.append(answer)
            except Exception as error:  # noqa: BLE001 - any error fails the test below
                errors.append(repr(error))

    threads = [threading.Thread(target=ask_loop) for _ in range(3)]
    for t in threads:
        t.start()
    writer.wait(300)
    for t in threads:
        t.join()
    assert writer.returncode == 0 and not errors and len(answers) >= 3
    for answer in answers:
        for citation in answer.citations:
            if citation.title == "Toll":
                assert citation.quote in (old_text, new_text)
    final = desk.ask("What did the Portvale council decide about the harbour bridge toll?")
    assert "double the toll" in final.answer and "scrap" not in final.answer
    desk.close()
