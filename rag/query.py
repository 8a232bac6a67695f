"""The plan of a question: everything decided about it once, before anything is searched.

``QueryPlanner.plan()`` makes a ``QueryPlan``: the standalone question (a follow-up rewritten), its
parts (a two-part question), the date window and the date it is relative to, the answer mode and the
earlier question a follow-up leans on. Retrieval and both answerers read the plan; nothing
rewrites, splits or parses dates again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Callable

from errors import BadInput
from ingest.dates import parse_date
from prompts import load_prompt
from rag.asked import NUMBER, asked_for
from rag.decompose import Steps, steps_of
from rag.rewrite import rewrite_by_rule, rewrite_with_llm
from rag.text import query_terms
from rag.timeparse import TimeFilter, parse_time_expressions
from settings import Settings

if TYPE_CHECKING:
    from llm.client import LLMClient

_PARTS = [
    re.compile(r"^(?:did|was|were|is|does|has|had)\s+(?P<a>.+?)\s+(?:happen\s+|come\s+|take place\s+|occur\s+)?(?:before|after|earlier than|later than)\s+(?P<b>.+?)\??$", re.I),
    re.compile(r"^which (?:came|happened|was) (?:first|earlier|later|last)[,:]?\s+(?P<a>.+?)\s+or\s+(?P<b>.+?)\??$", re.I),
    re.compile(r"\b(?:which of|compare|comparing|differences? between|both)\s+(?P<a>.+?)\s+(?:and|or|vs\.?|versus)\s+(?P<b>[^,?]+)", re.I),
    re.compile(r"^(?P<a>.+?)\s+(?:vs\.?|versus)\s+(?P<b>.+?)\??$", re.I),
]


# an outcome a question asks about as done ("Who won the 2023 Super Bowl?"): when it names a year after the
# newest article, the collection cannot hold it (a plan for a later year, "the 2026 World Cup's host cities",
# is not an outcome and is asked as usual)
_OUTCOME = re.compile(r"\b(?:won|win|wins|lost|beat|defeated|champions?|final score|results? of|outcome of|"
                      r"ended|finished|elected)\b", re.I)
_YEAR = re.compile(r"(?<![\w.-])(?:19|20)\d\d(?![\w.-])")


def after_the_collection(question: str, time_filter: TimeFilter, reference: datetime) -> bool:
    """Whether ``question`` asks about a time after ``reference`` (the newest article, or as-of): its date
    window starts later, or, with no window of its own, it asks for an outcome in a later year."""
    if time_filter.since is not None and time_filter.since > reference:
        return True
    if time_filter.since is not None or time_filter.until is not None:
        return False
    return bool(_OUTCOME.search(question)) and any(int(y) > reference.year for y in _YEAR.findall(question))


# the words of a question about where a developing story stands now, beside timeparse's recency words
# ("latest", "currently", "so far"): "finally", "after all the reshuffles", "end up with", "who is ... now?"
_LATEST = re.compile(r"\b(?:finally|final (?:toll|count|tally|figure|total)|after all|end(?:ed)? up|ultimately|"
                     r"to date|in the end|by now|(?:is|are) now|now(?=\s*[,?]))\b", re.I)


def asks_latest(question: str, time_filter: TimeFilter) -> bool:
    """Whether ``question`` asks for the latest state of something reported over time: it says so ("latest",
    "finally"), or it asks how many without tying the count to a moment ("When Ghana confirmed its first
    cases, how many ..."): a count that reports update (a toll, a tally) is asked for as it stands now."""
    if time_filter.recency or _LATEST.search(question):
        return True
    asked = asked_for(question)
    return asked.kind == NUMBER and asked.counted is not None and not _ANCHORED.search(question)


# a clause that ties a count to a moment: "When FIFA picked ...", "at the time", "on its first day"
_ANCHORED = re.compile(r"(?:^|[.?!]\s+)(?:when|after|before|as|while|once)\b|\bat the time\b|\bfirst\b", re.I)


def split_question(question: str) -> list[str]:
    """The parts of a two-part question ("Did X happen before Y?", "Which of A and B ..."), else []."""
    text = question.strip()
    for pattern in _PARTS:
        match = pattern.search(text)
        if match:
            parts = [match.group("a").strip(" ,"), match.group("b").strip(" ,?")]
            if all(len(query_terms(p)) >= 1 for p in parts):
                return parts
    return []


@dataclass
class QueryPlan:
    """A question as the pipeline understands it."""

    question: str  # as asked
    standalone: str  # understood without the conversation (the question itself unless it is a follow-up)
    parts: list[str]  # of a two-part question, each retrieved for and answered on its own; else []
    mode: str  # "llm" or "extractive"
    reference: datetime  # what "this week" is relative to: as_of, else the newest indexed article
    time_filter: TimeFilter  # the date window (retrieval may drop a start that was not given)
    since_given: bool  # the window's start was given (``since``), not read from the words or as_of
    k: int  # evidence chunks
    sources: list[str] | None  # outlets to search, None: all
    context: str | None = None  # the earlier question, shown to a model beside a follow-up rewritten by rule
    beyond: bool = False  # it asks about a time after the newest article (or as-of): no article can answer
    latest: bool = False  # it asks for the latest state of something reported over time: newest report first
    steps: Steps | None = None  # it is answered in two steps (which came first, the larger of two): rag.steps
    story: str | None = None  # it asks about a story as a whole: "latest", "develop" or "since" (rag.story_answer)

    @property
    def follow_up(self) -> bool:
        return self.standalone != self.question

    @property
    def focus(self) -> str | None:
        """A follow-up's own words: they say what is asked, the standalone form only where."""
        return self.question if self.follow_up else None

    @property
    def queries(self) -> list[str]:
        """What retrieval searches for: the standalone question and each part."""
        return [self.standalone] + self.parts


# a question about a story as a whole, not one fact of it: its news now, how it went, what changed since a day.
# The request opens the question: "How many acres ..., according to the latest update in ..." asks one fact.
_STORY_QUESTIONS = [
    ("latest", re.compile(r"^\W*(?:what(?:'s| is)(?: the)? (?:latest|newest) (?:on|about|with|in|news)|"
                          r"(?:latest|newest) (?:news|update|updates|developments?) (?:on|about|in)|"
                          r"any (?:news|updates?) (?:on|about)|where (?:do|does) .+ stand)\b", re.I)),
    ("develop", re.compile(r"^\W*(?:how (?:did|has|have) .+ (?:develop|developed|unfold|unfolded|evolve|evolved|"
                           r"play(?:ed)? out)|timeline (?:of|for)|what happened (?:with|to|in) .+ over)\b", re.I)),
    ("since", re.compile(r"^\W*what(?:'s| has| is)? (?:changed|new|happened) since\b", re.I)),
]


def asks_about_story(question: str) -> str | None:
    """Which kind of story question ``question`` is ("latest", "develop", "since"), or None for a question
    about one fact."""
    for kind, pattern in _STORY_QUESTIONS:
        if pattern.search(question.strip()):
            return kind
    return None


class QueryPlanner:
    """Makes the ``QueryPlan`` of a question. ``newest``: the newest indexed article's date (ISO text or
    None); ``llm``: the LLM client, asked for only to rewrite a follow-up with a remote model."""

    def __init__(self, settings: Settings, newest: Callable[[], str | None], llm: Callable[[], LLMClient]) -> None:
        self.settings = settings
        self.newest = newest
        self.llm = llm

    def plan(self, question: str, history: list[str] | None = None, k: int | None = None,
             since: str | datetime | None = None, until: str | datetime | None = None,
             sources: list[str] | None = None, as_of: str | datetime | None = None,
             mode: str | None = None) -> QueryPlan:
        """The plan of ``question`` asked after ``history`` (earlier questions, oldest first); ``since``,
        ``until`` and ``as_of`` are dates (text or datetime), ``mode`` llm, extractive or None (the setting)."""
        mode = self.settings.answer_mode_for(mode)
        history = [h for h in (history or []) if h.strip()]
        remote = self.settings.llm.kind == "remote"
        standalone = question
        if history:
            # a remote model rewrites a follow-up; a local one is too slow for a second call, so the rule
            # rewrites it for retrieval and the model sees the earlier question beside it
            standalone = (rewrite_with_llm(question, history, self.llm(), load_prompt("rewrite"))
                          if mode == "llm" and remote else rewrite_by_rule(question, history))
        context = history[-1] if history and standalone != question and not remote else None
        reference, time_filter = self._time_window(question, standalone, since, until, as_of)
        return QueryPlan(question, standalone, split_question(standalone), mode, reference, time_filter,
                         since_given=since is not None,
                         k=k or self.settings.retrieval.top_k, sources=sources, context=context,
                         beyond=after_the_collection(standalone, time_filter, reference),
                         latest=asks_latest(standalone, time_filter), steps=steps_of(standalone),
                         story=asks_about_story(standalone))

    def _time_window(self, question: str, standalone: str, since, until, as_of) -> tuple[datetime, TimeFilter]:
        as_of_dt = as_datetime(as_of, end_of_day=True)
        if as_of_dt is not None:
            reference = as_of_dt
        else:
            reference = parse_date(self.newest()) or datetime.now(timezone.utc)
        time_filter = parse_time_expressions(question, reference)
        if not time_filter.matched and standalone != question:
            time_filter = parse_time_expressions(standalone, reference)
        if self.settings.retrieval.question_windows == "soft" and (time_filter.since or time_filter.until):
            # a question's date words describe its event, which articles report before ("a change starting
            # July 5", written in June) or after: their window is preferred, the rest ranked lower, not dropped
            time_filter.soft = True
        if since is not None:
            time_filter.since = as_datetime(since)
        if until is not None:
            time_filter.until = as_datetime(until, end_of_day=True)
        if as_of_dt is not None and (time_filter.until is None or time_filter.until > as_of_dt):
            time_filter.until = as_of_dt  # nothing published after "as of" can be known then
        time_filter.bound = as_of_dt if until is None else time_filter.until
        window_days = self.settings.retrieval.as_of_window_days
        if as_of_dt is not None and time_filter.since is None and since is None and window_days:
            # asked "as of" a date, news questions are about the days before it: prefer them (softly)
            time_filter.since = as_of_dt - timedelta(days=window_days)
            time_filter.soft = True
            time_filter.matched.append(f"as of {as_of_dt.date().isoformat()}")
        return reference, time_filter


def as_datetime(value, end_of_day: bool = False) -> datetime | None:
    """A date given by a person (text or datetime) as an aware datetime; ``end_of_day``: a bare date means
    its last moment."""
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else parse_date(value)
    if moment is None:
        raise BadInput(f"not a date: {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    if end_of_day and moment.hour == moment.minute == moment.second == 0:
        moment = moment + timedelta(days=1) - timedelta(microseconds=1)
    return moment


__all__ = ["QueryPlan", "QueryPlanner", "split_question", "as_datetime"]
