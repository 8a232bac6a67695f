"""Linked articles -> stories: the articles joined by links form a group, and average linkage splits a group
where its articles are, on average, not close enough to tell one story. A chain of links between two events
that only touch at one pair does not make them one story; a story's id is its earliest article's, so it stays
as newer reports join it."""

from __future__ import annotations

import hashlib

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from index.story_types import StoryFeatures


def components(edges: list[tuple[str, str, float]], nodes: set[str]) -> list[list[str]]:
    """The connected groups of ``nodes`` under ``edges``, each sorted, in order of their first id."""
    parent = {node: node for node in nodes}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, _ in edges:
        if a in parent and b in parent:
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = {}
    for node in sorted(nodes):
        groups.setdefault(root(node), []).append(node)
    return sorted(groups.values(), key=lambda g: g[0])


def split(ids: list[str], score: np.ndarray, top: float, cut: float) -> list[list[str]]:
    """Average-linkage groups of ``ids`` (sorted) whose mean pair score stays at or above ``cut``; ``score`` is
    their pair score matrix and ``top`` the highest score a pair can get."""
    if len(ids) == 1:
        return [list(ids)]
    distance = np.clip(top - score, 0.0, None).astype(np.float64)
    np.fill_diagonal(distance, 0.0)
    labels = fcluster(linkage(squareform(distance, checks=False), method="average"), t=top - cut,
                      criterion="distance")
    groups: dict[int, list[str]] = {}
    for article_id, label in zip(ids, labels):
        groups.setdefault(int(label), []).append(article_id)
    return sorted(groups.values(), key=lambda g: g[0])


def story_id(members: list[StoryFeatures]) -> str:
    """A story is named after its earliest article (undated ones last, then by id)."""
    first = min(members, key=lambda f: (f.day is None, f.day or 0, f.article_id))
    return "st-" + hashlib.sha1(first.article_id.encode()).hexdigest()[:12]


def central(ids: list[str], score: np.ndarray) -> str:
    """The article closest to the rest of its story (ties by id): whose title names the story."""
    if len(ids) == 1:
        return ids[0]
    totals = score.sum(axis=1) - np.diag(score)
    best = max(range(len(ids)), key=lambda i: (round(float(totals[i]), 4), -i))
    return ids[best]
