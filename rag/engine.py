"""``NewsDesk``: the one object that answers. Question -> retrieval -> evidence -> answer -> citations.

``ask()`` returns an ``Answer``; ``stream()`` yields the answer's text as it is written (sentence by
sentence, each already checked) and ends with the ``Answer``. The CLI, the UI and the evaluation
harness all use it.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Iterator

from index.catalog import Catalog
from index.dates import parse_date
from index.embedders import Embedder, make_embedder
from index.settings import Settings, configure_runtime
from index.store import ChunkStore
from prompts import load_prompt
from rag.citations import MARKER, CitationVerifier
from rag.extractive import ExtractiveAnswerer
from rag.generative import GenerativeAnswerer, Generated, count_tokens
from rag.llm import LLMClient, LLMError
from rag.retriever import HybridRetriever, split_question
from rag.rewrite import rewrite_by_rule, rewrite_with_llm
from rag.timeparse import TimeFilter, parse_time_expressions
from rag.types import Answer, Citation, Evidence, Preview

REFUSAL = "The indexed articles do not answer this question."


class IndexEmpty(RuntimeError):
    """Nothing has been indexed yet."""


class NewsDesk:
    def __init__(self, settings: Settings, embedder: Embedder | None = None, client=None) -> None:
        configure_runtime()
        self.settings = settings
        if not settings.catalog_path.exists():
            raise IndexEmpty(f"No articles are indexed in {settings.home}: run `newsdesk index PATH` first.")
        self.embedder = embedder or make_embedder(settings)
        self.catalog = Catalog(settings.catalog_path, read_only=True)
        self.store = ChunkStore(settings, self.embedder, client=client)
        self.retriever = HybridRetriever(self.catalog, self.store, self.embedder)
        self._writer_seen = self.catalog.get_meta("writer")
        self._refresh_lock = threading.Lock()
        self.extractive = ExtractiveAnswerer(self.embedder)
        self.verifier = CitationVerifier(self.embedder)
        self._llm: LLMClient | None = None

    def close(self) -> None:
        self.catalog.close()

    def refresh(self) -> bool:
        """Reopen the embedded vector store when another process has indexed since we opened it.

        An embedded Chroma client keeps its vector index in memory: without this, articles indexed by
        `newsdesk index` in another process would be found by BM25 but not by dense search. Returns
        whether the store was reopened. (Server mode needs nothing: the server holds the index.)
        """
        writer = self.catalog.get_meta("writer")
        if writer == self._writer_seen:
            return False
        with self._refresh_lock:
            if writer == self._writer_seen:
                return False
            self._writer_seen = writer
            if self.settings.server_mode or (writer or "").split(":")[0] == str(os.getpid()):
                return False
            from index.store import make_client

            self.store = ChunkStore(self.settings, self.embedder, client=make_client(self.settings, fresh=True))
            self.retriever.store = self.store
            return True

    @property
    def llm(self) -> LLMClient:
        if self._llm is None:
            self._llm = LLMClient(self.settings)
        return self._llm

    def resolve_mode(self, mode: str | None) -> str:
        mode = mode or self.settings.answer_mode
        if mode == "auto":
            return "llm" if self.settings.llm_configured else "extractive"
        return mode

    # --- the public API -------------------------------------------------------------------
    def ask(self, question: str, **options) -> Answer:
        answer = None
        for item in self.stream(question, **options):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def stream(self, question: str, history: list[str] | None = None, k: int | None = None,
               since: str | datetime | None = None, until: str | datetime | None = None,
               sources: list[str] | None = None, as_of: str | datetime | None = None,
               mode: str | None = None, preview: bool = False) -> Iterator[str | Preview | Answer]:
        """Pieces of the answer (str) as they are checked, then the ``Answer``. ``preview``: in llm mode,
        first a ``Preview`` (the evidence and its best quote) before the model starts writing."""
        started = time.perf_counter()
        mode = self.resolve_mode(mode)
        history = [h for h in (history or []) if h.strip()]
        standalone = question
        if history:
            # a remote model rewrites a follow-up; a local one is too slow for a second call, so the rule
            # rewrites it for retrieval and the model sees the earlier question beside it
            standalone = (rewrite_with_llm(question, history, self.llm, load_prompt("rewrite"))
                          if mode == "llm" and self.settings.llm_kind == "remote" else rewrite_by_rule(question, history))
        context = history[-1] if history and standalone != question and self.settings.llm_kind != "remote" else None

        evidence, time_filter, reference = self.retrieve(standalone, k=k, since=since, until=until, sources=sources,
                                                         as_of=as_of, original=question)
        parts = split_question(standalone)
        retrieved_at = time.perf_counter()
        notes = [f"time: {time_filter.describe()}"] if time_filter.describe() else []

        if mode == "llm":
            answer = yield from self._llm_answer(question, standalone, evidence, reference, context, preview)
            answer = self._checked(answer) if not answer.refused else answer
            if answer.refused:
                answer.answer = REFUSAL
        else:
            draft = self.extractive.answer(standalone, evidence, parts,
                                           focus=question if standalone != question else None)
            answer = Answer(question, draft.text, draft.refused, "extractive", draft.citations, evidence,
                            notes=notes + draft.notes)
            answer = self._checked(answer)
            if answer.refused:
                answer.answer = REFUSAL
            yield answer.answer
        answer.retrieved = evidence
        answer.standalone_question = standalone if standalone != question else None
        answer.notes = notes + [n for n in answer.notes if n not in notes]
        done = time.perf_counter()
        answer.timings_ms = {"retrieve": (retrieved_at - started) * 1000, "answer": (done - retrieved_at) * 1000,
                             "total": (done - started) * 1000}
        stats = getattr(self._llm, "last_stats", None) if mode == "llm" else None
        if stats and stats["requested"] >= retrieved_at and stats["first"]:
            answer.timings_ms["first_token"] = (stats["first"] - started) * 1000
            answer.timings_ms["generate"] = ((stats["done"] or done) - stats["first"]) * 1000
        yield answer

    def retrieve(self, question: str, k: int | None = None, since=None, until=None, sources: list[str] | None = None,
                 as_of=None, original: str | None = None) -> tuple[list[Evidence], TimeFilter, datetime]:
        """Evidence for a (standalone) question, with the date window it implied."""
        self.refresh()
        reference, time_filter = self._time_window(original or question, question, since, until, as_of)
        parts = split_question(question)
        evidence = self.retriever.retrieve(question, k=k or self.settings.top_k, time_filter=time_filter,
                                           sources=sources, reference=reference, queries=[question] + parts)
        if not evidence and time_filter.since is not None and since is None:
            # no dated article in the window: the words may describe the event, not the publication
            time_filter.since = None
            time_filter.matched.append("(no dated article in that window: undated articles searched)")
            evidence = self.retriever.retrieve(question, k=k or self.settings.top_k, time_filter=time_filter,
                                               sources=sources, reference=reference, queries=[question] + parts)
        return evidence, time_filter, reference

    # --- dates ------------------------------------------------------------------------------
    def _time_window(self, question: str, standalone: str, since, until, as_of) -> tuple[datetime, TimeFilter]:
        as_of_dt = _as_datetime(as_of, end_of_day=True)
        if as_of_dt is not None:
            reference = as_of_dt
        else:
            reference = parse_date(self.catalog.newest_published()) or datetime.now(timezone.utc)
        time_filter = parse_time_expressions(question, reference)
        if not time_filter.matched and standalone != question:
            time_filter = parse_time_expressions(standalone, reference)
        if since is not None:
            time_filter.since = _as_datetime(since)
        if until is not None:
            time_filter.until = _as_datetime(until, end_of_day=True)
        if as_of_dt is not None and (time_filter.until is None or time_filter.until > as_of_dt):
            time_filter.until = as_of_dt  # nothing published after "as of" can be known then
        if as_of_dt is not None and time_filter.since is None and since is None and self.settings.as_of_window_days:
            # asked "as of" a date, news questions are about the days before it: prefer them (softly)
            time_filter.since = as_of_dt - timedelta(days=self.settings.as_of_window_days)
            time_filter.soft = True
            time_filter.matched.append(f"as of {as_of_dt.date().isoformat()}")
        return reference, time_filter

    # --- llm mode ---------------------------------------------------------------------------
    def _llm_answer(self, question: str, standalone: str, evidence: list[Evidence], reference: datetime,
                    context: str | None, preview: bool):
        follow_up = standalone != question
        ranked = self.extractive.candidates(standalone, evidence, focus=question if follow_up else None)
        if preview:
            best = ranked[0] if ranked else None
            yield Preview(evidence, Citation.from_evidence(1, best.evidence, best.text, best.start, best.end)
                          if best else None)
        if not ranked:  # nothing to read: no model call
            yield REFUSAL
            return Answer(question, REFUSAL, True, "llm", [], evidence)
        budget = self.settings.local_evidence_tokens if self.settings.llm_kind == "local" else self.settings.context_tokens
        writer = GenerativeAnswerer(self.extractive, self.verifier, budget)
        sources = writer.sources(standalone, evidence, ranked)
        api = "chat" if self.settings.llm_kind == "local" else self.settings.llm_api
        system, user, examples = writer.prompt(question if context else standalone, sources,
                                               reference.date().isoformat(), api, context)
        prompt_tokens = count_tokens(system) + count_tokens(user) + sum(count_tokens(a + b) for a, b in examples)
        outcome: list[Generated] = []
        yield from writer.stream(self.llm.stream(system, user, examples=examples), sources, outcome, prompt_tokens)
        generated = outcome[0]
        if generated.refused:
            yield REFUSAL
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": count_tokens(generated.raw)}
        return Answer(question, REFUSAL if generated.refused else generated.text, generated.refused, "llm",
                      generated.citations, evidence, notes=generated.notes, usage=usage)

    # --- final check for every mode ---------------------------------------------------------
    def _checked(self, answer: Answer) -> Answer:
        """Every quote must be verbatim in its article; drop citations (and markers) that are not."""
        valid: list[Citation] = []
        for citation in answer.citations:
            text = self.catalog.article_text(citation.article_id)
            span = self.verifier.quote_in_article(citation.quote, text or "", citation.start, citation.end)
            if span is not None:
                citation.start, citation.end = span
                valid.append(citation)
        if len(valid) != len(answer.citations):
            keep = {c.n for c in valid}
            answer.answer = MARKER.sub(lambda m: m.group(0) if int(m.group(1)) in keep else "", answer.answer)
            answer.citations = valid
        if not answer.citations:
            answer.refused = True
        return answer


def _as_datetime(value, end_of_day: bool = False) -> datetime | None:
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else parse_date(value)
    if moment is None:
        raise ValueError(f"not a date: {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    if end_of_day and moment.hour == moment.minute == moment.second == 0:
        moment = moment + timedelta(days=1) - timedelta(microseconds=1)
    return moment


__all__ = ["NewsDesk", "IndexEmpty", "LLMError", "REFUSAL"]
