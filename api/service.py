"""What the HTTP API and the MCP server do, in one place: answer, search, list, add, remove, sync, status, stories.

One ``Service`` per process holds one ``NewsDesk`` (opened on first use, and again after the Chroma
store failed, so the server recovers when the store is back), the embedder shared with writers, the
answer queue and the key store. Readers follow writes: ``NewsDesk.evidence`` calls ``refresh()``, which
compares the catalog's writer marker. A write through this process's own store is searchable at once, and
keyword search sees every committed article at once; another process's new vectors reach dense search
on the next question, scored from the catalog until the store reloads in the background (``NewsDesk.refresh``).
Writes take a process-wide lock first (then the index's own file lock, which another process may hold:
``IndexBusy`` -> 409).
"""

from __future__ import annotations

import hashlib
import json
import threading
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

from api.errors import ApiError
from api.keys import KeyStore
from api.limits import AnswerQueue, Ticket
from errors import BadInput, CatalogUnavailable, IndexEmpty, NotFound, StoreUnavailable
from index.types import IndexStatus
from rag.types import Answer, Evidence
from settings import Settings


def evidence_dict(e: Evidence) -> dict:
    return {"chunk_id": e.chunk_id, "article_id": e.article_id, "title": e.title, "source": e.source, "url": e.url,
            "published_at": e.published_at.isoformat() if e.published_at else None, "text": e.text,
            "start": e.start, "end": e.end, "score": round(e.score, 6), "dense_rank": e.dense_rank,
            "bm25_rank": e.bm25_rank}


