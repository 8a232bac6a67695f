"""Shared fixtures: real data from ../shared/datasets, the real packaged embedder, real Chroma."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from evals.datasets import datasets_dir
from index.embedders import MiniLMEmbedder
from index.runtime import configure_runtime
from settings import Settings
import settings.answer as settings_answer
from tests.helpers import ChromaServer, PostgresServer

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


@pytest.fixture(scope="session")
def chroma_server():
    folder = Path(tempfile.mkdtemp(prefix="newsdesk-chroma-"))
    server = ChromaServer(folder / "data")
    server.start()
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL server for the session (``tests.helpers.PostgresServer``)."""
    with PostgresServer() as server:
        yield server


_collection_counter = iter(range(1_000_000))


@pytest.fixture(params=["embedded", "server", "postgres"])
def store_settings(request, tmp_path) -> Settings:
    """Settings for a fresh index on each backend: the embedded Chroma store and a Chroma server, both with the
    SQLite catalog, and a Chroma server with the PostgreSQL catalog. The server cases take a fresh collection
    name per test, so a fresh Chroma collection and, on PostgreSQL, a fresh schema."""
    if request.param == "embedded":
        return Settings(_env_file=None, home=tmp_path / "home", chunk_size=64, chunk_overlap=8)
    server = request.getfixturevalue("chroma_server")
    values = dict(chroma_host="127.0.0.1", chroma_port=server.port, chunk_size=64, chunk_overlap=8,
                  collection=f"test-{os.getpid()}-{next(_collection_counter)}")
    if request.param == "postgres":
        values["catalog_url"] = request.getfixturevalue("postgres_server").url
    return Settings(_env_file=None, home=tmp_path / "home", **values)


@pytest.fixture(params=["sqlite", "postgres"])
def any_catalog(request, tmp_path):
    """A fresh, empty catalog, once in SQLite (a file under ``tmp_path``) and once in PostgreSQL (a fresh schema),
    for tests of what is kept in the catalog alone (no Chroma is reached: the port is only a setting)."""
    from index.catalog import open_catalog
    from tests.helpers import free_port

    values = {}
    if request.param == "postgres":
        values = dict(catalog_url=request.getfixturevalue("postgres_server").url, chroma_host="127.0.0.1",
                      chroma_port=free_port(), collection=f"catalog-{os.getpid()}-{next(_collection_counter)}")
    catalog = open_catalog(Settings(_env_file=None, home=tmp_path / "home", **values))
    yield catalog
    catalog.close()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(_env_file=None, home=tmp_path / "home")


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


def pytest_collection_modifyitems(config, items):
    """Every test on the whole gold corpus (``gold_settings``, also through ``desk``) is marked ``corpus``: the
    index of 235 articles takes about two minutes to build on 2 cores, more than all of ``make test-fast``."""
    for item in items:
        if "gold_settings" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.corpus)


# --- shared by the test folders ---------------------------------------------------------------------


@pytest.fixture
def stub():
    """The deterministic OpenAI-compatible protocol stub (tests/rag/llm_stub.py), serving for one test."""
    from tests.rag.llm_stub import StubLLM

    with StubLLM() as server:
        yield server


@pytest.fixture
def use_home(monkeypatch, tmp_path):
    """``use_home(home, **env)`` points the app (AppTest) at a home: NEWSDESK_HOME set, no other NEWSDESK_*/OPENAI_*
    settings, no .env."""

    def use(home: Path, **extra: str) -> Path:
        for key in list(os.environ):
            if key.startswith(("NEWSDESK_", "OPENAI_")):
                monkeypatch.delenv(key)
        monkeypatch.setenv("NEWSDESK_HOME", str(home))
        for key, value in extra.items():
            monkeypatch.setenv(key, value)
        workdir = tmp_path / "cwd"
        workdir.mkdir(exist_ok=True)
        monkeypatch.chdir(workdir)  # so a developer's .env cannot change the configuration
        return home

    return use
