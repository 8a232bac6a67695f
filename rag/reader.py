"""The local model's answerer: it reads numbered sentences and replies, in JSON held to a schema, with the
number of the sentence that states the answer and the answer in that sentence's words.

A small model (the packaged 1.5B on 2 cores) writes prose whose citations need guessing and whose
sentences repeat the question; asked to point at a sentence and copy the answer, it is right far more
often, and every citation is a real sentence by construction. A refusal is a field (sentence 0), not a
phrase to detect. The answer then passes the checks ``rag.engine`` lists (``rag.checks``: grounded in a sentence of
the sheet, of the kind asked, ...) before it is shown.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Callable, Generator, Sequence

from prompts import REFUSAL, load_prompt
from rag.checks import Claim, ReaderCheck
from rag.asked import NUMBER, WHEN, asked_for, holds, mentions_key_terms
from rag.citations import cited
from rag.extractive import ExtractiveAnswerer
from llm.client import LLMClient
from rag.query import QueryPlan
from rag.retriever import NEWER
from rag.selection import Numbered, Sheet, count_tokens, select
from rag.text import DIGITS, amount, amounts, content_stems, number_value, same_measure
from rag.timeparse import day_of, spoken_day
from rag.types import Answer, Citation, Evidence, Preview
from settings import AnswerSettings

# the reply: which sentence states the answer (0: none does) and the answer in its words
SCHEMA = {"type": "object", "properties": {"sentence": {"type": "integer"}, "answer": {"type": "string"}},
          "required": ["sentence", "answer"]}
_REPLY_TOKENS = 64  # {"sentence": 12, "answer": "..."}: a short answer is a dozen tokens
_SAME_THING_STEMS = 4  # an earlier report of the same figure shares this many content words with the newest (a choice)
_NEWER_ARTICLES_READ = 2  # newer reports read again, newest first (a choice: each costs a short model call)
DECLINED_NOTE = "the model found no sentence in the articles that answers the question"
_NAMES_DATE = re.compile(r"\b(?:19|20)\d\d\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d", re.I)


@dataclass
class Read:
    """What reading gave: the checked claim (None: no answer), the sheet read, why there is no answer."""

    claim: Claim | None
    sheet: Sheet
    note: str
    raw: str = ""  # what the model wrote
    usage: dict | None = None


@dataclass
class Pick:
    sentence: int
    answer: str


def parse(raw: str) -> Pick | None:
    """The model's reply, or None when it is not the JSON asked for."""
    try:
        data = json.loads(raw)
        return Pick(int(data["sentence"]), str(data["answer"]).strip())
    except (ValueError, KeyError, TypeError):
        return None


def load_examples() -> list[tuple[str, str]]:
    data = json.loads(load_prompt("reader_examples", suffix=".json"))
    return [(load_prompt("reader_user").format(articles=e["articles"], question=e["question"], today=e["today"]),
             e["answer"]) for e in data]


