"""Plain helpers shared by the tests (no fixtures: those are in the conftest.py files). Test modules import
from here, never from one another (tests/test_layout.py checks it)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parent.parent


# --- processes and ports ------------------------------------------------------------------------


def clean_env(**extra: str) -> dict:
    """The environment for a newsdesk subprocess: no NEWSDESK_* leaking in from the caller. Without an LLM
    setting among ``extra`` it answers extractively (NEWSDESK_LLM=none), as ``no_local_default`` makes the
    tests' own process do: the packaged model is installed here, and unset it would be the answerer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    if not any(k.startswith(("NEWSDESK_LLM", "OPENAI_")) for k in extra):
        env["NEWSDESK_LLM"] = "none"
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ChromaServer:
    """A real ``chroma run`` process on 127.0.0.1."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        chroma = Path(sys.executable).parent / "chroma"
        log = open(self.path.parent / f"chroma-{self.port}.log", "ab")
        self.process = subprocess.Popen(
            [str(chroma), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("chroma server did not start within 60 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


PG_BIN = Path("/usr/lib/postgresql/15/bin")  # Debian's postgresql 15 (.ci/run installs it)


class PostgresServer:
    """A real PostgreSQL server on 127.0.0.1 and a free port, in a fresh data directory of its own under the
    system's temporary folder (fsync off: a test server). ``initdb`` refuses root, so as root it runs as the
    ``postgres`` user, in a folder that user owns. ``url`` is a database of its own; ``stop()`` and
    ``start()`` again keep the data (a restart); leaving the ``with`` block removes it."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="newsdesk-pg-"))
        self.data = self.root / "pgdata"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/newsdesk"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(PG_BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    def start(self) -> "PostgresServer":
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        if not self.data.exists():
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                      "--no-sync", "--locale", "C")
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c synchronous_commit=off " \
                  "-c full_page_writes=off -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"), "-w",
                  "-t", "60", "start")
        self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres", "-q",
                  "-c", "CREATE DATABASE newsdesk", check=False)  # exists after a restart
        return self

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)

    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class ThreadServer:
    """A real uvicorn server for an ASGI app, in a thread of the test process, on a free port of 127.0.0.1.
    ``start()``/``stop()``, or ``with ThreadServer(app) as server:``."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> "ThreadServer":
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the API server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    __enter__ = start

    def __exit__(self, *exc) -> None:
        self.stop()


# --- article folders ----------------------------------------------------------------------------

TOPICS = ["harbour", "election", "wildfire", "vaccine", "airline", "tariff", "drought", "museum"]


def write_story(path: Path, n: int, extra: str = "") -> None:
    topic = TOPICS[n % len(TOPICS)]
    body = " ".join(f"Report {n}: the {topic} story continues with detail number {k}." for k in range(12))
    path.write_text(f"Story {n} about the {topic}\n{body}{extra}\n")


def make_folder(root: Path, count: int = 6) -> Path:
    """``count`` stories (story-N.txt) and a feed.jsonl of 3 dated items: ``count + 3`` articles."""
    root.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        write_story(root / f"story-{n}.txt", n)
    (root / "feed.jsonl").write_text("\n".join(json.dumps({
        "url": f"https://news.example.com/item-{i}", "title": f"Feed item {i}", "source": "example.com",
        "published_at": f"2022-08-0{i + 1}", "text": f"Feed item {i} says the {TOPICS[i]} council met on day {i}."})
        for i in range(3)) + "\n")
    return root


def change_corpus(folder: Path) -> None:
    """v1 -> v2 of a ``make_folder`` folder of at least 11 stories: edits, deletions, additions, a changed JSONL line."""
    for n in (1, 4, 7, 10):
        write_story(folder / f"story-{n}.txt", n, extra=f" Update {n}: officials revised the figures.")
    for n in (2, 5, 8):
        (folder / f"story-{n}.txt").unlink()
    for n in range(30, 35):
        write_story(folder / f"story-{n}.txt", n)
    feed = folder / "feed.jsonl"
    feed.write_text(feed.read_text().replace("council met on day 1", "council adjourned on day 1"))


def bad_corpus(folder: Path) -> dict[str, str]:
    """Every kind of bad input; returns file name -> expected reason (a substring)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.txt").write_text("\n \n\t\n")
    (folder / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (folder / "latin1.txt").write_bytes("Caf\xe9 news\nLe caf\xe9 est ouvert.".encode("latin-1"))
    (folder / "broken.json").write_text('{"title": "x", "text": ')
    (folder / "notext.json").write_text(json.dumps({"title": "Only a title", "text": "  "}))
    (folder / "huge.txt").write_text("Headline\n" + "word " * (5 * 1024 * 1024 // 5 + 10))
    (folder / "fake.jsonl.gz").write_bytes(b"this is not gzip at all")
    (folder / "bad-front.md").write_text("---\ntitle: [unclosed\n---\nBody text here.\n")
    (folder / "dangling.txt").symlink_to(folder / "does-not-exist.txt")
    (folder / "selfloop.txt").symlink_to(folder / "selfloop.txt")
    (folder / "loop").mkdir()
    (folder / "loop" / "back").symlink_to(folder, target_is_directory=True)
    os.mkfifo(folder / "pipe.txt")
    (folder / "image.png").write_bytes(b"\x89PNG")
    return {
        "empty.txt": "empty file", "blank.txt": "empty file", "binary.txt": "binary file",
        "latin1.txt": "invalid UTF-8", "broken.json": "malformed JSON", "notext.json": "no text",
        "huge.txt": "larger than 5 MB", "fake.jsonl.gz": "not a gzip file", "bad-front.md": "front matter",
        "dangling.txt": "broken symlink", "selfloop.txt": "symlink loop", "back": "symlink loop",
        "pipe.txt": "not a regular file", "image.png": "unsupported file type",
    }


# --- index state and kill -9 runs ---------------------------------------------------------------

CRASH_RUNNER = REPO / "tests" / "index" / "crash_runner.py"  # `newsdesk index`, killing itself at a point
QUEUE_RUNNER = REPO / "tests" / "index" / "queue_runner.py"  # the watcher's way: sync(embed=False), then the queue
CRASH_ENV = {"NEWSDESK_CHUNK_SIZE": "64", "NEWSDESK_CHUNK_OVERLAP": "8", "NEWSDESK_WRITE_BATCH_CHUNKS": "6"}


def run_index(home: Path, folder: Path, point: str = "none", nth: int = 1, kill_after: float | None = None,
              runner: Path = CRASH_RUNNER, store: dict | None = None) -> int:
    """Index ``folder`` into ``home`` in a subprocess that SIGKILLs itself at the ``nth`` call of ``point``, or is
    SIGKILLed ``kill_after`` seconds after its start; returns its exit code (0 or -SIGKILL). ``store``: settings
    of a shared store (``store_env``), the PostgreSQL catalog and a Chroma server; none: the home's own files."""
    env = clean_env(NEWSDESK_HOME=str(home), PYTHONPATH=str(REPO), **CRASH_ENV, **store_env(store))
    process = subprocess.Popen([sys.executable, str(runner), point, str(nth), str(folder)], env=env, cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if kill_after is not None:
        try:
            process.wait(kill_after)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
    _, err = process.communicate(timeout=300)
    if process.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(err.decode())
    return process.returncode


def store_env(store: dict | None) -> dict[str, str]:
    """``store`` (settings such as ``catalog_url``, ``chroma_host``) as NEWSDESK_* variables for a subprocess."""
    return {f"NEWSDESK_{key.upper()}": str(value) for key, value in (store or {}).items()}


def article_hashes(catalog) -> dict[str, str]:
    """Article id -> content hash, through the catalog interface (either backend)."""
    return {article_id: row[0] for article_id, row in catalog.article_hashes().items()}


def titled(catalog, title: str) -> str:  # the id of the one article whose title starts with ``title``
    (found,) = [a.article_id for a in catalog.list_articles() if (a.title or "").startswith(title)]
    return found


def index_state(indexer) -> dict:
    """What must equal a clean `newsdesk index` of the same inputs."""
    catalog = indexer.catalog
    return {"articles": article_hashes(catalog),
            "chunks": sorted(catalog.all_chunk_ids()), "embedded": sorted(catalog.embedded_chunk_ids()),
            "store": sorted(indexer.store.all_ids()), "journal": catalog.journal_entries()}


def snapshot(home: Path, store: dict | None = None) -> dict:
    """``index_state`` of the index in ``home`` (written with CRASH_ENV; ``store`` as for ``run_index``), with
    what Chroma keeps beside each vector and ``verify()``."""
    from index.sync import Indexer
    from settings import Settings

    indexer = Indexer(Settings(_env_file=None, home=home, chunk_size=64, chunk_overlap=8, **(store or {})))
    try:
        metadatas = indexer.store.collection.get(include=["metadatas"])["metadatas"]
        return {**index_state(indexer), "metadatas": sorted(json.dumps(m, sort_keys=True) for m in metadatas),
                "verify": indexer.verify()}
    finally:
        indexer.close()


def consistent(indexer) -> None:
    """Catalog and Chroma hold the same chunks, nothing is journaled, each article has the chunks it counts, read
    through the catalog interface (either backend); on SQLite its own FTS5 table has one row per chunk too."""
    from index.catalog import Catalog
    catalog = indexer.catalog
    assert indexer.verify() == {"missing_in_store": [], "stale_in_store": []}
    assert catalog.journal_entries() == []
    every = catalog.all_chunk_ids()
    per_article = {a: catalog.chunk_ids_of(a) for a in catalog.article_hashes()}
    assert all(len(ids) == catalog.get_article(a).n_chunks for a, ids in per_article.items())
    assert sorted(every) == sorted(c for ids in per_article.values() for c in ids)
    assert catalog.counts().chunks == len(every)
    if isinstance(catalog, Catalog):
        assert catalog.db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0] == len(every)


# --- the API ------------------------------------------------------------------------------------

FEED = [
    {"url": "https://a.example/floods", "title": "Floods close park", "source": "a.example", "published_at": "2022-06-14",
     "text": "Severe flooding closed Yellowstone National Park on Tuesday, washing out roads and bridges. "
             "Park officials said the north entrance would stay closed for months."},
    {"url": "https://b.example/merger", "title": "Airlines merge", "source": "b.example", "published_at": "2022-02-07",
     "text": "Spirit and Frontier airlines announced a $6.6 billion merger on Monday. "
             "The combined airline would be the fifth largest in the United States."},
]


def write_feed(folder: Path, records=FEED) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "feed.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def api_settings(home: Path, **values):
    from settings import Settings

    return Settings(_env_file=None, home=home, answer_mode="extractive", **values)


# --- the app (streamlit.testing.v1.AppTest) -----------------------------------------------------

APP = REPO / "app.py"
UI_SOURCES = [APP, *sorted((REPO / "ui").rglob("*.py"))]  # every file that renders anything
TIMEOUT = 120

SEED_TITLE = "North Korea Conducts Ballistic Missile Test Amid Heightened Regional Tensions"
TROOPS_QUESTION = "How many US troops are stationed in South Korea?"
UNANSWERABLE = "Who won the 2030 World Cup?"

PAYLOADS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "![x](https://attacker.example/?q=1)",
            "[click](javascript:alert(1))"]
HOSTILE = {
    "title": "<script>alert(1)</script> Zorblat festival report",
    "source": "<b>Evil</b> Times",
    "url": "javascript:alert(1)",
    "published_at": "2022-06-01",
    "text": ("The Zorblat festival in Oslo drew 4,321 visitors this year. Organisers posted "
             "<img src=x onerror=alert(1)> and [click](javascript:alert(1)) on the site. Tickets cost $5 and $10.\n"
             "![x](https://attacker.example/?q=1)\n"
             "<script>alert(1)</script> The next Zorblat festival is planned for 2023."),
}
MARZIPAN_TEXT = ("The Luebeck Marzipan Council announced on Monday that it will open 17 new tasting rooms across "
                 "Norway next spring. The council's chair, Greta Holm, said demand had doubled since 2021.")


def new_session(page: str | None = None) -> "AppTest":
    """A new browser session of the app, on the chat (the default page) or on ``page`` (its url_path).
    Set the home first (the ``use_home`` fixture)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run(timeout=TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    if page:
        at.switch_page(f"ui/pages/{page}.py")  # the script registered under /library, /evaluations
        at.run(timeout=TIMEOUT)
        assert not at.exception, [e.value for e in at.exception]
    return at


def ask(at: "AppTest", question: str) -> "AppTest":
    at.chat_input(key="question").set_value(question)
    at.run(timeout=TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    return at


def all_text(at: "AppTest") -> list[str]:
    """Every piece of Markdown the app sent (markdown, captions, alerts, labels)."""
    texts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    texts += [a.value for alerts in (at.warning, at.error, at.info, at.success) for a in alerts]
    texts += [e.label for e in at.expander]
    return texts


def unescaped(markdown: str) -> str:
    """What a Markdown string shows once its backslash escapes are resolved."""
    out, i = [], 0
    while i < len(markdown):
        if markdown[i] == "\\" and i + 1 < len(markdown):
            out.append(markdown[i + 1])
            i += 2
        else:
            out.append(markdown[i])
            i += 1
    return "".join(out)


def assistant_messages(at: "AppTest"):
    return [m for m in at.chat_message if m.name == "assistant"]


def turns(at: "AppTest") -> list[dict]:
    return at.session_state["turns"] if "turns" in at.session_state else []
