"""An article as stories compare it: its day, its outlet, the names it prints near the top, and the mean of
its first chunks' vectors. Every feature is a function of the article alone, so whether two articles are
linked never depends on which others are indexed or in what order they came."""

from __future__ import annotations

import re

import numpy as np

from index.story_types import StoryFeatures, StoryInput

DAY_S = 86_400
# A capitalised word, or a run of them ("Jerome Powell", "New York City"): the names an article prints.
_NAME = re.compile(r"\b[A-Z][\w'’.-]*[\w](?:\s+(?:of\s+|de\s+)?[A-Z][\w'’.-]*[\w])*")
# Capitalised words that name nothing in particular: sentence openers, days, months, titles, outlets.
_NOT_NAMES = frozenset("""
a an the in on at for but and or it its he she they we i you this that these those his her their our my your
after before when while as if what who why how where there here then so not no yes all some one two new
monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
september october november december mr mrs ms dr jr sr president gov governor sen senator rep
representative secretary minister prime chief ceo officials official police state states city county
cnn usa today week news reuters associated press ap getty images photo video read more sign up related
u.s. us america american americans national federal department house white government company
""".split())


def names_in(title: str, text: str, chars: int) -> tuple[str, ...]:
    """The names an article prints in its title and first ``chars`` characters, lower-cased, each run also by
    its last word ("jerome powell" and "powell"), without the words that name nothing in particular."""
    found: set[str] = set()
    for match in _NAME.finditer(f"{title}\n{text[:chars]}"):
        words = [w for w in match.group(0).split() if w.lower().strip(".") not in _NOT_NAMES]
        if not words:
            continue
        phrase = " ".join(words).lower()
        found.add(phrase)
        found.add(words[-1].lower())
    return tuple(sorted(n for n in found if len(n) > 2 and not n.isdigit()))


def mean_vector(vectors: tuple[bytes, ...], chunks: int) -> bytes | None:
    """The unit-length mean of the first ``chunks`` chunk vectors (float32 bytes), None without any."""
    if not vectors:
        return None
    matrix = np.stack([np.frombuffer(v, dtype=np.float32) for v in vectors[:chunks]])
    mean = matrix.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm).astype(np.float32).tobytes() if norm else None


def features_of(article: StoryInput, name_chars: int, lead_chunks: int) -> StoryFeatures:
    day = article.published_ts // DAY_S if article.published_ts is not None else None
    return StoryFeatures(article.article_id, article.content_hash, day, article.source,
                         names_in(article.title, article.text, name_chars), mean_vector(article.vectors, lead_chunks))
