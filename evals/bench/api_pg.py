"""The PostgreSQL side of ``newsdesk bench api``: a real PostgreSQL and a real Chroma server on 127.0.0.1,
and the copied index loaded into them.

PostgreSQL runs from Debian's binaries (``initdb``, ``pg_ctl``; as the ``postgres`` user when this runs as
root, which ``initdb`` refuses) in a fresh temporary data folder, fsync off: a benchmark's server, not a
store. The articles of the SQLite copy are written to a JSONL file and indexed into the fresh schema by the
``Indexer`` (the one write API: the same chunks, postings and vectors a real host writes); the vectors of
chunks whose text the SQLite copy already embedded are taken from it instead of embedded again.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from settings import Settings

PG_BIN = Path("/usr/lib/postgresql/15/bin")  # Debian's PostgreSQL 15 (.ci/run installs it)
START_S = 90.0  # the longest PostgreSQL or Chroma may take to listen (2 busy cores)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Servers:
    """PostgreSQL and a Chroma server in one temporary folder; ``start()``, ``stop()`` (which removes it)."""

    def __init__(self, pg_bin: Path = PG_BIN) -> None:
        self.pg_bin = pg_bin
        self.root = Path(tempfile.mkdtemp(prefix="newsdesk-bench-pg-"))
        self.pg_data = self.root / "pgdata"
        self.pg_port, self.chroma_port = _free_port(), _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.pg_port}/newsdesk"  # trust auth, 127.0.0.1 only
        self.chroma: subprocess.Popen | None = None

    @staticmethod
    def available(pg_bin: Path = PG_BIN) -> bool:
        return (pg_bin / "pg_ctl").exists() and (pg_bin / "initdb").exists()

    def _pg(self, *args: str) -> None:
        command = [str(self.pg_bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {(done.stderr or done.stdout).strip()[:300]}")

    def start(self) -> "Servers":
        """Chroma starts first (its imports take seconds) and is awaited once PostgreSQL is up."""
        chroma_data = Path(tempfile.mkdtemp(prefix="chroma-", dir=self.root))
        log = open(self.root / "chroma.log", "ab")
        self.chroma = subprocess.Popen(
            [str(Path(sys.executable).parent / "chroma"), "run", "--path", str(chroma_data), "--host", "127.0.0.1",
             "--port", str(self.chroma_port)], stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
        log.close()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._pg("initdb", "-D", str(self.pg_data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync",
                 "--locale", "C")
        options = f"-h 127.0.0.1 -p {self.pg_port} -k {self.root} -c fsync=off -c synchronous_commit=off " \
                  "-c full_page_writes=off -c max_connections=200"
        self._pg("pg_ctl", "-D", str(self.pg_data), "-o", options, "-l", str(self.root / "postgres.log"), "-w",
                 "-t", str(int(START_S)), "start")
        self._pg("psql", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres", "-d", "postgres", "-q",
                 "-c", "CREATE DATABASE newsdesk")
        deadline = time.monotonic() + START_S
        while not _listening(self.chroma_port):
            if self.chroma.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Chroma server did not start (see {self.root / 'chroma.log'})")
            time.sleep(0.2)
        return self

    def pids(self) -> dict[str, list[int]]:
        """The process trees to meter: PostgreSQL's postmaster (its backends are its children) and Chroma."""
        postmaster = int((self.pg_data / "postmaster.pid").read_text().split()[0])
        return {"PostgreSQL": [postmaster], "Chroma server": [self.chroma.pid] if self.chroma else []}

    def settings(self, base: Settings, home: Path) -> Settings:
        """``base`` on this PostgreSQL and Chroma server, with a home of its own."""
        return base.updated(home=home, catalog_url=self.url, chroma_host="127.0.0.1", chroma_port=self.chroma_port)

    def stop(self) -> None:
        if self.chroma is not None and self.chroma.poll() is None:
            self.chroma.terminate()
            try:
                self.chroma.wait(15)
            except subprocess.TimeoutExpired:
                self.chroma.kill()
                self.chroma.wait()
        if (self.pg_data / "postmaster.pid").exists():
            try:
                self._pg("pg_ctl", "-D", str(self.pg_data), "-m", "immediate", "-w", "-t", "60", "stop")
            except RuntimeError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


class _KnownVectors:
    """An embedder that answers texts the source index already embedded from its vectors (the chunk's text
    follows its title and a newline: ``index.chunker.embedding_text``) and embeds the others."""

    def __init__(self, embedder, known: dict[str, bytes | None]) -> None:
        self.embedder, self.known = embedder, known
        self.name, self.dimension = embedder.name, embedder.dimension
        self.reused = self.embedded = 0

    def embed(self, texts):
        out: list[np.ndarray | None] = []
        for text in texts:
            blob = self.known.get(text.split("\n", 1)[-1])
            out.append(None if blob is None else np.frombuffer(blob, dtype=np.float32))
        missing = [i for i, vector in enumerate(out) if vector is None]
        if missing:
            for i, vector in zip(missing, self.embedder.embed([texts[i] for i in missing])):
                out[i] = np.asarray(vector, dtype=np.float32)
        self.reused += len(texts) - len(missing)
        self.embedded += len(missing)
        return np.vstack(out) if out else np.zeros((0, self.dimension), dtype=np.float32)


def copy_to_postgres(catalog_path: Path, target: Settings, work: Path) -> dict:
    """Every article of the SQLite catalog ``catalog_path`` indexed into ``target``'s PostgreSQL schema and
    Chroma server (with ``target``'s embedder); returns the counts and how many vectors were reused."""
    from index.catalog import Catalog
    from index.embedders import make_embedder
    from index.search import ChunkFilter
    from index.sync import Indexer

    catalog = Catalog(catalog_path, read_only=True)
    try:
        records = catalog.list_articles(limit=10_000_000)
        rows = []
        for record in records:
            stored = catalog.stored_article(record.article_id)
            if stored is not None:
                a = stored[0]
                rows.append({"title": a.title, "text": a.text, "source": a.source, "url": a.url,
                             "published_at": a.published_at.isoformat() if a.published_at else None,
                             "authors": list(a.authors)})
        ids, blobs = catalog.window_vectors(ChunkFilter(None, None, ()))
        texts = catalog.chunk_records(ids)
    finally:
        catalog.close()
    known: dict[str, bytes | None] = {}
    for chunk_id, blob in zip(ids, blobs):
        text = texts[chunk_id].text if chunk_id in texts else None
        if text is not None:
            known[text] = blob if known.get(text, blob) == blob else None  # one text, two vectors: embed it
    path = work / "articles.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    embedder = _KnownVectors(make_embedder(target), known)
    indexer = Indexer(target, embedder=embedder)
    try:
        report = indexer.sync([path])
        counts = indexer.catalog.counts()
    finally:
        indexer.close()
    return {"articles": counts.articles, "chunks": counts.chunks, "added": report.added,
            "vectors_reused": embedder.reused, "vectors_embedded": embedder.embedded}
