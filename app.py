"""newsdesk chat UI (Streamlit): ask questions with cited answers, and manage the article library.

Run it with ``streamlit run app.py`` (``NEWSDESK_*`` settings as for the command line). Pages:

- **Chat**: a conversation with streamed, cited answers; filters, answer mode and k in the sidebar.
- **Library**: list, search, add (upload, paste, folder), re-index and delete articles.
- **Evaluations**: run an evaluation suite (evals/) with a progress bar; a run's metrics beside the
  baselines, per question type, charts and threshold failures; every question with its gold answer,
  answer, quoted citations and retrieved articles; earlier runs, and two runs compared.

Safety: article text, titles, outlets and quotes are data. They are only ever shown through
``escape_md`` (every Markdown/HTML special character backslash-escaped) or in dataframes, and no
call in this file uses ``unsafe_allow_html``. Links are shown only for http(s) URLs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import quote, urlsplit

import streamlit as st

from index.catalog import Catalog
from index.embedders import EmbedderMismatch, make_embedder
from index.settings import Settings, configure_runtime
from evals.report import expects_refusal
from index.store import StoreUnavailable, make_client
from index.sync import IndexBusy, Indexer, SyncReport
from rag.engine import IndexEmpty, NewsDesk
from rag.llm import LLMError
from rag.types import Answer, Citation, Evidence, Preview

log = logging.getLogger("newsdesk.app")

# --- limits --------------------------------------------------------------------------------------
UPLOAD_SUFFIXES = (".jsonl.gz", ".jsonl", ".json", ".txt", ".md", ".markdown", ".html", ".htm")
BULK_SUFFIXES = (".jsonl.gz", ".jsonl")  # many articles in one file: a larger limit
BULK_MAX_MB = 200.0  # also Streamlit's default server.maxUploadSize
UPLOADER_TYPES = ["txt", "md", "markdown", "json", "jsonl", "gz", "html", "htm"]
MAX_ARTICLE_CHARS_SHOWN = 200_000  # the "whole article" expander shows at most this much
PARAGRAPH_CONTEXT_CHARS = 400  # around a quote, when its paragraph is very long
NEAREST_SHOWN = 5


# =================================================================================================
# Safe rendering: everything that comes from an article goes through these helpers.
# =================================================================================================

# Every ASCII punctuation character may be backslash-escaped in CommonMark and then renders as
# itself. Escaping all that Markdown, GFM, HTML (<, &), Streamlit directives (:color[...]), emoji
# shortcodes (:smile:) and LaTeX ($) use makes any text inert.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&^=])")
_MARKER = re.compile(r"\s?\[(\d{1,2})\]")


def escape_md(text: str | None) -> str:
    """``text`` as inert Markdown: shows exactly these characters, never markup, HTML or links."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", str(text)).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\x00", "").replace("\t", " ")
    escaped = _MD_SPECIAL.sub(r"\\\1", text)
    # a newline is a line break (not a new paragraph); no line starts indented (a code block)
    lines = escaped.split("\n")
    return "  \n".join([lines[0]] + [line.lstrip() for line in lines[1:]])


def escape_paragraphs(text: str) -> str:
    """Like ``escape_md`` but keeps paragraphs: each non-empty line becomes a Markdown paragraph."""
    return "\n\n".join(escape_md(line.strip()) for line in text.split("\n") if line.strip())


def with_markers(answer_text: str, numbers: set[int]) -> str:
    """The answer as safe Markdown, with each citation marker ``[n]`` shown as a numbered badge."""
    out, cursor = [], 0
    for match in _MARKER.finditer(answer_text):
        number = int(match.group(1))
        if number not in numbers:
            continue
        out.append(escape_md(answer_text[cursor:match.start()]))
        out.append(f" :blue-badge[{number}]")
        cursor = match.end()
    out.append(escape_md(answer_text[cursor:]))
    return "".join(out)


def highlight(escaped: str) -> str:
    """Wraps already-escaped text in a highlight (the text cannot close the directive early)."""
    return f":orange-background[{escaped}]" if escaped else ""


def safe_href(url: str | None) -> str | None:
    """An http(s) URL fit for a Markdown link destination, else None (javascript:, data:, ...)."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(ch in url for ch in "\n\r\t\x00"):
        return None
    # percent-encode everything that could end or confuse the destination: spaces, (), <>, [], quotes
    return quote(url, safe=":/?#@!$&*+,;=%~._-")


def link_md(url: str | None, label: str | None = None) -> str | None:
    href = safe_href(url)
    if href is None:
        return None
    shown = label or (urlsplit(url.strip()).netloc + (urlsplit(url.strip()).path if len(url) < 70 else "/…"))
    return f"[{escape_md(shown)}]({href})"


def date_text(value) -> str:
    """A date for display: the ISO day, or "date unknown"."""
    if value is None or value == "":
        return "date unknown"
    if hasattr(value, "date"):
        return value.date().isoformat()
    return str(value)[:10]


def moment_text(value: str | None) -> str:
    """An ISO timestamp as "YYYY-MM-DD HH:MM UTC" (or "never")."""
    if not value:
        return "never"
    if value.endswith("+00:00") and "T" in value:
        return value[:16].replace("T", " ") + " UTC"
    return value


# =================================================================================================
# Shared resources: loaded once per process (and per configuration) with st.cache_resource.
# =================================================================================================

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
    if _settings.llm_kind == "local":
        warm_local_model(desk)
    return desk


def warm_local_model(desk: NewsDesk) -> None:
    """Load the local model in the background while the page is read, so the first answer does not wait."""
    import threading

    def start() -> None:
        try:
            desk.llm._ready()
        except LLMError as error:  # shown when a question needs the model
            log.warning("newsdesk: the local model did not start: %s", error)

    threading.Thread(target=start, name="newsdesk-local-model", daemon=True).start()


def get_settings() -> Settings:
    return _settings(_config_key())


def embedder_for(settings: Settings):
    key = f"{settings.embedder}|{settings.openai_embedding_model}|{settings.resolved_openai_base_url()}|" \
          f"{settings.embed_batch_size}"
    return _embedder(key, settings)


def client_for(settings: Settings):
    return _client(f"{settings.store_location}|{settings.home.resolve()}", settings)


def get_desk(settings: Settings) -> NewsDesk:
    return _desk(_config_key(), settings)


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
def index_status(catalog_path: str) -> dict:
    """Counts for the sidebar (cached briefly; cleared after every change made here)."""
    if not Path(catalog_path).exists():
        return dict(EMPTY_STATUS)
    catalog = Catalog(Path(catalog_path), read_only=True)
    try:
        data = catalog.counts()
    finally:
        catalog.close()
    # counts() labels a missing outlet "unknown"; only real outlets can be filtered on
    data["outlets"] = sorted({s["source"] for s in data["sources"] if s["source"] and s["source"] != "unknown"},
                             key=str.lower)
    return data


def list_articles(settings: Settings) -> list[dict]:
    if not settings.catalog_path.exists():
        return []
    catalog = Catalog(settings.catalog_path, read_only=True)
    try:
        return catalog.list_articles()
    finally:
        catalog.close()


def index_changed() -> None:
    index_status.clear()


# =================================================================================================
# Errors: every failure the user can cause or meet becomes one readable message.
# =================================================================================================


class BadUpload(ValueError):
    """An upload or pasted article that cannot be accepted (name, type or size)."""


def friendly_error(error: BaseException) -> str:
    """Plain text for the user (callers escape it before showing)."""
    message = str(error).strip() or error.__class__.__name__
    if isinstance(error, IndexEmpty):
        return "Nothing is indexed yet: add articles on the Library page."
    if isinstance(error, IndexBusy):
        return f"The index is being written by another process right now; try again when it ends. ({message})"
    if isinstance(error, StoreUnavailable):
        return f"The vector store is unavailable: {message}"
    if isinstance(error, EmbedderMismatch):
        return message
    if isinstance(error, LLMError):
        return f"The language model could not answer: {message} Choose the extractive mode to answer offline."
    if isinstance(error, (BadUpload, ValueError)):
        return message
    if isinstance(error, OSError):
        return f"A file could not be read or written: {message}"
    return f"Something went wrong ({error.__class__.__name__}): {message}"


def show_error(error: BaseException) -> None:
    if not isinstance(error, (IndexEmpty, IndexBusy, StoreUnavailable, EmbedderMismatch, LLMError, BadUpload,
                              ValueError)):
        log.exception("newsdesk UI error", exc_info=error)
    st.error(escape_md(friendly_error(error)), icon=":material/error:")


# =================================================================================================
# Sidebar: index status, filters, answer mode, k.
# =================================================================================================


@dataclass
class AskOptions:
    k: int
    since: date | None = None
    until: date | None = None
    sources: list[str] = field(default_factory=list)
    mode: str = "extractive"


def sidebar_status(settings: Settings) -> dict:
    try:
        status = index_status(str(settings.catalog_path))
    except Exception as error:  # a damaged or unreadable catalog
        show_error(error)
        status = dict(EMPTY_STATUS)
    st.subheader("Index")
    left, right = st.columns(2)
    left.metric("Articles", f"{status['articles']:,}")
    right.metric("Chunks", f"{status['chunks']:,}")
    newest = date_text(status["newest_article"]) if status["newest_article"] else "none"
    st.caption(f"Newest article: {escape_md(newest)}  \n"
               f"Last indexed: {escape_md(moment_text(status['last_indexed']))}")
    return status


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
    k = st.slider("Number of sources (k)", 1, max(20, settings.top_k), value=settings.top_k, key="k",
                  help="Evidence chunks retrieved per question.")

    st.subheader("Answer mode")
    configured = settings.llm_configured
    default = "llm" if configured and settings.answer_mode in ("auto", "llm") else "extractive"
    labels = {"extractive": "Extractive (offline: quotes the articles)", "llm": "LLM (writes from the sources)"}
    if configured:
        mode = st.radio("How answers are written", ["llm", "extractive"], index=["llm", "extractive"].index(default),
                        format_func=labels.get, key="answer_mode")
        if settings.llm_kind == "local":
            st.caption(f"LLM configured: local model **{escape_md(settings.llm_name)}** (llama.cpp on this machine; "
                       "the first answer loads it)")
        else:
            endpoint = settings.resolved_llm_base_url() or "OpenAI (default endpoint)"
            st.caption(f"LLM configured: model **{escape_md(settings.llm_model)}** at {escape_md(endpoint)}")
    else:
        mode = "extractive"
        st.radio("How answers are written", ["extractive"], format_func=labels.get, key="answer_mode_fixed",
                 disabled=True)
        st.caption("No LLM configured: set NEWSDESK\\_LLM=local for a packaged local model, or "
                   "NEWSDESK\\_LLM\\_MODEL and NEWSDESK\\_LLM\\_BASE\\_URL (or a key), to enable the LLM mode.")
    st.info(f"Active mode: **{'LLM' if mode == 'llm' else 'extractive'}**", icon=":material/tune:")
    return AskOptions(k=int(k), since=since, until=until, sources=list(sources), mode=mode)


# =================================================================================================
# Chat page
# =================================================================================================


def conversation() -> list[dict]:
    """This browser session's turns: {"question", "answer": Answer | None, "error": str | None}."""
    return st.session_state.setdefault("turns", [])


