"""The LLM answerer, sibling of the extractive one: compressed evidence in, checked sentences out.

1. **Compress**: the evidence becomes the sentences that best match the question (scored by the
   extractive answerer) with their neighbours, grouped per article into numbered sources, within
   a token budget. Small local models read 20-50 prompt tokens/s on 2 cores: every token counts,
   and on RealTime QA shorter evidence lost no accuracy (issue 10: 537 vs 1,133 prompt tokens).
2. **Prompt**: the system prompt and a short worked example stay the same for every question, so
   llama.cpp reuses their KV cache; the sources and the question follow.
3. **Check**: the answer streams sentence by sentence. A sentence with markers keeps the markers
   whose source has a sentence that supports it; a sentence without markers is attributed to the
   source sentence that supports it best; a sentence nothing supports is dropped. The refusal token
   ends the answer. A sentence that repeats question words no source holds is also put to the model
   (``rag/claim_check.py``) once it has finished writing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Callable, Generator, Iterator

from prompts import REFUSAL, REFUSAL_TOKEN, load_prompt
from rag.citations import MARKER, CitationVerifier, cited, lexical_support
from rag.claim_check import ClaimCheck
from rag.asked import (DISTANCE, DURATION, NUMBER, WHEN, Asked, asked_for, holds, mentions_key_terms,
                              speaker_named, speaker_of)
from rag.extractive import Candidate, ExtractiveAnswerer, article_texts
from llm.client import LLMClient
from llm.models import get_model
from rag.query import QueryPlan
from rag.safety import as_source_text
from rag.sentences import sentence_spans
from rag.text import content_stems
from rag.types import Answer, Citation, Evidence, Preview
from settings import AnswerSettings, LLMSettings

# the token as the prompts spell it, and as small models misspell it ("NOT IN ARTICLES", "NOT_IN_ARTICLE")
_REFUSAL_TOKEN = re.compile(REFUSAL_TOKEN.rstrip("S").replace("_", "[_ ]?") + "S?", re.I)
# the model telling that the sources are silent, in words instead of the token
_SAYS_SILENT = re.compile(r"\b(sources?|articles?|texts?|information)\b.{0,40}\b(do(es)? not|don'?t|doesn'?t|no|not)\b"
                          r".{0,30}\b(mention|say|state|contain|provide|include|answer|specify|give)", re.I)
_YES_NO = re.compile(r"^(yes|no)\b", re.I)
_ONLY_MARKERS = re.compile(r"[\[\]\d\s,]*")
_MARKER_AFTER_STOP = re.compile(r"([.!?])((?:\s*\[\d{1,2}\])+)")
# answer types a model's answer must hold to be shown: the quantities, which a supported sentence about
# the same event can lack ("How far did the missiles fly?" -> "The missiles flew toward the Sea of Japan
# [1]."; seed suite). Names and causes are left to the support check: models paraphrase them.
_MUST_HOLD = {DISTANCE, DURATION, NUMBER, WHEN}
NOT_MENTIONED_NOTE = "no article found names everything the question names"
FALLBACK_NOTE = "the articles do not say what the model wrote; shown instead: the sentence that answers best"


@dataclass
class Source:
    """One numbered source sent to the model: an article and the sentences of it that were kept."""

    number: int
    evidence: Evidence
    spans: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end) in the article, text

    def text(self) -> str:
        """The kept sentences, best first (small models read the start of a source most closely);
        a sentence's neighbours stay beside it in document order."""
        out, last_end = [], None
        for start, end, text in self.spans:
            if last_end is not None:
                out.append(" " if 0 <= start - last_end <= 2 else " ... ")
            out.append(text)
            last_end = end
        return "".join(out)

    def citation(self, n: int, span: tuple[int, int, str]) -> Citation:
        return Citation.from_evidence(n, self.evidence, span[2], span[0], span[1])


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


@dataclass
class Generated:
    """What was kept of a model's answer."""

    text: str  # the checked sentences
    citations: list[Citation]
    refused: bool
    notes: list[str]
    raw: str  # everything the model wrote
    declined: bool = False  # the model said the sources do not answer (the refusal token, or a "silent" sentence)


