"""The LLM answerer, sibling of the extractive one: compressed evidence in, checked sentences out.

1. **Compress**: the evidence becomes the sentences that best match the question (scored by the
   extractive answerer) with their neighbours, grouped per article into numbered sources, within
   a token budget. A small model on 2 cores reads a prompt slowly: every token counts, and shorter
   evidence costs little accuracy (the budget tables of docs/benchmarks).
2. **Prompt**: the system prompt and a short worked example stay the same for every question, so
   llama.cpp reuses their KV cache; the sources and the question follow.
3. **Split**: the answer streams sentence by sentence (the refusal token ends it), and each sentence
   passes the checks of ``rag.checks.prose`` before it is shown.
"""

from __future__ import annotations

import json
import re
from typing import Callable, Generator, Iterator

from llm.client import LLMClient
from llm.models import get_model
from prompts import REFUSAL, REFUSAL_TOKEN, load_prompt
from rag.asked import mentions_key_terms
from rag.checks.model_confirms import ModelConfirms
from rag.checks.prose import Pieces, ProseChecks
from rag.claim_check import ClaimCheck
from rag.extractive import Candidate, ExtractiveAnswerer, article_texts
from rag.query import QueryPlan
from rag.safety import as_source_text
from rag.sentences import sentence_spans
from rag.types import Answer, Evidence, Preview, Source
from settings import AnswerSettings, LLMSettings

# the token as the prompts spell it, and as small models misspell it ("NOT IN ARTICLES", "NOT_IN_ARTICLE")
_REFUSAL_TOKEN = re.compile(REFUSAL_TOKEN.rstrip("S").replace("_", "[_ ]?") + "S?", re.I)
_ONLY_MARKERS = re.compile(r"[\[\]\d\s,]*")
_MARKER_AFTER_STOP = re.compile(r"([.!?])((?:\s*\[\d{1,2}\])+)")
NOT_MENTIONED_NOTE = "no article found names everything the question names"
FALLBACK_NOTE = "the articles do not say what the model wrote; shown instead: the sentence that answers best"


def count_tokens(text: str) -> int:
    import tiktoken

    return len(tiktoken.get_encoding("cl100k_base").encode(text, disallowed_special=()))


_SEPARATOR_TOKENS = 2  # what joining a sentence to its source costs (" ... " or a space, and the line)
_NEIGHBOUR_CHARS = 600  # a neighbour further from its anchor than this is another paragraph: not context


def compress(ranked: list[Candidate], budget: int, neighbours: int, anchors: int) -> list[Source]:
    """The best sentences within ``budget`` tokens as numbered sources (numbered by the rank of each
    article's best sentence), each of the ``anchors`` best with up to ``neighbours`` sentences on
    each side while the budget lasts."""
    picked: list[Candidate] = []
    spent = 0
    for candidate in ranked:
        cost = count_tokens(candidate.text) + _SEPARATOR_TOKENS
        if spent + cost > budget:
            if not picked:
                continue  # a first sentence longer than the budget: try the next one
            break
        picked.append(candidate)
        spent += cost
    taken = {(c.evidence.article_id, c.start) for c in picked}
    by_article: dict[str, list[Candidate]] = {}
    for candidate in ranked:
        by_article.setdefault(candidate.evidence.article_id, []).append(candidate)
    groups: list[list[Candidate]] = []
    for rank, best in enumerate(picked):
        group = [best]
        if rank < anchors:
            same = sorted(by_article[best.evidence.article_id], key=lambda c: c.start)
            index = next(i for i, c in enumerate(same) if c.start == best.start)
            for other in same[max(0, index - neighbours):index + neighbours + 1]:
                key = (other.evidence.article_id, other.start)
                cost = count_tokens(other.text) + _SEPARATOR_TOKENS
                if key not in taken and spent + cost <= budget and abs(other.start - best.start) < _NEIGHBOUR_CHARS:
                    taken.add(key)
                    group.append(other)
                    spent += cost
        groups.append(sorted(group, key=lambda c: c.start))
    sources: dict[str, Source] = {}
    for group in groups:
        article = group[0].evidence.article_id
        if article not in sources:
            sources[article] = Source(len(sources) + 1, group[0].evidence)
        sources[article].spans.extend((c.start, c.end, c.text) for c in group)
    return list(sources.values())


def format_source(source: Source) -> str:
    e = source.evidence
    date = e.published_at.date().isoformat() if e.published_at else "unknown date"
    text = as_source_text(source.text())
    title = e.title.replace('"', "'")
    return (f'<source id="{source.number}" title="{title}" outlet="{e.source or "unknown"}" date="{date}">\n'
            f"{text}\n</source>")


def load_examples() -> list[tuple[str, str]]:
    """The worked example(s) shown before each question: (user, assistant) turns from prompts/."""
    data = json.loads(load_prompt("answer_examples", suffix=".json"))
    return [(load_prompt("answer_user").format(sources=e["sources"].strip(), question=e["question"], today=e["today"]),
             e["answer"]) for e in data]