class Service:
    def __init__(self, settings: Settings, embedder=None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._desk = None
        self._desk_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self.keys = KeyStore(settings.index.home)
        s = settings.service
        self.queue = AnswerQueue(s.llm_concurrency, s.llm_queue_size, s.llm_retry_after_s)

    # --- the engine -------------------------------------------------------------------------
    @property
    def embedder(self):
        if self._embedder is None:
            from index.embedders import make_embedder

            self._embedder = make_embedder(self.settings)
        return self._embedder

    def desk(self):
        """The process's ``NewsDesk``, opened on first use (IndexEmpty until something is indexed)."""
        with self._desk_lock:
            if self._desk is None:
                from rag.engine import NewsDesk

                self._desk = NewsDesk(self.settings, embedder=self.embedder)
            return self._desk

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Around every use of the desk: a store that failed is reopened on the next request. A catalog whose
        server was lost is kept: its pool replaces the dropped connections itself once the server is back."""
        try:
            yield
        except CatalogUnavailable:
            raise
        except StoreUnavailable:
            with self._desk_lock:
                self._desk = None  # dropped, not closed: other threads may still be reading through it
            raise

    def close(self) -> None:
        with self._desk_lock:
            if self._desk is not None:
                self._desk.close()
                self._desk = None

    # --- answers ----------------------------------------------------------------------------
    def ticket_for(self, mode: str | None) -> Ticket | None:
        """A place in the model queue when the answer is written by a model (503 when it is full)."""
        return self.queue.reserve() if self.settings.answer_mode_for(mode) == "llm" else None

    def ask(self, question: str, history: list[str] | None = None, ticket: Ticket | None = None, **options) -> Answer:
        return _last(self.stream(question, history, ticket, **options))

    def stream(self, question: str, history: list[str] | None = None, ticket: Ticket | None = None,
               **options) -> Iterator[str | Answer]:
        """Pieces of the answer, then the ``Answer``; the ticket (if any) is held while the model writes."""
        if not question or not question.strip():
            if ticket:
                ticket.release()
            raise BadInput("The question is empty.")
        try:
            with self.reading():
                desk = self.desk()
                if ticket is None:
                    yield from desk.stream(question, history=history or None, **options)
                else:
                    with ticket:
                        yield from desk.stream(question, history=history or None, **options)
        finally:
            if ticket:
                ticket.release()

    def search(self, query: str, k: int | None = None, since=None, until=None, sources=None, as_of=None) -> dict:
        if not query or not query.strip():
            raise BadInput("The query is empty.")
        with self.reading():
            evidence, window, reference = self.desk().retrieve(query, k=k, since=since, until=until, sources=sources,
                                                               as_of=as_of)
        return {"query": query, "time_filter": window.describe() or None,
                "reference": reference.isoformat() if reference else None,
                "results": [evidence_dict(e) for e in evidence]}

    # --- articles ---------------------------------------------------------------------------
    def list_articles(self, limit: int = 50, offset: int = 0, source: str | None = None, q: str | None = None) -> dict:
        """Newest first; ``q`` narrows to titles and outlets containing it, ``source`` to one outlet."""
        try:
            with self.reading():
                catalog = self.desk().catalog
                total = catalog.count_articles(source, q)
                page = catalog.list_articles(limit=limit, offset=offset, source=source, q=q)
        except IndexEmpty:
            total, page = 0, []
        return {"total": total, "offset": offset, "articles": [asdict(a) for a in page]}

    def get_article(self, article_id: str) -> dict:
        with self.reading():
            catalog = self.desk().catalog
            record = catalog.get_article(article_id)
            text = catalog.article_text(article_id) if record else None
        if record is None:
            raise ApiError(404, "article_not_found", f"There is no article with id '{article_id}'.")
        data = asdict(record)
        data["article_id"] = data.pop("id")
        return {**data, "text": text}

    def add_json(self, records: list[dict]) -> dict:
        """Articles given as JSON objects: written as one file in the uploads folder, then indexed."""
        from ingest.uploads import safe_upload_name, uploads_dir, write_upload

        if not records or not all(isinstance(r, dict) for r in records):
            raise BadInput("Send an article object, a list of them, or {\"articles\": [...]}.")
        data = json.dumps(records, ensure_ascii=False).encode("utf-8")
        name = safe_upload_name(f"api-{hashlib.sha256(data).hexdigest()[:16]}.json")
        return self._index_new(lambda: [write_upload(uploads_dir(self.settings), name, data)], {})

    def add_files(self, files: list) -> dict:
        """Uploaded files (anything with name, size and getvalue()), checked and stored like the app's uploads."""
        from ingest.uploads import save_uploads

        holder: dict = {}

        def save() -> list[Path]:
            holder["written"], holder["rejected"] = save_uploads(files, self.settings)
            return holder["written"]

        return self._index_new(save, holder)

    def _index_new(self, write, holder) -> dict:
        with self._writer() as indexer:
            paths = write()
            report = indexer.sync([str(p) for p in paths]) if paths else None
            ids = [i for p in paths for i, _ in indexer.catalog.article_ids_under(str(Path(p).resolve()))]
        result = _report(report) if report else {}
        rejected = holder.get("rejected", [])
        if not paths:
            raise BadInput(" ".join(rejected) or "No article files were given.")
        return {**result, "ids": ids, "rejected": rejected}

    def remove(self, ids: list[str]) -> dict:
        """Removes articles; an uploaded file left with no indexed article is deleted too (as the app does)."""
        from ingest.uploads import remove_articles

        with self._writer() as indexer:
            removed, unknown = remove_articles(indexer, self.settings, ids)
        return {"removed": removed, "unknown": unknown}

    def sync(self, paths: list[str]) -> dict:
        """``newsdesk index PATH...`` on the server, for paths under the configured sync roots only."""
        roots = self.settings.service.sync_root_paths
        if not paths:
            raise BadInput("Give at least one path to index.")
        for raw in paths:
            resolved = Path(raw).expanduser().resolve()
            if not any(resolved == root or root in resolved.parents for root in roots):
                where = ", ".join(str(r) for r in roots) or "none are configured (NEWSDESK_SYNC_ROOTS)"
                raise ApiError(403, "path_not_allowed", f"'{raw}' is not under a sync root of this server "
                                                        f"(sync roots: {where}).")
        with self._writer() as indexer:
            return _report(indexer.sync([str(Path(p).expanduser().resolve()) for p in paths]))

    @contextmanager
    def _writer(self):
        """One writer per process (others wait), sharing the desk's Chroma client and embedder."""
        from index.store import make_client
        from index.sync import Indexer

        with self._write_lock, self.reading():
            try:
                client = self.desk().store.client
            except IndexEmpty:
                client = make_client(self.settings)
            indexer = Indexer(self.settings, embedder=self.embedder, client=client)
            try:
                yield indexer
            finally:
                indexer.close()

    # --- stories ----------------------------------------------------------------------------
    def _stories(self):
        """``StoryQueries`` on the desk's catalog (read-only; the writer's ``StoryKeeper`` keeps the tables)."""
        from stories.queries import StoryQueries

        return StoryQueries(self.desk().catalog, self.settings)

    def list_stories(self, since=None, limit: int = 50, offset: int = 0) -> dict:
        """Stories newest first (by their last report), those reported on ``since`` or later; ``total`` counts
        every story of the index."""
        from rag.query import as_datetime

        day = as_datetime(since).date() if since else None
        try:
            with self.reading():
                queries = self._stories()
                total, page = queries.count(), queries.list(day, limit=limit, offset=offset)
        except IndexEmpty:
            total, page = 0, []
        return {"total": total, "offset": offset, "since": day.isoformat() if day else None,
                "stories": [s.to_dict() for s in page]}

    def get_story(self, story_id: str) -> dict:
        """A story and its articles, oldest first (404 for an unknown id)."""
        with self._story_errors(story_id), self.reading():
            return self._stories().get(story_id).to_dict()

    def story_timeline(self, story_id: str) -> dict:
        """A story's timeline: dated entries oldest first, the facts that moved, the reports that disagree."""
        with self._story_errors(story_id), self.reading():
            return self._stories().timeline(story_id).to_dict()

    def find_timeline(self, query: str) -> dict:
        """The timeline of the story a story id or a few words name (404 when none matches)."""
        if not query or not query.strip():
            raise BadInput("Give a story id or a few words about the story.")
        with self._story_errors(query), self.reading():
            queries = self._stories()
            story_id = queries.find(query)
            if story_id is None:
                raise ApiError(404, "story_not_found", f"No story matches '{query.strip()}'.")
            return queries.timeline(story_id).to_dict()

    @contextmanager
    def _story_errors(self, story_id: str) -> Iterator[None]:
        """An unknown story, or no index at all, is 404 ``story_not_found``."""
        try:
            yield
        except NotFound as error:
            raise ApiError(404, "story_not_found", str(error)) from None
        except IndexEmpty:
            raise ApiError(404, "story_not_found", f"There is no story '{story_id.strip()}'.") from None

    # --- status -----------------------------------------------------------------------------
    def status(self) -> dict:
        """The ``status --json`` object, read without taking the writer's side."""
        index = self.settings.index
        try:
            with self.reading():
                catalog = self.desk().catalog
                counts = catalog.counts()
                status = IndexStatus(**asdict(counts) | {"sources": counts.sources}, store=index.store_location,
                                     catalog=index.catalog_location, embedder=self.embedder.name,
                                     roots=catalog.roots(), pending_recovery=len(catalog.journal_entries()))
        except IndexEmpty:
            status = IndexStatus(articles=0, chunks=0, sources=[], newest_article=None, oldest_article=None,
                                 last_indexed=None, store=index.store_location, catalog=index.catalog_location,
                                 embedder=self.embedder.name, roots=[], pending_recovery=0)
        return asdict(status)

    def ready(self) -> dict:
        """Whether a question can be answered now: the index opens and the store answers."""
        with self.reading():
            desk = self.desk()
            vectors = desk.store.count()
        return {"status": "ready", "articles": desk.catalog.counts().articles, "vectors": vectors}


def _report(report) -> dict:
    data = report.to_dict()
    data.pop("chunks_embedded", None)
    return data


def _last(items: Iterator) -> Answer:
    answer = None
    for item in items:
        if isinstance(item, Answer):
            answer = item
    assert answer is not None
    return answer
