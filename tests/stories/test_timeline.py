"""``stories.timeline``: a story's timeline from its reports: entries oldest first, each a verbatim quote; a repeat
of the same day by another outlet joins its entry; the toll that moved over the week is a move, and the two
outlets' different tolls of the same day a disagreement, never the other way round."""

from __future__ import annotations

from settings import Settings
from stories.timeline import TimelineBuilder, TimelineSource
from stories.types import StorySummary
from tests.stories.story_set import DELIA, GORDO

STORY = StorySummary("st-test", "Hurricane Delia", "2023-03-02", "2023-03-09", 4, ["gazette.example", "herald.example"])


def _source(item) -> TimelineSource:
    name, url, source, day, title, text = item
    return TimelineSource(name, title, text, source, url, day)


def _timeline(items=DELIA):
    return TimelineBuilder(Settings(_env_file=None).stories).build(STORY, [_source(i) for i in reversed(items)])


def test_entries_are_dated_verbatim_quotes_oldest_first():
    timeline = _timeline()
    texts = {item[0]: item[5] for item in DELIA}
    assert [e.date for e in timeline.entries] == sorted(e.date for e in timeline.entries)
    assert timeline.entries[0].date == "2023-03-02" and timeline.entries[-1].date == "2023-03-09"
    for entry in timeline.entries:
        for report in (entry.report, *entry.also):
            assert texts[report.article_id][report.start:report.end] == report.quote
        assert entry.claim == entry.report.quote
    assert any("19 people" in e.claim for e in timeline.entries)


def test_the_toll_that_rose_over_the_week_is_a_move():
    moves = [(m.fact, m.before_value, m.after_value, m.before.date, m.after.date) for m in _timeline().moves]
    assert ("death toll", "17", "19", "2023-03-05", "2023-03-09") in moves
    assert moves[0][1] == "12" and moves[0][3] == "2023-03-02"


def test_two_outlets_with_different_tolls_on_one_day_disagree():
    (split,) = [d for d in _timeline().disagreements if d.fact == "death toll"]
    assert {split.first_value, split.second_value} == {"15", "17"}
    assert split.first.date == split.second.date == "2023-03-05"
    assert {split.first.source, split.second.source} == {"gazette.example", "herald.example"}


def test_a_figure_that_changed_over_time_is_not_a_disagreement():
    timeline = _timeline([DELIA[0], DELIA[3]])  # one outlet 12 on Mar 2, the other 19 on Mar 9
    assert timeline.disagreements == []
    assert [(m.before_value, m.after_value) for m in timeline.moves] == [("12", "19")]


def test_a_report_of_the_same_day_in_the_same_words_joins_the_entry():
    copy = ("delia-1b.json", "https://herald.example/2023/03/02/delia", "herald.example", "2023-03-02",
            "Delia hits Port Alden", DELIA[0][5])
    timeline = _timeline([DELIA[0], copy])
    assert len(timeline.entries) == 1
    assert timeline.entries[0].outlets == ["gazette.example", "herald.example"]
    assert timeline.entries[0].also[0].article_id == "delia-1b.json"


def test_a_story_without_figures_has_entries_and_no_moves():
    timeline = _timeline([GORDO])
    assert len(timeline.entries) == 1 and timeline.moves == [] and timeline.disagreements == []


def test_a_follow_up_whose_news_is_a_new_figure_gets_that_sentence_as_an_entry():
    follow_up = ("delia-5.json", "https://gazette.example/2023/03/10/delia-cost", "gazette.example", "2023-03-10",
                 "Delia's cleanup goes on",
                 "Crews in Port Alden kept clearing streets on Friday after Hurricane Delia. Schools stayed closed "
                 "across the county for another day. Officials estimate the storm's damage at $340 million across "
                 "the county. Volunteers handed out water at the harbor.")
    timeline = _timeline([*DELIA, follow_up])
    claims = [e.claim for e in timeline.entries if e.date == "2023-03-10"]
    assert any("$340 million" in c for c in claims)  # the new figure, not only the lead
    assert not any("Volunteers" in c for c in claims)
    repeat = (*follow_up[:5], follow_up[5].replace("$340 million", "$340 million, as on Thursday,"))
    known = _timeline([*DELIA[:3], (*DELIA[3][:5], DELIA[3][5] + " Officials put the damage from Hurricane Delia at $340 million."), repeat])
    assert not any("Officials estimate" in e.claim for e in known.entries)  # a figure already stated is no news
