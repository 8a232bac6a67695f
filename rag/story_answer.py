"""Questions about a story as a whole, answered from its timeline (``stories``): "what's the latest on ...?" (its
newest entries, and what each figure moved from), "how did ... unfold?" (its first, last and some entries
between), "what changed since ...?" (its entries after that day). Every line is a timeline entry, which quotes
its report verbatim, cited to that report; nothing is reworded."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from index.catalog import CatalogInterface
from ingest.dates import parse_date
from rag.query import QueryPlan
from rag.types import Answer, Citation, Evidence
from settings import Settings
from stories.queries import StoryQueries
from stories.types import Report, Timeline, TimelineEntry


class StoryAnswerer:
    """Answers a story question from the timeline of the story its best evidence belongs to."""

    def __init__(self, catalog: CatalogInterface, settings: Settings) -> None:
        self.catalog = catalog
        self.stories = StoryQueries(catalog, settings)
        self.entries = settings.stories.story_answer_entries

    def answer(self, plan: QueryPlan, evidence: list[Evidence]) -> Answer | None:
        """The answer, or None when the question is no story question or its evidence is in no story of two
        or more articles (the usual answerers take it then)."""
        if plan.story is None or not evidence:
            return None
        story_id = self._story(evidence)
        if story_id is None:
            return None
        timeline = self.stories.timeline(story_id)
        titles = {a.id: a.title for a in self.stories.get(story_id).articles}
        until = plan.time_filter.bound
        entries = [e for e in timeline.entries if until is None or e.date is None or e.date <= until.date().isoformat()]
        if plan.story == "since":
            since = since_day(plan.standalone, plan.reference) or (
                plan.time_filter.since.date().isoformat() if plan.time_filter.since else None)
            entries = [e for e in entries if since is None or (e.date is not None and e.date > since)]
        elif plan.story == "latest":
            entries = entries[-self.entries:]
        else:
            entries = _spread(entries, self.entries)
        if not entries:
            return None
        return self._write(plan, timeline, entries, evidence, titles)

    def _story(self, evidence: list[Evidence]) -> str | None:
        """The story of the best evidence, when it has two reports or more."""
        story = self.stories.story_of([evidence[0].article_id]).get(evidence[0].article_id)
        row = self.catalog.story_get(story) if story is not None else None
        if row is None or row.articles < 2:
            return None
        return story

    def _write(self, plan: QueryPlan, timeline: Timeline, entries: list[TimelineEntry], evidence: list[Evidence],
               titles: dict[str, str]) -> Answer:
        citations: list[Citation] = []
        lines = [f"From the story \"{timeline.story.title}\" ({timeline.story.articles} reports, "
                 f"{timeline.story.first_date} to {timeline.story.last_date}):"]
        for entry in entries:
            n = _cite(citations, entry.report, titles)
            outlets = f" ({', '.join(entry.outlets)})" if entry.outlets else ""
            lines.append(f"- {entry.date or 'undated'}{outlets}: {entry.claim} [{n}]")
        newest = entries[-1].date
        if plan.story == "latest":
            for move in timeline.moves:
                if move.after.date == newest:
                    a, b = _cite(citations, move.before, titles), _cite(citations, move.after, titles)
                    lines.append(f"- {move.fact}: {move.after_value} on {move.after.date} [{b}], after "
                                 f"{move.before_value} on {move.before.date} [{a}]")
            shown = {e.date for e in entries}
            for split in timeline.disagreements:
                if split.first.date in shown:
                    a, b = _cite(citations, split.first, titles), _cite(citations, split.second, titles)
                    lines.append(f"- the reports of {split.first.date} disagree on {split.fact}: {split.first_value} "
                                 f"[{a}], {split.second_value} [{b}]")
        return Answer(plan.question, "\n".join(lines), False, plan.mode, citations, evidence,
                      notes=[f"answered from the timeline of story {timeline.story.id}"])

def _cite(citations: list[Citation], report: Report, titles: dict[str, str]) -> int:
    """The marker of ``report``'s citation, added when it is not cited yet."""
    for citation in citations:
        if citation.article_id == report.article_id and citation.start == report.start:
            return citation.n
    n = len(citations) + 1
    published = datetime.fromisoformat(report.date).isoformat() if report.date else None
    citations.append(Citation(n, report.article_id, titles.get(report.article_id) or report.url or "", report.source,
                              report.url, published, report.quote, report.start, report.end))
    return n


_SINCE = re.compile(r"\bsince\s+(?:(?:last|this)\s+)?([A-Za-z]+\.?(?:\s+\d{1,2})?(?:,?\s+\d{4})?|\d{4}-\d{2}-\d{2})",
                    re.I)
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def since_day(question: str, reference: datetime) -> str | None:
    """The ISO day after "since" in a question, read against ``reference`` (the newest article): "since Monday"
    is the last Monday before it, "since March 4" the last March 4 not after it."""
    match = _SINCE.search(question)
    if match is None:
        return None
    phrase = match.group(1).strip().rstrip(".")
    if phrase.lower() in _WEEKDAYS:
        back = (reference.weekday() - _WEEKDAYS.index(phrase.lower())) % 7 or 7
        return (reference - timedelta(days=back)).date().isoformat()
    has_year = re.search(r"\d{4}", phrase) is not None
    parsed = parse_date(phrase if has_year else f"{phrase} {reference.year}")
    if parsed is None or not re.search(r"\d", phrase):
        return None
    if not has_year and parsed.date() > reference.date():
        parsed = parse_date(f"{phrase} {reference.year - 1}")
    return parsed.date().isoformat() if parsed else None


def _spread(entries: list[TimelineEntry], count: int) -> list[TimelineEntry]:
    """The first, the last and entries evenly between, ``count`` at most, in order."""
    if len(entries) <= count:
        return entries
    picks = sorted({round(i * (len(entries) - 1) / (count - 1)) for i in range(count)})
    return [entries[i] for i in picks]
