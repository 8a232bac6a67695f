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
from tests.storm import STORM, STORM_WORDS, index_with_stories, storm_story, write_stories

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


def test_stories_and_timeline(tmp_path, embedder):
    home = tmp_path / "home"
    settings = Settings(_env_file=None, home=home)
    index_with_stories(settings, [write_stories(tmp_path / "articles")], embedder)
    story_id, timeline = storm_story(settings)

    listed = newsdesk(home, "stories", "--json")
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert data["total"] == 1 and data["offset"] == 0  # the cheese fair alone is no story
    assert data["stories"] == [{"id": story_id, "title": data["stories"][0]["title"], "first_date": "2022-03-02",
                                "last_date": "2022-03-09", "articles": 4,
                                "outlets": ["coastal-herald.example", "island-times.example"]}]
    assert data["stories"][0]["title"] in {a["title"] for a in STORM}
    human = newsdesk(home, "stories", COLUMNS="200")
    row = next(line for line in human.stdout.splitlines() if story_id in line)
    assert "2022-03-02" in row and "2022-03-09" in row and " 4 " in row and "coastal-herald.example" in row
    assert "Stories, newest first" in human.stdout and "1 shown; 1 in the index" in human.stdout
    since = json.loads(newsdesk(home, "stories", "--since", "2022-03-09", "--json").stdout)
    assert [s["id"] for s in since["stories"]] == [story_id]
    assert json.loads(newsdesk(home, "stories", "--since", "2022-03-10", "--json").stdout)["stories"] == []
    later = newsdesk(home, "stories", "--since", "2022-03-10")
    assert later.returncode == 0 and "No stories reported since 2022-03-10" in later.stdout

    # found by a few words and by its id: the same timeline as the story queries give
    by_words = newsdesk(home, "timeline", *STORM_WORDS.split(), "--json")
    assert by_words.returncode == 0, by_words.stderr
    assert json.loads(by_words.stdout) == timeline
    assert json.loads(newsdesk(home, "timeline", story_id, "--json").stdout) == timeline
    dates = [e["date"] for e in timeline["entries"]]
    assert dates == sorted(dates) and dates[0] == "2022-03-02" and dates[-1] == "2022-03-09"  # the newest report too
    assert ("16", "19", "2022-03-05", "2022-03-09") in {
        (m["before_value"], m["after_value"], m["before"]["date"], m["after"]["date"]) for m in timeline["moves"]}
    assert [({d["first_value"], d["second_value"]}, d["first"]["date"]) for d in timeline["disagreements"]] == [
        ({"12", "14"}, "2022-03-02")]

    shown = newsdesk(home, "timeline", story_id)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert out.index("Timeline") < out.index("Moves") < out.index("Disagreements")
    positions = [out.index(f'"{e["report"]["quote"]}"') for e in timeline["entries"]]
    assert positions == sorted(positions)  # oldest first
    for entry in timeline["entries"]:
        assert f"  {entry['date']}  {', '.join(entry['outlets'])}" in out
    for move in timeline["moves"]:
        assert (f"{move['fact']}: {move['before_value']} -> {move['after_value']} "
                f"({move['before']['date']} -> {move['after']['date']})") in out
        for report in (move["before"], move["after"]):
            assert f'{report["date"]} {report["source"]}: "{report["quote"]}"' in out
    [d] = timeline["disagreements"]
    assert f"{d['fact']}: {d['first_value']} ({d['first']['source']}) vs {d['second_value']}" in out
    assert f'"{d["first"]["quote"]}"' in out and f'"{d["second"]["quote"]}"' in out

    missing = newsdesk(home, "timeline", "zeppelin", "regatta")
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.strip() == ("newsdesk timeline: no story matches 'zeppelin regatta' (`newsdesk stories` "
                                      "lists them).")
    bad = newsdesk(home, "stories", "--since", "someday")
    assert bad.returncode == 2 and "not a date: 'someday'" in bad.stderr and "Traceback" not in bad.stderr
    empty = newsdesk(tmp_path / "nothing", "stories")
    assert empty.returncode == 0 and "No stories" in empty.stdout


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