class SentenceReader:
    """Numbered evidence sentences in, a short answer cited to one of them out (or a refusal)."""

    def __init__(self, extractive: ExtractiveAnswerer, settings: AnswerSettings, checks: Sequence[ReaderCheck],
                 leads: Callable[[list[Evidence], int], list[Evidence]] | None = None) -> None:
        """``checks``: what an answer passes, in the order they run; the first that withholds it ends it.
        ``leads``: the first chunks of the evidence's best articles (``HybridRetriever.leads``), read too."""
        self.extractive = extractive
        self.settings = settings
        self.checks = tuple(checks)
        self.leads = leads

    def sheet(self, plan: QueryPlan, evidence: list[Evidence]) -> Sheet:
        # the best chunks, every newer report a latest-state question added after them, and the best articles' leads
        chunks = self.settings.evidence_chunks + sum(e.query == NEWER for e in evidence)
        read = evidence[:chunks] + (self.leads(evidence, self.settings.reader_articles) if self.leads else [])
        ranked = self.extractive.candidates(plan.standalone, read, focus=plan.focus, chunks=len(read))
        s = self.settings
        return select(ranked, s.local_evidence_tokens, s.reader_articles, s.anchor_neighbours, s.reader_margin,
                      newest_first=plan.latest, newer={e.article_id for e in evidence if e.query == NEWER},
                      first=evidence[0].article_id if self._first_read(plan, evidence) else None)

    @staticmethod
    def _first_read(plan: QueryPlan, evidence: list[Evidence]) -> bool:
        """Whether the article retrieval ranked first is read whatever its sentences score: when it names what
        the question names (a hockey report does not answer a football question because it ranked first), and
        not for a latest-state question, whose evidence recency ranks."""
        return bool(evidence) and not plan.latest and mentions_key_terms(plan.standalone, evidence[0])

    def read(self, plan: QueryPlan, evidence: list[Evidence], llm: Callable[[], LLMClient],
             sheet: Sheet | None = None, checks: Sequence[ReaderCheck] | None = None) -> Read:
        """The model's checked answer to ``plan`` from ``evidence`` (``sheet``: its sentences, when the caller
        made it already), or why there is none. ``checks``: these instead of the reader's own."""
        sheet = sheet if sheet is not None else self.sheet(plan, evidence)
        if not sheet.sentences:  # nothing to read: no model call
            return Read(None, sheet, "")
        question = plan.question if plan.context else plan.standalone
        asked = question if not plan.context else f"{question}\n(Earlier in this conversation: {plan.context})"
        user = load_prompt("reader_user").format(articles=sheet.render(), question=asked,
                                                 today=plan.reference.date().isoformat())
        system, examples = load_prompt("reader_system"), load_examples()
        raw = llm().complete(system, user, max_tokens=_REPLY_TOKENS, examples=examples, schema=SCHEMA)
        usage = {"prompt_tokens": count_tokens(system) + count_tokens(user) +
                 sum(count_tokens(a + b) for a, b in examples), "completion_tokens": count_tokens(raw)}
        pick = parse(raw)
        if pick is None or not pick.answer or sheet.sentence(pick.sentence) is None:
            return Read(None, sheet, DECLINED_NOTE, raw, usage)
        claim = Claim(plan.focus or plan.standalone, pick.answer, sheet.sentence(pick.sentence))
        for check in self.checks if checks is None else checks:
            verdict = check.check(claim, sheet)
            if not verdict.kept:
                return Read(None, sheet, f"the model's answer is not shown: {verdict.reason}", raw, usage)
            claim.sentence = verdict.sentence
        read = Read(claim, sheet, "", raw, usage)
        return self._newest(plan, read, llm) if plan.latest else read

    def _newest(self, plan: QueryPlan, read: Read, llm: Callable[[], LLMClient]) -> Read:
        """For a question about the latest state: the answer read again from the sentences of the newest report on
        the sheet that hold what is asked, read together (its first figure may be another measure: "fallen for
        62 consecutive days" before "stood at $3.96"), then the next newest, when newer than the sentence the
        model chose (a small model picks the sentence that repeats the question, often an early report); the
        model's first answer then is the earlier report it replaced. The newer answer must give a figure of the
        same measure as the first ("$4.17" is not replaced by "62 consecutive days", nor by words)."""
        chosen = read.claim.sentence
        asked = asked_for(read.claim.question)
        if chosen.evidence.published_at is None:
            return read
        newer = [s for s in read.sheet.sentences if s.evidence.published_at is not None
                 and s.evidence.published_at.date() > chosen.evidence.published_at.date()
                 and holds(asked, s.text, read.claim.question)]
        by_article: dict[str, list[Numbered]] = {}
        for sentence in sorted(newer, key=lambda s: s.evidence.published_at, reverse=True):
            by_article.setdefault(sentence.evidence.article_id, []).append(sentence)
        for sentences in list(by_article.values())[:_NEWER_ARTICLES_READ]:
            sentences = sorted(sentences, key=lambda s: s.start)
            evidence = sentences[0].evidence
            alone = Sheet([(evidence, [Numbered(n, evidence, s.start, s.end, s.text)
                                       for n, s in enumerate(sentences, 1)])])
            again = self.read(replace(plan, latest=False), [], llm, alone)
            # a newer report replaces the figure only with one of the same measure ("$3.96", not "62 days" or words)
            if again.claim is not None and same_measure(read.claim.answer, again.claim.answer):
                sentence = sentences[again.claim.sentence.n - 1]
                again.claim.sentence = sentence
                again.claim.earlier = chosen
                usage = {k: (read.usage or {}).get(k, 0) + (again.usage or {}).get(k, 0) for k in
                         ("prompt_tokens", "completion_tokens")}
                return Read(again.claim, read.sheet, "", f"{read.raw}\n{again.raw}", usage)
        return read

    def stream(self, plan: QueryPlan, evidence: list[Evidence], llm: Callable[[], LLMClient],
               preview: bool = False) -> Generator[str | Preview, None, Answer]:
        """The checked answer (one piece, once the model has replied and the checks ran), after a ``Preview``
        of the evidence when ``preview``; returns the ``Answer``."""
        sheet = self.sheet(plan, evidence)
        if preview:
            yield Preview(evidence, sheet.sentences[0].citation(1) if sheet.sentences else None)
        read = self.read(plan, evidence, llm, sheet)
        if read.claim is None:
            yield REFUSAL
            return Answer(plan.question, REFUSAL, True, "llm", [], evidence, notes=[read.note] if read.note else [],
                          usage=read.usage, model_output=read.raw or None)
        text, citations = self.compose(read.claim, sheet, plan)
        yield text
        return Answer(plan.question, text, False, "llm", citations, evidence, usage=read.usage, model_output=read.raw)

    def compose(self, claim: Claim, sheet: Sheet, plan: QueryPlan) -> tuple[str, list[Citation]]:
        """The answer as shown: the model's words cited to its sentence; for a latest-value question, the date
        of that report and an earlier report of the same figure that said otherwise."""
        answer = claim.answer[0].upper() + claim.answer[1:]
        sentence = claim.sentence
        citations = [sentence.citation(1)]
        day = day_of(answer, sentence.evidence.published_at) if asked_for(claim.question).kind == WHEN else None
        if day is not None and not _NAMES_DATE.search(answer):  # "Thursday": which Thursday, from the article's date
            answer = f"{answer.rstrip('.')} ({spoken_day(day).split(', ', 1)[1]})"
        if not plan.latest or sentence.evidence.published_at is None:
            return cited(answer, [1]), citations
        newest = sentence.evidence.published_at.date().isoformat()
        text = f"{answer.rstrip('.!?')} [1], as of {newest}."
        earlier = claim.earlier or self._earlier_report(claim, sheet)
        if earlier is not None and amount(claim.answer, scaled=False) in amounts(earlier.text):
            earlier = None  # the earlier report gave the same figure: nothing was replaced
        if earlier is not None:
            citations.append(earlier.citation(2))
            text += f" An earlier report ({earlier.evidence.published_at.date().isoformat()}) gave another figure [2]."
        return text, citations

    @staticmethod
    def _earlier_report(claim: Claim, sheet: Sheet) -> Numbered | None:
        """An older article's sentence on the same figure with other numbers: what the newest report replaced."""
        asked = asked_for(claim.question)
        if asked.kind not in (NUMBER, WHEN):
            return None
        cited_at = claim.sentence.evidence.published_at
        numbers = {number_value(n) for n in DIGITS.findall(claim.sentence.text)}
        stems = content_stems(claim.sentence.text)
        for sentence in sheet.sentences:
            published = sentence.evidence.published_at
            if published is None or published.date() >= cited_at.date():
                continue
            other = {number_value(n) for n in DIGITS.findall(sentence.text)}
            if other and other != numbers and holds(asked, sentence.text, claim.question) \
                    and len(stems & content_stems(sentence.text)) >= _SAME_THING_STEMS:
                return sentence
        return None


__all__ = ["SentenceReader", "SCHEMA", "parse", "Pick"]
