"""The Stories page (ui/pages/stories.py) driven by AppTest on a real index with its stories, and its chart's
data (ui/story_chart.py): the newest stories, the chosen story's timeline on a date axis, each entry's quote
with its article's title and link, the moves and disagreements with their dated quotes, the date filter."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from index.catalog import open_catalog
from settings import Settings
from stories.queries import StoryQueries
from tests.helpers import APP, HOSTILE, PAYLOADS, TIMEOUT, all_text, new_session, unescaped, write_feed
from tests.storm import STORM, index_with_stories, storm_story, write_stories
from ui.story_chart import DISAGREEMENT, MOVE, MOVES_ROW, REPORT, chart_rows


@pytest.fixture(scope="module")
def stories_home(tmp_path_factory, embedder) -> Path:
    root = tmp_path_factory.mktemp("app-stories")
    index_with_stories(Settings(_env_file=None, home=root / "home"), [write_stories(root / "articles")], embedder)
    return root / "home"


def chart_spec(at) -> dict:
    [chart] = [e for e in at.main if getattr(e, "type", None) == "vega_lite_chart"]
    return json.loads(chart.proto.spec)


def test_the_stories_page_shows_the_newest_story_and_its_timeline(stories_home, use_home):
    use_home(stories_home)
    story_id, timeline = storm_story(Settings(_env_file=None, home=stories_home))
    at = new_session("stories")
    assert [t.value for t in at.title] == ["Stories"]
    listed = at.dataframe[0].value
    assert list(listed["id"]) == [story_id] and list(listed["articles"]) == [4]  # the cheese fair is no story
    assert list(listed["first"]) == ["2022-03-02"] and list(listed["last"]) == ["2022-03-09"]
    assert at.selectbox(key="story_pick").value == story_id
    assert at.query_params["story"] in (story_id, [story_id])  # the chosen story is in the URL
    assert unescaped(at.subheader[0].value) == timeline["story"]["title"]

    # the chart: a row per outlet, then the moves and the disagreements, in colours and shapes no outlet has
    spec = chart_spec(at)
    points = spec["layer"][1]["encoding"]
    assert points["x"]["field"] == "date" and points["x"]["type"] == "temporal"
    assert points["color"]["scale"]["domain"] == ["coastal-herald.example", "island-times.example", MOVE, DISAGREEMENT]
    assert len(set(points["color"]["scale"]["range"])) == 4
    assert points["shape"]["scale"]["domain"] == [REPORT, MOVE, DISAGREEMENT]
    assert points["y"]["sort"] == ["coastal-herald.example", "island-times.example", MOVES_ROW, "disagreements"]

    # each entry: its date and outlets, and an expander holding its verbatim quote, the article's title and link
    texts = [unescaped(m.value) for m in at.markdown]
    titles = {a["url"]: a["title"] for a in STORM}
    assert len(at.expander) == len(timeline["entries"]) >= 2
    for entry, expander in zip(timeline["entries"], at.expander):
        assert f"**{entry['date']}** · {', '.join(entry['outlets'])}" in texts
        assert entry["claim"].startswith(unescaped(expander.label).rstrip("…"))
        quotes = [unescaped(m.value) for m in expander.markdown]
        captions = [c.value for c in expander.caption]
        for report in [entry["report"], *entry["also"]]:
            assert f"> {report['quote']}" in quotes
            assert any(titles[report["url"]] in unescaped(c) and f"]({report['url']})" in c for c in captions)
    order = [texts.index(f"**{e['date']}** · {', '.join(e['outlets'])}") for e in timeline["entries"]]
    assert order == sorted(order)  # oldest first

    # the moves and the disagreement, with both dated quotes
    for move in timeline["moves"]:
        line = (f"moved] **{move['fact']}**: {move['before_value']} → {move['after_value']} "
                f"({move['before']['date']} → {move['after']['date']})")
        assert any(line in t for t in texts), line
    assert any("16 → 19 (2022-03-05 → 2022-03-09)" in t for t in texts)
    [d] = timeline["disagreements"]
    assert any(f"{d['first_value']} ({d['first']['source']}) vs {d['second_value']} ({d['second']['source']}), "
               f"{d['first']['date']}" in t for t in texts)
    assert f"> {d['first']['quote']}" in texts and f"> {d['second']['quote']}" in texts
    articles = at.dataframe[1].value
    assert list(articles["published"]) == sorted(a["published_at"] for a in STORM)
    assert set(articles["link"]) == {a["url"] for a in STORM}

    # the date filter: nothing reported since the day after the story's last report
    at.date_input(key="stories_since").set_value(date(2022, 3, 10)).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [unescaped(i.value) for i in at.info] == ["No stories reported since 2022-03-10 yet: a story needs two "
                                                     "or more articles about one event."]
    at.date_input(key="stories_since").set_value(date(2022, 3, 9)).run()
    assert list(at.dataframe[0].value["id"]) == [story_id]


def test_a_linked_story_that_is_not_there_is_one_message(stories_home, use_home):
    use_home(stories_home)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["story"] = "st-000000000000"  # a new browser session on /stories?story=st-000000000000
    at.switch_page("ui/pages/stories.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="story_pick").value == "st-000000000000"
    assert [unescaped(e.value) for e in at.error] == ["There is no story 'st-000000000000'."]


def test_the_stories_page_before_anything_is_indexed(tmp_path, use_home):
    use_home(tmp_path / "home")
    at = new_session("stories")
    assert not at.exception and not at.error
    assert [unescaped(i.value) for i in at.info] == ["No stories yet: a story needs two or more articles about one "
                                                     "event."]


def test_the_chart_rows_follow_the_timeline(stories_home):
    settings = Settings(_env_file=None, home=stories_home)
    story_id, _ = storm_story(settings)
    catalog = open_catalog(settings, read_only=True)
    try:
        timeline = StoryQueries(catalog, settings).timeline(story_id)
    finally:
        catalog.close()
    rows = chart_rows(timeline)
    reports = [(r.date, r.source) for e in timeline.entries for r in (e.report, *e.also)]
    assert [(r["date"], r["row"]) for r in rows if r["kind"] == REPORT] == reports
    assert [(r["start"], r["date"], r["what"]) for r in rows if r["kind"] == MOVE] == [
        (m.before.date, m.after.date, f"{m.fact}: {m.before_value} -> {m.after_value}") for m in timeline.moves]
    [disagreement] = [r for r in rows if r["kind"] == DISAGREEMENT]
    assert disagreement["date"] == "2022-03-02" and " vs " in disagreement["what"]
    assert all(len(r["what"]) <= 161 for r in rows)


def test_a_hostile_story_shows_as_text(tmp_path, use_home, embedder):
    """Markup in titles, outlets, quotes and links of a story's articles is shown as text: never HTML, never a
    link but to an http(s) URL."""
    second = {"title": "Zorblat festival report: [click](javascript:alert(1))", "url": "https://ok.example/zorblat",
              "source": "![x](https://attacker.example/?q=1)", "published_at": "2022-06-02",
              "text": "The Zorblat festival in Oslo drew 4,500 visitors this year, <b>organisers</b> said on Thursday "
                      "[click](javascript:alert(1)).\nThe next Zorblat festival is planned for 2023."}
    settings = Settings(_env_file=None, home=tmp_path / "home")
    index_with_stories(settings, [write_feed(tmp_path / "articles", [HOSTILE, second])], embedder)
    use_home(settings.index.home)
    at = new_session("stories")
    assert at.selectbox(key="story_pick").value is not None, "the two reports are not one story"
    shown = all_text(at) + [s.value for s in at.subheader]
    for markdown in shown:
        for payload in PAYLOADS + ["<b>", "javascript:"]:
            assert payload not in markdown, markdown
    seen = " ".join(unescaped(m) for m in shown)
    assert "<script>alert(1)</script> Zorblat festival report" in seen or "[click](javascript:alert(1))" in seen
    assert "<b>Evil</b> Times" in seen and "![x](https://attacker.example/?q=1)" in seen
    assert set(at.dataframe[1].value["link"].dropna()) == {"https://ok.example/zorblat"}
    assert "](javascript" not in " ".join(shown) and not at.html
    assert all(element.proto.allow_html is False for element in list(at.markdown) + list(at.caption))
