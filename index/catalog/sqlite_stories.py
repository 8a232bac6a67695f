"""Stories in SQLite (``stories`` decides which articles tell one story; this keeps what it decided): each
article's story features, the links between articles, each article's story and each story's row.

A new article's candidates are read by day (an indexed range), never by reading every article.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Iterable

from index.catalog.sqlite_schema import STORY_TABLES, has_table, rows_in
from index.story_types import StoryFeatures, StoryInput, StoryRow

_FEATURES = "SELECT article_id, content_hash, day, source, names, vector FROM story_features"
_STORY = "SELECT id, title, first_day, last_day, articles, outlets, lead_article FROM stories"


def _features(row: tuple) -> StoryFeatures:
    return StoryFeatures(row[0], row[1], row[2], row[3], tuple(json.loads(row[4])), row[5])


def _story(row: tuple) -> StoryRow:
    return StoryRow(row[0], row[1], row[2], row[3], row[4], tuple(json.loads(row[5])), row[6])


class StoryRows:
    """Story features, links, members and rows (mixed into ``Catalog``, which gives ``db``)."""

    db: sqlite3.Connection

    def stories_ready(self) -> bool:
        """Whether the catalog has the story tables (a catalog only ever read by an older version may lack them)."""
        return has_table(self.db, "stories")

    def story_clear(self) -> None:
        """Forget every story, link and feature (inside a transaction)."""
        for table in STORY_TABLES:
            self.db.execute(f"DELETE FROM {table}")

    # --- the keeper's reads -------------------------------------------------------------------
    def story_feature_hashes(self) -> dict[str, str]:
        """article id -> the content hash its features were made from."""
        return dict(self.db.execute("SELECT article_id, content_hash FROM story_features"))

    def story_inputs(self, ids: list[str]) -> list[StoryInput]:
        """What the keeper reads of the given articles (those the catalog holds), their chunks' vectors in order."""
        vectors: dict[str, list[bytes | None]] = {}
        for article_id, blob in rows_in(self.db, "SELECT article_id, embedding FROM chunks WHERE article_id IN ({}) "
                                                 "ORDER BY article_id, position", ids):
            vectors.setdefault(article_id, []).append(blob)
        out = []
        for row in rows_in(self.db, "SELECT id, content_hash, title, text, source, url, published_ts FROM articles "
                                    "WHERE id IN ({})", ids):
            blobs = vectors.get(row[0], [])
            out.append(StoryInput(row[0], row[1], row[2] or "", row[3], row[4], row[5], row[6],
                                  tuple(b for b in blobs if b is not None), all(b is not None for b in blobs)))
        return out

    def story_features_between(self, first_day: int, last_day: int) -> list[StoryFeatures]:
        """The features of the articles dated from ``first_day`` to ``last_day`` (days since 1970)."""
        return [_features(r) for r in self.db.execute(f"{_FEATURES} WHERE day BETWEEN ? AND ?", (first_day, last_day))]

    def story_features_of(self, ids: list[str]) -> dict[str, StoryFeatures]:
        return {r[0]: _features(r) for r in rows_in(self.db, f"{_FEATURES} WHERE article_id IN ({{}})", ids)}

    def story_edges_of(self, ids: list[str]) -> list[tuple[str, str, float]]:
        """Every link (a, b, score) that touches one of ``ids``."""
        found = set(rows_in(self.db, "SELECT a, b, score FROM story_edges WHERE a IN ({})", ids))
        found.update(rows_in(self.db, "SELECT a, b, score FROM story_edges WHERE b IN ({})", ids))
        return sorted(found)

    # --- the keeper's writes (inside a transaction) ---------------------------------------------
    def story_put_features(self, rows: Iterable[StoryFeatures]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO story_features VALUES (?,?,?,?,?,?)",
                            [(f.article_id, f.content_hash, f.day, f.source, json.dumps(list(f.names)), f.vector)
                             for f in rows])

    def story_put_edges(self, edges: Iterable[tuple[str, str, float]]) -> None:
        """Store links (a < b)."""
        self.db.executemany("INSERT OR REPLACE INTO story_edges VALUES (?,?,?)", list(edges))

    def story_drop_articles(self, ids: list[str]) -> None:
        """Forget articles' features, links and membership."""
        for table, column in (("story_features", "article_id"), ("story_edges", "a"), ("story_edges", "b"),
                              ("story_members", "article_id")):
            for start in range(0, len(ids), 500):
                part = ids[start:start + 500]
                self.db.execute(f"DELETE FROM {table} WHERE {column} IN ({','.join('?' * len(part))})", part)

    def story_set_members(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Put each (article id, story id) in its story."""
        self.db.executemany("INSERT OR REPLACE INTO story_members VALUES (?, ?)", list(pairs))

    def story_put(self, rows: Iterable[StoryRow]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO stories VALUES (?,?,?,?,?,?,?)",
                            [(s.id, s.title, s.first_day, s.last_day, s.articles, json.dumps(list(s.outlets)),
                              s.lead_article) for s in rows])

    def story_delete(self, ids: list[str]) -> None:
        """Remove stories' rows (their members are reassigned by the keeper)."""
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            self.db.execute(f"DELETE FROM stories WHERE id IN ({','.join('?' * len(part))})", part)

    # --- what the faces read --------------------------------------------------------------------
    def story_of(self, ids: list[str]) -> dict[str, str]:
        """article id -> its story id, for the given articles that have one."""
        return dict(rows_in(self.db, "SELECT article_id, story_id FROM story_members WHERE article_id IN ({})", ids))

    def story_articles(self, story_id: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT article_id FROM story_members WHERE story_id = ? "
                                              "ORDER BY article_id", (story_id,))]

    def story_get(self, story_id: str) -> StoryRow | None:
        row = self.db.execute(f"{_STORY} WHERE id = ?", (story_id,)).fetchone()
        return _story(row) if row else None

    def story_list(self, since_day: int | None = None, min_articles: int = 1, limit: int = 50,
                   offset: int = 0) -> list[StoryRow]:
        """Stories newest first (by their last day), those still reported on ``since_day`` or later."""
        return [_story(r) for r in self.db.execute(
            f"{_STORY} WHERE (? IS NULL OR last_day >= ?) AND articles >= ? "
            "ORDER BY last_day DESC NULLS LAST, articles DESC, id LIMIT ? OFFSET ?",
            (since_day, since_day, min_articles, limit, offset))]

    def story_count(self, min_articles: int = 1) -> int:
        return self.db.execute("SELECT count(*) FROM stories WHERE articles >= ?", (min_articles,)).fetchone()[0]
