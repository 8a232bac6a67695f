"""The Chroma store under concurrent use: searches go on while ``reopen`` replaces the embedded client."""

from __future__ import annotations

import threading
import time

from index.store import ChunkStore, ReadWriteLock
from index.sync import Indexer
from settings import Settings


def test_searches_while_the_store_reopens_never_fail(tmp_path, seed_file, embedder):
    """A question's search raced the background reopen of its store (``NewsDesk.refresh(wait=False)``) and
    failed with Chroma's InternalError in ``bench fresh``: searches must wait for the swap, never fail."""
    settings = Settings(_env_file=None, home=tmp_path / "home", chunk_size=64, chunk_overlap=8)
    indexer = Indexer(settings, embedder=embedder)
    indexer.sync([seed_file])
    indexer.close()
    store = ChunkStore(settings, embedder)
    vector = embedder.embed(["How many US troops are stationed in South Korea?"])[0]
    expected = [cid for cid, _ in store.query(vector, 5)]
    failures: list[BaseException] = []
    results: list[list[str]] = []
    stop = threading.Event()

    def search() -> None:
        while not stop.is_set():
            try:
                results.append([cid for cid, _ in store.query(vector, 5)])
            except BaseException as error:  # noqa: BLE001 - collected and reported below
                failures.append(error)
                return

    threads = [threading.Thread(target=search) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(5):
            assert store.reopen(embedder, warm=True)
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert not failures, failures[0]
    assert results and all(r == expected for r in results)


def test_a_waiting_writer_holds_back_new_readers():
    lock = ReadWriteLock()
    order: list[str] = []
    first = lock.reading()
    first.__enter__()

    def write() -> None:
        with lock.writing():
            order.append("writer")

    def read() -> None:
        with lock.reading():
            order.append("reader")

    writer, reader = threading.Thread(target=write), threading.Thread(target=read)
    writer.start()
    time.sleep(0.1)  # the writer waits for the first reader
    reader.start()
    time.sleep(0.1)
    assert order == []  # the second reader waits behind the writer
    first.__exit__(None, None, None)
    writer.join(5)
    reader.join(5)
    assert order == ["writer", "reader"]
