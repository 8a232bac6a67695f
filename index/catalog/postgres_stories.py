"""Stories in PostgreSQL (``sqlite_stories`` on SQLite; ``stories`` decides which articles tell one story): each
article's story features, the links between articles, each article's story and each story's row.

A new article's candidates are read by day (an indexed range), never by reading every article.
"""

from __future__ import annotations

import json
from typing import Iterable

from index.catalog.postgres_schema import STORY_TABLES, has_table
from index.story_types import StoryFeatures, StoryInput, StoryRow

_FEATURES = "SELECT article_id, content_hash, day, source, names, vector FROM story_features"
_STORY = "SELECT id, title, first_day, last_day, articles, outlets, lead_article FROM stories"


def _features(row: tuple) -> StoryFeatures:
    return StoryFeatures(row[0], row[1], row[2], row[3], tuple(json.loads(row[4])),
                         bytes(row[5]) if row[5] is not None else None)


def _story(row: tuple) -> StoryRow:
    return StoryRow(row[0], row[1], row[2], row[3], row[4], tuple(json.loads(row[5])), row[6])


class PostgresStoryRows:
    """Story features, links, members and rows (mixed into ``PostgresCatalog``, which gives ``connection``,
    ``transaction`` and the ``_all``/``_one``/``_run``/``_many`` helpers)."""

    def stories_ready(self) -> bool:
        """Whether the schema has the story tables (a reader may open a schema no writer has made yet)."""
        with self.connection() as conn:
            return has_table(conn, "stories")

    def story_clear(self) -> None:
        """Forget every story, link and feature (in one transaction)."""
        with self.transaction():
            for table in STORY_TABLES:
                self._run(f"DELETE FROM {table}")

    # --- the keeper's reads -------------------------------------------------------------------
    def story_feature_hashes(self) -> dict[str, str]:
        """article id -> the content hash its features were made from."""
        return dict(self._all("SELECT article_id, content_hash FROM story_features"))

    def story_inputs(self, ids: list[str]) -> list[StoryInput]:
        """What the keeper reads of the given articles (those the catalog holds), their chunks' vectors in order."""
        vectors: dict[str, list[bytes | None]] = {}
        for article_id, blob in self._all("SELECT article_id, embedding FROM chunks WHERE article_id = ANY(%s) "
                                          "ORDER BY article_id, position", (list(ids),)):
            vectors.setdefault(article_id, []).append(bytes(blob) if blob is not None else None)
        out = []
        for row in self._all("SELECT id, content_hash, title, text, source, url, published_ts FROM articles "
                             "WHERE id = ANY(%s)", (list(ids),)):
            blobs = vectors.get(row[0], [])
            out.append(StoryInput(row[0], row[1], row[2] or "", row[3], row[4], row[5], row[6],
                                  tuple(b for b in blobs if b is not None), all(b is not None for b in blobs)))
        return out

    def story_features_between(self, first_day: int, last_day: int) -> list[StoryFeatures]:
        """The features of the articles dated from ``first_day`` to ``last_day`` (days since 1970)."""
        return [_features(r) for r in self._all(f"{_FEATURES} WHERE day BETWEEN %s AND %s", (first_day, last_day))]

    def story_features_of(self, ids: list[str]) -> dict[str, StoryFeatures]:
        return {r[0]: _features(r) for r in self._all(f"{_FEATURES} WHERE article_id = ANY(%s)", (list(ids),))}

    def story_edges_of(self, ids: list[str]) -> list[tuple[str, str, float]]:
        """Every link (a, b, score) that touches one of ``ids``."""
        return sorted({(r[0], r[1], float(r[2])) for r in self._all(
            "SELECT a, b, score FROM story_edges WHERE a = ANY(%s) OR b = ANY(%s)", (list(ids), list(ids)))})

    # --- the keeper's writes (inside a transaction) ---------------------------------------------
    def story_put_features(self, rows: Iterable[StoryFeatures]) -> None:
        self._many("INSERT INTO story_features VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT (article_id) DO UPDATE SET "
                   "content_hash = EXCLUDED.content_hash, day = EXCLUDED.day, source = EXCLUDED.source, "
                   "names = EXCLUDED.names, vector = EXCLUDED.vector",
                   [(f.article_id, f.content_hash, f.day, f.source, json.dumps(list(f.names)), f.vector)
                    for f in rows])

    def story_put_edges(self, edges: Iterable[tuple[str, str, float]]) -> None:
        """Store links (a < b)."""
        self._many("INSERT INTO story_edges VALUES (%s,%s,%s) ON CONFLICT (a, b) DO UPDATE SET score = EXCLUDED.score",
                   list(edges))

    def story_drop_articles(self, ids: list[str]) -> None:
        """Forget articles' features, links and membership."""
        if not ids:
            return
        with self.transaction():
            self._run("DELETE FROM story_features WHERE article_id = ANY(%s)", (list(ids),))
            self._run("DELETE FROM story_edges WHERE a = ANY(%s) OR b = ANY(%s)", (list(ids), list(ids)))
            self._run("DELETE FROM story_members WHERE article_id = ANY(%s)", (list(ids),))

    def story_set_members(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Put each (article id, story id) in its story."""
        self._many("INSERT INTO story_members VALUES (%s, %s) "
                   "ON CONFLICT (article_id) DO UPDATE SET story_id = EXCLUDED.story_id", list(pairs))

    def story_put(self, rows: Iterable[StoryRow]) -> None:
        self._many("INSERT INTO stories VALUES (%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (id) DO UPDATE SET "
                   "title = EXCLUDED.title, first_day = EXCLUDED.first_day, last_day = EXCLUDED.last_day, "
                   "articles = EXCLUDED.articles, outlets = EXCLUDED.outlets, lead_article = EXCLUDED.lead_article",
                   [(s.id, s.title, s.first_day, s.last_day, s.articles, json.dumps(list(s.outlets)), s.lead_article)
                    for s in rows])

    def story_delete(self, ids: list[str]) -> None:
        """Remove stories' rows (their members are reassigned by the keeper)."""
        if ids:
            self._run("DELETE FROM stories WHERE id = ANY(%s)", (list(ids),))

    # --- what the faces read --------------------------------------------------------------------
    def story_of(self, ids: list[str]) -> dict[str, str]:
        """article id -> its story id, for the given articles that have one."""
        return dict(self._all("SELECT article_id, story_id FROM story_members WHERE article_id = ANY(%s)",
                              (list(ids),)))

    def story_articles(self, story_id: str) -> list[str]:
        return [r[0] for r in self._all('SELECT article_id FROM story_members WHERE story_id = %s '
                                        'ORDER BY article_id COLLATE "C"', (story_id,))]

    def story_get(self, story_id: str) -> StoryRow | None:
        row = self._one(f"{_STORY} WHERE id = %s", (story_id,))
        return _story(row) if row else None

    def story_list(self, since_day: int | None = None, min_articles: int = 1, limit: int = 50,
                   offset: int = 0) -> list[StoryRow]:
        """Stories newest first (by their last day), those still reported on ``since_day`` or later."""
        return [_story(r) for r in self._all(
            f"{_STORY} WHERE (%s::int IS NULL OR last_day >= %s::int) AND articles >= %s "
            'ORDER BY last_day DESC NULLS LAST, articles DESC, id COLLATE "C" LIMIT %s OFFSET %s',
            (since_day, since_day, min_articles, limit, offset))]

    def story_count(self, min_articles: int = 1) -> int:
        return int(self._one("SELECT count(*) FROM stories WHERE articles >= %s", (min_articles,))[0])