def history_for(turns: list[dict]) -> list[str]:
    return [t["answer"].standalone_question or t["answer"].question for t in turns if t.get("answer") is not None]


def chat_page() -> None:
    settings = get_settings()
    with st.sidebar:
        status = sidebar_status(settings)
        options = sidebar_controls(settings, status)

    st.title("Ask the news")
    try:
        desk = get_desk(settings)
    except IndexEmpty:
        st.info("No articles are indexed yet. Add some on the **Library** page, then come back to ask.",
                icon=":material/inbox:")
        st.page_link(PAGES["library"], label="Open the Library", icon=":material/library_books:")
        return
    except Exception as error:
        show_error(error)
        return

    turns = conversation()
    top = st.columns([3, 1])
    top[0].caption("Answers quote the articles; every [n] is a source listed under the answer.")
    if top[1].button("New conversation", key="new_conversation", icon=":material/add_comment:",
                     width="stretch"):
        turns.clear()
        st.rerun()

    for turn in turns:
        with st.chat_message("user"):
            st.markdown(escape_md(turn["question"]))
        with st.chat_message("assistant"):
            if turn.get("error"):
                st.error(escape_md(turn["error"]), icon=":material/error:")
            else:
                render_answer(turn["answer"], desk)

    question = st.chat_input("Ask a question about the articles", key="question")
    if not question or not question.strip():
        return
    question = question.strip()
    with st.chat_message("user"):
        st.markdown(escape_md(question))
    with st.chat_message("assistant"):
        answer, error = stream_answer(desk, question, history_for(turns), options)
    turns.append({"question": question, "answer": answer, "error": error})


def stream_answer(desk: NewsDesk, question: str, history: list[str],
                  options: AskOptions) -> tuple[Answer | None, str | None]:
    """Shows the answer as it is written, then in full with its sources. Returns (answer, error)."""
    placeholder = st.empty()
    placeholder.caption("Searching the articles…")
    early = st.empty()  # llm mode: the sources and the best quote, shown while the model writes
    written = ""
    answer: Answer | None = None
    try:
        for piece in desk.stream(question, history=history, k=options.k,
                                 since=options.since.isoformat() if options.since else None,
                                 until=options.until.isoformat() if options.until else None,
                                 sources=options.sources or None, as_of=None, mode=options.mode,
                                 preview=options.mode == "llm"):
            if isinstance(piece, Answer):
                answer = piece
            elif isinstance(piece, Preview):
                placeholder.caption("Writing the answer from these sources…")
                with early.container():
                    render_preview(piece)
            else:
                written += piece
                placeholder.markdown(escape_md(written) + " ▌")
    except Exception as error:
        placeholder.empty()
        if not isinstance(error, (IndexEmpty, IndexBusy, StoreUnavailable, EmbedderMismatch, LLMError, ValueError)):
            log.exception("newsdesk UI error while answering", exc_info=error)
            # e.g. the collection was dropped by `newsdesk index --rebuild`: reopen the index next time
            _desk.clear()
        message = friendly_error(error)
        st.error(escape_md(message), icon=":material/error:")
        return None, message
    if answer is None:
        placeholder.empty()
        message = "No answer came back."
        st.error(message)
        return None, message
    early.empty()
    with placeholder.container():
        render_answer(answer, desk)
    return answer, None


def render_preview(preview: Preview) -> None:
    """Before the model's answer: the best quote and the articles it is read from."""
    if preview.best is not None:
        best = preview.best
        st.markdown(f"> {escape_md(best.quote)}")
        st.caption(f"Best quote: {escape_md(best.title)} · {escape_md(best.source or 'unknown outlet')} · "
                   f"{date_text(best.published_at)}")
    titles = list(dict.fromkeys(escape_md(e.title) for e in preview.evidence))[:5]
    if titles:
        st.caption("Reading: " + " · ".join(titles))


def render_answer(answer: Answer, desk: NewsDesk) -> None:
    if answer.refused:
        render_refusal(answer)
        return
    st.markdown(with_markers(answer.answer, {c.n for c in answer.citations}))
    details = [f"mode: {answer.mode}"]
    if answer.timings_ms.get("total") is not None:
        details.append(f"{answer.timings_ms['total'] / 1000:.1f} s")
    st.caption(escape_md(" · ".join(details)))
    if answer.standalone_question:
        st.caption(f"Understood as: {escape_md(answer.standalone_question)}")
    for note in answer.notes:
        st.caption(escape_md(note))
    if answer.citations:
        st.markdown("**Sources**")
        for citation in answer.citations:
            render_citation(citation, desk)


