"""Which questions are answered in two steps, and what the steps are (the plan's part; ``rag.steps`` runs them).

- **order**: "Did A happen before B?", "Which came first, A or B?": the two events, and the relation asked;
- **compare**: "... the stronger of the two?", "Were A and B the same age?": the figure asked is compared
  (larger, smaller, equal); the model splits the question into one per thing when it is answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ORDER, COMPARE = "order", "compare"
_ORDER = [
    re.compile(r"^(?:did|was|were|had|has)\s+(?P<a>.+?)\s+(?:happen\s+|come\s+|take place\s+|occur\s+)?"
               r"(?P<rel>before|after|earlier than|later than)\s+(?P<b>.+?)\??$", re.I),
    re.compile(r"^which (?:came|happened|was) (?P<rel>first|earlier|later|last)[,:]?\s+(?P<a>.+?)\s+or\s+"
               r"(?P<b>.+?)\??$", re.I),
]
# "the stronger of the two", "the larger of the two deals", "were they the same age"
_TWO = re.compile(r"\bthe\s+(?P<adj>\w+er|more \w+|less \w+|bigger|larger|older|younger)\s+(?:\w+\s+)?of the two"
                  r"(?:\s+[a-z]+s\b)?", re.I)
# a sentence ends at ". " or ": " before a capital, not after "v." or an initial ("Roe v. Wade", "E. coli")
_SENTENCE_BREAK = re.compile(r"(?<=[.:])(?<!\bv\.)(?<!vs\.)(?<![A-Z]\.)\s+(?=[A-Z])")
_SAME = re.compile(r"^(?:were|was|are|is|did|do|does|had|have)\b.*\b(?P<same>the same) (?P<what>\w+)\b", re.I)
_SMALLER = re.compile(r"^(?:smaller|lower|younger|weaker|fewer|less|shorter|lighter|cheaper|slower|earlier)", re.I)


@dataclass
class Steps:
    kind: str  # ORDER or COMPARE
    relation: str  # before, after, first, last (order); max, min, same (compare)
    parts: list[str]  # the two events (order); the two questions (compare; empty: the model splits it)


def steps_of(question: str) -> Steps | None:
    """The steps of a question that needs two (``ORDER`` or ``COMPARE``), else None."""
    text = question.strip()
    last = _SENTENCE_BREAK.split(text)[-1]  # "Two stars died ...: X and Y. How old was the older?"
    for pattern in _ORDER:
        match = pattern.search(last)
        if match:
            relation = match.group("rel").lower()
            relation = {"earlier than": "before", "later than": "after", "earlier": "first", "later": "last"}.get(
                relation, relation)
            return Steps(ORDER, relation, [match.group("a").strip(" ,"), match.group("b").strip(" ,?")])
    match = _TWO.search(last)
    if match:
        items = _two_items(text[:len(text) - len(last)])
        questions = [last[:match.start()] + item + last[match.end():] for item in items]
        return Steps(COMPARE, "min" if _SMALLER.match(match.group("adj")) else "max", questions)
    match = _SAME.search(last)
    if match:
        items = _two_items(last[:match.start("same")])
        rest = re.sub(r"\b(?:they|both)\b", "{item}", last[match.end():].rstrip(" ?"))
        questions = [f"What was the {match.group('what')} of {item}{rest.format(item=item)}?" for item in items]
        return Steps(COMPARE, "same", questions)
    return None


# the two things a comparison names before its question: "...: the original 'Star Trek' Uhura and the Sandy of
# 'Grease'.", "..., Ian in September and Nicole in November.", "Serena Williams and Roger Federer both ..."
_PAIR = re.compile(r"(?:^(?:were|was|are|is|did|do|does|had|have)\s+|^|[:,]\s+)(?P<a>[^:,;]+?)\s+and\s+"
                   r"(?P<b>[^:,;]+?)(?=\s+(?:both|each|the same)\b|[.:;?]?\s*$)", re.I)


def _two_items(context: str) -> list[str]:
    """The two things ``context`` names as "A and B" in its last clause, or [] (the model splits it then)."""
    for sentence in reversed(_SENTENCE_BREAK.split(context.strip())):
        match = _PAIR.search(sentence.strip())
        if match:
            return [match.group("a").strip(), match.group("b").strip()]
    return []


__all__ = ["Steps", "steps_of", "ORDER", "COMPARE"]
