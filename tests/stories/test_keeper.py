"""Stories kept by the indexer (``stories.keeper`` through ``stories.hooks``), on every backend: one story of a
storm's four reports by two outlets, a same-kind event elsewhere kept apart, stories that follow changes and
deletions, and the same stories whatever order the articles came in."""

from __future__ import annotations

from index.sync import Indexer
from settings import Settings
from stories.keeper import StoryKeeper
from stories.queries import StoryQueries
from tests.stories.story_set import BAKERY, DELIA, GORDO, story_state, write

DELIA_URLS = {item[1] for item in DELIA}


def _story_of(state: dict, url: str) -> str:
    return state["members"][url]


def test_four_reports_of_one_storm_are_one_story_and_another_storm_is_not(store_settings, tmp_path):
    indexer = Indexer(store_settings)
    try:
        indexer.sync([write(tmp_path / "articles")])
        state = story_state(indexer.catalog)
        delia = {_story_of(state, url) for url in DELIA_URLS}
        assert len(delia) == 1
        (story_id,) = delia
        assert _story_of(state, GORDO[1]) != story_id and _story_of(state, BAKERY[1]) != story_id
        listed = StoryQueries(indexer.catalog, store_settings).list()
        assert [s.id for s in listed] == [story_id]  # stories of one article are not listed by default
        story = listed[0]
        assert (story.first_date, story.last_date, story.articles) == ("2023-03-02", "2023-03-09", 4)
        assert story.outlets == ["gazette.example", "herald.example"]
        assert "Delia" in story.title
        detail = StoryQueries(indexer.catalog, store_settings).get(story_id)
        assert [a.published_at for a in detail.articles] == ["2023-03-02", "2023-03-05", "2023-03-05", "2023-03-09"]
    finally:
        indexer.close()


def test_a_changed_article_leaves_its_story_and_a_deleted_one_is_gone(store_settings, tmp_path):
    folder = write(tmp_path / "articles")
    indexer = Indexer(store_settings)
    try:
        indexer.sync([folder])
        story_id = _story_of(story_state(indexer.catalog), DELIA[0][1])
        write(folder, [(DELIA[3][0], DELIA[3][1], BAKERY[2], BAKERY[3], BAKERY[4], BAKERY[5])])  # now another event
        (folder / DELIA[2][0]).unlink()
        indexer.sync([folder])
        state = story_state(indexer.catalog)
        assert _story_of(state, DELIA[0][1]) == story_id  # named after its earliest report, which stayed
        assert _story_of(state, DELIA[3][1]) != story_id
        assert DELIA[2][1] not in state["members"]
        assert StoryQueries(indexer.catalog, store_settings).get(story_id).story.articles == 2
    finally:
        indexer.close()


def test_the_stories_do_not_depend_on_the_order_articles_came_in(tmp_path):
    states = []
    for name, batches in (("forward", [DELIA[:2], DELIA[2:] + [GORDO, BAKERY]]),
                          ("backward", [[BAKERY, GORDO, DELIA[3]], DELIA[:3]])):
        folder = tmp_path / name / "articles"
        settings = Settings(_env_file=None, home=tmp_path / name / "home", chunk_size=64, chunk_overlap=8)
        indexer = Indexer(settings)
        try:
            for batch in batches:
                indexer.sync([write(folder, batch)])
            states.append(story_state(indexer.catalog))
        finally:
            indexer.close()
    assert states[0] == states[1]


def test_a_rebuild_gives_the_stories_the_updates_gave(tmp_path):
    settings = Settings(_env_file=None, home=tmp_path / "home", chunk_size=64, chunk_overlap=8)
    indexer = Indexer(settings)
    try:
        folder = write(tmp_path / "articles", DELIA[:2])
        indexer.sync([folder])
        indexer.sync([write(folder, [*DELIA[2:], GORDO, BAKERY])])
        before = story_state(indexer.catalog)
        report = StoryKeeper(indexer.catalog, settings.stories).rebuild()
        assert report.linked == 6 and report.waiting == 0
        assert story_state(indexer.catalog) == before
    finally:
        indexer.close()


def test_articles_waiting_for_vectors_join_their_story_once_embedded(tmp_path):
    settings = Settings(_env_file=None, home=tmp_path / "home", chunk_size=64, chunk_overlap=8)
    indexer = Indexer(settings)
    try:
        indexer.sync([write(tmp_path / "articles")], embed=False)
        assert StoryQueries(indexer.catalog, settings).list() == []
        indexer.embed_pending()
        assert len(StoryQueries(indexer.catalog, settings).list()) == 1
    finally:
        indexer.close()


def test_stories_can_be_switched_off(tmp_path):
    settings = Settings(_env_file=None, home=tmp_path / "home", chunk_size=64, chunk_overlap=8, stories_enabled=False)
    indexer = Indexer(settings)
    try:
        indexer.sync([write(tmp_path / "articles")])
        assert StoryQueries(indexer.catalog, settings).list(min_articles=1) == []
    finally:
        indexer.close()