def render_citation(citation: Citation, desk: NewsDesk) -> None:
    with st.container(border=True):
        meta = [escape_md(citation.source or "unknown outlet"), escape_md(date_text(citation.published_at))]
        link = link_md(citation.url)
        if link:
            meta.append(link)
        st.markdown(f":blue-badge[{citation.n}] **{escape_md(citation.title or 'Untitled')}**  \n"
                    + " · ".join(meta))
        try:
            text = desk.catalog.article_text(citation.article_id)
        except Exception:  # the catalog is being rewritten; show the quote alone
            text = None
        span = _quote_span(text, citation)
        if text is None or span is None:
            st.markdown("> " + highlight(escape_md(citation.quote.replace("\n", " "))))
            if text is None:
                st.caption("This article is no longer in the index.")
            return
        start, end = span
        st.markdown("> " + _paragraph_with_quote(text, start, end))
        shown = text[:MAX_ARTICLE_CHARS_SHOWN]
        with st.expander("Whole article"):
            st.markdown(_article_with_quote(shown, start, end))
            if len(text) > len(shown):
                st.caption(f"… {len(text) - len(shown):,} more characters not shown.")


def _quote_span(text: str | None, citation: Citation) -> tuple[int, int] | None:
    if not text:
        return None
    if 0 <= citation.start < citation.end <= len(text) and text[citation.start:citation.end] == citation.quote:
        return citation.start, citation.end
    found = text.find(citation.quote) if citation.quote else -1
    return (found, found + len(citation.quote)) if found >= 0 else None


def _paragraph_with_quote(text: str, start: int, end: int) -> str:
    """The quote highlighted inside its paragraph (trimmed around it when the paragraph is long)."""
    p_start = text.rfind("\n", 0, start) + 1
    p_end = text.find("\n", end)
    p_end = len(text) if p_end < 0 else p_end
    before, after = text[p_start:start], text[end:p_end]
    if len(before) > PARAGRAPH_CONTEXT_CHARS:
        before = "…" + before[-PARAGRAPH_CONTEXT_CHARS:].split(" ", 1)[-1]
    if len(after) > PARAGRAPH_CONTEXT_CHARS:
        after = after[:PARAGRAPH_CONTEXT_CHARS].rsplit(" ", 1)[0] + "…"
    quote_text = text[start:end].replace("\n", " ")
    return (escape_md(before.replace("\n", " ").lstrip()) + highlight(escape_md(quote_text))
            + escape_md(after.replace("\n", " ")))


def _article_with_quote(text: str, start: int, end: int) -> str:
    """The whole article as safe Markdown paragraphs, the quote highlighted where it stands."""
    if end > len(text):
        return escape_paragraphs(text)
    paragraphs, cursor = [], 0
    for line in text.split("\n"):
        line_start, line_end = cursor, cursor + len(line)
        cursor = line_end + 1
        if not line.strip():
            continue
        if line_end <= start or line_start >= end:
            paragraphs.append(escape_md(line.strip()))
            continue
        a, b = max(start, line_start) - line_start, min(end, line_end) - line_start
        paragraphs.append(escape_md(line[:a].lstrip()) + highlight(escape_md(line[a:b])) + escape_md(line[b:]))
    return "\n\n".join(paragraphs)


def nearest_articles(retrieved: list[Evidence], limit: int = NEAREST_SHOWN) -> list[Evidence]:
    seen: dict[str, Evidence] = {}
    for evidence in retrieved:
        if evidence.article_id not in seen:
            seen[evidence.article_id] = evidence
        if len(seen) == limit:
            break
    return list(seen.values())


def render_refusal(answer: Answer) -> None:
    st.warning(escape_md(answer.answer), icon=":material/search_off:")
    if answer.standalone_question:
        st.caption(f"Understood as: {escape_md(answer.standalone_question)}")
    for note in answer.notes:
        st.caption(escape_md(note))
    nearest = nearest_articles(answer.retrieved)
    if not nearest:
        st.caption("No article came close.")
        return
    lines = ["**Nearest articles** (they do not answer the question):"]
    for evidence in nearest:
        parts = [f"**{escape_md(evidence.title or 'Untitled')}**", escape_md(evidence.source or "unknown outlet"),
                 escape_md(date_text(evidence.published_at))]
        link = link_md(evidence.url)
        if link:
            parts.append(link)
        lines.append("- " + " · ".join(parts))
    st.markdown("\n".join(lines))


# =================================================================================================
# Library page
# =================================================================================================


def uploads_dir(settings: Settings) -> Path:
    folder = (settings.home / "uploads").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def safe_upload_name(raw: str) -> str:
    """A file name made only of [A-Za-z0-9_-] and a supported suffix: no folders, no dots, no hidden files."""
    name = unicodedata.normalize("NFKC", raw or "").replace("\x00", "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    lowered = name.lower()
    suffix = next((s for s in UPLOAD_SUFFIXES if lowered.endswith(s)), None)
    if suffix is None:
        raise BadUpload(f"“{raw}” is not a supported file: use {', '.join(UPLOAD_SUFFIXES)}.")
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", name[: len(name) - len(suffix)]).strip("_-")[:100]
    return (stem or "upload") + suffix


def upload_limit_bytes(name: str, settings: Settings) -> tuple[int, float]:
    bulk = name.lower().endswith(BULK_SUFFIXES)
    megabytes = max(BULK_MAX_MB, settings.max_article_mb) if bulk else settings.max_article_mb
    return int(megabytes * 1024 * 1024), megabytes


def check_upload_size(name: str, size: int, settings: Settings) -> None:
    limit, megabytes = upload_limit_bytes(name, settings)
    if size > limit:
        kind = "JSONL files" if name.lower().endswith(BULK_SUFFIXES) else "single-article files"
        raise BadUpload(f"“{name}” is {size / 1024 / 1024:.1f} MB; the limit for {kind} is {megabytes:g} MB.")
    if size == 0:
        raise BadUpload(f"“{name}” is empty.")


def write_upload(folder: Path, name: str, data: bytes) -> Path:
    """Writes ``data`` as ``folder/name`` (replacing a file of that name), never outside ``folder``."""
    folder = folder.resolve()
    target = folder / name
    if Path(name).name != name or name.startswith(".") or target.resolve().parent != folder:
        raise BadUpload(f"“{name}” would be written outside the uploads folder.")
    if target.is_dir():
        raise BadUpload(f"“{name}” is a folder in the uploads folder.")
    temporary = folder / f".upload-{uuid.uuid4().hex}.part"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, target)  # replaces a symlink itself, never what it points to
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target


def save_uploads(files, settings: Settings) -> tuple[list[Path], list[str]]:
    """Writes accepted uploads under home/uploads. Returns (paths written, reasons for rejected ones)."""
    folder = uploads_dir(settings)
    written: list[Path] = []
    rejected: list[str] = []
    used: set[str] = set()
    for upload in files:
        try:
            name = safe_upload_name(upload.name)
            check_upload_size(name, upload.size, settings)
            stem, suffix = name, ""
            for s in UPLOAD_SUFFIXES:
                if name.lower().endswith(s):
                    stem, suffix = name[: -len(s)], name[-len(s):]
                    break
            counter = 2
            while name in used:
                name = f"{stem}-{counter}{suffix}"
                counter += 1
            used.add(name)
            written.append(write_upload(folder, name, upload.getvalue()))
        except BadUpload as error:
            rejected.append(str(error))
    return written, rejected


