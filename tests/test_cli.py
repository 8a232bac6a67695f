"""The newsdesk command line, run as a user runs it: a subprocess with NEWSDESK_* settings."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.catalog import Catalog
from settings import Settings
from index.store import make_client
from tests.helpers import REPO, clean_env, make_folder

CLI = [sys.executable, "-m", "cli"]

# every test runs `newsdesk` subprocesses, several each, about 4 to 12 s a test on 2 busy cores
pytestmark = pytest.mark.slow


def newsdesk(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], cwd=REPO, capture_output=True, text=True, timeout=600,
                          env=clean_env(NEWSDESK_HOME=str(home), **env))


def test_index_status_remove_json(tmp_path, seed_file):
    home = tmp_path / "home"
    folder = make_folder(tmp_path / "articles")
    (folder / "empty.txt").write_text("")
    first = newsdesk(home, "index", str(folder), str(seed_file), "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert set(report) == {"added", "updated", "removed", "unchanged", "skipped", "articles", "chunks", "seconds"}
    assert report["added"] == 10 and report["articles"] == 10
    assert report["skipped"] == [{"path": str(folder.resolve() / "empty.txt"), "reason": "empty file"}]
    second = json.loads(newsdesk(home, "index", str(folder), str(seed_file), "--json").stdout)
    assert (second["added"], second["updated"], second["removed"], second["unchanged"]) == (0, 0, 0, 10)

    status = json.loads(newsdesk(home, "status", "--json").stdout)
    assert status["articles"] == 10 and status["chunks"] == report["chunks"]
    assert status["embedder"] == "minilm-l6-v2-int8" and str(home.resolve()) in status["store"]
    seed_id = Catalog(Settings(_env_file=None, home=home).index.catalog_path, read_only=True).db.execute(
        "SELECT id FROM articles WHERE title LIKE 'North Korea%'").fetchone()[0]
    removed = newsdesk(home, "remove", seed_id, "--json")
    assert json.loads(removed.stdout) == {"removed": [seed_id], "unknown": []}
    assert json.loads(newsdesk(home, "status", "--json").stdout)["articles"] == 9

    human = newsdesk(home, "status")
    assert "articles" in human.stdout and "9" in human.stdout and "example.com" in human.stdout


def test_human_output_and_progress(tmp_path):
    home = tmp_path / "home"
    result = newsdesk(home, "index", str(make_folder(tmp_path / "articles")))
    assert result.returncode == 0
    assert "9 added" in result.stdout and "Index: 9 articles" in result.stdout
    assert "indexing" in result.stderr and "chunks/s" in result.stderr  # the progress bar


def test_clear_errors_not_tracebacks(tmp_path):
    home = tmp_path / "home"
    assert newsdesk(home, "index", str(make_folder(tmp_path / "articles"))).returncode == 0
    other = newsdesk(home, "status", NEWSDESK_EMBEDDER="openai", OPENAI_API_KEY="sk-test-secret-123")
    assert other.returncode == 2 and "Traceback" not in other.stderr
    assert "was built with the embedder 'minilm-l6-v2-int8'" in other.stderr and "--rebuild" in other.stderr
    assert "sk-test-secret-123" not in other.stderr + other.stdout
    bad = newsdesk(home, "status", NEWSDESK_CHUNK_SIZE="many")
    assert bad.returncode == 2 and "NEWSDESK_CHUNK_SIZE" in bad.stderr and "Traceback" not in bad.stderr
    down = newsdesk(home, "status", NEWSDESK_CHROMA_HOST="127.0.0.1", NEWSDESK_CHROMA_PORT="9")
    assert down.returncode == 2 and "Chroma" in down.stderr and "Traceback" not in down.stderr


@pytest.mark.corpus  # indexes the whole gold corpus while readers ask
def test_readers_keep_working_while_an_index_runs(tmp_path, gold_file, embedder):
    home = tmp_path / "home"
    assert newsdesk(home, "index", str(make_folder(tmp_path / "articles"))).returncode == 0
    settings = Settings(_env_file=None, home=home)
    writer = subprocess.Popen([*CLI, "index", "--quiet", str(gold_file)], cwd=REPO, env=clean_env(NEWSDESK_HOME=str(home)),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    catalog = Catalog(settings.index.catalog_path, read_only=True)
    collection = make_client(settings).get_collection(settings.index.collection, embedding_function=None)
    query = embedder.embed(["council budget vote"])
    reads = 0
    deadline = time.time() + 25
    while writer.poll() is None and time.time() < deadline:
        assert catalog.counts().articles >= 9
        hits = collection.query(query_embeddings=query, n_results=3)
        assert hits["ids"][0]
        reads += 1
        time.sleep(0.2)
    writer.kill()
    writer.wait()
    assert reads > 10
    catalog.close()
