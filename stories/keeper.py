"""``StoryKeeper``: the stories kept in line with the catalog, incrementally, as articles arrive, change and go.

Each ``update`` compares the catalog's articles with the features the story tables were made from: an article
that is new or changed (once all its chunks have vectors) gets its features and its links to the articles of
the days around it; one that changed or is gone loses its features, links and story. Then every group of
linked articles that any of them touched is split into stories again (``stories.clusters``). Links are pure
functions of two articles and the split depends only on the group, so the stories after any sequence of
updates, interrupted or not, equal those of one update over the same articles; each step commits in its own
transaction and the next update redoes whatever a crash left undone.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from index.catalog import CatalogInterface
from index.story_types import StoryFeatures, StoryRow
from settings import StorySettings
from stories.clusters import central, components, split, story_id
from stories.features import features_of
from stories.links import LinkRule, scores

_NO_GAP = 1_000_000  # days: any two dated articles
DIRTY_META = "stories_dirty"  # meta: the articles whose stories an update has yet to redo (what a crash left)
StoryProgress = Callable[[int, int], None]  # (articles linked so far, articles to link)


@dataclass
class StoryUpdate:
    """What one ``update`` did."""

    linked: int = 0  # articles given features and links
    dropped: int = 0  # articles whose features and links were removed (changed or gone)
    waiting: int = 0  # new articles whose vectors are still queued
    stories: int = 0  # stories written again
    seconds: float = 0.0


def rule_of(config: StorySettings) -> LinkRule:
    return LinkRule(config.story_max_gap_days, config.story_name_weight, config.story_name_cap,
                    config.story_link_score)


class StoryKeeper:
    """Keeps a catalog's story tables in line with its articles; runs under the index's writer lock."""

    def __init__(self, catalog: CatalogInterface, config: StorySettings) -> None:
        self.catalog = catalog
        self.config = config
        self.rule = rule_of(config)
        self.top = 1.0 + config.story_name_weight * config.story_name_cap  # the highest score a pair can get

    def update(self, on_progress: StoryProgress | None = None) -> StoryUpdate:
        started = time.perf_counter()
        report = StoryUpdate()
        if not self.config.stories_enabled or not self.catalog.stories_ready():
            return report
        current = {article_id: values[0] for article_id, values in self.catalog.article_hashes().items()}
        known = self.catalog.story_feature_hashes()
        stale = sorted(a for a, h in known.items() if current.get(a) != h)
        fresh = sorted(a for a, h in current.items() if known.get(a) != h)
        touched = set(json.loads(self.catalog.get_meta(DIRTY_META) or "[]"))  # what a killed update left
        if stale:
            touched |= self._drop(stale, touched)
            report.dropped = len(stale)
        known_ids = set(known) - set(stale)
        for start in range(0, len(fresh), self.config.story_batch):
            linked, waiting = self._link(fresh[start:start + self.config.story_batch], touched, known_ids)
            known_ids |= linked
            touched |= linked
            report.linked += len(linked)
            report.waiting += waiting
            if on_progress:
                on_progress(min(start + self.config.story_batch, len(fresh)), len(fresh))
        report.stories = self._regroup(touched, known_ids)
        if touched:
            with self.catalog.transaction():
                self.catalog.set_meta(DIRTY_META, "[]")
        report.seconds = time.perf_counter() - started
        return report

    def rebuild(self, on_progress: StoryProgress | None = None) -> StoryUpdate:
        """Every story made again from scratch (after a change of the rule's settings)."""
        self.catalog.story_clear()
        return self.update(on_progress)

    # --- steps ---------------------------------------------------------------------------------
    def _drop(self, ids: list[str], touched: set[str]) -> set[str]:
        """Forget articles' features, links and stories; returns the articles whose stories must be redone."""
        neighbours = {n for a, b, _ in self.catalog.story_edges_of(ids) for n in (a, b)}
        old_stories = set(self.catalog.story_of(ids).values())
        mates = {m for s in old_stories for m in self.catalog.story_articles(s)}
        redo = (neighbours | mates) - set(ids)
        with self.catalog.transaction():
            self.catalog.story_drop_articles(ids)
            self.catalog.story_delete(sorted(old_stories))
            self.catalog.set_meta(DIRTY_META, json.dumps(sorted(touched | redo)))
        return redo

    def _link(self, ids: list[str], touched: set[str], known: set[str]) -> tuple[set[str], int]:
        """Features and links for a batch of articles (those whose vectors are all in); (linked, waiting)."""
        inputs = self.catalog.story_inputs(ids)
        ready = [features_of(a, self.config.story_name_chars, self.config.story_lead_chunks)
                 for a in inputs if a.embedded]
        if not ready:
            return set(), len(inputs)
        wire = self._wire_edges([f.article_id for f in ready], known)
        with self.catalog.transaction():
            self.catalog.story_put_features(ready)
            dated = [f for f in ready if f.day is not None]
            edges: dict[tuple[str, str], float] = {}
            if dated:
                gap = self.rule.max_gap_days
                window = self.catalog.story_features_between(min(f.day for f in dated) - gap,
                                                             max(f.day for f in dated) + gap)
                matrix = scores(dated, window, self.rule)
                for i, j in zip(*(matrix >= self.rule.link_score).nonzero()):
                    a, b = dated[i].article_id, window[j].article_id
                    if a != b:
                        edges[(min(a, b), max(a, b))] = round(float(matrix[i, j]), 6)
            for pair in wire:
                edges[pair] = self.top
            self.catalog.story_put_edges((a, b, s) for (a, b), s in sorted(edges.items()))
            self.catalog.set_meta(DIRTY_META, json.dumps(sorted(touched | {f.article_id for f in ready})))
        return {f.article_id for f in ready}, len(inputs) - len(ready)

    def _wire_edges(self, ids: list[str], known: set[str]) -> set[tuple[str, str]]:
        """Wire copies (``ingest.dedup``) are one story whatever their vectors say."""
        if not self.catalog.wire_ready():
            return set()
        clusters = self.catalog.wire_cluster_of(ids)
        members = self.catalog.wire_members_of(sorted(set(clusters.values())))
        have = known | set(ids)
        pairs = set()
        for article_id, cluster in clusters.items():
            for other in members.get(cluster, []):
                if other != article_id and other in have:
                    pairs.add((min(article_id, other), max(article_id, other)))
        return pairs

    def _regroup(self, touched: set[str], known: set[str]) -> int:
        """Split again every linked group that holds one of ``touched`` (``known``: the articles with features);
        returns how many stories were written."""
        if not touched:
            return 0
        group, frontier, edges = set(touched) & known, set(touched) & known, set()
        while frontier:
            found = self.catalog.story_edges_of(sorted(frontier))
            edges.update(found)
            reached = {n for a, b, _ in found for n in (a, b)} & known
            frontier = reached - group
            group |= reached
        written = 0
        for members in components(sorted(edges), group):
            written += self._write_group(members)
        return written

    def _write_group(self, ids: list[str]) -> int:
        """Split one linked group into stories and write those whose members changed; returns how many."""
        features = self.catalog.story_features_of(ids)
        rows = [features[i] for i in ids if i in features]
        # the gap bounds which articles link, not how close a group's articles are: reports weeks apart
        # of one story still count toward its average
        matrix = scores(rows, rows, replace(self.rule, max_gap_days=_NO_GAP))
        before = self.catalog.story_of(ids)
        old: dict[str, set[str]] = {}
        for article_id, story in before.items():
            old.setdefault(story, set()).add(article_id)
        position = {article_id: i for i, article_id in enumerate(ids)}
        kept, changed = set(), []
        for members in split(ids, matrix, self.top, self.config.story_cut_score):
            story = story_id([features[m] for m in members])
            if old.get(story) == set(members) and self.catalog.story_get(story) is not None:
                kept.add(story)  # the same articles make the same row
                continue
            at = [position[m] for m in members]
            changed.append((members, central(members, matrix[at][:, at])))
        briefs = self.catalog.article_briefs([m for members, _ in changed for m in members])
        stories = [(self._row(members, [features[m] for m in members], lead, briefs), members)
                   for members, lead in changed]
        with self.catalog.transaction():
            self.catalog.story_delete(sorted(set(old) - kept - {row.id for row, _ in stories}))
            self.catalog.story_put([row for row, _ in stories])
            self.catalog.story_set_members([(m, row.id) for row, members in stories for m in members
                                            if before.get(m) != row.id])
        return len(stories)

    @staticmethod
    def _row(members: list[str], features: list[StoryFeatures], lead: str, briefs: dict) -> StoryRow:
        days = [f.day for f in features if f.day is not None]
        outlets = sorted({f.source for f in features if f.source})
        brief = briefs.get(lead)
        title = (brief.title if brief and brief.title else "") or next(
            (briefs[m].title for m in members if m in briefs and briefs[m].title), "") or lead
        return StoryRow(story_id(features), title, min(days) if days else None, max(days) if days else None,
                        len(members), tuple(outlets), lead)