def pasted_article_file(settings: Settings, title: str, text: str, published: date | None, outlet: str,
                        url: str) -> Path:
    title, text, outlet, url = title.strip(), text.strip(), outlet.strip(), url.strip()
    if not title:
        raise BadUpload("Give the article a title.")
    if not text:
        raise BadUpload("Paste the article's text.")
    if url and safe_href(url) is None:
        raise BadUpload("The link must be an http(s) URL.")
    record = {"title": title, "text": text, "source": outlet or None, "url": url or None,
              "published_at": published.isoformat() if published else None}
    data = json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8")
    limit, megabytes = upload_limit_bytes("x.json", settings)
    if len(data) > limit:
        raise BadUpload(f"The pasted article is larger than {megabytes:g} MB.")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode())
    slug = slug.strip("-").lower()[:60] or "article"
    fingerprint = hashlib.sha256(json.dumps([title, outlet, record["published_at"]]).encode()).hexdigest()[:8]
    name = safe_upload_name(f"pasted-{slug}-{fingerprint}.json")
    return write_upload(uploads_dir(settings), name, data)


def run_sync(settings: Settings, paths, label: str) -> dict:
    """Indexes ``paths`` (or what a callable returns) with a progress bar; returns a result for ``show_result``.

    The writer is opened first, so an unreachable store fails before any uploaded file is written.
    """
    indexer = open_indexer(settings)
    try:
        targets = paths() if callable(paths) else paths
        bar = st.progress(0.0, text=f"{label}: reading files…")

        def on_progress(done: int, total: int, embedded: int) -> None:
            fraction = done / total if total else 1.0
            bar.progress(min(max(fraction, 0.0), 1.0),
                         text=f"{label}: {done:,} of {total:,} articles written, {embedded:,} chunks embedded")

        report = indexer.sync([str(p) for p in targets], on_progress=on_progress)
        bar.empty()
    finally:
        indexer.close()
        index_changed()
    return report_result(report, label)


def report_result(report: SyncReport, label: str) -> dict:
    summary = (f"{label}: {report.added} added, {report.updated} updated, {report.removed} removed, "
               f"{report.unchanged} unchanged, {len(report.skipped)} skipped in {report.seconds:.1f} s. "
               f"The index now holds {report.articles:,} articles ({report.chunks:,} chunks).")
    return {"kind": "success" if not report.skipped else "warning", "summary": summary,
            "skipped": [{"file": s.path, "reason": s.reason} for s in report.skipped]}


def show_result() -> None:
    result = st.session_state.pop("library_result", None)  # shown once, after the action's rerun
    if not result:
        return
    box = {"success": st.success, "warning": st.warning, "error": st.error}[result["kind"]]
    box(escape_md(result["summary"]))
    for reason in result.get("rejected", []):
        st.error(escape_md(reason), icon=":material/block:")
    if result.get("skipped"):
        st.markdown(f"**Skipped ({len(result['skipped'])})**")
        st.dataframe(result["skipped"], hide_index=True, width="stretch",
                     column_config={"file": st.column_config.TextColumn("File"),
                                    "reason": st.column_config.TextColumn("Reason")})


def finish_action(result: dict) -> None:
    st.session_state["library_result"] = result
    st.rerun()


def library_page() -> None:
    settings = get_settings()
    with st.sidebar:
        sidebar_status(settings)
    st.title("Library")
    show_result()

    try:
        articles = list_articles(settings)
    except Exception as error:
        show_error(error)
        articles = []

    st.subheader("Articles")
    search = st.text_input("Search titles and outlets", key="library_search", placeholder="e.g. Netflix or Reuters")
    needle = search.strip().lower()
    shown = [a for a in articles
             if not needle or needle in (a["title"] or "").lower() or needle in (a["source"] or "").lower()]
    st.caption(f"{len(shown):,} of {len(articles):,} articles")
    if shown:
        rows = [{"title": a["title"] or "Untitled", "outlet": a["source"] or "unknown",
                 "published": date_text(a["published_at"]), "link": safe_href(a["url"]), "chunks": a["chunks"],
                 "id": a["article_id"]} for a in shown]
        st.dataframe(rows, hide_index=True, width="stretch", column_config={
            "title": st.column_config.TextColumn("Title", width="large"),
            "outlet": st.column_config.TextColumn("Outlet"),
            "published": st.column_config.TextColumn("Published"),
            "link": st.column_config.LinkColumn("Link", display_text="open"),
            "chunks": st.column_config.NumberColumn("Chunks"),
            "id": st.column_config.TextColumn("Id"),
        })
        delete_section(settings, shown)
    elif not articles:
        st.info("No articles yet: add some below.", icon=":material/inbox:")

    st.subheader("Add articles")
    upload_tab, paste_tab, folder_tab = st.tabs(["Upload files", "Paste text", "Folder on the server"])
    with upload_tab:
        upload_section(settings)
    with paste_tab:
        paste_section(settings)
    with folder_tab:
        folder_section(settings)

    st.subheader("Re-index")
    reindex_section(settings)


def delete_section(settings: Settings, shown: list[dict]) -> None:
    labels = {a["article_id"]: f"{a['title'] or 'Untitled'} — {a['source'] or 'unknown'} — "
                               f"{date_text(a['published_at'])}" for a in shown}
    with st.expander("Delete articles"):
        chosen = st.multiselect("Articles to delete", list(labels), format_func=labels.get, key="delete_ids",
                                placeholder="Choose articles (the search above narrows the list)")
        if st.button("Delete selected", key="delete_button", type="primary", disabled=not chosen,
                     icon=":material/delete:"):
            try:
                removed = delete_articles(settings, chosen)
            except Exception as error:
                show_error(error)
                return
            st.session_state.pop("delete_ids", None)
            finish_action({"kind": "success", "summary": f"Deleted {len(removed)} article(s)."})


def delete_articles(settings: Settings, ids: list[str]) -> list[str]:
    """Removes articles; an uploaded file left with no indexed article is deleted too (no resurrection)."""
    folder = uploads_dir(settings)
    indexer = open_indexer(settings)
    try:
        paths = {record.path for record in (indexer.catalog.get_article(i) for i in ids) if record is not None}
        removed, _unknown = indexer.remove(ids)
        for path in paths:
            file = Path(path)
            if file.parent.resolve() == folder and not indexer.catalog.article_ids_under(str(file)):
                file.unlink(missing_ok=True)
    finally:
        indexer.close()
        index_changed()
    return removed


def upload_section(settings: Settings) -> None:
    bulk_limit = max(BULK_MAX_MB, settings.max_article_mb)
    st.caption(f"Text, Markdown, HTML and JSON files up to {settings.max_article_mb:g} MB each; JSONL (.jsonl, "
               f".jsonl.gz) up to {bulk_limit:g} MB. Files are kept in the uploads folder of the index.")
    # a new key after each indexing run empties the uploader
    key = f"uploads_{st.session_state.get('upload_round', 0)}"
    files = st.file_uploader("Article files", type=UPLOADER_TYPES, accept_multiple_files=True, key=key)
    if st.button("Index uploaded files", key="upload_button", disabled=not files, icon=":material/upload:"):
        try:
            saved: dict = {}

            def save() -> list[Path]:
                saved["written"], saved["rejected"] = save_uploads(files or [], settings)
                return saved["written"]

            result = run_sync(settings, save, "Upload")
            if not saved["written"]:
                result = {"kind": "error", "summary": "No file was added."}
            result["rejected"] = saved["rejected"]
            if saved["rejected"] and result["kind"] == "success":
                result["kind"] = "warning"
        except Exception as error:
            show_error(error)
            return
        st.session_state["upload_round"] = st.session_state.get("upload_round", 0) + 1
        finish_action(result)


