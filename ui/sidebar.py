"""The sidebar of the Chat and Library pages: the index's status and freshness, and the chat's filters,
answer mode and k."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import streamlit as st

from index.catalog import catalog_exists, open_catalog
from index.status import read_freshness, watcher_text
from index.types import Freshness
from settings import Settings
from ui.alerts import show_error
from ui.render import date_text, escape_md, moment_text, number
from ui.resources import EMPTY_STATUS, index_status


@dataclass
class AskOptions:
    """How the chat asks: evidence chunks (k), a date window, outlets, and the answer mode."""

    k: int
    since: date | None = None
    until: date | None = None
    sources: list[str] = field(default_factory=list)
    mode: str = "extractive"


def sidebar_status(settings: Settings) -> dict:
    try:
        status = index_status(settings.index.catalog_location, settings)
    except Exception as error:  # a damaged or unreadable catalog
        show_error(error)
        status = dict(EMPTY_STATUS)
    st.subheader("Index")
    left, right = st.columns(2)
    left.metric("Articles", number(status["articles"]))
    right.metric("Chunks", number(status["chunks"]))
    newest = date_text(status["newest_article"]) if status["newest_article"] else "none"
    lines = [f"Newest article: {escape_md(newest)}", f"Last indexed: {escape_md(moment_text(status['last_indexed']))}"]
    fresh = freshness_of(settings)
    if fresh is not None:
        if fresh.newest_arrival_at:
            lines.append(f"Newest arrival: {escape_md(fresh.newest_arrival_title or 'untitled')}, "
                         f"{escape_md(moment_text(fresh.newest_arrival_at))}")
        if fresh.pending_articles:
            lines.append(f"Waiting for embeddings: {number(fresh.pending_articles)} article(s), answerable by keyword")
        lines.append(f"Watcher: {escape_md(watcher_text(fresh.watcher))}")
    st.caption("  \n".join(lines))
    return status


def freshness_of(settings: Settings) -> Freshness | None:
    """The freshness view's figures (cached a few seconds; None before anything is indexed)."""
    fresh = settings.ingest
    try:
        return _freshness(settings.index.catalog_location, fresh.stale_after_hours, fresh.watcher_alive_seconds,
                          fresh.lag_window_hours, settings)
    except Exception:  # noqa: BLE001 - a catalog being created or migrated: the counts above still show
        return None


@st.cache_data(ttl=5, show_spinner=False)
def _freshness(catalog_location: str, stale_h: float, alive_s: float, window_h: float,
               _settings: Settings) -> Freshness | None:
    if not catalog_exists(_settings):
        return None
    catalog = open_catalog(_settings, read_only=True)
    try:
        return read_freshness(catalog, _settings)
    finally:
        catalog.close()


def sidebar_controls(settings: Settings, status: dict) -> AskOptions:
    st.subheader("Filters")
    sources = st.multiselect("Outlets", status["outlets"], key="filter_sources",
                             placeholder="All outlets", help="Only answer from these outlets.")
    since = st.date_input("Published from", value=None, min_value=date(1900, 1, 1), max_value=date(2100, 12, 31),
                          key="filter_since", format="YYYY-MM-DD")
    until = st.date_input("Published until", value=None, min_value=date(1900, 1, 1), max_value=date(2100, 12, 31),
                          key="filter_until", format="YYYY-MM-DD")
    if since and until and since > until:
        st.warning("“Published from” is after “Published until”: nothing can match.")
    top_k = settings.retrieval.top_k
    k = st.slider("Number of sources (k)", 1, max(20, top_k), value=top_k, key="k",
                  help="Evidence chunks retrieved per question.")

    st.subheader("Answer mode")
    configured = settings.llm.configured
    default = settings.answer_mode_for(None) if configured else "extractive"  # the one mode rule; no LLM: extractive
    labels = {"extractive": "Extractive (offline: quotes the articles)", "llm": "LLM (writes from the sources)"}
    if configured:
        mode = st.radio("How answers are written", ["llm", "extractive"], index=["llm", "extractive"].index(default),
                        format_func=labels.get, key="answer_mode")
        if settings.llm.kind == "local":
            st.caption(f"LLM configured: local model **{escape_md(settings.llm.name)}** (llama.cpp on this machine; "
                       "the first answer loads it)")
        else:
            endpoint = settings.llm.resolved_base_url() or "OpenAI (default endpoint)"
            st.caption(f"LLM configured: model **{escape_md(settings.llm.llm_model)}** at {escape_md(endpoint)}")
    else:
        mode = "extractive"
        st.radio("How answers are written", ["extractive"], format_func=labels.get, key="answer_mode_fixed",
                 disabled=True)
        st.caption("No LLM configured: set NEWSDESK\\_LLM=local for a packaged local model, or "
                   "NEWSDESK\\_LLM\\_MODEL and NEWSDESK\\_LLM\\_BASE\\_URL (or a key), to enable the LLM mode.")
    st.info(f"Active mode: **{'LLM' if mode == 'llm' else 'extractive'}**", icon=":material/tune:")
    return AskOptions(k=int(k), since=since, until=until, sources=list(sources), mode=mode)
