"""Sync semantics on real files, real embeddings and real Chroma (embedded and server)."""

import json
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import pytest

from index.types import SourceCount
from index.catalog import open_catalog
from errors import EmbedderMismatch
from errors import IndexBusy
from index.sync import Indexer, index_lock
from tests.helpers import REPO, TOPICS, bad_corpus, clean_env, consistent, make_folder, titled, write_story


def test_add_then_nothing_changes(indexer, tmp_path):
    folder = make_folder(tmp_path / "articles")
    first = indexer.sync([folder])
    assert (first.added, first.updated, first.removed, first.unchanged) == (9, 0, 0, 0)
    assert first.articles == 9 and first.chunks == indexer.store.count() > 9
    consistent(indexer)
    second = indexer.sync([folder])
    assert (second.added, second.updated, second.removed, second.unchanged) == (0, 0, 0, 9)
    assert second.chunks_embedded == 0 and second.chunks == first.chunks
    consistent(indexer)


def test_changed_article_is_replaced(indexer, tmp_path):
    folder = make_folder(tmp_path / "articles")
    indexer.sync([folder])
    story = titled(indexer.catalog, "Story 2 about the wildfire")
    old_chunks = set(indexer.catalog.chunk_ids_of(story))
    write_story(folder / "story-2.txt", 2, extra=" A late update: the wildfire is now contained.")
    report = indexer.sync([folder])
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 0, 8)
    new_chunks = set(indexer.catalog.chunk_ids_of(story))
    assert new_chunks != old_chunks
    assert 0 < report.chunks_embedded <= len(new_chunks - old_chunks)  # unchanged chunks are not re-embedded
    assert "contained" in indexer.catalog.article_text(story)
    assert not (old_chunks - new_chunks) & indexer.store.all_ids()  # no chunk of the old version is left
    consistent(indexer)


def test_deleted_file_and_line_are_removed(indexer, tmp_path):
    folder = make_folder(tmp_path / "articles")
    indexer.sync([folder])
    (folder / "story-0.txt").unlink()
    lines = (folder / "feed.jsonl").read_text().splitlines()
    (folder / "feed.jsonl").write_text("\n".join(lines[1:]) + "\n")  # item-0 gone, the others move up a line
    report = indexer.sync([folder])
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 2, 7)
    titles = {a.title for a in indexer.catalog.list_articles()}
    assert "Story 0 about the harbour" not in titles and "Feed item 0" not in titles
    assert indexer.catalog.get_article(next(iter(indexer.catalog.article_hashes()))) is not None
    consistent(indexer)


def test_rename(indexer, tmp_path):
    folder = make_folder(tmp_path / "articles")
    indexer.sync([folder])
    (folder / "story-1.txt").rename(folder / "renamed.txt")  # a URL-less article: its id is its path
    (folder / "feed.jsonl").rename(folder / "feed-2022.jsonl")  # URL articles keep their ids
    report = indexer.sync([folder])
    assert (report.added, report.removed, report.unchanged) == (1, 1, 8)
    assert report.chunks_embedded > 0
    paths = {path for _, path, _ in indexer.catalog.article_hashes().values()}
    assert str(folder.resolve() / "feed-2022.jsonl") in paths and str(folder.resolve() / "feed.jsonl") not in paths
    assert indexer.sync([folder]).unchanged == 9
    consistent(indexer)


def test_bad_input_never_loses_indexed_articles(indexer, tmp_path):
    folder = make_folder(tmp_path / "articles")
    expected_bad = bad_corpus(folder / "bad")
    indexer.sync([folder])
    assert indexer.catalog.counts().articles == 9
    (folder / "story-3.txt").write_bytes(b"\x00\x01binary garbage\xff")  # an indexed file turns bad
    (folder / "feed.jsonl").write_text((folder / "feed.jsonl").read_text() + "{broken\n")
    report = indexer.sync([folder])
    assert report.removed == 0 and report.articles == 9
    reasons = {Path(s.path.split(":")[0]).name: s.reason for s in report.skipped}
    assert reasons["story-3.txt"] == "binary file" and reasons["feed.jsonl"].startswith("malformed JSON")
    for name in ("empty.txt", "binary.txt", "huge.txt", "pipe.txt", "selfloop.txt"):
        assert expected_bad[name] in reasons[name]
    consistent(indexer)