def paste_section(settings: Settings) -> None:
    with st.form("paste_form", clear_on_submit=False, border=False):
        title = st.text_input("Title", key="paste_title")
        text = st.text_area("Text", key="paste_text", height=200)
        left, right = st.columns(2)
        published = left.date_input("Date", value=None, min_value=date(1900, 1, 1), max_value=date(2100, 12, 31),
                                    key="paste_date", format="YYYY-MM-DD")
        outlet = right.text_input("Outlet", key="paste_outlet")
        url = st.text_input("Link (optional)", key="paste_url")
        submitted = st.form_submit_button("Add article", icon=":material/add:")
    if not submitted:
        return
    try:
        result = run_sync(settings, lambda: [pasted_article_file(settings, title, text, published, outlet, url)],
                          "Pasted article")
    except Exception as error:
        show_error(error)
        return
    for key in ("paste_title", "paste_text", "paste_date", "paste_outlet", "paste_url"):
        st.session_state.pop(key, None)
    finish_action(result)


def folder_section(settings: Settings) -> None:
    st.caption("A file or folder on the machine that runs newsdesk (folders are searched recursively). "
               "Indexing it again later picks up new, changed and deleted files.")
    raw = st.text_input("Path", key="folder_path", placeholder="/data/articles")
    if st.button("Index this path", key="folder_button", disabled=not raw.strip(), icon=":material/folder_open:"):
        path = Path(raw.strip()).expanduser()
        if not path.exists():
            st.error(f"There is no file or folder at {escape_md(str(path))}.")
            return
        try:
            result = run_sync(settings, [path], "Folder")
        except Exception as error:
            show_error(error)
            return
        finish_action(result)


def reindex_section(settings: Settings) -> None:
    try:
        roots = []
        if settings.catalog_path.exists():
            catalog = Catalog(settings.catalog_path, read_only=True)
            try:
                roots = catalog.roots()
            finally:
                catalog.close()
    except Exception as error:
        show_error(error)
        return
    uploads = uploads_dir(settings)
    present = [r for r in roots if Path(r).exists()]
    # uploaded files whose articles were deleted here are gone on purpose; other missing roots are reported
    missing = [r for r in roots if not Path(r).exists() and Path(r).parent != uploads]
    st.caption(f"Indexes again every file and folder indexed before ({len(present)}): new articles are added, "
               "changed ones replaced, deleted ones removed.")
    if missing:
        st.caption("Missing now (nothing under them is removed): " + ", ".join(escape_md(m) for m in missing))
    if st.button("Re-index everything", key="reindex_button", disabled=not present, icon=":material/refresh:"):
        try:
            result = run_sync(settings, present, "Re-index")
        except Exception as error:
            show_error(error)
            return
        finish_action(result)


# =================================================================================================
# Evaluations page: run a suite (evals/runner.py) with a progress bar, view a run's summary, charts,
# threshold failures and per-question results, and compare two runs. Runs are directories under
# NEWSDESK_HOME/evals/runs; a finished one holds summary.json. Questions, answers, quotes and titles
# come from the articles: they are shown through escape_md or in dataframes, like the chat.
# =================================================================================================

EVAL_BASELINES = {"bm25": "BM25 alone (fast)", "llamaindex": "llama-index starter (slow)"}
EVAL_HEADLINE = [("retrieval.hit@10", "Hit@10"), ("retrieval.mrr@10", "MRR@10"), ("answers.accuracy", "Accuracy"),
                 ("answers.token_f1", "Token F1"), ("answers.judged_correct", "Judged correct"),
                 ("citations.verbatim", "Quotes verbatim"), ("citations.judged_support", "Judged support"),
                 ("refusal.recall", "Refusal recall"),
                 ("counterfactual.repeats_fake", "Repeats the fake")]  # each shown when the run measured it
EVAL_CHARTS = [("metrics_by_type.png", "Metrics by type"), ("latency.png", "Latency"),
               ("comparison.png", "Side by side")]
EVAL_SCORE_COLUMNS = ["accuracy", "token_f1", "judged_correct", "hit@10", "mrr@10", "citation_verbatim",
                      "citation_judged_support", "citation_precision"]
EVAL_SLOW_SUITES = {  # what makes a suite slow, told before it is started
    "realtimeqa": "Slow: it indexes the full corpus (3,827 articles, about 40 minutes the first time) and asks "
                  "every question; set a limit to try it.",
    "realtimeqa-gold": "A few minutes: it indexes the 235 gold articles the first time and asks every question.",
}
# the order of metric groups in the tables (as summary.json lists them for one system)
_METRIC_GROUPS = ("questions", "retrieval.", "answers.", "citations.", "counterfactual.", "refusal.", "latency.",
                  "tokens.", "cost.")
# metrics where a smaller value is better (for the comparison's "better"/"worse")
_LOWER_IS_BETTER = ("latency.", "refusal.false_refusal_rate", "counterfactual.repeats_fake", "tokens.", "cost.")


@dataclass
class EvalRun:
    """A run directory: finished when summary.json is there (``summary``), else unfinished."""

    path: Path
    meta: dict
    summary: dict | None = None
    problem: str | None = None  # summary.json or run.json that could not be read

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def systems(self) -> list[str]:
        if self.summary:
            return list(self.summary.get("systems", {}))
        return list(self.meta.get("systems", []))

    def label(self) -> str:
        """Plain text for a select box (option labels are never Markdown)."""
        parts = [self.name, str((self.summary or self.meta).get("mode") or "?") + " mode", " + ".join(self.systems)]
        if self.meta.get("limit"):
            parts.append(f"limit {self.meta['limit']} per type")
        if self.summary:
            questions = self.summary.get("metrics", {}).get("questions")
            if questions is not None:
                parts.append(f"{questions} questions")
            failures = len(self.summary.get("failures") or [])
            parts.append(f"{failures} threshold(s) failed" if failures else "thresholds met")
        return " · ".join(parts)


def eval_runs_dir(settings: Settings) -> Path:
    return settings.home / "evals" / "runs"


def _read_json(path: Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} is not a JSON object")
    return data


def list_eval_runs(settings: Settings) -> list[EvalRun]:
    """Every run directory under home/evals/runs, newest first."""
    folder = eval_runs_dir(settings)
    if not folder.is_dir():
        return []
    runs = []
    for path in folder.iterdir():
        if not path.is_dir() or not ((path / "summary.json").exists() or (path / "run.json").exists()):
            continue
        run = EvalRun(path, {})
        try:
            if (path / "run.json").exists():
                run.meta = _read_json(path / "run.json")
            if (path / "summary.json").exists():
                run.summary = _read_json(path / "summary.json")
        except (OSError, ValueError) as error:
            run.problem = str(error)
        runs.append(run)

    def started(run: EvalRun) -> str:
        return str((run.summary or run.meta).get("started") or "")

    return sorted(runs, key=lambda r: (started(r), r.name), reverse=True)


@st.cache_resource(show_spinner=False)
def _active_eval_runs() -> set[str]:
    """Run directories being written by a session of this process (not offered for resuming)."""
    return set()


@st.cache_data(max_entries=16, show_spinner=False)
def _eval_results(path: str, stamp: int) -> list[dict]:
    from evals.report import load_results

    return load_results(Path(path))


def eval_results(run: EvalRun) -> list[dict]:
    results = run.path / "results.jsonl"
    return _eval_results(str(results.parent), results.stat().st_mtime_ns)


def suite_overview(name: str) -> dict:
    """The suite's description, its questions per type, and what is missing to run it (or None)."""
    from evals.suite import cases_for, corpus_paths, load_suite
    from index.bench import datasets_dir

    suite = load_suite(name)
    info = {"suite": suite, "types": {}, "missing": None}
    try:
        cases = cases_for(suite)
        missing = [str(p) for p in corpus_paths(suite) if not p.exists()]
        if suite.corpus == "reindex" and not (datasets_dir() / "seed").is_dir():
            missing.append(str(datasets_dir() / "seed"))
        if missing:
            raise FileNotFoundError(", ".join(missing))
        for case in cases:
            info["types"][case.type] = info["types"].get(case.type, 0) + 1
    except OSError as error:
        detail = error.filename or str(error)
        info["missing"] = (f"The data of the suite “{name}” is missing ({detail}). The datasets are read from "
                           f"{datasets_dir()}; set NEWSDESK_DATASETS to their folder.")
    return info


