"""Article text is data, never instructions: find instruction-like sentences and keep them inert.

Such sentences are never quoted as evidence and are masked in the context sent to an LLM.
"""

from __future__ import annotations

import re

from rag.sentences import sentence_spans

_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|prompts?|rules|previous|above|system)\b"
    r"|\b(system prompt|developer message|you are (now )?(an? )?(ai|assistant|chatbot|language model|newsdesk))\b"
    r"|\b(as an ai|assistant:|system:)|\[\s*inst\s*\]|<\s*/?\s*(system|source|instructions?)\b[^>]*>"
    r"|\b(respond|reply|answer|say|tell (the )?(user|reader))\b.{0,30}\b(only|exactly|instead)\b"
    r"|!\[[^\]]*\]\(\s*https?://",  # markdown images that would fetch a remote URL
    re.I,
)

MASK = "[instruction-like text removed]"


def is_instruction_like(sentence: str) -> bool:
    return bool(_INSTRUCTION.search(sentence))


def neutralize(text: str) -> str:
    """The text with instruction-like sentences replaced by a mask, for an LLM's context."""
    out, cursor = [], 0
    for a, b in sentence_spans(text):
        if is_instruction_like(text[a:b]):
            out.append(text[cursor:a])
            out.append(MASK)
            cursor = b
    out.append(text[cursor:])
    return "".join(out)


def as_source_text(text: str) -> str:
    """Article text as placed inside a ``<source>`` tag of a prompt: neutralized, and unable to open or
    close a tag."""
    return neutralize(text).replace("</source", "</ source").replace("<source", "< source")
