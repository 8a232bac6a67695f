"""The Stories page: the newest stories first (a story is the articles that report one event across outlets and
days), and for the chosen one its timeline on a date axis, each entry's verbatim quote, what moved and where
reports disagree, and its articles.

The stories are read from the catalog (``stories.queries``, cached briefly in ``ui.resources``); the chosen
story is in the URL (``/stories?story=ID``), so a story can be linked to. Everything from an article goes
through ``ui.render`` (escaped Markdown, http(s) links only) or a dataframe.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from settings import Settings
from stories.types import Report, StoryArticle, StorySummary, Timeline
from ui.alerts import show_error
from ui.render import escape_md, link_md, number, safe_href
from ui.resources import get_settings, list_stories, story_with_timeline
from ui.sidebar import sidebar_status
from ui.story_chart import timeline_chart

LISTED = 200  # stories listed at most (newest first; the date filter reaches older ones)
LABEL_CHARS = 110  # an entry's expander label: the start of its claim


def span_text(first: str | None, last: str | None) -> str:
    if not first and not last:
        return "date unknown"
    return first or last if first == last or not (first and last) else f"{first} → {last}"


def plural(n: int, word: str) -> str:
    return f"{number(n)} {word}" + ("" if n == 1 else "s")


def story_label(story: StorySummary) -> str:
    """A story in the picker (plain text): title · dates · articles."""
    return f"{story.title} · {span_text(story.first_date, story.last_date)} · {plural(story.articles, 'article')}"


def short(text: str, limit: int = LABEL_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def page() -> None:
    settings = get_settings()
    with st.sidebar:
        sidebar_status(settings)
    st.title("Stories")
    st.caption("A story is the articles that report one event or developing situation, across outlets and days. "
               "Every line of a timeline is a verbatim quote of a dated article.")
    since = st.date_input("Reported since", value=None, min_value=date(1900, 1, 1), max_value=date(2100, 12, 31),
                          key="stories_since", format="YYYY-MM-DD")
    try:
        stories, total = list_stories(settings, since, LISTED)
    except Exception as error:
        show_error(error)
        return
    if not stories:
        where = f" reported since {since.isoformat()}" if since else ""
        st.info(f"No stories{where} yet: a story needs two or more articles about one event.",
                icon=":material/inbox:")
        return
    st.caption(f"{number(len(stories))} shown of {number(total)} {'story' if total == 1 else 'stories'}, newest first")
    st.dataframe([{"title": s.title, "first": s.first_date or "", "last": s.last_date or "", "articles": s.articles,
                   "outlets": ", ".join(s.outlets), "id": s.id} for s in stories],
                 hide_index=True, width="stretch", height=min(38 + 35 * len(stories), 260), column_config={
                     "title": st.column_config.TextColumn("Title", width="large"),
                     "first": st.column_config.TextColumn("First report"),
                     "last": st.column_config.TextColumn("Last report"),
                     "articles": st.column_config.NumberColumn("Articles"),
                     "outlets": st.column_config.TextColumn("Outlets"),
                     "id": st.column_config.TextColumn("Id")})
    story_id = choose_story(stories)
    try:
        detail, timeline = story_with_timeline(settings, story_id)
    except Exception as error:
        show_error(error)
        return
    show_story(settings, timeline, {a.id: a for a in detail.articles}, detail.articles)


def choose_story(stories: list[StorySummary]) -> str:
    """The picked story: the one in the URL (``?story=ID``) when there is one, else the newest."""
    labels = {s.id: story_label(s) for s in stories}
    ids = list(labels)
    wanted = st.query_params.get("story")
    if wanted and wanted not in labels:
        ids.insert(0, wanted)  # linked to, but older than the list or before the date filter
    chosen = st.selectbox("Story", ids, index=ids.index(wanted) if wanted in ids else 0, key="story_pick",
                          format_func=lambda i: labels.get(i, i))
    if chosen and st.query_params.get("story") != chosen:
        st.query_params["story"] = chosen
    return chosen


def show_story(settings: Settings, timeline: Timeline, articles: dict[str, StoryArticle],
               ordered: list[StoryArticle]) -> None:
    story = timeline.story
    st.subheader(escape_md(story.title), anchor=False)
    st.caption(f"{escape_md(span_text(story.first_date, story.last_date))} · {plural(story.articles, 'article')} · "
               f"{escape_md(', '.join(story.outlets) or 'unknown outlets')}")
    chart = timeline_chart(timeline)
    if chart is not None:
        st.altair_chart(chart, width="stretch")
    st.markdown("#### Timeline")
    if not timeline.entries:
        st.caption("No dated entries: the story's articles state nothing the timeline can quote.")
    for n, entry in enumerate(timeline.entries):
        st.markdown(f"**{escape_md(entry.date or 'date unknown')}** · "
                    f"{escape_md(', '.join(entry.outlets) or 'unknown outlet')}")
        with st.expander(escape_md(short(entry.claim)), key=f"entry_{n}"):
            if entry.claim != entry.report.quote:
                st.markdown(escape_md(entry.claim))
            for report in [entry.report, *entry.also]:
                quote_block(report, articles)
    if timeline.moves:
        st.markdown("#### What moved")
        for move in timeline.moves:
            with st.container(border=True):
                st.markdown(f":orange-badge[moved] **{escape_md(move.fact)}**: {escape_md(move.before_value)} → "
                            f"{escape_md(move.after_value)} "
                            f"({escape_md(span_text(move.before.date, move.after.date))})")
                quote_block(move.before, articles)
                quote_block(move.after, articles)
    if timeline.disagreements:
        st.markdown("#### Where reports disagree")
        for d in timeline.disagreements:
            with st.container(border=True):
                st.markdown(f":red-badge[disagree] **{escape_md(d.fact)}**: {escape_md(d.first_value)} "
                            f"({escape_md(d.first.source or 'unknown outlet')}) vs {escape_md(d.second_value)} "
                            f"({escape_md(d.second.source or 'unknown outlet')}), "
                            f"{escape_md(d.first.date or 'date unknown')}")
                quote_block(d.first, articles)
                quote_block(d.second, articles)
    st.markdown("#### Articles")
    st.dataframe([{"published": a.published_at or "date unknown", "outlet": a.source or "unknown",
                   "title": a.title or "Untitled", "link": safe_href(a.url), "id": a.id} for a in ordered],
                 hide_index=True, width="stretch", column_config={
                     "published": st.column_config.TextColumn("Published"),
                     "outlet": st.column_config.TextColumn("Outlet"),
                     "title": st.column_config.TextColumn("Title", width="large"),
                     "link": st.column_config.LinkColumn("Link", display_text="open"),
                     "id": st.column_config.TextColumn("Id")})


def quote_block(report: Report, articles: dict[str, StoryArticle]) -> None:
    """A verbatim quote, then where it is from: the article's title, outlet, date and link."""
    quote = escape_md(report.quote).replace("  \n", "  \n> ")
    st.markdown(f"> {quote}")
    article = articles.get(report.article_id)
    parts = [f"*{escape_md(article.title)}*" if article and article.title else None,
             escape_md(report.source or "unknown outlet"), escape_md(report.date or "date unknown"),
             link_md(report.url, "open the article")]
    st.caption(" · ".join(p for p in parts if p))


if __name__ == "__main__":  # run by st.navigation (app.py) as this page's script
    page()
