"""The ``stories`` suite: stories and timelines against the hand-labelled set in ``evals/data/stories/``.

    newsdesk eval --suite stories --home DIR [--split odd|even|all] [--json]
    python -m evals.story_report --home DIR [--split odd|even|all] [--json]

The index under ``DIR`` (the RealTime QA corpus, ``newsdesk eval --suite archive-qa`` builds one) is read, never
written: its SQLite catalog is copied to a temporary folder and the stories are made there from scratch with the
settings in force (so a setting can be tried without touching the index). Then:

1. **Pairs** (``pairs.json``): each labelled pair of articles is "same story" when both land in one story;
   precision, recall and F1 of "same" against the labels, and how many hard negatives were joined.
2. **Clusters** (``stories.json``): every pair of articles of the labelled stories, same story or not, scored the
   same way (pairwise precision, recall and F1 over the labelled articles).
3. **Timelines**: each labelled story's timeline is the timeline of the story most of its articles landed in.
   - entry precision: the entry's quote is a verbatim span of its article, and that article is one of the
     labelled story's (an entry from another story's article is wrong even if verbatim);
   - event recall: a labelled event is found when an entry's report (or one of its "also reported") quotes a
     sentence of the event's day that holds the event's quote or shares most of its content words;
   - order: among found events, the share of pairs of different days that the timeline puts in their order;
   - moves and disagreements: a labelled move is found when the timeline's moves of one fact lead, in one
     step or several, from its first value (reported that day or the next) to its last; a labelled disagreement
     when the timeline has one whose values print the labelled numbers. The labels are not every move a story has, so the share of
     the timeline's moves that are labelled is a floor, not a precision.

Stories with odd ids and pairs at odd positions are the tuning half; even ones are held out.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from evals.datasets import EVALS_DATA
from index.catalog import Catalog
from rag.text import content_stems, number_values
from settings import Settings
from stories.keeper import StoryKeeper
from stories.queries import StoryQueries
from stories.types import Report, Timeline

STORIES_DATA = EVALS_DATA / "stories"


def load_labels(split: str) -> tuple[list[dict], list[dict]]:
    """(stories, pairs) of the split: "odd" (tuning), "even" (held out) or "all"."""
    stories = json.loads((STORIES_DATA / "stories.json").read_text(encoding="utf-8"))
    pairs = json.loads((STORIES_DATA / "pairs.json").read_text(encoding="utf-8"))

    def keep(number: int) -> bool:
        return split == "all" or (number % 2 == 1) == (split == "odd")

    return ([s for s in stories if keep(int(s["id"].lstrip("s")))],
            [p for i, p in enumerate(pairs, start=1) if keep(i)])


def prf(tp: int, fp: int, fn: int) -> dict:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3),
            "tp": tp, "fp": fp, "fn": fn}


def build_stories(home: Path, settings: Settings, workdir: Path) -> tuple[Catalog, dict]:
    """A copy of ``home``'s catalog with its stories made from scratch; (catalog, figures of the build)."""
    source = home / "catalog.sqlite"
    if not source.exists():
        raise SystemExit(f"{source} does not exist: the stories suite reads a SQLite index home.")
    shutil.copy(source, workdir / "catalog.sqlite")
    catalog = Catalog(workdir / "catalog.sqlite")
    started = time.perf_counter()
    report = StoryKeeper(catalog, settings.stories).rebuild()
    return catalog, {"articles_linked": report.linked, "stories": catalog.story_count(1),
                     "stories_of_2_or_more": catalog.story_count(2), "seconds": round(time.perf_counter() - started, 1)}


def url_index(catalog: Catalog) -> dict[str, str]:
    """URL -> article id (an URL kept twice maps to one of them)."""
    briefs = catalog.article_briefs(list(catalog.article_hashes()))
    return {b.url: b.id for b in briefs.values() if b.url}


