"""The UI's shared resources, loaded once per process and per configuration (``st.cache_resource``).

The settings, the embedding model, the Chroma client and the ``NewsDesk`` that answers are shared
by every session; a changed configuration (``NEWSDESK_*``/``OPENAI_*`` variables, ``.env``, the
working folder) gets new ones. Also the briefly cached reads the pages share: the index's counts,
the article list, the stories with a story's timeline, and an evaluation run's results (``st.cache_data``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import asdict
from datetime import date
from pathlib import Path

import streamlit as st

from errors import LLMError, NotFound
from evals import runs
from index.types import ArticleSummary
from index.catalog import catalog_exists, open_catalog
from index.embedders import make_embedder
from index.runtime import configure_runtime
from index.store import make_client
from index.sync import Indexer
from rag.engine import NewsDesk
from settings import Settings
from stories.types import StoryDetail, StorySummary, Timeline

log = logging.getLogger("newsdesk.app")

_CONFIG_PREFIXES = ("NEWSDESK_", "OPENAI_")


def _config_key() -> str:
    """Identifies the configuration (environment and .env), so a changed one gets new resources."""
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith(_CONFIG_PREFIXES))
    dotenv = Path(".env")
    stamp = dotenv.stat().st_mtime_ns if dotenv.is_file() else None
    return hashlib.sha256(repr((env, stamp, os.getcwd())).encode()).hexdigest()


@st.cache_resource(show_spinner=False)
def _settings(config_key: str) -> Settings:
    configure_runtime()
    return Settings()


@st.cache_resource(show_spinner="Loading the embedding model…")
def _embedder(key: str, _settings: Settings):
    return make_embedder(_settings)


@st.cache_resource(show_spinner=False)
def _client(key: str, _settings: Settings):
    return make_client(_settings)


@st.cache_resource(show_spinner="Opening the index…")
def _desk(key: str, _settings: Settings) -> NewsDesk:
    # Not cached when it raises (IndexEmpty, StoreUnavailable, ...): the next run tries again.
    desk = NewsDesk(_settings, embedder=embedder_for(_settings), client=client_for(_settings))
    if _settings.llm.kind == "local":
        warm_local_model(desk)
    return desk


def warm_local_model(desk: NewsDesk) -> None:
    """Load the local model in the background while the page is read, so the first answer does not wait."""

    def start() -> None:
        try:
            desk.llm.warm()
        except LLMError as error:  # shown when a question needs the model
            log.warning("newsdesk: the local model did not start: %s", error)

    threading.Thread(target=start, name="newsdesk-local-model", daemon=True).start()


def get_settings() -> Settings:
    return _settings(_config_key())


def embedder_for(settings: Settings):
    index = settings.index
    key = f"{index.embedder}|{index.openai_embedding_model}|{index.resolved_openai_base_url()}|{index.embed_batch_size}"
    return _embedder(key, settings)


def client_for(settings: Settings):
    return _client(f"{settings.index.store_location}|{settings.index.home.resolve()}", settings)


@st.cache_resource(show_spinner=False)
def _api_desk(key: str, _settings: Settings):
    from ui.api_client import ApiDesk

    return ApiDesk(_settings)


def get_desk(settings: Settings) -> NewsDesk:
    """The chat's answerer: a ``NewsDesk`` in this process, or the API's client when NEWSDESK_API_URL is set
    (many app processes then share one service)."""
    if settings.service.api_url:
        return _api_desk(_config_key(), settings)
    return _desk(_config_key(), settings)


def forget_desk() -> None:
    """Drops the cached desks (e.g. the collection was dropped by `newsdesk index --rebuild`): reopened next time."""
    _desk.clear()
    _api_desk.clear()


def open_indexer(settings: Settings) -> Indexer:
    """A fresh writer for one action (its own SQLite connection); shares the embedder and Chroma client.

    The chat's client is preferred: NewsDesk reopens its embedded store (a new client) when another
    process has indexed, and the writer must not use the client it replaced."""
    try:
        client = get_desk(settings).store.client
    except Exception:  # noqa: BLE001 - nothing indexed yet (or the store is down): the cached client
        client = client_for(settings)
    return Indexer(settings, embedder=embedder_for(settings), client=client)


EMPTY_STATUS = {"articles": 0, "chunks": 0, "sources": [], "newest_article": None, "oldest_article": None,
                "last_indexed": None, "outlets": []}


@st.cache_data(ttl=10, show_spinner=False)
def index_status(catalog_location: str, _settings: Settings) -> dict:
    """Counts for the sidebar (cached briefly by where the catalog is; cleared after every change made here)."""
    if not catalog_exists(_settings):
        return dict(EMPTY_STATUS)
    catalog = open_catalog(_settings, read_only=True)
    try:
        data = asdict(catalog.counts())
    finally:
        catalog.close()
    # counts() labels a missing outlet "unknown"; only real outlets can be filtered on
    data["outlets"] = sorted({s["source"] for s in data["sources"] if s["source"] and s["source"] != "unknown"},
                             key=str.lower)
    return data


def list_articles(settings: Settings) -> list[ArticleSummary]:
    if not catalog_exists(settings):
        return []
    catalog = open_catalog(settings, read_only=True)
    try:
        return catalog.list_articles()
    finally:
        catalog.close()


def _read_stories(settings: Settings, read):
    """``read(StoryQueries)`` on the configured catalog, read-only; None before anything was indexed."""
    from stories.queries import StoryQueries

    if not catalog_exists(settings):
        return None
    catalog = open_catalog(settings, read_only=True)
    try:
        return read(StoryQueries(catalog, settings))
    finally:
        catalog.close()


@st.cache_data(ttl=10, show_spinner=False)
def _stories(catalog_location: str, since: str | None, limit: int, _settings: Settings) -> tuple[list, int]:
    day = date.fromisoformat(since) if since else None
    found = _read_stories(_settings, lambda queries: (queries.list(day, limit=limit), queries.count()))
    return found or ([], 0)


def list_stories(settings: Settings, since: date | None, limit: int) -> tuple[list[StorySummary], int]:
    """The stories reported on ``since`` or later, newest first, and how many stories the index holds."""
    return _stories(settings.index.catalog_location, since.isoformat() if since else None, limit, settings)


@st.cache_data(ttl=10, max_entries=32, show_spinner="Building the timeline…")
def _story(catalog_location: str, story_id: str, _settings: Settings) -> tuple[StoryDetail, Timeline]:
    found = _read_stories(_settings, lambda queries: (queries.get(story_id), queries.timeline(story_id)))
    if found is None:
        raise NotFound(f"There is no story '{story_id}'.")
    return found


def story_with_timeline(settings: Settings, story_id: str) -> tuple[StoryDetail, Timeline]:
    """A story with its articles and its timeline (``NotFound`` for an unknown id)."""
    return _story(settings.index.catalog_location, story_id, settings)


def index_changed() -> None:
    index_status.clear()
    _stories.clear()
    _story.clear()


@st.cache_data(max_entries=16, show_spinner=False)
def _eval_results(path: str, stamp: int) -> list[dict]:
    return runs.eval_results(runs.EvalRun(Path(path), {}))


def eval_results(run: runs.EvalRun) -> list[dict]:
    """A run's per-question records, cached until results.jsonl changes."""
    results = run.path / "results.jsonl"
    return _eval_results(str(results.parent), results.stat().st_mtime_ns)