def _held_until_it_holds(sentences: Generator[str, None, Generated], asked: Asked,
                         question: str) -> Generator[str, None, Generated]:
    """The checked sentences, held back until one holds the asked quantity (then streamed on). If
    none does, nothing was shown and the answer is withheld, as one nothing supports."""
    held: list[str] = []
    holding = True
    while True:
        try:
            piece = next(sentences)
        except StopIteration as stop:
            generated: Generated = stop.value
            break
        if not holding:
            yield piece
            continue
        held.append(piece)
        if holds(asked, MARKER.sub("", piece), question):
            yield from held
            holding = False
    if holding and not generated.refused:
        note = f"the model's answer is not shown: it does not give the {asked.kind} asked for"
        return Generated("", [], True, generated.notes + [note], generated.raw)
    return generated


def _split(deltas: Iterator[str]) -> Generator[str, None, tuple[str, bool]]:
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

    def __init__(self, extractive: ExtractiveAnswerer, verifier: CitationVerifier, answer: AnswerSettings,
                 llm: LLMSettings) -> None:
        self.extractive = extractive
        self.verifier = verifier
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
        check = ClaimCheck(llm, read.values(), (system, examples) if self.api == "chat" else None) \
            if self.check_claims else None
        sentences = self._sentences(llm().stream(system, user, examples=examples), sources,
                                    plan.focus or plan.standalone, check)
        asked = asked_for(plan.standalone)
        if asked.kind in _MUST_HOLD:
            sentences = _held_until_it_holds(sentences, asked, plan.standalone)
        generated = yield from sentences
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": count_tokens(generated.raw)}
        if generated.refused and not generated.declined and self.settings.model_fallback:
            # the model answered, but nothing it wrote could be verified: the extractive answer, when its
            # sentence holds an answer of the kind asked (a count, a name, a date), is a checked quote rather
            # than a refusal ("The 57th Super Bowl will take place ..." does not say who won).
            # Not after the model declined: on the bench slice and the seed suite every quote shown
            # after a decline was wrong or a near miss (README, "Answers from a local model")
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

    def _sentences(self, deltas: Iterator[str], sources: list[Source], question: str = "",
                   check: ClaimCheck | None = None) -> Generator[str, None, Generated]:
        """Checked sentences of the model's answer as they complete; returns what was kept. ``question``: the
        one asked, whose speaker ("what did X say?") a supporting quote must name (``speaker_named``) and
        beside which a quote must hold what a claim adds (``_best_quote``). ``check``: the model's own check
        of a sentence that repeats question words no article read holds; it, and every sentence after it,
        is held until the model has finished writing (the endpoint serves one request at a time). When the
        model does not confirm the answer's first sentence, the whole answer is withheld."""
        speaker = speaker_of(question) if question else None
        citations: list[Citation] = []
        by_quote: dict[tuple[str, int], int] = {}
        kept: list[str] = []
        held: list[tuple[str, bool]] = []  # (sentence, whether it needs the model's check)
        silent = rejected = False
        pieces = _split(deltas)
        while True:
            try:
                text = next(pieces)
            except StopIteration as stop:
                raw, refused_by_token = stop.value
                break
            needed = check is not None and check.needed(MARKER.sub("", text), question)
            if needed or held:
                held.append((text, needed))
                continue
            sentence, said_silent = self._checked(text, sources, citations, by_quote, speaker, question)
            silent = silent or said_silent
            if sentence:
                kept.append(sentence)
                yield sentence + " "
        for text, needed in held:
            before = len(citations)
            sentence, said_silent = self._checked(text, sources, citations, by_quote, speaker, question)
            silent = silent or said_silent
            if sentence and needed and \
                    not check.confirms_any(MARKER.sub("", sentence).strip(),
                                           [citations[int(n) - 1].quote for n in MARKER.findall(sentence)]):
                del citations[before:]  # the quotes only this sentence cited go with it
                for key in [k for k, n in by_quote.items() if n > before]:
                    del by_quote[key]
                rejected = True
                if not kept:  # its answer (the prompt asks for it first) is not in the sources: nor is the rest
                    break
                continue
            if sentence:
                kept.append(sentence)
                yield sentence + " "
        refused = refused_by_token or not citations
        notes = []
        if rejected:
            notes.append("a sentence of the model's answer is not shown: its source does not say it")
        if refused and not refused_by_token and not silent and not rejected and raw.strip():
            notes.append("the model's answer is not shown: the articles do not say what it says")
        # the model, asked, found no quote stating its answer: it declined, in effect (no extractive fallback)
        declined = refused_by_token or ((silent or rejected) and not citations)
        return Generated(" ".join(kept), [] if refused else citations, refused, notes, raw, declined)

    def _checked(self, sentence: str, sources: list[Source], citations: list[Citation],
                 by_quote: dict[tuple[str, int], int], speaker: str | None = None,
                 question: str = "") -> tuple[str | None, bool]:
        """(the sentence as shown, or None; whether it says the sources are silent)."""
        markers = [int(m) for m in MARKER.findall(sentence)]
        claim = MARKER.sub("", sentence).strip()
        if not claim or _ONLY_MARKERS.fullmatch(claim):
            return None, False
        if _SAYS_SILENT.search(claim):
            return None, True
        pool = [s for s in sources if s.number in dict.fromkeys(markers)]  # markers that point nowhere drop out
        added = content_stems(claim) - content_stems(question)  # the claim's answer to the question
        numbers = self._attribute(claim, pool, True, speaker, added, citations, by_quote, question) if pool else []
        if not numbers:
            # no marker, a wrong one (the 1.5B cites source 2 for what source 1 says) or one that points to
            # no source ("[2]" beside the only source): the claim is attributed to the first source that
            # supports it; one that none supports is dropped
            others = [s for s in sources if s not in pool]
            numbers = self._attribute(claim, others, False, speaker, added, citations, by_quote, question)
        if not numbers:
            if not markers and _YES_NO.match(claim) and len(claim.split()) <= 3:  # "Yes.", "No, it did not."
                return claim, False  # "Yes." / "No." lead in to a cited sentence
            return None, False
        return cited(claim, numbers), False

    def _attribute(self, claim: str, pool: list[Source], every: bool, speaker: str | None, added: set[str],
                   citations: list[Citation], by_quote: dict[tuple[str, int], int], question: str = "") -> list[int]:
        """The citation numbers of the sources of ``pool`` whose sentences support ``claim``: every one (the
        sources its markers name), or only the first, by the order of relevance (an unmarked claim). A quote
        cited before keeps its number."""
        numbers: list[int] = []
        for source in pool:
            span = self._best_quote(claim, source, speaker, added, question)
            if span is None:
                continue
            key = (source.evidence.article_id, span[0])
            if key not in by_quote:
                by_quote[key] = len(citations) + 1
                citations.append(source.citation(by_quote[key], span))
            numbers.append(by_quote[key])
            if not every:
                break
        return numbers

    def _best_quote(self, claim: str, source: Source, speaker: str | None = None,
                    added: frozenset[str] | set[str] = frozenset(), question: str = "") -> tuple[int, int, str] | None:
        """The source's sentence that supports the claim, preferring the one that holds what the claim adds
        to the question (its answer), then the most of its words: "South Korea calls the Sea of Japan the
        East Sea" is cited to the sentence naming the East Sea, not to one naming the Sea of Japan, which
        supports it as well once the article's other sentences lend it "East" (seed suite, 1.5B, 2026-12-03)."""
        spans = [s for s in source.spans if speaker_named(speaker, source.evidence, s[0], s[1])]
        if not spans:
            return None
        context = f"{source.evidence.title} {source.text()}"  # what the model read of this article
        verdicts = self.verifier.supports([claim] * len(spans), [s[2] for s in spans], [context] * len(spans),
                                          question)
        supported = [s for s, ok in zip(spans, verdicts) if ok]
        if not supported:
            return None
        return max(supported, key=lambda s: (len(added & content_stems(s[2])), lexical_support(claim, s[2])))
