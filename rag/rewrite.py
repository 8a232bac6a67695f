"""Follow-up questions -> standalone questions, by the LLM when configured, else by a simple rule."""

from __future__ import annotations

import re

from rag.retriever import query_terms

_FOLLOW_UP = re.compile(
    r"^(and|but|also|so|then|what about|how about|and what|why|how so|what else|anything else)\b"
    r"|\b(it|its|they|them|their|theirs|he|him|his|she|her|this|that|these|those|there|the same)\b",
    re.I,
)


def needs_context(question: str) -> bool:
    return bool(_FOLLOW_UP.search(question.strip())) or len(query_terms(question)) <= 2


def rewrite_by_rule(question: str, history: list[str]) -> str:
    """Attach the previous standalone question when this one leans on it."""
    if not history or not needs_context(question):
        return question
    return f"{question.strip()} (context: {history[-1].strip()})"


def rewrite_with_llm(question: str, history: list[str], llm, template: str) -> str:
    if not history or not needs_context(question):
        return question
    transcript = "\n".join(f"User: {h}" for h in history[-4:])
    text = llm.complete("", template.format(history=transcript, question=question), max_tokens=80)
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    # a useless rewrite (empty, or dropping every word of the question) falls back to the rule
    if len(line) < 8 or not set(query_terms(question)) & set(query_terms(line)) and query_terms(question):
        return rewrite_by_rule(question, history)
    return line
