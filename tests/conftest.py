"""Shared fixtures: real data from ../shared/datasets, the real packaged embedder, real Chroma."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from evals.datasets import datasets_dir
from index.embedders import MiniLMEmbedder
from index.runtime import configure_runtime
from settings import Settings
import settings.answer as settings_answer

REPO = Path(__file__).resolve().parent.parent
configure_runtime()


@pytest.fixture(scope="session")
def datasets() -> Path:
    folder = datasets_dir()
    if not (folder / "seed").is_dir():
        pytest.fail(f"the shared datasets are missing at {folder} (set NEWSDESK_DATASETS)")
    return folder


@pytest.fixture(scope="session")
def seed_file(datasets) -> Path:
    return datasets / "seed" / "000_0854de60a5b65581.txt"


@pytest.fixture(scope="session")
def gold_file(datasets) -> Path:
    return datasets / "realtimeqa-articles" / "gold-articles.jsonl.gz"


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()


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


@pytest.fixture(scope="session")
def chroma_server():
    folder = Path(tempfile.mkdtemp(prefix="newsdesk-chroma-"))
    server = ChromaServer(folder / "data")
    server.start()
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


_collection_counter = iter(range(1_000_000))


@pytest.fixture(params=["embedded", "server"])
def store_settings(request, tmp_path) -> Settings:
    """Settings for a fresh index, once on the embedded store and once on a Chroma server."""
    if request.param == "server":
        server = request.getfixturevalue("chroma_server")
        return Settings(_env_file=None, home=tmp_path / "home", chroma_host="127.0.0.1", chroma_port=server.port,
                        collection=f"test-{os.getpid()}-{next(_collection_counter)}", chunk_size=64, chunk_overlap=8)
    return Settings(_env_file=None, home=tmp_path / "home", chunk_size=64, chunk_overlap=8)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(_env_file=None, home=tmp_path / "home")


def clean_env(**extra: str) -> dict:
    """The environment for a newsdesk subprocess: no NEWSDESK_* leaking in from the caller. Without an LLM
    setting among ``extra`` it answers extractively (NEWSDESK_LLM=none), as ``no_local_default`` makes the
    tests' own process do: the packaged model is installed here, and unset it would be the answerer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    if not any(k.startswith(("NEWSDESK_LLM", "OPENAI_")) for k in extra):
        env["NEWSDESK_LLM"] = "none"
    env.update(extra)
    return env


_REAL_LOCAL_INSTALLED = settings_answer._local_model_installed


@pytest.fixture(scope="session", autouse=True)
def no_local_default():
    """Tests choose their answerer: with no LLM setting they answer extractively, not with the installed local
    model that the unset default picks (``settings.answer._local_model_installed``). Session-wide, so that fixtures of
    any scope (an evaluation run a module's server shows) see it too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings_answer, "_local_model_installed", lambda name: False)
        yield


@pytest.fixture(autouse=True)
def real_local_default(request, monkeypatch):
    """A test marked ``real_local_default`` sees the installed local model as the unset default does."""
    if "real_local_default" in request.keywords:
        monkeypatch.setattr("settings.answer._local_model_installed", _REAL_LOCAL_INSTALLED)


@pytest.fixture(scope="session")
def gold_settings(tmp_path_factory, seed_file, gold_file, embedder) -> Settings:
    """A real index of the seed article and the 235 RealTime QA gold articles, built once a session."""
    from index.sync import Indexer

    settings = Settings(_env_file=None, home=tmp_path_factory.mktemp("gold") / "home")
    indexer = Indexer(settings, embedder=embedder)
    indexer.sync([seed_file, gold_file])
    indexer.close()
    return settings


@pytest.fixture(scope="session")
def desk(gold_settings, embedder):
    from rag.engine import NewsDesk

    newsdesk = NewsDesk(gold_settings.updated(answer_mode="extractive"), embedder=embedder)
    yield newsdesk
    newsdesk.close()