def eval_error_text(error: BaseException) -> str:
    if isinstance(error, FileNotFoundError):
        from index.bench import datasets_dir

        detail = error.filename or str(error)
        return (f"A file the suite needs is missing ({detail}). The datasets are read from {datasets_dir()}; "
                "set NEWSDESK_DATASETS to their folder.")
    if isinstance(error, ImportError):
        return f"A package the evaluation needs is not installed: {error}"
    return friendly_error(error)


def new_run_dir(settings: Settings, suite: str) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    base = eval_runs_dir(settings) / f"{suite}-{stamp}"
    path, counter = base, 2
    while path.exists():
        path = base.with_name(f"{base.name}-{counter}")
        counter += 1
    return path


def execute_eval_run(settings: Settings, suite: str, *, mode: str | None, limit: int | None, baselines: list[str],
                     out: Path, answerers: list[str] | None = None) -> None:
    """Runs (or resumes) a suite into ``out`` with a progress bar; the outcome is shown after a rerun."""
    from evals.runner import SuiteRun

    active = _active_eval_runs()
    if str(out) in active:
        st.warning("This run is being written by another session right now.")
        return
    bar = st.progress(0.0, text=f"Starting the {escape_md(suite)} suite…")

    def on_progress(done: int, total: int, label: str) -> None:
        fraction = min(max(done / total if total else 1.0, 0.0), 1.0)
        if label == "indexing corpus":
            text = f"Indexing the suite's corpus: {done:,} of {total:,} articles"
        else:
            text = f"{done:,} of {total:,} answers: {escape_md(label)}"
        bar.progress(fraction, text=text)

    active.add(str(out))
    try:
        runner = SuiteRun(settings, suite, mode=mode, limit=limit or None, out=out, baselines=baselines,
                          on_progress=on_progress, answerers=answerers)
        started = time.perf_counter()
        run_dir = runner.run()
        seconds = time.perf_counter() - started
    except Exception as error:
        bar.empty()
        if out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # failed before asking anything: leave no empty run folder behind
        if not isinstance(error, (OSError, ValueError, ImportError, IndexBusy, StoreUnavailable, EmbedderMismatch,
                                  LLMError)):
            log.exception("newsdesk evaluation failed", exc_info=error)
        st.session_state["eval_result"] = {"kind": "error", "summary": eval_error_text(error)}
        return
    finally:
        active.discard(str(out))
    bar.empty()
    st.session_state["eval_result"] = {"kind": "success",
                                       "summary": f"Run {run_dir.name} finished in {seconds:.1f} s."}
    st.session_state["eval_run"] = run_dir.name
    st.session_state.pop("eval_compare", None)
    st.rerun()


def eval_run_controls(settings: Settings, runs: list[EvalRun]) -> dict | None:
    """The sidebar's "Run a suite" controls; returns what to run when the button is pressed."""
    from evals.suite import list_suites

    st.subheader("Run a suite")
    suites = list_suites()
    if not suites:
        st.error("No suite is declared in evals/suites.")
        return None
    suite_name = st.selectbox("Suite", suites, index=suites.index("seed") if "seed" in suites else 0,
                              key="eval_suite")
    try:
        info = suite_overview(suite_name)
    except Exception as error:  # an unreadable suite file
        st.error(escape_md(eval_error_text(error)), icon=":material/error:")
        return None
    suite = info["suite"]
    st.caption(escape_md(suite.description))
    if info["types"]:
        counts = ", ".join(f"{t} {n:,}" for t, n in info["types"].items())
        st.caption(escape_md(f"{sum(info['types'].values()):,} questions ({counts})"))
    if info["missing"]:
        st.error(escape_md(info["missing"]), icon=":material/error:")
    if suite_name in EVAL_SLOW_SUITES:
        st.warning(escape_md(EVAL_SLOW_SUITES[suite_name]), icon=":material/hourglass_top:")

    limit = st.number_input("Questions per type (0 = all)", min_value=0, max_value=100_000, value=0, step=1,
                            key="eval_limit", help="Asks the first N questions of each type, so every type is "
                                                   "still measured (the reindex steps always all run).")
    default_mode = suite.mode or ("llm" if settings.llm_configured and settings.answer_mode != "extractive"
                                  else "extractive")
    modes = ["default", "extractive"] + (["llm"] if settings.llm_configured else [])
    labels = {"default": f"Suite default ({default_mode})", "extractive": "Extractive (offline)", "llm": "LLM"}
    mode = st.radio("Answer mode", modes, format_func=labels.get, key="eval_mode")
    if not settings.llm_configured:
        st.caption("No LLM configured: runs answer in the extractive mode.")
    baselines = st.multiselect("Baselines", list(EVAL_BASELINES), format_func=EVAL_BASELINES.get,
                               key="eval_baselines", placeholder="newsdesk alone",
                               help="Peers asked the same questions on the same corpus.")
    if "llamaindex" in baselines:
        st.warning("The llama-index baseline is slow: it builds its own index of the suite's corpus with its "
                   "own splitter and embeds every chunk again.", icon=":material/hourglass_top:")
    st.caption("Keep this page open while a run lasts: leaving it or changing a control stops the run "
               "(an unfinished run can be resumed below).")
    pressed = st.button("Run the suite", key="eval_run_button", type="primary", icon=":material/play_arrow:",
                        disabled=bool(info["missing"]), width="stretch")

    resumable = [r for r in runs if r.summary is None and r.meta.get("suite") and r.problem is None
                 and str(r.path) not in _active_eval_runs()]
    resume = None
    if resumable:
        with st.expander(f"Unfinished runs ({len(resumable)})"):
            st.caption("Runs that stopped before the end: resuming asks only the questions not answered yet. "
                       "Do not resume a run that is still going on elsewhere (newsdesk eval in a terminal).")
            names = {r.name: r for r in resumable}
            forget_stale_choice("eval_resume", names)
            chosen = st.selectbox("Run", list(names), format_func=lambda n: names[n].label() if n in names else n,
                                  key="eval_resume")
            if st.button("Resume it", key="eval_resume_button", icon=":material/resume:"):
                resume = names[chosen]
    if resume is not None:
        meta = resume.meta
        return {"suite": meta["suite"], "mode": meta.get("mode"), "limit": meta.get("limit"),
                "baselines": [s for s in meta.get("systems", []) if s in EVAL_BASELINES],
                "answerers": list((meta.get("answerers") or {}).values()) or None, "out": resume.path}
    if pressed:
        return {"suite": suite_name, "mode": None if mode == "default" else mode, "limit": int(limit),
                "baselines": list(baselines), "answerers": None, "out": new_run_dir(settings, suite_name)}
    return None


def _number(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def metrics_frame(columns: dict[str, dict]):
    """Metrics as rows, one column per system (or type): numbers, for st.dataframe."""
    import pandas as pd

    names: list[str] = []
    for metrics in columns.values():
        names += [k for k in metrics if k not in names and isinstance(metrics[k], (int, float, type(None)))]
    names.sort(key=lambda n: next((i for i, group in enumerate(_METRIC_GROUPS) if n.startswith(group)),
                                  len(_METRIC_GROUPS)))  # stable: each group keeps the report's order
    rows = [{"metric": name, **{column: metrics.get(name) for column, metrics in columns.items()}} for name in names]
    return pd.DataFrame(rows, columns=["metric", *columns])


def show_metrics_table(columns: dict[str, dict], key: str) -> None:
    frame = metrics_frame(columns)
    config = {"metric": st.column_config.TextColumn("Metric", width="medium")}
    for column in columns:
        config[column] = st.column_config.NumberColumn(column, format="%.4g")
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config, key=key,
                 height=35 * (len(frame) + 1) + 3)  # every metric, no inner scrolling


