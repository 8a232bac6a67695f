"""Plain data types of stories as the faces show them: a story, its articles, its timeline with the facts that
moved and the reports that disagree. Every quote is a verbatim span of a dated article."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class StorySummary:
    """A story in a list: its id, title, first and last day (ISO dates), size and outlets."""

    id: str
    title: str
    first_date: str | None
    last_date: str | None
    articles: int
    outlets: list[str]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class StoryArticle:
    """One article of a story."""

    id: str
    title: str
    url: str | None
    source: str | None
    published_at: str | None  # ISO date, None when undated


@dataclass(frozen=True)
class StoryDetail:
    """A story with its articles, oldest first."""

    story: StorySummary
    articles: list[StoryArticle]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Report:
    """What one article said, quoted: the quote is ``text[start:end]`` of article ``article_id``."""

    article_id: str
    date: str | None
    source: str | None
    url: str | None
    quote: str
    start: int
    end: int


@dataclass(frozen=True)
class TimelineEntry:
    """A dated development of a story: a short claim, the report that states it (verbatim), and every outlet
    that reported it that day."""

    date: str | None
    claim: str
    report: Report
    outlets: list[str]
    also: list[Report] = field(default_factory=list)  # the same development in other outlets' words


@dataclass(frozen=True)
class Move:
    """A figure that changed between reports over time: ``fact`` went from ``before`` to ``after``."""

    fact: str
    before_value: str
    after_value: str
    before: Report
    after: Report


@dataclass(frozen=True)
class Disagreement:
    """Two reports of about the same time that give different values for one fact; neither is preferred."""

    fact: str
    first_value: str
    second_value: str
    first: Report
    second: Report


@dataclass(frozen=True)
class Timeline:
    """A story's timeline: entries oldest first, the facts that moved, the reports that disagree."""

    story: StorySummary
    entries: list[TimelineEntry]
    moves: list[Move]
    disagreements: list[Disagreement]

    def to_dict(self) -> dict:
        return asdict(self)
