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


def _archive_normal(text: str) -> str:
    """archive-qa's normalization (its README): lower case, no commas, one kind of minus and quote."""
    text = unicodedata.normalize("NFKC", text).lower().replace(",", "")
    return text.replace("\u2212", "-").replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')


def contains_whole_words(answer: str, golds: list[str]) -> float:
    """archive-qa's grading: a gold string occurs in the answer (markers removed) as whole words, after
    ``_archive_normal``. A number must not be glued to other digits ("2560" is not in "25600", "7.0" not in
    "7.04"); any other gold must not be glued to letters or digits (a gold "no" is not in "not" or "November")."""
    text = _archive_normal(answer_text(answer, golds))
    for gold in golds:
        g = _archive_normal(gold).strip()
        if not g:
            continue
        if re.fullmatch(r"[\d.]+", g):
            pattern = rf"(?<![\d.]){re.escape(g)}(?!\d)"
        else:
            pattern = rf"(?<![\w]){re.escape(g)}(?![\w])"
        if re.search(pattern, text):
            return 1.0
    return 0.0


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


# --- which choice a free text states (multiple choice read off an open answer) ----------------------------
_AMOUNT = re.compile(r"(?<![\w.])\$?(\d[\d,]*(?:\.\d+)?)\s*(trillion|billion|million|thousand)?\b", re.I)
_SCALE = {"trillion": 1e12, "billion": 1e9, "million": 1e6, "thousand": 1e3}
# two amounts are one when they differ by at most 5%: "$405 million" states "$400 million", "$12,600,000"
# states "$12.6 million"; the closest wrong choices of the realtimeqa slice differ by 3x or more (a choice)
AMOUNT_TOLERANCE = 0.05
_FILLER = frozenset("and or of in on at for to by with they their them it its he she his her we our &".split())


def amounts(text: str) -> list[float]:
    """The numbers a text states, scaled: "$12.6 million" is 12600000.0, "1,600" is 1600.0."""
    out = []
    for match in _AMOUNT.finditer(text):
        try:
            value = float(match.group(1).replace(",", ""))
        except ValueError:
            continue
        out.append(value * _SCALE.get((match.group(2) or "").lower(), 1.0))
    return out


def choice_match(text: str, choice: str, choices: list[str]) -> float:
    """How fully ``text`` states ``choice`` among ``choices``, from 0 to 1: 1 when it contains the choice
    (normalized); for an amount, 1 when it states the same amount within ``AMOUNT_TOLERANCE``; otherwise
    the share of the choice's own words (those no other choice has) that the text uses ("Boris Johnson"
    states 2 of the 5 of "UK Prime Minister Boris Johnson")."""
    if contains_answer(text, [choice]):
        return 1.0
    wanted = amounts(choice) if len(normalize(_AMOUNT.sub(" ", choice)).split()) <= 1 else []
    if wanted:  # an amount ("$12.6 million", "1,600 titles") is matched by value only: "million" states none
        return 1.0 if any(abs(v - w) <= AMOUNT_TOLERANCE * w for v in amounts(text) for w in wanted if w) else 0.0
    others = {t for c in choices if c != choice for t in normalize(c).split()}
    own = [t for t in dict.fromkeys(normalize(choice).split()) if t not in others and t not in _FILLER]
    if not own:
        return 0.0
    words = set(normalize(answer_text(text, [])).split())
    return sum(t in words for t in own) / len(own)
