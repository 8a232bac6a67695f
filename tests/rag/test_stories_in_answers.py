"""Stories in the answers (``rag.story_answer``), on the storm reported four times by two
outlets (``tests.stories.story_set``): a latest-value question is answered from the newest report and says what it
replaced; "what's the latest on", "how did ... unfold" and "what changed since" are answered from the story's
timeline, every line a verbatim quote cited to its dated report; a question about an article in no story is
answered as usual."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from index.sync import Indexer
from rag.engine import NewsDesk
from rag.query import asks_about_story
from rag.story_answer import since_day
from settings import Settings
from tests.stories.story_set import DELIA, write


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    base = tmp_path_factory.mktemp("stories-answers")
    settings = Settings(_env_file=None, home=base / "home", chunk_size=64, chunk_overlap=8)
    indexer = Indexer(settings)
    indexer.sync([write(base / "articles")])
    indexer.close()
    desk = NewsDesk(settings)
    yield desk
    desk.close()


def _texts(desk: NewsDesk) -> dict[str, str]:
    return {c: desk.catalog.article_text(c) for c in desk.catalog.article_hashes()}


def _verbatim(desk: NewsDesk, answer) -> None:
    texts = _texts(desk)
    assert answer.citations
    for citation in answer.citations:
        assert texts[citation.article_id][citation.start:citation.end] == citation.quote


def test_a_latest_value_question_cites_the_newest_report_and_what_it_replaced(desk):
    answer = desk.ask("What is the latest death toll from Hurricane Delia?", mode="extractive")
    assert not answer.refused and "19" in answer.answer
    assert answer.citations[0].url == DELIA[3][1]  # the newest report
    assert "earlier report" in answer.answer and any(c.url in (DELIA[1][1], DELIA[2][1]) for c in answer.citations)
    _verbatim(desk, answer)


def test_whats_the_latest_on_a_story_is_its_newest_entries_with_the_moves(desk):
    answer = desk.ask("What's the latest on Hurricane Delia?", mode="extractive")
    assert any(n.startswith("answered from the timeline of story") for n in answer.notes)
    lines = answer.answer.splitlines()
    assert "2023-03-09" in lines[-3] or any("2023-03-09" in line and "19 people" in line for line in lines)
    assert any(line.startswith("- death toll: 19 on 2023-03-09") and "after 17 on 2023-03-05" in line
               for line in lines)
    assert any("disagree on death toll" in line for line in lines)
    _verbatim(desk, answer)


def test_how_did_it_unfold_runs_from_the_first_report_to_the_last(desk):
    answer = desk.ask("How did Hurricane Delia unfold?", mode="extractive")
    dated = [line for line in answer.answer.splitlines() if line.startswith("- 2023-")]
    assert dated[0].startswith("- 2023-03-02") and dated[-1].startswith("- 2023-03-09")
    _verbatim(desk, answer)


def test_what_changed_since_a_day_leaves_out_what_came_before(desk):
    answer = desk.ask("What changed since March 4 with Hurricane Delia?", mode="extractive")
    dated = [line for line in answer.answer.splitlines() if line.startswith("- 2023-")]
    assert dated and all(line[2:12] > "2023-03-04" for line in dated)
    _verbatim(desk, answer)


def test_a_question_about_an_article_in_no_story_is_answered_as_usual(desk):
    answer = desk.ask("What's the latest on the Elm Street bakery?", mode="extractive")
    assert not any(n.startswith("answered from the timeline") for n in answer.notes)
    assert "bakery" in answer.answer.lower()


@pytest.mark.parametrize("question, kind", [
    ("What's the latest on Hurricane Delia?", "latest"), ("Any updates on the Twitter deal?", "latest"),
    ("How did the Delia disaster unfold?", "develop"), ("What changed since Monday in Marlow?", "since"),
    ("What is the latest death toll from Hurricane Delia?", None), ("Who won the election?", None),
    ("How many acres had the fire burned, according to the latest update in the county?", None),
])
def test_which_questions_are_about_a_story(question, kind):
    assert asks_about_story(question) == kind


def test_since_reads_days_against_the_newest_article():
    newest = datetime(2023, 3, 9, tzinfo=timezone.utc)  # a Thursday
    assert since_day("what changed since Monday?", newest) == "2023-03-06"
    assert since_day("what changed since March 4?", newest) == "2023-03-04"
    assert since_day("what changed since Dec 24?", newest) == "2022-12-24"
    assert since_day("what changed since 2023-03-01?", newest) == "2023-03-01"
    assert since_day("what changed lately?", newest) is None
