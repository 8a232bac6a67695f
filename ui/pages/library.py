"""The Library page: list, search, add (upload, paste, folder), re-index and delete articles.

Files are named and stored by ``ingest/uploads.py`` (inside home/uploads only); indexing goes
through a fresh ``Indexer`` per action with a progress bar. An action's outcome is kept in
``st.session_state["library_result"]`` and shown once, after the rerun that refreshes the list.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import streamlit as st

from index.types import ArticleSummary
from index.catalog import catalog_exists, open_catalog
from index.types import SyncReport
from ingest.uploads import pasted_article_file, remove_articles, save_uploads, uploads_dir
from settings import Settings
from ui.alerts import show_error
from ui.render import date_text, escape_md, number, safe_href, seconds_text
from ui.resources import get_settings, index_changed, list_articles, open_indexer
from ui.sidebar import sidebar_status

UPLOADER_TYPES = ["txt", "md", "markdown", "json", "jsonl", "gz", "html", "htm"]


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
                         text=f"{label}: {number(done)} of {number(total)} articles written, "
                              f"{number(embedded)} chunks embedded")

        report = indexer.sync([str(p) for p in targets], on_progress=on_progress)
        bar.empty()
    finally:
        indexer.close()
        index_changed()
    return report_result(report, label)


def report_result(report: SyncReport, label: str) -> dict:
    summary = (f"{label}: {report.added} added, {report.updated} updated, {report.removed} removed, "
               f"{report.unchanged} unchanged, {len(report.skipped)} skipped in {seconds_text(report.seconds)}. "
               f"The index now holds {number(report.articles)} articles ({number(report.chunks)} chunks).")
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


def page() -> None:
    settings = get_settings()
    with st.sidebar:
        sidebar_status(settings)
    st.title("Library")
    show_result()
    freshness_panel(settings)

    try:
        articles = list_articles(settings)
    except Exception as error:
        show_error(error)
        articles = []

    st.subheader("Articles")
    search = st.text_input("Search titles and outlets", key="library_search", placeholder="e.g. Netflix or Reuters")
    needle = search.strip().lower()
    shown = [a for a in articles
             if not needle or needle in (a.title or "").lower() or needle in (a.source or "").lower()]
    st.caption(f"{number(len(shown))} of {number(len(articles))} articles")
    if shown:
        rows = [{"title": (a.title or "Untitled") + (" (feed summary only)" if a.summary_only else ""),
                 "outlet": a.source or "unknown",
                 "published": date_text(a.published_at), "link": safe_href(a.url), "chunks": a.chunks,
                 "id": a.article_id} for a in shown]
        st.dataframe(rows, hide_index=True, width="stretch", column_config={
            "title": st.column_config.TextColumn("Title", width="large"),
            "outlet": st.column_config.TextColumn("Outlet"),
            "published": st.column_config.TextColumn("Published"),
            "link": st.column_config.LinkColumn("Link", display_text="open"),
            "chunks": st.column_config.NumberColumn("Chunks"),
            "id": st.column_config.TextColumn("Id"),
        })
        if not settings.service.ui_read_only:
            delete_section(settings, shown)
    elif not articles:
        st.info("No articles yet." if settings.service.ui_read_only else "No articles yet: add some below.",
                icon=":material/inbox:")

    if settings.service.ui_read_only:  # NEWSDESK_UI_READ_ONLY: a shared app shows the library, never changes it
        st.caption("This app is read-only (NEWSDESK_UI_READ_ONLY): articles are added and removed by its operator.")
        return

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


def delete_section(settings: Settings, shown: list[ArticleSummary]) -> None:
    labels = {a.article_id: f"{a.title or 'Untitled'} — {a.source or 'unknown'} — {date_text(a.published_at)}"
              for a in shown}
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
    indexer = open_indexer(settings)
    try:
        removed, _unknown = remove_articles(indexer, settings, ids)
    finally:
        indexer.close()
        index_changed()
    return removed


def upload_section(settings: Settings) -> None:
    bulk_limit = max(settings.index.bulk_max_mb, settings.index.max_article_mb)
    st.caption(f"Text, Markdown, HTML and JSON files up to {settings.index.max_article_mb:g} MB each; JSONL (.jsonl, "
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
        if catalog_exists(settings):
            catalog = open_catalog(settings, read_only=True)
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


def freshness_panel(settings: Settings) -> None:
    """How current the index is: newest arrival, embedding queue, watcher, feeds, lag (as `newsdesk status`)."""
    from index.status import freshness_rows
    from ui.sidebar import freshness_of

    fresh = freshness_of(settings)
    if fresh is None:
        return
    label = "Freshness" + (f" · {number(fresh.pending_articles)} waiting for embeddings" if fresh.pending_articles else "")
    with st.expander(label, expanded=bool(fresh.pending_articles)):
        st.markdown("\n".join(f"- **{escape_md(what)}**: {escape_md(value)}" for what, value in freshness_rows(fresh)))


if __name__ == "__main__":  # run by st.navigation (app.py) as this page's script
    page()