def forget_stale_choice(key: str, options) -> None:
    """Drops a widget's remembered choice that is no longer among its options (another run, a filter)."""
    if key not in st.session_state:
        return
    value = st.session_state[key]
    if isinstance(value, list):
        kept = [v for v in value if v in options]
        if kept != value:
            st.session_state[key] = kept
    elif value is not None and value not in options:
        del st.session_state[key]


def record_missed(record: dict) -> bool:
    """Not fully right: a score below 1, or refused when it should answer (or the reverse)."""
    scores = record.get("scores", {})
    if any(isinstance(scores.get(k), (int, float)) and scores[k] < 1 for k in
           ("accuracy", "hit@10", "citation_verbatim")):
        return True
    return bool(scores.get("refused")) != expects_refusal(record)


def eval_summary_section(run: EvalRun) -> None:
    summary = run.summary or {}
    details = [f"suite {summary.get('suite', '?')}", f"{summary.get('mode', '?')} mode",
               f"started {moment_text(summary.get('started'))}"]
    if summary.get("wall_seconds") is not None:
        details.append(f"{summary['wall_seconds']:.1f} s")
    if run.meta.get("limit"):
        details.append(f"limit {run.meta['limit']} per type")
    if run.meta.get("llm_model"):
        details.append(f"model {run.meta['llm_model']}")
    st.caption(escape_md(" · ".join(details)))

    metrics = summary.get("metrics") or {}
    headline = [(key, label) for key, label in EVAL_HEADLINE if isinstance(metrics.get(key), (int, float))]
    if headline:
        for column, (key, label) in zip(st.columns(len(headline)), headline):
            column.metric(label, _number(metrics[key]), help=f"newsdesk, {key}")

    failures = summary.get("failures") or []
    for failure in failures:
        upper = str(failure.get("metric", "")).endswith("false_refusal_rate")
        questions = failure.get("questions") or []
        shown = ", ".join(map(str, questions[:20]))
        if len(questions) > 20:
            shown += f" and {len(questions) - 20} more"
        st.error(escape_md(f"Threshold failed: {failure.get('metric')} = {_number(failure.get('value'))} "
                           f"({'at most' if upper else 'at least'} {failure.get('threshold')} required)")
                 + (f"  \nQuestions: {escape_md(shown)}" if shown else ""), icon=":material/rule:")
    if not failures and summary.get("thresholds"):
        met = ", ".join(f"{k} {v}" for k, v in summary["thresholds"].items())
        st.success(escape_md(f"All thresholds met: {met}"), icon=":material/check_circle:")

    left, right = st.columns(2)
    with left:
        st.markdown("**Systems side by side**")
        systems = summary.get("systems") or {}
        if systems:
            show_metrics_table(systems, key="eval_systems_table")
        else:
            st.caption("No results in this run.")
    with right:
        st.markdown("**By question type**")
        by_type = summary.get("by_type") or {}
        if by_type:
            for tab, (system, types) in zip(st.tabs([escape_md(s) for s in by_type]), by_type.items()):
                with tab:
                    show_metrics_table(types, key=f"eval_types_{system}")


def eval_charts_section(run: EvalRun) -> None:
    present = [(name, label) for name, label in EVAL_CHARTS if (run.path / name).is_file()]
    if not present:
        st.caption("This run has no charts.")
        return
    for tab, (name, label) in zip(st.tabs([label for _, label in present]), present):
        with tab:
            st.image(str(run.path / name))  # its own size (800 px): the labels stay readable


def eval_questions_section(run: EvalRun) -> None:
    try:
        records = eval_results(run)
    except Exception as error:
        st.error(escape_md(eval_error_text(error)), icon=":material/error:")
        return
    if not records:
        st.caption("No question was answered in this run.")
        return
    systems = list(dict.fromkeys(r["system"] for r in records))
    types = list(dict.fromkeys(r["type"] for r in records))
    forget_stale_choice("eval_filter_system", systems)
    forget_stale_choice("eval_filter_types", types)
    left, middle, right = st.columns(3)
    system = left.selectbox("System", systems, key="eval_filter_system")
    chosen_types = middle.multiselect("Question types", types, key="eval_filter_types", placeholder="All types")
    outcome = right.selectbox("Outcome", ["all", "missed", "right"], key="eval_filter_outcome",
                              format_func={"all": "All questions", "missed": "Missed (a score below 1 or a wrong "
                                           "refusal)", "right": "Fully right"}.get)
    search = st.text_input("Search the questions", key="eval_filter_search", placeholder="e.g. missile")
    needle = search.strip().lower()
    shown = [r for r in records if r["system"] == system and (not chosen_types or r["type"] in chosen_types)
             and (outcome == "all" or record_missed(r) == (outcome == "missed"))
             and (not needle or needle in str(r.get("question", "")).lower() or needle in str(r.get("id", "")).lower())]
    st.caption(f"{len(shown):,} of {sum(r['system'] == system for r in records):,} questions")
    if not shown:
        return
    rows = []
    for r in shown:
        scores = r.get("scores", {})
        row = {"id": r["id"], "type": r["type"], "question": r.get("question", ""),
               "gold": "; ".join(map(str, r.get("gold_answers") or [])) or "(refuse)",
               "answer": r.get("answer", ""), "refused": bool(r.get("refused")),
               "ok": not record_missed(r)}
        row.update({k: scores.get(k) for k in EVAL_SCORE_COLUMNS})
        row["ms"] = (r.get("timings_ms") or {}).get("total")
        rows.append(row)
    config = {"id": st.column_config.TextColumn("Id"), "type": st.column_config.TextColumn("Type"),
              "question": st.column_config.TextColumn("Question", width="large"),
              "gold": st.column_config.TextColumn("Gold"),
              "answer": st.column_config.TextColumn("Answer", width="large"),
              "refused": st.column_config.CheckboxColumn("Refused"), "ok": st.column_config.CheckboxColumn("Right"),
              "ms": st.column_config.NumberColumn("ms", format="%.0f")}
    config.update({k: st.column_config.NumberColumn(k, format="%.2f") for k in EVAL_SCORE_COLUMNS})
    st.dataframe(rows, hide_index=True, width="stretch", column_config=config, key="eval_questions_table")

    index = {r["id"]: r for r in shown}  # ids are unique per system; the choice stays when the system changes
    forget_stale_choice("eval_question", index)
    picked = st.selectbox("Show a question", list(index), key="eval_question",
                          format_func=lambda k: f"{k} — {str(index.get(k, {}).get('question', ''))[:90]}")
    if picked:
        with st.container(border=True):
            render_eval_record(index[picked])


