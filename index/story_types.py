"""Plain data types of stories as the catalog keeps them (``stories`` decides, ``index.catalog`` stores): what
the story keeper reads of an article, an article's story features, and a story's row."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StoryInput:
    """What the story keeper reads of an article (``stories.keeper``): its text and metadata, and its chunks'
    vectors (float32 bytes; ``embedded`` is False while any chunk waits in the embedding queue)."""

    article_id: str
    content_hash: str
    title: str
    text: str
    source: str | None
    url: str | None
    published_ts: int | None
    vectors: tuple[bytes, ...]
    embedded: bool


@dataclass(frozen=True)
class StoryFeatures:
    """An article as stories compare it (``stories.features``): its day (days since 1970, None when undated),
    outlet, the names it prints and the mean of its chunk vectors (float32 bytes, None without chunks)."""

    article_id: str
    content_hash: str
    day: int | None
    source: str | None
    names: tuple[str, ...]
    vector: bytes | None


@dataclass(frozen=True)
class StoryRow:
    """A story as the catalog keeps it: its id, title (its lead article's), first and last day, how many
    articles it holds and from which outlets."""

    id: str
    title: str
    first_day: int | None
    last_day: int | None
    articles: int
    outlets: tuple[str, ...]
    lead_article: str
