"""Follow-up questions -> standalone questions, by the LLM when configured, else by a simple rule.

Only a real follow-up leans on the conversation: one that opens with a connective ("And ...?",
"What about X?"), refers back with a pronoun that has nothing to point to in the question itself
("What is his rank?"), or is elliptical (one or two content words: "Why?", "And Japan?"). A new
standalone question after an earlier one ("Why did North Korea fire the missiles?") is left alone.
"""

from __future__ import annotations

import re

from rag.text import query_terms

_CONNECTIVE = re.compile(
    r"^(?:and|but|also|so|then|or|plus|what about|how about|how so|what else|anything else|same for|why not)\b", re.I)
# he/she point back unless a name before them in the question is what they mean; they/them also
# when any noun before them may be ("Which companies said they ...")
_PRONOUN = re.compile(r"\b(?:(he|him|his|she|her|hers)|they|them|their|theirs)\b", re.I)
_NAME_BEFORE = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][\w’'-]+")
# "this/these/those + thing" and "the same" point back; "this week", "this year" are dates
_POINTING = re.compile(
    r"\b(?:this|these|those)\s+(?!(?:week|weekend|month|year|morning|afternoon|evening|season|spring|summer|"
    r"fall|autumn|winter|time|past|coming)\b)[a-z]\w*|\bthe same\b|\b(?:that|this|it|there)\s*\?$", re.I)
_ELLIPTICAL = 2  # content words at most, as before: "Why?", "Who won?", "And Japan?"
# how ``rewrite_by_rule`` attaches the earlier question, for the answerer to read it back
CONTEXT_NOTE = re.compile(r"\s*\(context: (.*)\)\s*$", re.S)


def needs_context(question: str) -> bool:
    """Whether ``question`` is a follow-up that cannot be understood without the conversation."""
    text = question.strip()
    if _CONNECTIVE.search(text) or _POINTING.search(text) or len(query_terms(text)) <= _ELLIPTICAL:
        return True
    pronoun = _PRONOUN.search(text)
    if not pronoun:
        return False
    before = text[:pronoun.start()]
    return not (_NAME_BEFORE.search(before) or (not pronoun.group(1) and query_terms(before)))


def rewrite_by_rule(question: str, history: list[str]) -> str:
    """Attach the previous standalone question when this one leans on it."""
    if not history or not needs_context(question):
        return question
    return f"{question.strip()} (context: {history[-1].strip()})"


# hand-set in the first version, never tuned: a follow-up leans on the last few questions, and a rewritten
# question is one line (80 tokens: the longest RealTime QA question is 43)
_HISTORY_SHOWN, _REWRITE_TOKENS = 4, 80


def rewrite_with_llm(question: str, history: list[str], llm, template: str) -> str:
    """The model's standalone form of a follow-up (``template``: prompts/rewrite.txt), else the rule's."""
    if not history or not needs_context(question):
        return question
    transcript = "\n".join(f"User: {h}" for h in history[-_HISTORY_SHOWN:])
    text = llm.complete("", template.format(history=transcript, question=question), max_tokens=_REWRITE_TOKENS)
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    # a useless rewrite (empty or a word or two, or dropping every word of the question) falls back to the rule
    if len(line) < 8 or not set(query_terms(question)) & set(query_terms(line)) and query_terms(question):
        return rewrite_by_rule(question, history)
    return line
