"""newsdesk chat UI (Streamlit). The chat arrives with the answering issue; for now it shows the index."""

from __future__ import annotations

import streamlit as st

from index.settings import Settings, configure_runtime
from index.sync import Indexer


@st.cache_resource
def _indexer() -> Indexer:
    configure_runtime()
    return Indexer(Settings())


st.set_page_config(page_title="newsdesk", page_icon="📰")
st.title("newsdesk")
status = _indexer().status()
st.metric("articles", status["articles"])
st.metric("chunks", status["chunks"])
st.caption(f"newest article: {status['newest_article'] or 'unknown'} · last indexed: {status['last_indexed'] or 'never'}")
