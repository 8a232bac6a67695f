"""Time expressions in a question -> a date window and/or a preference for recent articles.

Relative expressions are resolved against a reference moment: ``--as-of`` when given, else the
newest article in the index (so "this week" means the index's latest week, not the wall clock).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from ingest.dates import parse_date

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_UNITS = {"day": 1, "week": 7, "month": 30, "year": 365}
_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10, "few": 3}

_RECENCY = re.compile(r"\b(latest|most recent(ly)?|recent(ly)?|newest|currently|current|right now|so far|"
                      r"up to date|as of now|nowadays|lately|still)\b", re.I)


@dataclass
class TimeFilter:
    since: datetime | None = None
    until: datetime | None = None
    recency: bool = False
    matched: list[str] = field(default_factory=list)
    # a rolling window ("this week", "past month") is a preference, not a wall: quiz-style "this
    # week" often means news a little older, so articles outside it are ranked lower, not dropped
    soft: bool = False
    # the latest moment any article may have when the window is soft: as-of or --until, which are walls
    bound: datetime | None = None

    def describe(self) -> str:
        parts = []
        if self.since or self.until:
            lo = self.since.date().isoformat() if self.since else "the beginning"
            hi = self.until.date().isoformat() if self.until else "now"
            parts.append(f"articles from {lo} to {hi}")
        if self.recency:
            parts.append("newest first")
        return ", ".join(parts)


def _day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _end_of_day(moment: datetime) -> datetime:
    return _day(moment) + timedelta(days=1) - timedelta(microseconds=1)


def _month_window(year: int, month: int) -> tuple[datetime, datetime]:
    last = calendar.monthrange(year, month)[1]
    start = datetime(year, month, 1, tzinfo=timezone.utc)
    return start, _end_of_day(datetime(year, month, last, tzinfo=timezone.utc))


def _year_for_month(month: int, reference: datetime) -> int:
    """'in August' without a year: the most recent August not after the reference."""
    return reference.year if month <= reference.month else reference.year - 1


# month names that are ordinary words too ("may", "march"): a month only with a preposition, a day or a year
_AMBIGUOUS_MONTHS = ("may", "march", "mar", "jan", "jun", "oct", "dec", "sep", "aug", "feb", "apr", "jul", "nov")
_WEEKDAYS = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_QUALIFIER = r"(?:(?:the\s+)?(?:early|late|mid|middle|end|start|beginning)(?:\s+of)?[\s-]+)"
# a phrase that says when: the words stripped by ``without_time_phrases`` (dates, months, seasons, years, weekdays,
# relative days and weeks), with the preposition and qualifier before them ("in late June 2022", "by mid-October")
_TIME_PHRASE = re.compile(
    rf"\b(?:(?:in|on|during|since|after|before|until|by|of|from|at|as of|around)\s+)?{_QUALIFIER}?"
    rf"(?:(?:(?:{_WEEKDAYS}),?\s+)?(?:{_MONTH_RE})\.?(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s+(?:19|20)\d\d)?"
    rf"|(?:summer|fall|autumn|spring|winter)(?:\s+of)?(?:\s+(?:19|20)\d\d)?"
    rf"|(?:{_WEEKDAYS})|\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|today|tonight|yesterday|this (?:week|month|year|weekend)|last (?:week|month|year|weekend))\b"
    # a year said as a time ("in 2022", "by 2025"), not as part of a name ("the 2030 World Cup", "Euro 2022")
    rf"|\b(?:in|during|since|after|before|until|by|of|from)\s+(?:19|20)\d\d\b", re.I)


def without_time_phrases(text: str) -> str:
    """``text`` without the phrases that say when ("in June 2022", "on Thursday, June 16", "in the summer of
    2022", "in 2022"; not "the 2030 World Cup", where a year names the event): news articles date an event by their publication ("on Saturday"), so a question's date words
    are never words an answering article must print. Month names that are ordinary words ("may", "march")
    count only with a preposition, a day or a year, as in ``parse_time_expressions``."""
    def keep_or_drop(match: re.Match) -> str:
        phrase = match.group(0)
        bare = phrase.strip().lower().rstrip(".")
        if bare in _AMBIGUOUS_MONTHS:
            return phrase  # alone, "May" the verb, "march" the noun
        return " "
    return re.sub(r"\s{2,}", " ", _TIME_PHRASE.sub(keep_or_drop, text)).strip()


def parse_time_expressions(question: str, reference: datetime) -> TimeFilter:
    """Find time expressions in ``question``; the window they give is relative to ``reference``."""
    text = question.lower()
    ref = reference if reference.tzinfo else reference.replace(tzinfo=timezone.utc)
    result = TimeFilter()

    def window(since: datetime | None, until: datetime | None, phrase: str) -> None:
        apart = result.matched and (since and result.until and since > result.until
                                    or until and result.since and until < result.since)
        if apart:  # "Ian in September and Nicole in November": each part has its month, the question both
            result.since = min(d for d in (since, result.since) if d) if since and result.since else None
            result.until = max(d for d in (until, result.until) if d) if until and result.until else None
        else:  # "since May 3, 2022" ... "before June 2022": the words narrow one window
            result.since = since if result.since is None or (since and since > result.since) else result.since
            result.until = until if result.until is None or (until and until < result.until) else result.until
        result.matched.append(phrase)

    # explicit full dates: "on August 3, 2022", "3 August 2022", "2022-08-03"
    for match in re.finditer(rf"\b(?:(?:{_MONTH_RE})\.? \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}|\d{{1,2}} (?:{_MONTH_RE})\.? \d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})\b", text):
        moment = parse_date(match.group(0))
        if moment:
            prefix = text[max(0, match.start() - 8):match.start()]
            if re.search(r"\b(before|until|prior to)\s*$", prefix):
                window(None, _day(moment) - timedelta(microseconds=1), match.group(0))
            elif re.search(r"\b(since|after)\s*$", prefix):
                window(_end_of_day(moment) + timedelta(microseconds=1) if "after" in prefix else _day(moment), None, match.group(0))
            else:
                window(_day(moment), _end_of_day(moment), match.group(0))
            text = text.replace(match.group(0), " ")

    # month (and optional year): "in August 2022", "in August", "since May", "before June 2022"
    for match in re.finditer(rf"\b(in|during|since|after|before|until|by|of|from)?\s*({_MONTH_RE})\.?(?:,?\s+(\d{{4}}))?\b", text):
        word, month_name, year = match.group(1), match.group(2), match.group(3)
        if month_name in _AMBIGUOUS_MONTHS and not (word or year):
            continue  # "may", "mar" etc. are ordinary words without a preposition or year
        month = _MONTHS[month_name]
        y = int(year) if year else _year_for_month(month, ref)
        start, end = _month_window(y, month)
        if word in ("since", "after", "from"):
            window(start if word != "after" else end + timedelta(microseconds=1), None, match.group(0).strip())
        elif word in ("before", "until", "by"):
            window(None, start - timedelta(microseconds=1) if word == "before" else end, match.group(0).strip())
        else:
            window(start, end, match.group(0).strip())

    # years: "in 2022", "since 2021", "before 2020"
    for match in re.finditer(r"\b(in|during|since|after|before|until)\s+(\d{4})\b", text):
        word, year = match.group(1), int(match.group(2))
        if not 1900 <= year <= 2100 or any(str(year) in m for m in result.matched):
            continue
        start = datetime(year, 1, 1, tzinfo=timezone.utc)
        end = datetime(year, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
        if word == "since":
            window(start, None, match.group(0))
        elif word == "after":
            window(end, None, match.group(0))
        elif word == "before":
            window(None, start, match.group(0))
        elif word == "until":
            window(None, end, match.group(0))
        else:
            window(start, end, match.group(0))

    # "over the last year", "in the past month": the rolling year or month before the reference, not the
    # calendar one "last year" names ("How many book titles have been banned over the last year?", asked
    # in September 2022, read only 2021 articles and missed its gold article, from September 2022)
    rolling = re.search(r"\b(?:(?:over|in|during|within|for|throughout)\s+)?the\s+(?:last|past)\s+(year|month)\b", text)
    if rolling:
        window(_day(ref - timedelta(days=_UNITS[rolling.group(1)])), _end_of_day(ref), rolling.group(0))
        result.soft = True
        text = text.replace(rolling.group(0), " ")

    # relative expressions: (pattern, window, soft). A rolling window that ends at the reference ("this
    # week", "this month", "last week") is soft; a named day, month or year ("yesterday", "last month",
    # "this year") is a wall.
    relative = [
        (r"\btoday\b|\bthis morning\b|\btonight\b", lambda: (_day(ref), _end_of_day(ref)), False),
        (r"\byesterday\b", lambda: (_day(ref - timedelta(days=1)), _end_of_day(ref - timedelta(days=1))), False),
        (r"\bthis week\b|\bthe past week\b|\bpast seven days\b",
         lambda: (_day(ref - timedelta(days=7)), _end_of_day(ref)), True),
        (r"\blast week\b", lambda: (_day(ref - timedelta(days=14)), _end_of_day(ref)), True),
        (r"\bthis month\b", lambda: (_day(ref - timedelta(days=31)), _end_of_day(ref)), True),
        (r"\blast month\b", lambda: _month_window(*((ref.year, ref.month - 1) if ref.month > 1 else (ref.year - 1, 12))),
         False),
        (r"\bthis year\b", lambda: (datetime(ref.year, 1, 1, tzinfo=timezone.utc), _end_of_day(ref)), False),
        (r"\blast year\b", lambda: (datetime(ref.year - 1, 1, 1, tzinfo=timezone.utc),
                                    datetime(ref.year - 1, 12, 31, 23, 59, 59, tzinfo=timezone.utc)), False),
    ]
    for pattern, make, soft in relative:
        match = re.search(pattern, text)
        if match:
            since, until = make()
            window(since, until, match.group(0))
            result.soft = result.soft or soft
    match = re.search(r"\b(?:in the |over the |during the )?(?:last|past)\s+(\d+|a|one|two|three|four|five|six|seven|ten|few)\s+(day|week|month|year)s?\b", text)
    if match:
        n = int(match.group(1)) if match.group(1).isdigit() else _NUMBERS[match.group(1)]
        window(_day(ref - timedelta(days=n * _UNITS[match.group(2)])), _end_of_day(ref), match.group(0).strip())
        result.soft = True

    recency = _RECENCY.search(text)
    if recency:
        result.recency = True
        result.matched.append(recency.group(0))
    if result.since and result.until and result.since > result.until:
        result.since, result.until = result.until, result.since
    return result


_DAY_WORDS = re.compile(rf"\b(today|tonight|yesterday|{_WEEKDAYS})\b", re.I)
_MONTH_DAY = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b", re.I)


def day_of(text: str, published: datetime | None) -> datetime | None:
    """The day ``text`` (a short answer: "Thursday", "Nov. 3", "September 15, 2022") names, read as news does
    from the article's publication date: a weekday is the last one on or before it, a month and day without
    a year the last one on or before it; None when it names no day."""
    match = _MONTH_DAY.search(text)
    if match:
        month, day = _MONTHS[match.group(1).lower()], int(match.group(2))
        year = int(match.group(3)) if match.group(3) else (published.year if published else None)
        if year is None:
            return None
        try:
            moment = datetime(year, month, day, tzinfo=timezone.utc)
        except ValueError:
            return None
        if not match.group(3) and published and moment > published + timedelta(days=1):
            moment = moment.replace(year=year - 1)
        return moment
    match = _DAY_WORDS.search(text)
    if match is None or published is None:
        return None
    word = match.group(1).lower()
    day = _day(published)
    if word in ("today", "tonight"):
        return day
    if word == "yesterday":
        return day - timedelta(days=1)
    weekday = list(calendar.day_name).index(word.capitalize())
    return day - timedelta(days=(day.weekday() - weekday) % 7)


def spoken_day(moment: datetime) -> str:
    """A day as an answer gives it: "Thursday, November 3, 2022"."""
    return f"{calendar.day_name[moment.weekday()]}, {calendar.month_name[moment.month]} {moment.day}, {moment.year}"
