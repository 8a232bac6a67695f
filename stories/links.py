"""Whether two articles tell one story, scored from their features alone (``stories.features``): how close
their vectors are, how many names they share, and how many days apart they are. Pure functions of the two
articles, so the links of an index do not depend on the order its articles came in."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from index.story_types import StoryFeatures


@dataclass(frozen=True)
class LinkRule:
    """The rule's numbers (``settings.StorySettings`` says where each value came from)."""

    max_gap_days: int
    name_weight: float
    name_cap: int
    link_score: float


def _vectors(rows: list[StoryFeatures], dim: int) -> np.ndarray:
    matrix = np.zeros((len(rows), dim), dtype=np.float32)
    for i, row in enumerate(rows):
        if row.vector is not None:
            matrix[i] = np.frombuffer(row.vector, dtype=np.float32)
    return matrix


def _names(rows: list[StoryFeatures], vocabulary: dict[str, int]) -> sparse.csr_matrix:
    cols, indptr = [], [0]
    for row in rows:
        cols.extend(vocabulary.setdefault(name, len(vocabulary)) for name in row.names)
        indptr.append(len(cols))
    data = np.ones(len(cols), dtype=np.float32)
    return sparse.csr_matrix((data, np.array(cols, dtype=np.int64), np.array(indptr)),
                             shape=(len(rows), max(len(vocabulary), 1)))


def scores(left: list[StoryFeatures], right: list[StoryFeatures], rule: LinkRule) -> np.ndarray:
    """The link score of every (left, right) pair: the vectors' cosine plus ``name_weight`` per shared name (at
    most ``name_cap`` of them); 0 for pairs more than ``max_gap_days`` apart, undated or without a vector."""
    if not left or not right:
        return np.zeros((len(left), len(right)), dtype=np.float32)
    same = left is right  # a group against itself: each side is built once
    dim = next((len(r.vector) // 4 for r in [*left, *right] if r.vector is not None), 1)
    vectors_left = _vectors(left, dim)
    cosine = vectors_left @ (vectors_left if same else _vectors(right, dim)).T
    vocabulary: dict[str, int] = {}
    a = _names(left, vocabulary)
    b = a if same else _names(right, vocabulary)
    if not same:
        b.resize((len(right), max(len(vocabulary), 1)))
        a.resize((len(left), max(len(vocabulary), 1)))
    shared = (a @ b.T).toarray().astype(np.float32)
    score = cosine + rule.name_weight * np.minimum(shared, rule.name_cap)
    if rule.max_gap_days >= 10**5:
        near = np.ones((len(left), len(right)), dtype=bool)
        has_vector = (np.array([r.vector is not None for r in left])[:, None]
                      & np.array([r.vector is not None for r in right])[None, :])
        dated = (np.array([r.day is not None for r in left])[:, None]
                 & np.array([r.day is not None for r in right])[None, :])
        return np.where(dated & has_vector, score, 0.0).astype(np.float32)
    days_l = np.array([r.day if r.day is not None else -10**9 for r in left], dtype=np.int64)
    days_r = np.array([r.day if r.day is not None else 10**9 for r in right], dtype=np.int64)
    near = np.abs(days_l[:, None] - days_r[None, :]) <= rule.max_gap_days
    has_vector = (np.array([r.vector is not None for r in left])[:, None]
                  & np.array([r.vector is not None for r in right])[None, :])
    return np.where(near & has_vector, score, 0.0).astype(np.float32)
