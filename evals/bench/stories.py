"""``newsdesk bench stories``: how fast stories are kept, on a copy of an index of the RealTime QA corpus.

- the whole corpus grouped into stories from scratch (``StoryKeeper.rebuild``);
- an arriving article assigned to its story: ``sample`` dated articles, one at a time, are taken out of the
  stories and brought back by one ``StoryKeeper.update`` each (what the indexer runs once a write settles);
  p50/p95/max of that update;
- timelines: the time to build the timeline of each story of at least ``timeline_min`` articles, extractive.

The index is read, never written: its SQLite catalog is copied to a temporary folder first.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from pathlib import Path

from evals.metrics import percentile
from index.catalog import Catalog
from settings import Settings
from stories.keeper import StoryKeeper
from stories.queries import StoryQueries


def run_stories_bench(settings: Settings, home: Path, sample: int = 100, timeline_min: int = 20,
                      seed: int = 7, on_progress=None) -> dict:
    source = home / "catalog.sqlite"
    if not source.exists():
        raise SystemExit(f"{source} does not exist: the stories bench reads a SQLite index home.")
    say = on_progress or (lambda text: None)
    with tempfile.TemporaryDirectory(prefix="newsdesk-stories-bench-") as work:
        shutil.copy(source, Path(work) / "catalog.sqlite")
        catalog = Catalog(Path(work) / "catalog.sqlite")
        try:
            keeper = StoryKeeper(catalog, settings.stories)
            say("grouping the whole corpus from scratch")
            started = time.perf_counter()
            built = keeper.rebuild()
            scratch = time.perf_counter() - started
            features = catalog.story_features_of(sorted(catalog.story_feature_hashes()))
            dated = sorted(a for a, f in features.items() if f.day is not None)
            chosen = random.Random(seed).sample(dated, min(sample, len(dated)))
            say(f"assigning {len(chosen)} arriving articles one at a time")
            assign = []
            for article_id in chosen:
                with catalog.transaction():
                    catalog.story_drop_articles([article_id])
                started = time.perf_counter()
                keeper.update()
                assign.append(time.perf_counter() - started)
            queries = StoryQueries(catalog, settings)
            big = [s for s in queries.list(limit=10_000, min_articles=timeline_min)]
            say(f"building the timelines of {len(big)} stories of {timeline_min}+ articles")
            timelines = []
            for story in big:
                started = time.perf_counter()
                queries.timeline(story.id)
                timelines.append((story.articles, time.perf_counter() - started))
            return {
                "articles": built.linked, "stories_of_2_or_more": catalog.story_count(2),
                "from_scratch_seconds": round(scratch, 1),
                "assign_ms": {"articles": len(assign), "p50": round(percentile([x * 1000 for x in assign], 0.5), 1),
                              "p95": round(percentile([x * 1000 for x in assign], 0.95), 1),
                              "max": round(max(assign) * 1000, 1) if assign else None},
                "timeline_seconds": {"stories": len(timelines),
                                     "largest_story_articles": max((n for n, _ in timelines), default=None),
                                     "max": round(max((s for _, s in timelines), default=0.0), 3),
                                     "p50": round(percentile([s for _, s in timelines], 0.5), 3) if timelines else None},
            }
        finally:
            catalog.close()


def format_stories_bench(figures: dict) -> str:
    a, t = figures["assign_ms"], figures["timeline_seconds"]
    return "\n".join([
        f"{figures['articles']} articles grouped from scratch in {figures['from_scratch_seconds']} s "
        f"({figures['stories_of_2_or_more']} stories of 2+ articles)",
        f"an arriving article assigned: p50 {a['p50']} ms, p95 {a['p95']} ms, max {a['max']} ms ({a['articles']} articles)",
        f"timelines of {t['stories']} stories (largest {t['largest_story_articles']} articles): p50 {t['p50']} s, "
        f"max {t['max']} s"])