def test_remove_by_id_and_by_path(indexer, tmp_path):
    folder = make_folder(tmp_path / "articles")
    indexer.sync([folder])
    some_id = titled(indexer.catalog, "Story 4")
    removed, unknown = indexer.remove([some_id, "no-such-id"])
    assert removed == [some_id] and unknown == ["no-such-id"]
    removed, _ = indexer.remove(under=[folder / "feed.jsonl"])
    assert len(removed) == 3 and indexer.catalog.counts().articles == 5
    consistent(indexer)


def test_subfolder_keeps_ids_and_missing_path_removes_nothing(indexer, tmp_path):
    folder = make_folder(tmp_path / "articles")
    sub = make_folder(folder / "sub", count=2)
    first = indexer.sync([folder])
    assert first.added == 9 + 5 - 3  # the sub folder's feed repeats the same URLs: duplicates skipped
    assert sum("duplicate of" in s.reason for s in first.skipped) == 3
    again = indexer.sync([sub])  # indexing a part of a root uses the root's ids: nothing new
    assert (again.added, again.removed) == (0, 0)
    assert indexer.catalog.roots() == [str(folder.resolve())]
    assert indexer.sync([sub]).unchanged == 5 and indexer.sync([folder]).unchanged == 11
    report = indexer.sync([tmp_path / "typo"])
    assert report.removed == 0 and "no such file" in report.skipped[0].reason
    consistent(indexer)


def test_status(indexer, tmp_path, seed_file):
    indexer.sync([make_folder(tmp_path / "articles"), seed_file])
    status = indexer.status()
    assert status.articles == 10 and status.chunks > 10
    assert status.newest_article.startswith("2022-08-03") and status.oldest_article.startswith("2022-08-01")
    assert SourceCount("example.com", 3) in status.sources
    assert status.embedder == "minilm-l6-v2-int8" and status.last_indexed
    assert str(seed_file.resolve()) in status.roots
    assert {"source": "example.com", "articles": 3} in asdict(status)["sources"]  # as `status --json` prints it


def test_other_embedder_is_refused(store_settings, embedder, tmp_path):
    Indexer(store_settings, embedder=embedder).close()

    class Other:
        name, dimension = "other-model", 8

    with pytest.raises(EmbedderMismatch, match="--rebuild"):
        Indexer(store_settings, embedder=Other())


def test_one_writer_at_a_time_and_readers_keep_reading(indexer, tmp_path):
    """Another process or another thread holding the lock: IndexBusy at once; readers keep reading. The
    thread that holds it may write (a watcher holds it for its life and syncs under it)."""
    indexer.sync([make_folder(tmp_path / "articles")])
    where = indexer.settings.index
    same = dict(home=str(where.home), chroma_host=where.chroma_host, chroma_port=where.chroma_port,
                collection=where.collection, catalog_url=where.catalog_dsn)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom index.sync import index_lock\nfrom settings import Settings\n"
         f"with index_lock(Settings(_env_file=None, **{same!r})):\n"
         "    print('locked', flush=True)\n    sys.stdin.readline()\n"],
        cwd=REPO, env=clean_env(PYTHONPATH=str(REPO)), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(IndexBusy, match="another newsdesk process is writing"):
            indexer.sync([tmp_path / "articles"])
        with pytest.raises(IndexBusy):
            indexer.embed_pending()
        reader = open_catalog(indexer.settings, read_only=True)
        assert reader.counts().articles == 9
        reader.close()
    finally:
        holder.communicate("\n", timeout=30)
    with index_lock(indexer.settings):
        other: list = []
        thread = threading.Thread(target=lambda: other.append(_busy(lambda: indexer.remove(["x"]))))
        thread.start()
        thread.join()
        assert other == [True]
        assert indexer.sync([tmp_path / "articles"]).unchanged == 9  # re-entrant for the holding thread
    assert indexer.sync([tmp_path / "articles"]).unchanged == 9  # and released after


def _busy(action) -> bool:
    try:
        action()
    except IndexBusy:
        return True
    return False


def big_feed(path: Path, count: int) -> Path:
    path.write_text("".join(json.dumps({
        "url": f"https://wire.example.com/{i}", "title": f"Wire story {i}", "source": "wire.example.com",
        "published_at": "2022-08-01", "text": f"Wire story {i} reports that the {TOPICS[i % 8]} board met. " * 4}) + "\n"
        for i in range(count)))
    return path


