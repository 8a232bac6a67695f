"""An LLM judge, independent of the answerer: is an answer correct, does a quote support a claim?

The answerer filters its own sentences with ``rag.citations.CitationVerifier`` (shared words and
embedding similarity), so scoring citations with that same verifier can hardly fall below 1.0. The
judge is a second opinion from a different mechanism: an LLM asked one yes/no question at a time
(by default the local Qwen2.5-Coder-1.5B-Instruct). How far to trust it is measured, not assumed:
``evals/judge_agreement.py`` compares its verdicts with hand labels in ``evals/data/judge-*.jsonl``.

Verdicts are ``True``/``False``, or ``None`` when the reply holds no yes/no word or the endpoint
failed: ``None`` is counted as "not judged", never as either answer.
"""

from __future__ import annotations

import re
from collections import Counter

from errors import LLMError
from rag.claim_check import VERDICT_TOKENS
from rag.claim_check import verdict as parse_verdict  # the first "yes" or "no" word; None without one
from llm.client import LLMClient
from settings import Settings

# The prompts are kept short on purpose: on 2 CPU cores the 1.5B reads 20-50 prompt tokens/s, so
# every word here costs time on every call. The reply needs one word. Two wordings of each were
# measured against the hand labels (evals/data/JUDGE-LABELS.md); these are the better of each pair.
ANSWER_SYSTEM = "You grade answers to news quiz questions. Reply with one word: yes or no."
ANSWER_USER = """Question: {question}
Correct answer: {gold}
Answer to grade:
<answer>
{answer}
</answer>
Does the answer to grade give the correct answer (any wording is fine)? It is wrong if it gives a different answer, several candidate answers, or no answer. Reply yes or no."""

SUPPORT_SYSTEM = "You check citations in news answers. Reply with one word: yes or no."
# the quote is article text, i.e. data: it goes inside <source> tags like in the answerer's prompt
SUPPORT_USER = """<source id="1">
{quote}
</source>
Claim: {claim}
Is every fact of the claim written in the source, names and numbers included? If the source says something different, or does not say it, reply no. Reply yes or no."""
# a short claim ("Saudi Arabia [1].") says something only together with its question: up to this many
# words the question is put in front of it. The answerer keeps uncited claims of up to 4 words
# (rag/engine.py); 6 also covers bare names and figures such as "Rep. Liz Cheney of Wyoming."
SHORT_CLAIM_WORDS = 6
SHORT_CLAIM = "{claim} (the answer to: {question})"

# a judge that fails this many calls in a row is down, not flaky (the client already retries each
# call llm_max_retries times): the run stops with its error instead of filling up with "not judged".
MAX_CONSECUTIVE_ERRORS = 5

_MARKER = re.compile(r"\s?\[\d{1,3}\]")


def _as_data(text: str) -> str:
    """Text placed between tags cannot close or open them."""
    return text.replace("</", "< /").replace("<source", "< source").replace("<answer", "< answer").strip()


class Judge:
    """Asks the LLM of ``settings`` yes/no questions about answers and citations.

    ``stats`` counts calls and outcomes: ``yes``, ``no``, ``unparsed`` (a reply without yes/no) and
    ``errors`` (an ``LLMError``); ``last_error`` is the message of the latest error.
    """

    def __init__(self, settings: Settings, client: LLMClient | None = None, max_tokens: int = VERDICT_TOKENS) -> None:
        self.settings = settings
        self.client = client or LLMClient(settings)
        self.max_tokens = max_tokens
        self.name = settings.llm.name or settings.llm.llm_model or "judge"
        self.stats: Counter = Counter()
        self.last_error: str | None = None
        self._failures_in_a_row = 0

    def judge_answer(self, question: str, golds: list[str], answer: str) -> bool | None:
        """Does ``answer`` give one of the gold answers (any wording)?"""
        gold = " / ".join(g.strip() for g in golds if g.strip())
        user = ANSWER_USER.format(question=question.strip(), gold=gold, answer=_as_data(_MARKER.sub("", answer)))
        return self._verdict(ANSWER_SYSTEM, user)

    def judge_support(self, sentence: str, quote: str, question: str | None = None) -> bool | None:
        """Does ``quote`` state what the answer ``sentence`` claims? A short sentence is read as the answer
        to ``question`` (when given)."""
        claim = _MARKER.sub("", sentence).strip()
        if not claim or not quote.strip():
            return None
        if question and len(claim.split()) <= SHORT_CLAIM_WORDS:
            claim = SHORT_CLAIM.format(claim=claim, question=question.strip())
        return self._verdict(SUPPORT_SYSTEM, SUPPORT_USER.format(quote=_as_data(quote), claim=_as_data(claim)))

    def _verdict(self, system: str, user: str) -> bool | None:
        self.stats["calls"] += 1
        try:
            reply = self.client.complete(system, user, max_tokens=self.max_tokens)
        except LLMError as error:
            self.stats["errors"] += 1
            self.last_error = str(error)
            self._failures_in_a_row += 1
            if self._failures_in_a_row >= MAX_CONSECUTIVE_ERRORS:
                raise LLMError(f"The judge ({self.name}) failed {self._failures_in_a_row} calls in a row: "
                               f"{error}") from None
            return None
        self._failures_in_a_row = 0
        verdict = parse_verdict(reply)
        self.stats["unparsed" if verdict is None else "yes" if verdict else "no"] += 1
        return verdict
