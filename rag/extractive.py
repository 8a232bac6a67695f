"""The offline answerer, sibling of the generative one: picks the evidence sentences that answer the
question and quotes them. ``ExtractiveAnswerer.candidates`` also ranks the sentences a model reads."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.embedders import Embedder
from rag.asked import (CAUSE, CHECKED, MANNER, NAME_LIST, OTHER, PAST_YEAR, RECENT, YES_NO_QUESTION, YESNO,
                              asked_for, holds, mentions_key_terms, speaker_named, speaker_of)
from rag.citations import MARKER, cited
from rag.rewrite import CONTEXT_NOTE
from rag.safety import is_instruction_like
from rag.sentence_cache import SentenceVectors
from rag.sentences import sentence_spans
from rag.text import NUMBER, content_stems
from rag.timeparse import without_time_phrases
from rag.types import Citation, Evidence
from settings import AnswerSettings

_NEGATION = re.compile(r"\b(not|no|never|n't|denied|denies|rejected|refused|without|none)\b", re.I)
# Hand-set in the first version (never tuned; the tests in tests/rag pin what they do):
_SHORTEST_CHARS, _SHORTEST_WORDS = 20, 4  # anything shorter is a dateline, byline or caption, not an answer
# a news page's furniture kept in its text: photo captions and video labels ("Hide Caption 25 of 29 Photos: ...",
# "JUST WATCHED ... Replay More Videos"), which repeat a story's names without telling anything
_PAGE_FURNITURE = re.compile(r"\bHide Caption\b|\bJUST WATCHED\b|\bMUST WATCH\b|Replay More Videos|"
                             r"\bPhotos?: .{0,80}\bPhotos?:", re.I)
_YES_NO_LEXICAL = 0.6  # "Yes."/"No." only before a sentence that has most of the question's stems
# a rival report: one of the 5 best sentences, from another article, within 10% of the best's score, about
# the same thing (cosine >= 0.75 and 4 shared stems) but with other figures
_RIVALS, _RIVAL_SCORE, _SAME_COSINE, _SAME_STEMS = 5, 0.9, 0.75, 4
# a sentence that opens by pointing back ("This gathering marks the first such event in five years") is
# read and quoted with the sentence before it, which says what it is ("a major congress of its ruling
# Workers' Party"): alone it neither matches the question's words nor stands as a quote
_ANAPHOR = re.compile(r"(?:This|These|That|Those|Such)\s+(?!is\b|was\b|are\b|were\b|(?:week|month|year|morning|"
                      r"afternoon|evening|weekend|spring|summer|fall|autumn|winter|time)\b)[a-z]")  # not "This week, ..."


@dataclass
class Candidate:
    evidence: Evidence
    start: int  # offsets in the article text
    end: int
    text: str
    score: float = 0.0
    cosine: float = 0.0
    lexical: float = 0.0
    holds: bool = False  # holds an answer of the type the question asks for (set by ``choose``)

    def citation(self, n: int) -> Citation:
        return Citation.from_evidence(n, self.evidence, self.text, self.start, self.end)


@dataclass
class Draft:
    """The extractive answer before its final check: quoted sentences with markers, or a refusal."""

    text: str
    citations: list[Citation]
    refused: bool
    notes: list[str]
    holds: bool = False  # its quote holds an answer of the kind asked (a count for "how many", a name for "who")


class ExtractiveAnswerer:
    """Scores every sentence of the top evidence against the question (embedding + shared words)."""

    def __init__(self, embedder: Embedder, settings: AnswerSettings | None = None) -> None:
        """``settings``: refuse_below, evidence_chunks and cosine_weight (where each value came from is there)."""
        self.embedder = embedder
        self.vectors = SentenceVectors.shared(embedder)  # each sentence embedded once per process, not per question
        settings = settings or AnswerSettings(_env_file=None)
        self.refuse_below = settings.refuse_below
        self.max_chunks = settings.evidence_chunks
        self.cosine_weight = settings.cosine_weight
        self.type_weight = settings.answer_type_weight

    def candidates(self, question: str, evidence: list[Evidence], focus: str | None = None,
                   chunks: int | None = None) -> list[Candidate]:
        """Sentences of the evidence, best first. ``focus``: the user's own words of a follow-up whose
        standalone form is ``question``: its words say what is asked, the context only where. ``chunks``: how
        many of the best chunks are read (default ``evidence_chunks``)."""
        out: list[Candidate] = []
        seen: set[tuple[str, int]] = set()
        for item in evidence[: chunks or self.max_chunks]:
            before: tuple[int, int] | None = None
            for a, b in sentence_spans(item.text):
                key = (item.article_id, item.start + a)
                text = item.text[a:b]
                lead, before = before, (a, b)
                if (key in seen or len(text) < _SHORTEST_CHARS or len(text.split()) < _SHORTEST_WORDS
                        or text.endswith("?") or is_instruction_like(text) or _PAGE_FURNITURE.search(text)):
                    continue
                seen.add(key)
                if lead and _ANAPHOR.match(text) and not item.text[lead[1]:a].strip():
                    a, text = lead[0], item.text[lead[0]:b]  # "This gathering ...": quoted with what it refers to
                out.append(Candidate(item, item.start + a, item.start + b, text))
        if not out:
            return out
        queries = [question] + ([focus] if focus else [])
        vectors = self.vectors.embed(queries + [c.text for c in out])
        cosines = vectors[len(queries):] @ vectors[:len(queries)].mean(axis=0)
        asked_by = focus or question
        # a question's date words ("in June 2022") are not words an answering sentence repeats
        terms = content_stems(without_time_phrases(asked_by)) or content_stems(question)
        asked = asked_for(asked_by) if self.type_weight else None
        articles = article_texts(out) if asked is not None and asked.kind in CHECKED else {}
        for candidate, cosine in zip(out, cosines):
            shared = terms & content_stems(candidate.text)
            candidate.cosine = float(cosine)
            candidate.lexical = len(shared) / len(terms) if terms else 0.0
            candidate.score = self.cosine_weight * candidate.cosine + (1 - self.cosine_weight) * candidate.lexical
            if articles and holds(asked, candidate.text, asked_by, articles[candidate.evidence.article_id]):
                candidate.score += self.type_weight  # it holds what is asked: a name for "who", a count for "how many"
        out.sort(key=lambda c: -c.score)
        return out

    def answer(self, question: str, evidence: list[Evidence], parts: list[str] | None = None,
               focus: str | None = None, ranked: list[Candidate] | None = None) -> Draft:
        """The quote that answers, or a refusal. ``ranked``: ``candidates(question, evidence, focus)`` when the
        caller has them already (the generative answerer's fallback), so no sentence is embedded twice."""
        ranked = ranked if ranked is not None else self.candidates(question, evidence, focus)
        best = self.choose(question, ranked, parts, focus)
        if best is None:
            return Draft("", [], True, [])
        notes: list[str] = []
        chosen: list[Candidate] = [best]
        prefix = ""

        if parts:
            chosen = self._one_per_part(parts, evidence) or chosen
            if len(chosen) == 2 and all(c.evidence.published_at for c in chosen):
                first, second = sorted(chosen, key=lambda c: c.evidence.published_at)
                prefix = (f"By publication date, the report on \"{_short(first.evidence.title)}\" "
                          f"({first.evidence.published_at.date().isoformat()}) came before the one on "
                          f"\"{_short(second.evidence.title)}\" ({second.evidence.published_at.date().isoformat()}). ")
        else:
            rival = self._conflicting(best, [c for c in ranked if c is not best])
            if rival is not None:
                chosen = [best, rival]
                a, b = best.evidence.published_at, rival.evidence.published_at
                if a and b and a.date() != b.date():
                    newer, older = (best, rival) if a > b else (rival, best)
                    chosen = [newer, older]
                    prefix = (f"The reports disagree; the newest is from "
                              f"{newer.evidence.published_at.date().isoformat()}. ")
                    notes.append("the reports disagree: the newest comes first")
                else:
                    prefix = "Reports from the same day disagree. "
                    notes.append("outlets disagree on the same day")
            elif YES_NO_QUESTION.match(question.strip()) and best.lexical >= _YES_NO_LEXICAL:
                negated = bool(_NEGATION.search(best.text)) != bool(_NEGATION.search(question))
                prefix = "No. " if negated else "Yes. "

        citations: list[Citation] = []
        sentences: list[str] = []
        for n, candidate in enumerate(chosen, start=1):
            citations.append(candidate.citation(n))
            sentences.append(cited(MARKER.sub("", candidate.text).rstrip(), [n]))
        joiner = " An earlier report said: " if prefix.startswith("The reports disagree") else " "
        return Draft(prefix + joiner.join(sentences), citations, False, notes, best.holds)

    def choose(self, question: str, ranked: list[Candidate], parts: list[str] | None = None,
               focus: str | None = None) -> Candidate | None:
        """The sentence to quote, or None to refuse: the best-scoring one holding an answer of the asked
        type (how far, how many, when, who, where, why...) from an article that mentions the question's
        names and numbers. Yes/no and two-part questions keep the plain rule (the best, if good enough)."""
        asked_by = focus or question  # a follow-up's own words say what is asked
        asked, earlier = asked_for(asked_by), CONTEXT_NOTE.search(question)
        if asked.kind == OTHER and focus and earlier:
            asked = asked_for(earlier.group(1))  # "And what about Japan?" asks what the earlier question asked
        articles = article_texts(ranked)
        mentions: dict[str, bool] = {}
        speaker = speaker_of(asked_by)  # "what did X say?": only X's words answer

        def good(candidate: Candidate) -> bool:
            article = candidate.evidence.article_id
            if article not in mentions:
                mentions[article] = mentions_key_terms(asked_by, articles[article])
            return (candidate.score >= self.refuse_below and mentions[article]
                    and speaker_named(speaker, candidate.evidence, candidate.start, candidate.end))

        if parts or asked.kind == YESNO:
            return ranked[0] if ranked and good(ranked[0]) else None
        pool = [c for c in ranked if good(c)]
        if asked.kind in (CAUSE, MANNER) and pool:
            # a stated reason seldom shares the question's words: every sentence of the article that
            # best tells the asked event may give it ("appears intended to heighten tensions")
            event = pool[0].evidence.article_id
            pool = [c for c in ranked if c.evidence.article_id == event] + \
                   [c for c in pool if c.evidence.article_id != event]
        fallback = None  # "which countries": one country if no sentence names several
        recent = RECENT.search(asked_by)
        for candidate in pool:
            published = candidate.evidence.published_at
            if recent and published and any(int(y) < published.year for y in PAST_YEAR.findall(candidate.text)):
                continue  # "this week": "passed in 2020" in a 2022 article is background ("the 1965 murder" not)
            candidate.holds = holds(asked, candidate.text, asked_by, articles[candidate.evidence.article_id])
            if candidate.holds and (not asked.plural or NAME_LIST.search(candidate.text)):
                return candidate
            fallback = fallback or (candidate if candidate.holds or asked.kind not in CHECKED else None)
        return fallback

    def _one_per_part(self, parts: list[str], evidence: list[Evidence]) -> list[Candidate]:
        picked: list[Candidate] = []
        for part in parts:
            pool = [e for e in evidence if e.query == part] or evidence
            ranked = [c for c in self.candidates(part, pool) if all(c.evidence.article_id != p.evidence.article_id for p in picked)]
            if ranked:
                picked.append(ranked[0])
        return picked if len(picked) == len(parts) else []

    def _conflicting(self, best: Candidate, ranked: list[Candidate]) -> Candidate | None:
        """A close runner-up from another article that states different figures about the same thing."""
        best_numbers = set(NUMBER.findall(best.text))
        if not best_numbers:
            return None
        for other in ranked[:_RIVALS]:
            if other.evidence.article_id == best.evidence.article_id or other.score < _RIVAL_SCORE * best.score:
                continue
            numbers = set(NUMBER.findall(other.text))
            if not numbers or numbers == best_numbers:
                continue
            vectors = self.vectors.embed([best.text, other.text])
            if float(vectors[0] @ vectors[1]) >= _SAME_COSINE \
                    and len(content_stems(best.text) & content_stems(other.text)) >= _SAME_STEMS:
                return other
        return None


def article_texts(ranked: list[Candidate]) -> dict[str, str]:
    """Each article's title and the text of all its retrieved chunks (a name may sit in another chunk)."""
    chunks: dict[str, dict[str, str]] = {}
    for candidate in ranked:
        e = candidate.evidence
        chunks.setdefault(e.article_id, {"": e.title})[e.chunk_id] = e.text
    return {article: " ".join(texts.values()) for article, texts in chunks.items()}


def _short(title: str, limit: int = 70) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"