def render_eval_record(record: dict) -> None:
    st.markdown(f"**{escape_md(record.get('question'))}**")
    meta = [record.get("id"), record.get("type"), record.get("system")]
    if record.get("as_of"):
        meta.append(f"as of {record['as_of']}")
    st.caption(escape_md(" · ".join(str(m) for m in meta if m)))
    gold = record.get("gold_answers") or []
    if gold:
        st.markdown("**Gold answer:** " + "; ".join(escape_md(str(g)) for g in gold))
    elif expects_refusal(record):
        st.markdown("**Gold answer:** none: the articles do not answer this, it should be refused.")
    citations = record.get("citations") or []
    st.markdown("**Answer**")
    if record.get("refused"):
        st.warning(escape_md(record.get("answer") or "Refused."), icon=":material/search_off:")
    else:
        st.markdown(with_markers(str(record.get("answer") or ""), {int(c["n"]) for c in citations if "n" in c}))
    scores = record.get("scores") or {}
    shown_scores = " · ".join(f"{k} {_number(v)}" for k, v in scores.items())
    timings = record.get("timings_ms") or {}
    shown_timings = " · ".join(f"{k} {v:.0f} ms" for k, v in timings.items() if isinstance(v, (int, float)))
    st.caption(escape_md(f"Scores: {shown_scores}") + ("  \n" + escape_md(f"Time: {shown_timings}")
                                                        if shown_timings else ""))

    gold_ids = set(record.get("gold_article_ids") or [])
    if citations:
        st.markdown("**Citations**")
        for citation in citations:
            with st.container(border=True):
                meta = [escape_md(citation.get("source") or "unknown outlet"),
                        escape_md(date_text(citation.get("published_at")))]
                link = link_md(citation.get("url"))
                if link:
                    meta.append(link)
                if gold_ids:
                    meta.append("gold article" if citation.get("article_id") in gold_ids else "not a gold article")
                st.markdown(f":blue-badge[{int(citation.get('n', 0))}] "
                            f"**{escape_md(citation.get('title') or 'Untitled')}**  \n" + " · ".join(meta))
                st.markdown("> " + highlight(escape_md(str(citation.get("quote") or "").replace("\n", " "))))
    retrieved = record.get("retrieved") or []
    if retrieved:
        st.markdown("**Retrieved articles**")
        rows = [{"rank": i + 1, "title": r.get("title") or "Untitled", "gold": r.get("article_id") in gold_ids,
                 "score": r.get("score"), "link": safe_href(r.get("url")), "id": r.get("article_id")}
                for i, r in enumerate(retrieved)]
        st.dataframe(rows, hide_index=True, width="stretch", key="eval_retrieved_table", column_config={
            "rank": st.column_config.NumberColumn("Rank"),
            "title": st.column_config.TextColumn("Title", width="large"),
            "gold": st.column_config.CheckboxColumn("Gold"),
            "score": st.column_config.NumberColumn("Score", format="%.4g"),
            "link": st.column_config.LinkColumn("Link", display_text="open"),
            "id": st.column_config.TextColumn("Id"),
        })


def _change(metric: str, delta: float) -> str:
    if delta == 0:
        return "same"
    better = delta < 0 if metric.startswith(_LOWER_IS_BETTER) else delta > 0
    return "better" if better else "worse"


def eval_compare_section(run: EvalRun, runs: list[EvalRun]) -> None:
    from evals.report import compare

    others = {r.name: r for r in runs if r.summary is not None and r.name != run.name}
    if not others:
        st.caption("Run a suite again to compare two runs.")
        return
    forget_stale_choice("eval_compare", others)
    chosen = st.selectbox("Compare this run with", list(others), index=None, key="eval_compare",
                          format_func=lambda n: others[n].label() if n in others else n,
                          placeholder="Choose another run")
    if not chosen:
        return
    other = others[chosen]
    if (other.summary or {}).get("suite") != (run.summary or {}).get("suite"):
        st.warning("These runs are of different suites: only questions with the same id are compared.")
    try:
        result = compare(run.path, other.path)
    except Exception as error:
        st.error(escape_md(eval_error_text(error)), icon=":material/error:")
        return
    mine = (run.summary or {}).get("metrics") or {}
    theirs = (other.summary or {}).get("metrics") or {}
    rows = [{"metric": k, "this run": mine.get(k), "other run": theirs.get(k), "delta": d, "change": _change(k, d)}
            for k, d in result["deltas"].items()]
    st.caption(escape_md(f"Newsdesk's metrics: {run.name} minus {other.name}."))
    st.dataframe(rows, hide_index=True, width="stretch", key="eval_deltas_table", column_config={
        "metric": st.column_config.TextColumn("Metric", width="medium"),
        "this run": st.column_config.NumberColumn("This run", format="%.4g"),
        "other run": st.column_config.NumberColumn("Other run", format="%.4g"),
        "delta": st.column_config.NumberColumn("Delta", format="%+.4g"),
        "change": st.column_config.TextColumn("Change"),
    })
    worse = result["worse"]
    if worse:
        st.markdown(f"**Questions that got worse ({len(worse)})**")
        st.dataframe([{"id": w["id"], "question": w["question"], "worse": ", ".join(w["worse"])} for w in worse],
                     hide_index=True, width="stretch", key="eval_worse_table", column_config={
                         "id": st.column_config.TextColumn("Id"),
                         "question": st.column_config.TextColumn("Question", width="large"),
                         "worse": st.column_config.TextColumn("Worse in")})
    else:
        st.success("No question got worse.", icon=":material/check_circle:")


def evaluations_page() -> None:
    settings = get_settings()
    st.title("Evaluations")
    result = st.session_state.pop("eval_result", None)  # the outcome of the last run, shown once
    if result:
        (st.success if result["kind"] == "success" else st.error)(escape_md(result["summary"]))
    progress_area = st.container()

    try:
        runs = list_eval_runs(settings)
    except OSError as error:
        show_error(error)
        runs = []
    with st.sidebar:
        request = eval_run_controls(settings, runs)
    if request is not None:
        with progress_area:
            execute_eval_run(settings, request["suite"], mode=request["mode"], limit=request["limit"],
                             baselines=request["baselines"], out=request["out"], answerers=request.get("answerers"))
            result = st.session_state.pop("eval_result", None)  # a failure: shown here, at once
            if result:
                st.error(escape_md(result["summary"]), icon=":material/error:")

    finished = {r.name: r for r in runs if r.summary is not None}
    st.caption(f"Runs are kept in {escape_md(str(eval_runs_dir(settings)))}.")
    if not finished:
        st.info("No finished run yet: choose a suite in the sidebar and run it (the seed suite takes seconds).",
                icon=":material/monitoring:")
        return
    forget_stale_choice("eval_run", finished)
    name = st.selectbox("Run", list(finished), key="eval_run",
                        format_func=lambda n: finished[n].label() if n in finished else n)
    run = finished[name]
    unreadable = [r.name for r in runs if r.problem]
    if unreadable:
        st.caption(escape_md("Unreadable run folders (not shown): " + ", ".join(unreadable)))

    for title, section, args in (("Summary", eval_summary_section, (run,)), ("Charts", eval_charts_section, (run,)),
                                 ("Questions", eval_questions_section, (run,)),
                                 ("Compare two runs", eval_compare_section, (run, runs))):
        st.subheader(title)
        try:
            section(*args)
        except Exception as error:  # a damaged or hand-edited run folder: one message, the rest still shown
            log.exception("newsdesk UI error in the Evaluations page", exc_info=error)
            st.error(escape_md(f"This part of {run.name} could not be shown: {eval_error_text(error)}"),
                     icon=":material/error:")


# =================================================================================================
# Navigation
# =================================================================================================

PAGES: dict[str, st.Page] = {}


def app_pages() -> dict[str, st.Page]:
    return {
        "chat": st.Page(chat_page, title="Chat", icon=":material/chat:", url_path="chat", default=True),
        "library": st.Page(library_page, title="Library", icon=":material/library_books:", url_path="library"),
        "evaluations": st.Page(evaluations_page, title="Evaluations", icon=":material/monitoring:",
                               url_path="evaluations"),
    }


def main() -> None:
    st.set_page_config(page_title="newsdesk", page_icon="📰")
    PAGES.clear()
    PAGES.update(app_pages())
    current = st.navigation(list(PAGES.values()))
    # the Evaluations page's tables of metrics side by side need the width; the others read better narrow
    st.set_page_config(layout="wide" if current.url_path == "evaluations" else "centered")
    wanted = st.query_params.get("page")  # deep links: ?page=library, ?page=evaluations
    if wanted in PAGES and PAGES[wanted].title != current.title:
        st.switch_page(PAGES[wanted])
    current.run()


if __name__ == "__main__":
    main()