def score_pairs(pairs: list[dict], story_of: dict[str, str], ids: dict[str, str]) -> dict:
    tp = fp = fn = tn = hard_joined = missing = 0
    for pair in pairs:
        a, b = ids.get(pair["a"]), ids.get(pair["b"])
        if a is None or b is None:
            missing += 1
            continue
        same = story_of.get(a) is not None and story_of.get(a) == story_of.get(b)
        if pair["same"]:
            tp, fn = tp + same, fn + (not same)
        else:
            fp, tn = fp + same, tn + (not same)
            hard_joined += same and pair["kind"] == "hard_negative"
    return {**prf(tp, fp, fn), "pairs": len(pairs) - missing, "not_indexed": missing, "hard_negatives_joined": hard_joined}


def score_clusters(stories: list[dict], story_of: dict[str, str], ids: dict[str, str]) -> dict:
    labelled = [(ids[url], s["id"]) for s in stories for url in s["articles"] if url in ids]
    tp = fp = fn = 0
    for i, (a, gold_a) in enumerate(labelled):
        for b, gold_b in labelled[i + 1:]:
            same = story_of.get(a) is not None and story_of.get(a) == story_of.get(b)
            if gold_a == gold_b:
                tp, fn = tp + same, fn + (not same)
            else:
                fp += same
    return {**prf(tp, fp, fn), "articles": len(labelled)}


def _quotes_match(report: Report, quote: str, date: str) -> bool:
    if report.date is None or report.date[:10] != date[:10]:  # an event is dated by the report that states it
        return False
    a, b = " ".join(report.quote.split()), " ".join(quote.split())
    if a in b or b in a:
        return True
    mine, theirs = content_stems(a), content_stems(b)
    return bool(theirs) and len(mine & theirs) / len(theirs) >= 0.6


def _days(iso: str) -> int:
    return date.fromisoformat(iso[:10]).toordinal()


def _values_match(printed: str, labelled: str) -> bool:
    return bool(number_values(printed) & number_values(labelled))


def _move_found(labelled: dict, timeline: Timeline) -> bool:
    """A labelled move (a -> b) is found when the timeline's moves of one fact lead from a, reported that day
    or the next, to b, reported that day or the next (in one step or several)."""
    def near(report: Report, day: str) -> bool:
        return report.date is not None and abs(_days(report.date) - _days(day)) <= 1

    for fact in {m.fact for m in timeline.moves}:
        steps = [m for m in timeline.moves if m.fact == fact]
        starts = any(_values_match(m.before_value, labelled["from"]["value"]) and near(m.before, labelled["from"]["date"])
                     for m in steps)
        ends = any(_values_match(m.after_value, labelled["to"]["value"]) and near(m.after, labelled["to"]["date"])
                   for m in steps)
        if starts and ends:
            return True
    return False


def score_timeline(story: dict, timeline: Timeline, gold_ids: set[str], texts: dict[str, str]) -> dict:
    entries = timeline.entries
    correct = sum(1 for e in entries if texts.get(e.report.article_id, "")[e.report.start:e.report.end] == e.report.quote
                  and e.report.article_id in gold_ids)
    found_at: list[tuple[int, int]] = []  # (event day, entry index) of each found event
    for event in story["events"]:
        for index, entry in enumerate(entries):
            if any(_quotes_match(r, event["quote"], event["date"]) for r in (entry.report, *entry.also)):
                found_at.append((_days(event["date"]), index))
                break
    ordered = total = 0
    for i, (day_a, at_a) in enumerate(found_at):
        for day_b, at_b in found_at[i + 1:]:
            if day_a != day_b:
                total += 1
                ordered += (day_a < day_b) == (at_a < at_b)
    moves_found = sum(1 for m in story["moves"] if _move_found(m, timeline))
    labelled_moves = sum(1 for p in timeline.moves if any(
        _values_match(p.after_value, m["to"]["value"]) for m in story["moves"]))
    disagreements_found = sum(1 for d in story["disagreements"] if any(
        {*number_values(x.first_value), *number_values(x.second_value)}
        >= {*number_values(d["a"]["value"]), *number_values(d["b"]["value"])} for x in timeline.disagreements))
    return {"story": story["id"], "entries": len(entries), "entries_correct": correct,
            "events": len(story["events"]), "events_found": len(found_at), "order_pairs": total,
            "order_right": ordered, "moves": len(story["moves"]), "moves_found": moves_found,
            "timeline_moves": len(timeline.moves), "timeline_moves_labelled": labelled_moves,
            "disagreements": len(story["disagreements"]), "disagreements_found": disagreements_found,
            "timeline_disagreements": len(timeline.disagreements)}


