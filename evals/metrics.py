"""Retrieval and answer metrics (plain functions; per-question values, averaged by the caller)."""

from __future__ import annotations

import math
import re
import unicodedata


def ranked_articles(article_ids: list[str]) -> list[str]:
    """Distinct articles in the order their first chunk was retrieved."""
    return list(dict.fromkeys(article_ids))


def hit_at(ranked: list[str], gold: set[str], k: int) -> float:
    return 1.0 if any(a in gold for a in ranked[:k]) else 0.0


def mrr_at(ranked: list[str], gold: set[str], k: int = 10) -> float:
    for i, article in enumerate(ranked[:k], start=1):
        if article in gold:
            return 1.0 / i
    return 0.0


def ndcg_at(ranked: list[str], gold: set[str], k: int = 10) -> float:
    dcg = sum(1.0 / math.log2(i + 1) for i, a in enumerate(ranked[:k], start=1) if a in gold)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(gold), k) + 1))
    return dcg / ideal if ideal else 0.0


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("’", "'").replace("“", '"').replace("”", '"')
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    text = re.sub(r"[^\w\s%$.]", " ", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)
    return " ".join(text.split())


def contains_answer(answer: str, golds: list[str]) -> float:
    """Normalized containment of any gold answer in the answer text."""
    text = f" {normalize(answer)} "
    return 1.0 if any(f" {normalize(g)} " in text for g in golds if normalize(g)) else 0.0


def exact_match(answer: str, golds: list[str]) -> float:
    return 1.0 if any(normalize(answer) == normalize(g) for g in golds) else 0.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