def _split(deltas: Iterator[str]) -> Pieces:
    """The sentences of a streamed answer (markers after the stop moved before it) as each completes;
    returns (everything written, whether it stopped at the refusal token). The stream is closed before
    the last sentence is given, so the endpoint is free for another request by then."""
    raw, buffer = "", ""
    for delta in deltas:
        raw += delta
        buffer += delta
        if _REFUSAL_TOKEN.search(raw):
            break
        text = _MARKER_AFTER_STOP.sub(lambda m: m.group(2) + m.group(1), buffer)
        spans = sentence_spans(text)
        # a sentence is complete once the next one has begun with words (not just its markers)
        while len(spans) > 1 and _ONLY_MARKERS.fullmatch(text[spans[-1][0]:]):
            spans.pop()
        if len(spans) > 1:
            for a, b in spans[:-1]:
                yield text[a:b]
            buffer = text[spans[-1][0]:]
    close = getattr(deltas, "close", None)
    if close:
        close()  # stopped at the refusal token: the endpoint stops writing too
    if _REFUSAL_TOKEN.search(raw):
        return raw, True
    text = _MARKER_AFTER_STOP.sub(lambda m: m.group(2) + m.group(1), buffer)
    for a, b in sentence_spans(text):
        yield text[a:b]
    return raw, False


class GenerativeAnswerer:
    """Writes the answer with an LLM from compressed evidence and keeps only what the sources support."""

    def __init__(self, extractive: ExtractiveAnswerer, checks: ProseChecks, answer: AnswerSettings,
                 llm: LLMSettings) -> None:
        """``checks``: what each written sentence passes before it is shown (``rag.engine`` lists them)."""
        self.extractive = extractive
        self.checks = checks
        self.settings = answer
        self.api = "chat" if llm.kind == "local" else llm.llm_api  # the local server speaks chat
        self.budget_tokens = answer.local_evidence_tokens if llm.kind == "local" else answer.context_tokens
        self.check_claims = answer.model_check if answer.model_check is not None else (
            llm.kind != "local" or get_model(llm.local_model).checks_claims)

    def stream(self, plan: QueryPlan, evidence: list[Evidence], llm: Callable[[], LLMClient],
               preview: bool = False) -> Generator[str | Preview, None, Answer]:
        """The answer's checked sentences as the model writes them (first a ``Preview`` of the evidence
        and its best quote when ``preview``); returns the ``Answer`` (its citations not yet checked
        against the articles). ``llm`` gives the client when the model is called (never without evidence)."""
        ranked = self.extractive.candidates(plan.standalone, evidence, focus=plan.focus)
        if preview:
            yield Preview(evidence, ranked[0].citation(1) if ranked else None)
        if not ranked:  # nothing to read: no model call
            yield REFUSAL
            return Answer(plan.question, REFUSAL, True, "llm", [], evidence)
        read = article_texts(ranked)  # each article's title and retrieved chunks
        if not plan.parts and not any(mentions_key_terms(plan.focus or plan.standalone, text)
                                      for text in read.values()):
            # no article read names what the question names ("the 2029 festival", "Liechtenstein"): a model
            # would answer from the nearest story (the 2022 festival, another prime minister); the
            # extractive answerer refuses on the same rule. No model call.
            yield REFUSAL
            return Answer(plan.question, REFUSAL, True, "llm", [], evidence, notes=[NOT_MENTIONED_NOTE])
        sources = compress(ranked, self.budget_tokens, self.settings.anchor_neighbours, self.settings.evidence_anchors)
        system, user, examples = self.prompt(plan.question if plan.context else plan.standalone, sources,
                                             plan.reference.date().isoformat(), plan.context)
        prompt_tokens = count_tokens(system) + count_tokens(user) + sum(count_tokens(a + b) for a, b in examples)
        confirms = ModelConfirms(ClaimCheck(llm, read.values(), (system, examples) if self.api == "chat" else None)) \
            if self.check_claims else None
        generated = yield from self.checks.run(_split(llm().stream(system, user, examples=examples)), sources,
                                               plan.focus or plan.standalone, plan.standalone, confirms)
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": count_tokens(generated.raw)}
        if generated.refused and not generated.declined and self.settings.model_fallback:
            # the model answered, but nothing it wrote could be verified: the extractive answer, when its
            # sentence holds an answer of the kind asked (a count, a name, a date), is a checked quote rather
            # than a refusal ("The 57th Super Bowl will take place ..." does not say who won).
            # Not after the model declined: a quote shown after a decline was wrong or a near miss
            # (docs/decisions/prose-fallback.md)
            draft = self.extractive.answer(plan.standalone, evidence, plan.parts, focus=plan.focus, ranked=ranked)
            if not draft.refused and draft.holds:  # a quote that only shares the question's words is no answer
                yield draft.text
                notes = generated.notes + draft.notes + [FALLBACK_NOTE]
                return Answer(plan.question, draft.text, False, "llm", draft.citations, evidence, notes=notes,
                              usage=usage, model_output=generated.raw)
        if generated.refused:
            yield REFUSAL
        return Answer(plan.question, REFUSAL if generated.refused else generated.text, generated.refused, "llm",
                      generated.citations, evidence, notes=generated.notes, usage=usage, model_output=generated.raw)

    def prompt(self, question: str, sources: list[Source], today: str,
               context: str | None = None) -> tuple[str, str, list[tuple[str, str]]]:
        """(system, user, examples). ``context``: the earlier question a follow-up leans on."""
        body = "\n\n".join(format_source(s) for s in sources) or "(no sources)"
        asked = question if not context else f"{question}\n(Earlier in this conversation: {context})"
        if self.api == "completions":
            return "", load_prompt("answer_completion").format(sources=body, question=asked), []
        user = load_prompt("answer_user").format(sources=body, question=asked, today=today)
        return load_prompt("answer_system"), user, load_examples()
