"""``StoryQueries``: what the faces ask of stories: the newest stories, one story with its articles, its
timeline, and the story a few words describe. Read-only: the writer's ``StoryKeeper`` keeps the tables."""

from __future__ import annotations

from datetime import date, timedelta

from errors import NotFound
from index.catalog import CatalogInterface
from index.search import Bm25Search
from index.story_types import StoryRow
from rag.text import query_terms
from settings import Settings
from stories.timeline import TimelineBuilder, TimelineSource
from stories.types import StoryArticle, StoryDetail, StorySummary, Timeline

_EPOCH = date(1970, 1, 1)


def day_of(value: date) -> int:
    return (value - _EPOCH).days


def iso_day(day: int | None) -> str | None:
    return (_EPOCH + timedelta(days=day)).isoformat() if day is not None else None


def summary_of(row: StoryRow) -> StorySummary:
    return StorySummary(row.id, row.title, iso_day(row.first_day), iso_day(row.last_day), row.articles,
                        list(row.outlets))


class StoryQueries:
    """Stories as the CLI, the API, MCP, the app and latest-value answers read them."""

    def __init__(self, catalog: CatalogInterface, settings: Settings) -> None:
        self.catalog = catalog
        self.settings = settings

    def ready(self) -> bool:
        return self.catalog.stories_ready()

    def list(self, since: date | None = None, limit: int = 50, offset: int = 0,
             min_articles: int = 2) -> list[StorySummary]:
        """Stories newest first (by their last report), those reported on ``since`` or later; a story of one
        article is listed only with ``min_articles=1``."""
        if not self.ready():
            return []
        rows = self.catalog.story_list(day_of(since) if since else None, min_articles, limit, offset)
        return [summary_of(r) for r in rows]

    def count(self, min_articles: int = 2) -> int:
        return self.catalog.story_count(min_articles) if self.ready() else 0

    def get(self, story_id: str) -> StoryDetail:
        """A story and its articles, oldest first; ``NotFound`` for an unknown id."""
        row = self._row(story_id)
        briefs = self.catalog.article_briefs(self.catalog.story_articles(story_id))
        articles = [StoryArticle(b.id, b.title or "", b.url, b.source,
                                 b.published_at[:10] if b.published_at else None) for b in briefs.values()]
        articles.sort(key=lambda a: (a.published_at is None, a.published_at or "", a.id))
        return StoryDetail(summary_of(row), articles)

    def timeline(self, story_id: str) -> Timeline:
        """A story's timeline (``stories.timeline``), built from its articles' text."""
        row = self._row(story_id)
        ids = self.catalog.story_articles(story_id)
        briefs = self.catalog.article_briefs(ids)
        sources = [TimelineSource(i, briefs[i].title or "", self.catalog.article_text(i) or "", briefs[i].source,
                                  briefs[i].url, briefs[i].published_at[:10] if briefs[i].published_at else None)
                   for i in ids if i in briefs]
        return TimelineBuilder(self.settings.stories).build(summary_of(row), sources)

    def story_of(self, article_ids: list[str]) -> dict[str, str]:
        """article id -> its story id."""
        return self.catalog.story_of(article_ids) if self.ready() else {}

    def find(self, query: str, min_articles: int = 2) -> str | None:
        """The id of the story a few words describe (a story id is returned as it is): the story of the best
        keyword matches, weighted by rank, among stories of at least ``min_articles`` articles."""
        if self.ready() and self.catalog.story_get(query.strip()) is not None:
            return query.strip()
        terms = query_terms(query)
        if not terms or not self.ready():
            return None
        hits = Bm25Search(self.catalog, self.settings.retrieval).search(terms, 30)
        chunks = self.catalog.chunk_records([chunk_id for chunk_id, _ in hits])
        article_of = [chunks[c].article_id for c, _ in hits if c in chunks]
        stories = self.catalog.story_of(sorted(set(article_of)))
        votes: dict[str, float] = {}
        for rank, article_id in enumerate(article_of):
            story = stories.get(article_id)
            if story is not None:
                votes[story] = votes.get(story, 0.0) + 1.0 / (rank + 1)
        for story, _ in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0])):
            row = self.catalog.story_get(story)
            if row is not None and row.articles >= min_articles:
                return story
        return None

    def _row(self, story_id: str) -> StoryRow:
        row = self.catalog.story_get(story_id) if self.ready() else None
        if row is None:
            raise NotFound(f"There is no story '{story_id}'.")
        return row
