"""The model's own check of a claim the word checks cannot judge: one that repeats words of the question
which none of the articles read contains.

Such words are either the model's paraphrase of the question ("The launch occurred in Australia") or a
premise no article states: "North Korea cancelled flights because of the missile test [1]", for "Which
airline cancelled flights because of the missile test?", cited to "The missile launch represents North
Korea's second such test ...", shares most words with its quote, and the words it adds to the question
("North Korea") are in it. Only the meaning tells it
from a right answer, so the endpoint that wrote the answer is asked whether the quote states the claim
(one yes/no reply, about 2 s on 2 cores for the packaged 1.5B).
"""

from __future__ import annotations

import re
from typing import Callable, Iterable

from errors import LLMError
from prompts import load_prompt
from llm.client import LLMClient
from rag.safety import as_source_text
from rag.text import content_stems, text_stems

# "Yes"/"No" is one token for Qwen; 3 leaves room for a leading space or "**" without paying for prose
VERDICT_TOKENS = 3
_WORD = re.compile(r"[a-z]+")


def unsourced_question_words(claim: str, question: str, read: set[str]) -> set[str]:
    """The stems the claim shares with the question that none of the text the model read (``read``,
    its stems) contains."""
    return (content_stems(claim) & content_stems(question)) - read


def verdict(reply: str) -> bool | None:
    """The first "yes" or "no" word of a reply; None when it has neither."""
    for word in _WORD.findall(reply.lower()):
        if word in ("yes", "no"):
            return word == "yes"
    return None


class ClaimCheck:
    """Asks the answering endpoint whether a quote states a claim."""

    def __init__(self, llm: Callable[[], LLMClient], read: Iterable[str] = (),
                 prefix: tuple[str, list[tuple[str, str]]] | None = None) -> None:
        """``read``: the text of the articles retrieved for the question (all their retrieved chunks, not
        only the sentences the model was shown: a word of the question that the article uses elsewhere
        is the article's, not the model's). ``prefix``: the answer prompt's system prompt and worked
        example, sent first so that llama.cpp keeps them cached for the next question (its cache holds the
        last prompt; a check with a prompt of its own would push them out)."""
        self.llm = llm
        self.read = set().union(*(text_stems(text) for text in read))
        self.prefix = prefix

    def needed(self, claim: str, question: str) -> bool:
        """Whether the claim repeats words of the question that no article read holds, or adds nothing to the
        question (it restates it: "Warnock won the runoff" for "Who won the runoff between Warnock and
        Walker?"), so that no word check can tell it from what its quote says."""
        return bool(unsourced_question_words(claim, question, self.read)) or \
            not content_stems(claim) - content_stems(question)

    def confirms(self, claim: str, quote: str) -> bool | None:
        """True or False as the model replies; None when its reply holds neither word or the call failed
        (the word checks the claim passed then stand)."""
        quote = as_source_text(quote)
        claim = claim.replace("<", "< ")
        try:
            user = load_prompt("claim_check_user").format(quote=quote.strip(), claim=claim.strip())
            system = load_prompt("claim_check_system").strip()
            if self.prefix is not None:
                user, (system, examples) = f"{system}\n\n{user}", self.prefix
            else:
                examples = None
            reply = self.llm().complete(system, user, max_tokens=VERDICT_TOKENS, examples=examples,
                                        timed=False)  # the answer's timings stand
        except LLMError:
            return None
        return verdict(reply)

    def confirms_any(self, claim: str, quotes: list[str]) -> bool:
        """Whether the model says one of the quotes states the claim; a reply without yes or no, or a failed
        call, leaves the word checks' verdict (yes) standing."""
        return not quotes or any(self.confirms(claim, quote) is not False for quote in dict.fromkeys(quotes))
