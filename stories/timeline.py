"""A story's timeline, built extractively: each report's lead sentence is a dated entry (the claim is the
sentence itself, so it is what the quote says), a report that repeats an earlier entry adds its outlet to it,
and the figures the reports state (``stories.facts``) show what moved over time and where reports of the same
day disagree. Nothing is reconciled or reworded: every entry, move and disagreement is a verbatim quote."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.sentences import sentence_spans
from rag.text import content_stems, number_values
from settings import StorySettings
from stories.facts import Figure, figures
from stories.types import Disagreement, Move, Report, StorySummary, Timeline, TimelineEntry

# A line that is a dateline, a byline or page furniture, not a sentence of the report.
_FURNITURE = re.compile(r"(—|--)\s*$|^(by|photo|image|video|watch|read more|sign up|updated|published|editor['’]s "
                        r"note|click|this (story|page|version|is a)|a version of|you (also )?can|follow|subscribe|"
                        r"get the)\b|newsletter|live blog|\b(recaps|covers) the news\b", re.I)


@dataclass(frozen=True)
class TimelineSource:
    """An article of the story as the timeline reads it."""

    article_id: str
    title: str
    text: str
    source: str | None
    url: str | None
    date: str | None  # ISO date


def _real_spans(text: str, min_words: int, count: int) -> list[tuple[int, int]]:
    """The spans of the report's first ``count`` real sentences (past datelines, bylines, captions and page
    furniture), looked for among its first ``2 * count``."""
    spans = []
    for start, end in sentence_spans(text)[:count * 2]:
        sentence = text[start:end]
        if len(sentence.split()) >= min_words and not _FURNITURE.search(sentence) and sentence[-1] in ".!?\"”’":
            spans.append((start, end))
            if len(spans) == count:
                break
    return spans


def _lead(text: str, story_stems: set[str], min_words: int, sentences: int) -> tuple[int, int] | None:
    """The span of the sentence among the report's first ``sentences`` real ones that names most of what the
    story's titles name; the earliest on a tie."""
    best, best_hits = None, -1
    for start, end in _real_spans(text, min_words, sentences):
        hits = len(content_stems(text[start:end]) & story_stems)
        if hits > best_hits:
            best, best_hits = (start, end), hits
    return best


_YEAR = re.compile(r"^(19|20)\d\d$")


def _news(text: str, story_stems: set[str], known: set[str], lead: tuple[int, int] | None, min_words: int,
          sentences: int) -> tuple[int, int] | None:
    """The span of the first sentence among the report's first ``sentences`` real ones, other than its lead, that
    states a number no earlier entry of the story states (years aside) and names something the story's titles
    name: a new toll, sum, time or count is what a follow-up report adds."""
    for start, end in _real_spans(text, min_words, sentences):
        sentence = text[start:end]
        fresh = {n for n in number_values(sentence) if not _YEAR.match(n)} - known
        if (start, end) != lead and fresh and content_stems(sentence) & story_stems:
            return start, end
    return None


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


