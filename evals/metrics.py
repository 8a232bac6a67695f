"""Retrieval and answer metrics (plain functions; per-question values, averaged by the caller)."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter

_MARKER = re.compile(r"\s?\[\d{1,3}\]")  # a citation marker "[1]" (same shape as rag.citations.MARKER)
_LEAD_YES_NO = re.compile(r"^\s*(yes|no)\b[.,!;:]?\s*", re.I)


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


def answer_text(answer: str, golds: list[str]) -> str:
    """The answer as it is scored: citation markers removed, and a leading "Yes."/"No." too unless a
    gold answer is itself yes or no (then it is the answer, not padding)."""
    text = _MARKER.sub("", answer)
    if not any(normalize(g) in ("yes", "no") for g in golds):
        text = _LEAD_YES_NO.sub("", text, count=1)
    return text


def contains_answer(answer: str, golds: list[str]) -> float:
    """Normalized containment of any gold answer in the answer text: the strict floor of correctness
    (a paraphrase fails it, padding passes it)."""
    text = f" {normalize(answer_text(answer, golds))} "
    return 1.0 if any(f" {normalize(g)} " in text for g in golds if normalize(g)) else 0.0


def exact_match(answer: str, golds: list[str]) -> float:
    text = normalize(answer_text(answer, golds))
    return 1.0 if any(text == normalize(g) for g in golds) else 0.0


def token_f1(answer: str, golds: list[str]) -> float:
    """SQuAD-style token F1 between the answer and its best gold answer: word order does not matter
    (a paraphrase that reorders scores high) and every extra word costs precision (padding scores
    lower than the gold alone). Tokens are those of ``normalize``; markers are stripped first."""
    tokens = normalize(answer_text(answer, golds)).split()
    best = 0.0
    for gold in golds:
        gold_tokens = normalize(gold).split()
        common = sum((Counter(tokens) & Counter(gold_tokens)).values())
        if not common:
            continue
        precision, recall = common / len(tokens), common / len(gold_tokens)
        best = max(best, 2 * precision * recall / (precision + recall))
    return best


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
