"""``NewsDesk``: the one object that answers, as a pipeline: plan -> retrieve -> answer -> check.

1. **plan** (``rag.query``): the question understood once: a follow-up rewritten, two parts split,
   the date window, the mode;
2. **retrieve** (``rag.retriever``): hybrid evidence for the plan's queries within its window;
3. **answer**: the extractive answerer quotes sentences (``rag.extractive``), or a model writes
   from compressed evidence and its sentences are checked as they stream (``rag.generative``);
4. **check** (``rag.checks``): each answer passes the checks listed here, in order; the last, for every
   answer, is ``Verbatim``: every quote verbatim in its article, or it goes.

``ask()`` returns an ``Answer``; ``stream()`` yields the answer's text as it is written (sentence by
sentence, each already checked) and ends with the ``Answer``. The CLI, the UI and the evaluation
harness all use it.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Iterator

from errors import IndexEmpty
from index.catalog import catalog_exists, open_catalog
from index.embedders import Embedder, make_embedder
from index.runtime import configure_runtime
from index.store import ChunkStore
from prompts import BEYOND_REFUSAL, REFUSAL
from rag.checks.adds_to_question import AddsToQuestion
from rag.checks.answers_kind import AnswersKind
from rag.checks.asked_quantity import AskedQuantity
from rag.checks.attribution import Attribution
from rag.checks.current_event import CurrentEvent
from rag.checks.grounded import Grounded
from rag.checks.prose import ProseChecks
from rag.checks.verbatim import Verbatim
from rag.citations import CitationVerifier
from rag.extractive import ExtractiveAnswerer
from rag.generative import GenerativeAnswerer
from llm.client import LLMClient
from rag.query import QueryPlan, QueryPlanner
from rag.reader import SentenceReader
from rag.steps import StepwiseReader
from rag.story_answer import StoryAnswerer
from rag.retriever import HybridRetriever
from rag.timeparse import TimeFilter
from rag.types import Answer, Evidence, Preview
from rag.wire import fold_wire_copies, wire_pool
from settings import Settings

log = logging.getLogger("newsdesk.engine")
_LOADED_MARGIN_SECONDS = 5.0  # clock granularity between processes on one machine (a choice)


class NewsDesk:
    def __init__(self, settings: Settings, embedder: Embedder | None = None, client=None) -> None:
        configure_runtime()
        self.settings = settings
        if not catalog_exists(settings):
            raise IndexEmpty(f"No articles are indexed in {settings.index.home}: run `newsdesk index PATH` first.")
        self.embedder = embedder or make_embedder(settings)
        self.catalog = open_catalog(settings, read_only=True)
        self._loaded_at = _stamp_before_now()  # Chroma's index holds at least what was embedded before this
        self.store = ChunkStore(settings, self.embedder, client=client)
        self.retriever = HybridRetriever(self.catalog, self.store, self.embedder, settings.retrieval)
        self.planner = QueryPlanner(settings, self.catalog.newest_published, lambda: self.llm)
        self.extractive = ExtractiveAnswerer(self.embedder, settings.answer)
        self.verifier = CitationVerifier(self.embedder, settings.answer)
        # the checks of every answer, in the order they run: the reader's short answers; the model's cited prose
        # (``ModelConfirms`` joins them per question, when the model checks claims); then ``Verbatim`` for all
        reader_checks = (Grounded(), AddsToQuestion(), AnswersKind(), CurrentEvent())
        prose_checks = ProseChecks(Attribution(self.verifier), AskedQuantity())
        self.verbatim = Verbatim(self.catalog.article_text)
        self.story_answerer = StoryAnswerer(self.catalog, settings)
        self.generative = GenerativeAnswerer(self.extractive, prose_checks, settings.answer, settings.llm)
        self.reader = SentenceReader(self.extractive, settings.answer, reader_checks, self.retriever.leads)
        # an order step ("when did X?") is dated by its sentence or article when its answer names no day
        self.stepwise = StepwiseReader(self.reader, self._search, order_checks=(Grounded(), CurrentEvent()))
        self._marker_seen = self.catalog.get_meta("writer")
        self._refresh_lock = threading.RLock()  # refresh(wait=True) holds it through _reopen
        self._refreshing: threading.Thread | None = None
        self._llm: LLMClient | None = None

    def close(self) -> None:
        self.catalog.close()

    @property
    def model_answerer(self) -> SentenceReader | GenerativeAnswerer:
        """Who answers in llm mode (``answer_format``): the reader of numbered sentences, by default for the
        local model, or the writer of cited prose, by default for a remote one."""
        chosen = self.settings.answer.answer_format
        sentences = chosen == "sentences" or (chosen == "auto" and self.settings.llm.kind == "local")
        return self.reader if sentences else self.generative

    @property
    def llm(self) -> LLMClient:
        if self._llm is None:
            self._llm = LLMClient(self.settings)
        return self._llm

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
        plan = self.plan(question, history, k=k, since=since, until=until, sources=sources, as_of=as_of, mode=mode)
        evidence = self.evidence(plan)
        retrieved_at = time.perf_counter()
        notes = [f"time: {plan.time_filter.describe()}"] if plan.time_filter.describe() else []
        notes += self._pending_note()

        from_story = None
        if plan.beyond:  # nothing indexed can tell what happened after the newest article: say where it ends
            refusal = BEYOND_REFUSAL.format(newest=plan.reference.date().isoformat())
            answer = Answer(question, refusal, True, plan.mode, [], evidence,
                            notes=["it asks about a time after the newest article"])
            yield refusal
        elif (from_story := self.story_answerer.answer(plan, evidence)) is not None:
            answer = from_story  # a story question: the story's timeline, quoted, whatever the mode
        elif plan.mode == "llm" and plan.steps is not None and self.model_answerer is self.reader:
            answer = yield from self.stepwise.stream(plan, plan.steps, evidence, lambda: self.llm, preview)
        elif plan.mode == "llm":
            answer = yield from self.model_answerer.stream(plan, evidence, lambda: self.llm, preview)
        else:
            draft = self.extractive.answer(plan.standalone, evidence, plan.parts, focus=plan.focus)
            answer = Answer(question, draft.text, draft.refused, "extractive", draft.citations, evidence,
                            notes=draft.notes)
        answer = self.verbatim.keep(answer)
        if answer.refused and not plan.beyond:
            answer.answer = REFUSAL
        if (plan.mode != "llm" or from_story is not None) and not plan.beyond:
            yield answer.answer  # the model's sentences were yielded as they were checked
        answer.retrieved = evidence
        answer.standalone_question = plan.standalone if plan.follow_up else None
        answer.notes = notes + [n for n in answer.notes if n not in notes]
        answer.timings_ms = self._timings(started, retrieved_at, plan.mode)
        yield answer

    def plan(self, question: str, history: list[str] | None = None, **options) -> QueryPlan:
        """The question understood once (see ``QueryPlanner.plan`` for the options)."""
        return self.planner.plan(question, history, **options)

    def evidence(self, plan: QueryPlan) -> list[Evidence]:
        """The evidence for a plan. A window start that only the words (or as_of) implied is dropped when no
        dated article is in the window, and the plan's time filter says so."""
        self.refresh()
        evidence = self._search(plan)
        if not evidence and plan.time_filter.since is not None and not plan.since_given:
            # no dated article in the window: the words may describe the event, not the publication
            plan.time_filter.since = None
            plan.time_filter.matched.append("(no dated article in that window: undated articles searched)")
            evidence = self._search(plan)
        return evidence

    def retrieve(self, question: str, k: int | None = None, since=None, until=None, sources: list[str] | None = None,
                 as_of=None) -> tuple[list[Evidence], TimeFilter, datetime]:
        """Evidence for a standalone question, with the date window it implied and the reference date."""
        plan = self.plan(question, k=k, since=since, until=until, sources=sources, as_of=as_of)
        return self.evidence(plan), plan.time_filter, plan.reference

    def refresh(self, wait: bool = False) -> bool:
        """Make vectors another process wrote since this desk loaded Chroma's index visible to dense search.
        Returns whether it reopened the store (only with ``wait``).

        An embedded Chroma client keeps its vector index in memory, and loading it again costs about
        300 ms on 42,000 chunks, during which searches wait. So when the catalog's writer marker changed
        and the write went into another vector index than this desk's, no question waits for a reopen:
        the retriever scores the chunks embedded since the index was loaded from the catalog's copy of
        their vectors (``HybridRetriever.stale_since``: exact, and replacing any stale copy Chroma holds).
        Once they exceed ``ingest.reader_reopen_chunks``, the store reopens in a background thread.
        ``wait``: reopen now, in this thread (tests, and callers that want a fresh index at once).
        A Chroma server holds the index itself: nothing to do."""
        marker = self.catalog.get_meta("writer")
        if marker == self._marker_seen and (not wait or self.retriever.stale_since is None):
            return False
        with self._refresh_lock:
            own = self.catalog.get_meta("writer_origin") == self.store.origin
            self._marker_seen = marker
            if self.settings.index.server_mode or (own and self.retriever.stale_since is None):
                return False  # a server, or written through this store's own in-memory index: visible already
            if wait:
                return self._reopen()
            if self.retriever.stale_since is None:
                self.retriever.stale_since = self._loaded_at
            busy = self._refreshing is not None and self._refreshing.is_alive()
            if not busy and self.retriever.vectors.changed_count(self.retriever.stale_since) \
                    > self.settings.ingest.reader_reopen_chunks:
                self._refreshing = threading.Thread(target=self._reopen_later, daemon=True,
                                                    name="newsdesk-store-refresh")
                self._refreshing.start()
            return False

    def _reopen(self) -> bool:
        """Load Chroma's index again; afterwards only what was committed during the load is scored apart."""
        marker = self.catalog.get_meta("writer")
        loaded_at = _stamp_before_now()
        reopened = self.store.reopen(self.embedder, warm=True)  # questions meanwhile wait in the store's lock
        with self._refresh_lock:
            self._loaded_at = loaded_at
            # a write committed while the index loaded may be missing from it: it stays scored from the catalog
            self.retriever.stale_since = None if self.catalog.get_meta("writer") == marker else loaded_at
        return reopened

    def _reopen_later(self) -> None:
        try:
            self._reopen()
        except Exception as error:  # noqa: BLE001 - the catalog's vectors keep serving; a later question retries
            log.warning("Reopening the vector store in the background failed: %s", error)

    def _pending_note(self) -> list[str]:
        """Articles answerable by keyword whose vectors are still queued (``index.embed_queue``)."""
        try:
            waiting = self.catalog.pending_counts()[1]
        except Exception:  # noqa: BLE001 - a catalog being migrated: no note rather than no answer
            return []
        if not waiting:
            return []
        return [f"{waiting} new article{'s are' if waiting != 1 else ' is'} not yet in semantic search "
                "(found by keyword only until embedded)"]

    # --- steps --------------------------------------------------------------------------------
    def _search(self, plan: QueryPlan) -> list[Evidence]:
        ranked = self.retriever.retrieve(plan.standalone, k=wire_pool(plan.k, self.settings.ingest),
                                         time_filter=plan.time_filter, sources=plan.sources,
                                         reference=plan.reference, queries=plan.queries)
        evidence = fold_wire_copies(ranked, self.catalog, self.settings.ingest, plan.k, plan.time_filter.until)
        if plan.latest and evidence:
            evidence += self.retriever.newer_reports(plan.standalone, evidence, plan.time_filter, plan.sources,
                                                     plan.reference, self.settings.retrieval.newer_reports)
        return evidence

    def _timings(self, started: float, retrieved_at: float, mode: str) -> dict[str, float]:
        """Milliseconds per step; in llm mode also to the model's first token and its writing time."""
        done = time.perf_counter()
        timings = {"retrieve": (retrieved_at - started) * 1000, "answer": (done - retrieved_at) * 1000,
                   "total": (done - started) * 1000}
        stats = getattr(self._llm, "last_stats", None) if mode == "llm" else None
        if stats and stats["requested"] >= retrieved_at and stats["first"]:
            timings["first_token"] = (stats["first"] - started) * 1000
            timings["generate"] = ((stats["done"] or done) - stats["first"]) * 1000
        return timings


def _stamp_before_now() -> str:
    """A catalog time stamp (``utcnow_iso(precise=True)``'s format) a little before now: vectors stamped
    after it may be missing from a vector index loaded from now on (the stamp follows the Chroma write;
    the margin covers clock granularity)."""
    return (datetime.now(timezone.utc) - timedelta(seconds=_LOADED_MARGIN_SECONDS)).isoformat(timespec="milliseconds")


__all__ = ["NewsDesk"]