class TimelineBuilder:
    """Timeline entries, moves and disagreements from a story's articles."""

    def __init__(self, config: StorySettings) -> None:
        self.config = config

    def build(self, story: StorySummary, sources: list[TimelineSource]) -> Timeline:
        ordered = sorted(sources, key=lambda s: (s.date is None, s.date or "", s.article_id))
        stated = [(s, f, report) for s in ordered for f, report in self._figures(s)]
        entries = self._entries(ordered, self._figure_sentences(stated))
        return Timeline(story, entries, self._moves(stated), self._disagreements(stated))

    def _figure_sentences(self, stated: list[tuple[TimelineSource, Figure, Report]]) -> dict[str, list[Report]]:
        """Per article, the first sentence stating each figure the story follows (one counted in reports of two
        or more days): a development such as a rising toll is news even when the lead is about something else."""
        days: dict[str, set[str]] = {}
        for source, figure, _ in stated:
            if source.date is not None:
                days.setdefault(figure.key, set()).add(source.date)
        followed = {key for key, seen in days.items() if len(seen) >= 2}
        out: dict[str, list[Report]] = {}
        done: set[tuple[str, str]] = set()
        for source, figure, report in stated:
            if figure.key in followed and (source.article_id, figure.key) not in done:
                done.add((source.article_id, figure.key))
                if all(r.start != report.start for r in out.get(source.article_id, [])):
                    out.setdefault(source.article_id, []).append(report)
        return out

    # --- entries -------------------------------------------------------------------------------
    def _entries(self, ordered: list[TimelineSource], figure_sentences: dict[str, list[Report]]) -> list[TimelineEntry]:
        entries: list[TimelineEntry] = []
        said: list[tuple[set[str], set[float]]] = []
        counts: dict[str, int] = {}
        for source in ordered:
            for term in content_stems(source.title):
                counts[term] = counts.get(term, 0) + 1
        story_stems = {t for t, n in counts.items() if n >= 2} or set(counts)
        known: set[str] = set()  # the numbers the entries so far state
        for source in ordered:
            span = _lead(source.text, story_stems, self.config.timeline_min_words, self.config.timeline_lead_sentences)
            reports = [_report(source, *span)] if span is not None else []
            news = _news(source.text, story_stems, known | (number_values(reports[0].quote) if reports else set()),
                         span, self.config.timeline_min_words, self.config.timeline_news_sentences)
            if news is not None:
                reports.append(_report(source, *news))
            reports += [r for r in figure_sentences.get(source.article_id, []) if all(r.start != x.start for x in reports)]
            for report in reports:
                self._add(entries, said, source, report)
                known |= number_values(report.quote)
        return entries

    def _add(self, entries: list[TimelineEntry], said: list[tuple[set[str], set[float]]], source: TimelineSource,
             report: Report) -> None:
        """A report's sentence as a new entry, or as another outlet's report of an entry it repeats. ``said``:
        each entry's content words and figures, beside ``entries``."""
        stems = content_stems(report.quote)
        values = {f.value for f in figures(report.quote)}
        same = None
        for i in range(len(entries) - 1, -1, -1):  # entries are in date order: only the same day's can match
            if entries[i].date != source.date:
                break
            if self._repeats(said[i], stems, values):
                same = i
                break
        if same is None or source.date is None:
            entries.append(TimelineEntry(source.date, report.quote, report, [source.source] if source.source else []))
            said.append((stems, values))
            return
        entry = entries[same]
        if source.source and source.source not in entry.outlets:
            entries[same] = TimelineEntry(entry.date, entry.claim, entry.report, sorted({*entry.outlets, source.source}),
                                          [*entry.also, report])

    def _repeats(self, entry_said: tuple[set[str], set[float]], stems: set[str], values: set[float]) -> bool:
        """A report repeats an entry of its day when it says much the same in the same words and states no figure
        the entry does not: a new figure is news even in the same words, and a report of the next day is an
        entry of its own, so every entry's reports share its date."""
        entry_stems, entry_values = entry_said
        return _overlap(stems, entry_stems) >= self.config.timeline_repeat_overlap and values <= entry_values

    # --- figures -------------------------------------------------------------------------------
    def _figures(self, source: TimelineSource) -> list[tuple[Figure, Report]]:
        out = []
        for start, end in sentence_spans(source.text)[:self.config.timeline_figure_sentences]:
            sentence = source.text[start:end]
            for figure in figures(sentence):
                out.append((figure, _report(source, start, end)))
        return out

    def _moves(self, stated: list[tuple[TimelineSource, Figure, Report]]) -> list[Move]:
        """A thing counted on several days with changing values: the steps of its longest run of reports, one a
        day, whose values only go one way (a toll that rises, outages that fall); a report of the same word
        that breaks the run (a county's toll among the state's) is left out of it."""
        by_key: dict[str, list[tuple[TimelineSource, Figure, Report]]] = {}
        for item in stated:
            if item[0].date is not None:
                by_key.setdefault(item[1].key, []).append(item)
        moves = []
        for key, items in sorted(by_key.items()):
            run = max(_one_way_run(items, rising=True), _one_way_run(items, rising=False), key=len)
            if len({item[1].value for item in run}) < 2:
                continue
            for a, b in zip(run, run[1:]):
                if a[1].value != b[1].value:
                    moves.append(Move(b[1].label, a[1].printed, b[1].printed, a[2], b[2]))
        return sorted(moves, key=lambda m: (m.after.date or "", m.fact))

    def _disagreements(self, stated: list[tuple[TimelineSource, Figure, Report]]) -> list[Disagreement]:
        """The same thing counted on the same day by two outlets with two values."""
        found = []
        seen: set[tuple] = set()
        for i, (source_a, fig_a, report_a) in enumerate(stated):
            for source_b, fig_b, report_b in stated[i + 1:]:
                if (fig_a.key != fig_b.key or source_a.date is None or source_a.date != source_b.date
                        or not source_a.source or not source_b.source or source_a.source == source_b.source
                        or fig_a.value == fig_b.value):
                    continue
                mark = (fig_a.key, source_a.date, min(fig_a.value, fig_b.value), max(fig_a.value, fig_b.value))
                if mark not in seen:
                    seen.add(mark)
                    found.append(Disagreement(fig_a.label, fig_a.printed, fig_b.printed, report_a, report_b))
        return found


def _one_way_run(items: list[tuple[TimelineSource, Figure, Report]], rising: bool) -> list:
    """The longest sequence of ``items`` (in date order), at most one a day, whose values never fall (or, when
    not ``rising``, never rise); the earliest such sequence on a tie."""
    best: list[tuple[int, int]] = []  # per item: (length of the best run ending here, previous index or -1)
    for i, (source, figure, _) in enumerate(items):
        length, previous = 1, -1
        for j in range(i):
            other = items[j]
            if other[0].date >= source.date:
                continue
            ordered = other[1].value <= figure.value if rising else other[1].value >= figure.value
            if ordered and best[j][0] + 1 > length:
                length, previous = best[j][0] + 1, j
        best.append((length, previous))
    if not best:
        return []
    at = max(range(len(best)), key=lambda i: (best[i][0], -i))
    run = []
    while at != -1:
        run.append(items[at])
        at = best[at][1]
    return run[::-1]


def _report(source: TimelineSource, start: int, end: int) -> Report:
    return Report(source.article_id, source.date, source.source, source.url, source.text[start:end], start, end)
