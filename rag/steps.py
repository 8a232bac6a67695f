"""Questions answered in two steps: each step is read and cited on its own, and code combines them.

- **order**: "Did A happen before B?", "Which came first, A or B?": when each event happened (the day its
  answer names, read from its article's date, else the article's date), then which is earlier;
- **compare**: "... the stronger of the two?", "Were A and B the same age?": the model splits the question
  into one question per thing, each is answered with a figure, and code picks the larger, the smaller, or
  says whether they are equal.

A step that cannot be answered leaves the whole question unanswered: no half-answer is combined.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Callable, Generator, Sequence

from errors import LLMError
from prompts import REFUSAL, load_prompt
from rag.checks import ReaderCheck
from rag.citations import cited
from rag.decompose import ORDER, Steps
from llm.client import LLMClient
from rag.query import QueryPlan
from rag.reader import Read, SentenceReader
from rag.text import amount
from rag.timeparse import day_of, spoken_day
from rag.types import Answer, Evidence, Preview

_SPLIT_SCHEMA = {"type": "object", "properties": {"first": {"type": "string"}, "second": {"type": "string"}},
                 "required": ["first", "second"]}
UNANSWERED_STEP = "one step of the question has no answer in the articles: {step}"


@dataclass
class _Step:
    question: str
    read: Read


class StepwiseReader:
    """Answers a two-step question with ``reader`` once per step; ``search`` gives a step's evidence."""

    def __init__(self, reader: SentenceReader, search: Callable[[QueryPlan], list[Evidence]],
                 order_checks: Sequence[ReaderCheck] | None = None) -> None:
        """``order_checks``: what the answer of an order step passes (None: the reader's checks). Its day is
        the one the answer names, else its sentence's, else its article's date, so it need not be a date."""
        self.reader = reader
        self.search = search
        self.order_checks = order_checks

    def stream(self, plan: QueryPlan, steps: Steps, evidence: list[Evidence], llm: Callable[[], LLMClient],
               preview: bool = False) -> Generator[str | Preview, None, Answer]:
        if preview:
            yield Preview(evidence, None)
        questions = self._questions(plan, steps, llm)
        done: list[_Step] = []
        for question in questions:
            sub = replace(plan, question=question, standalone=question, parts=[], context=None, latest=False)
            checks = self.order_checks if steps.kind == ORDER else None
            read = self.reader.read(sub, self.search(sub), llm, checks=checks)
            if read.claim is None:
                yield REFUSAL
                return Answer(plan.question, REFUSAL, True, "llm", [], evidence,
                              notes=[UNANSWERED_STEP.format(step=question)] + ([read.note] if read.note else []))
            done.append(_Step(question, read))
        if not done:
            yield REFUSAL
            return Answer(plan.question, REFUSAL, True, "llm", [], evidence,
                          notes=["the question could not be split into its two steps"])
        text = self._order(steps, done) if steps.kind == ORDER else self._compare(steps, done)
        if text is None:
            yield REFUSAL
            return Answer(plan.question, REFUSAL, True, "llm", [], evidence,
                          notes=["the answers of the two steps cannot be compared"])
        citations = [s.read.claim.sentence.citation(n) for n, s in enumerate(done, start=1)]
        usage = {k: sum((s.read.usage or {}).get(k, 0) for s in done) for k in ("prompt_tokens", "completion_tokens")}
        yield text
        return Answer(plan.question, text, False, "llm", citations, evidence, usage=usage,
                      model_output="\n".join(s.read.raw for s in done))

    def _questions(self, plan: QueryPlan, steps: Steps, llm: Callable[[], LLMClient]) -> list[str]:
        if steps.kind == ORDER:  # "Did A (verb) before B?": A reads after "When did"; B may be any phrase
            first, second = steps.parts
            return [f"When did {first}?" if steps.relation in ("before", "after") else
                    f"When did this happen: {first}?", f"When did this happen: {second}?"]
        if steps.parts:
            return steps.parts
        examples = [(e["question"], e["answer"]) for e in json.loads(load_prompt("steps_examples", suffix=".json"))]
        try:
            raw = llm().complete(load_prompt("steps_system"), plan.standalone, max_tokens=120, examples=examples,
                                 schema=_SPLIT_SCHEMA, timed=False)
            data = json.loads(raw)
            return [q.strip() for q in (data["first"], data["second"]) if q.strip()][:2]
        except (LLMError, ValueError, KeyError, TypeError):
            return []

    @staticmethod
    def _order(steps: Steps, done: list[_Step]) -> str | None:
        days: list[datetime] = []
        for step in done:
            sentence = step.read.claim.sentence
            published = sentence.evidence.published_at
            day = day_of(step.read.claim.answer, published) or day_of(sentence.text, published) or published
            if day is None:
                return None
            days.append(day)
        (a, b), (day_a, day_b) = steps.parts, days
        if day_a.date() == day_b.date():
            return f"Both happened on {spoken_day(day_a)}: {a} [1]; {b} [2]."
        a_first = day_a < day_b
        events = f"{a}: {spoken_day(day_a)} [1]; {b}: {spoken_day(day_b)} [2]."
        if steps.relation in ("before", "after"):
            yes = a_first if steps.relation == "before" else not a_first
            return f"{'Yes' if yes else 'No'}. {events[0].upper()}{events[1:]}"
        first = a if a_first == (steps.relation == "first") else b
        return f"{first[0].upper()}{first[1:]}. {events[0].upper()}{events[1:]}"

    @staticmethod
    def _compare(steps: Steps, done: list[_Step]) -> str | None:
        if len(done) != 2:
            return None
        values = [amount(s.read.claim.answer) for s in done]
        if None in values:
            return None
        first, second = (s.read.claim.answer for s in done)
        if steps.relation == "same":
            same = values[0] == values[1]
            return f"{'Yes' if same else 'No'}: {first} [1] and {second} [2]."
        pick = max if steps.relation == "max" else min
        winner = pick(range(2), key=lambda i: values[i])
        other = 1 - winner
        answers = [first, second]
        return cited(f"{answers[winner][0].upper()}{answers[winner][1:]} [{winner + 1}] (the other: "
                     f"{answers[other]} [{other + 1}])", [])


__all__ = ["StepwiseReader"]
