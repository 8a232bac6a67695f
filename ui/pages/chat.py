"""The Chat page: a conversation with streamed, cited answers; filters, answer mode and k in the sidebar.

Each turn shows the answer with its citation markers as badges, then every source with the quote
highlighted in its paragraph and the whole article one click away; a refusal lists the nearest
articles instead. The conversation is this browser session's (``st.session_state["turns"]``).
"""

from __future__ import annotations

import logging

import streamlit as st

from errors import EmbedderMismatch, IndexBusy, IndexEmpty, LLMError, StoreUnavailable
from rag.engine import NewsDesk
from rag.types import Answer, Citation, Preview, first_per_article
from ui.alerts import friendly_error, show_error
from ui.render import (also_reported_md, article_with_quote, date_text, escape_md, highlight, link_md, number,
                       paragraph_with_quote, quote_span, seconds_text, with_markers)
from ui.resources import forget_desk, get_desk, get_settings
from index.status import stale_text
from ui.sidebar import AskOptions, freshness_of, sidebar_controls, sidebar_status

log = logging.getLogger("newsdesk.app")



INTERRUPTED = "This answer was interrupted by the next question: ask it again to see it."


def conversation() -> list[dict]:
    """This browser session's turns: {"question", "answer": Answer | None, "error": str | None}."""
    return st.session_state.setdefault("turns", [])


def history_for(turns: list[dict]) -> list[str]:
    return [t["answer"].standalone_question or t["answer"].question for t in turns if t.get("answer") is not None]


def page() -> None:
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
        st.page_link("ui/pages/library.py", label="Open the Library", icon=":material/library_books:")
        return
    except Exception as error:
        show_error(error)
        return

    stale_warning(settings)
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
    # the turn joins the conversation before its answer streams: a question sent meanwhile reruns this page,
    # which stops the stream here, and the turn stays (marked unfinished) instead of vanishing
    turn = {"question": question, "answer": None, "error": INTERRUPTED}
    history = history_for(turns)
    turns.append(turn)
    with st.chat_message("assistant"):
        turn["answer"], turn["error"] = stream_answer(desk, question, history, options)


def stale_warning(settings) -> None:
    """Says so when the index was not updated for longer than ``stale_after_hours``."""
    fresh = freshness_of(settings)
    warning = stale_text(fresh, settings.ingest.stale_after_hours) if fresh is not None else None
    if warning:
        st.warning(escape_md(warning), icon=":material/update:")


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
            forget_desk()
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
        details.append(seconds_text(answer.timings_ms["total"] / 1000))
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
        if also := also_reported_md(citation.also_reported_by, citation.source):  # wire copies (rag.wire)
            st.caption(also)
        try:
            text = desk.catalog.article_text(citation.article_id)
        except Exception:  # the catalog is being rewritten; show the quote alone
            text = None
        span = quote_span(text, citation.quote, citation.start, citation.end)
        if text is None or span is None:
            st.markdown("> " + highlight(escape_md(citation.quote.replace("\n", " "))))
            if text is None:
                st.caption("This article is no longer in the index.")
            return
        start, end = span
        shown_ui = desk.settings.ui
        st.markdown("> " + paragraph_with_quote(text, start, end, shown_ui.paragraph_context_chars))
        shown = text[:shown_ui.max_article_chars_shown]
        with st.expander("Whole article"):
            st.markdown(article_with_quote(shown, start, end))
            if len(text) > len(shown):
                st.caption(f"… {number(len(text) - len(shown))} more characters not shown.")


def render_refusal(answer: Answer) -> None:
    st.warning(escape_md(answer.answer), icon=":material/search_off:")
    if answer.standalone_question:
        st.caption(f"Understood as: {escape_md(answer.standalone_question)}")
    for note in answer.notes:
        st.caption(escape_md(note))
    nearest = first_per_article(answer.retrieved, get_settings().ui.nearest_shown)
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


if __name__ == "__main__":  # run by st.navigation (app.py) as this page's script
    page()