def score_timelines(stories: list[dict], catalog: Catalog, settings: Settings, story_of: dict[str, str],
                    ids: dict[str, str]) -> dict:
    queries = StoryQueries(catalog, settings)
    rows, seconds = [], []
    for story in stories:
        gold = {ids[u] for u in story["articles"] if u in ids}
        votes: dict[str, int] = {}
        for article_id in gold:
            if article_id in story_of:
                votes[story_of[article_id]] = votes.get(story_of[article_id], 0) + 1
        if not votes:
            continue
        chosen = max(sorted(votes), key=lambda s: votes[s])
        started = time.perf_counter()
        timeline = queries.timeline(chosen)
        seconds.append(time.perf_counter() - started)
        texts = {e.report.article_id: catalog.article_text(e.report.article_id) or "" for e in timeline.entries}
        rows.append(score_timeline(story, timeline, gold, texts))

    def total(key: str) -> int:
        return sum(r[key] for r in rows)

    def share(a: str, b: str) -> float:
        return round(total(a) / total(b), 3) if total(b) else 0.0

    return {"stories": len(rows), "entry_precision": share("entries_correct", "entries"),
            "event_recall": share("events_found", "events"), "order_accuracy": share("order_right", "order_pairs"),
            "moves_recall": share("moves_found", "moves"),
            "timeline_moves_labelled": share("timeline_moves_labelled", "timeline_moves"),
            "disagreements_recall": share("disagreements_found", "disagreements"),
            "timeline_seconds_max": round(max(seconds), 3) if seconds else None, "per_story": rows}


def run(home: Path, settings: Settings, split: str) -> dict:
    stories, pairs = load_labels(split)
    with tempfile.TemporaryDirectory(prefix="newsdesk-stories-") as workdir:
        catalog, build = build_stories(home, settings, Path(workdir))
        try:
            ids = url_index(catalog)
            story_of = catalog.story_of(list(ids.values()))
            return {"split": split, "build": build, "pairs": score_pairs(pairs, story_of, ids),
                    "clusters": score_clusters(stories, story_of, ids),
                    "timelines": score_timelines(stories, catalog, settings, story_of, ids)}
        finally:
            catalog.close()


def format_report(figures: dict) -> str:
    p, c, t = figures["pairs"], figures["clusters"], figures["timelines"]
    return "\n".join([
        f"stories suite ({figures['split']} half): {figures['build']['stories_of_2_or_more']} stories of 2+ articles, "
        f"made in {figures['build']['seconds']} s",
        f"pairs: precision {p['precision']} recall {p['recall']} F1 {p['f1']} ({p['pairs']} pairs, "
        f"{p['hard_negatives_joined']} hard negatives joined)",
        f"clusters (pairwise over {c['articles']} labelled articles): precision {c['precision']} recall {c['recall']} "
        f"F1 {c['f1']}",
        f"timelines ({t['stories']} stories): entry precision {t['entry_precision']}, event recall {t['event_recall']}, "
        f"order {t['order_accuracy']}, moves found {t['moves_recall']} (labelled share of the timeline's moves "
        f"{t['timeline_moves_labelled']}), disagreements found {t['disagreements_recall']}, slowest timeline "
        f"{t['timeline_seconds_max']} s"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.story_report", description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="an index home of the RealTime QA corpus")
    parser.add_argument("--split", choices=("odd", "even", "all"), default="all")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = run(args.home, Settings(), args.split)
    print(json.dumps(figures, indent=2) if args.json else format_report(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