def test_one_pass_writes_while_reading_and_reports_progress(settings, embedder, tmp_path):
    """A large JSONL file is written batch by batch as it is read, never held whole."""
    feed = big_feed(tmp_path / "feed.jsonl", 60)
    indexer = Indexer(settings.updated(write_batch_chunks=8), embedder=embedder)
    reads_at_write: list[int] = []
    read_so_far = {"n": 0}
    original_load = indexer.loader.load

    def counting_load(path, relpath, sink=None):
        def counting_sink(article):
            read_so_far["n"] += 1
            sink(article)
        return original_load(path, relpath, sink=counting_sink)

    original_put = indexer.catalog.put_article

    def recording_put(article, *args):
        reads_at_write.append(read_so_far["n"])
        return original_put(article, *args)

    indexer.loader.load, indexer.catalog.put_article = counting_load, recording_put
    calls: list[tuple[int, int, int]] = []
    report = indexer.sync([feed], on_progress=lambda *args: calls.append(args))
    assert report.added == 60 and report.articles == 60
    assert reads_at_write[0] < 60  # the first articles were stored before the file was read to its end
    assert calls[0] == (0, 60, 0) and calls[-1][:2] == (60, 60) and calls[-1][2] == report.chunks_embedded
    assert len(calls) > 3 and [c[0] for c in calls] == sorted(c[0] for c in calls)
    consistent(indexer)
    indexer.close()


def test_a_failed_write_is_not_taken_for_a_bad_file(settings, embedder, tmp_path):
    """An OSError while writing (inside the loader's read loop) stops the run; it never marks the
    file unreadable or removes anything, and the next run completes. (Articles committed before the
    failure are answerable by keyword and wait in the embedding queue: the next run embeds them.)"""
    folder = make_folder(tmp_path / "articles")
    big_feed(folder / "wire.jsonl", 20)
    indexer = Indexer(settings.updated(write_batch_chunks=4), embedder=embedder)
    first = indexer.sync([folder])
    big_feed(folder / "wire.jsonl", 30)  # 10 new lines
    (folder / "story-0.txt").unlink()
    original = indexer.store.upsert
    indexer.store.upsert = lambda *a, **k: (_ for _ in ()).throw(OSError(5, "Input/output error"))
    with pytest.raises(OSError, match="Input/output"):
        indexer.sync([folder])
    committed = indexer.catalog.counts().articles - first.articles  # nothing removed
    assert 0 < committed < 10 and indexer.pending_count() > 0
    assert indexer.verify()["missing_in_store"] == []  # nothing the catalog holds as embedded lacks its vector
    indexer.store.upsert = original
    again = indexer.sync([folder])
    assert (again.added + committed, again.removed, again.skipped) == (10, 1, [])
    assert indexer.pending_count() == 0
    consistent(indexer)
    indexer.close()


def test_an_early_edit_re_embeds_only_the_chunks_it_changed(settings, embedder, tmp_path):
    """Regression: chunk ids hashed the chunk's position, so an edit that added a chunk near the top of
    an article gave every later (unchanged) chunk a new id, and all of them were embedded again."""
    def paragraph(n: int, sentences: int = 3) -> str:
        return " ".join(f"Paragraph {n} says the harbour council voted on budget line number {k} today."
                        for k in range(sentences))

    folder = tmp_path / "articles"
    folder.mkdir()
    story = folder / "harbour.txt"
    body = [paragraph(n) for n in range(1, 9)]
    story.write_text("Harbour council budget\n\n" + "\n\n".join(body) + "\n")
    indexer = Indexer(settings.updated(chunk_size=64, chunk_overlap=8), embedder=embedder)
    indexer.sync([folder])

    def chunk_texts() -> Counter:
        return Counter(r.text for r in indexer.catalog.chunk_records(sorted(indexer.catalog.all_chunk_ids())).values())

    before = chunk_texts()
    body[0] = paragraph(1, sentences=7)  # the first paragraph grows by a chunk or more
    story.write_text("Harbour council budget\n\n" + "\n\n".join(body) + "\n")
    report = indexer.sync([folder])
    after = chunk_texts()
    new_texts = sum((after - before).values())
    assert report.updated == 1 and sum(after.values()) > sum(before.values())
    assert 0 < new_texts < sum(after.values()) // 2  # the later paragraphs' chunks are unchanged
    assert report.chunks_embedded == new_texts
    consistent(indexer)
    indexer.close()
