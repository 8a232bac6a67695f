"""Hybrid, date-aware retrieval: dense (Chroma) + BM25 (SQLite FTS5), fused by reciprocal rank.

Time expressions become a date window (hard filter) or a recency preference; questions with two
parts retrieve for each part; no one article fills the evidence alone. A chunk still waiting for its
vector (the embedding queue, ``index.embed_queue``) is found by BM25 alone and fused as if dense search
had ranked it where BM25 did, so a new article is not pushed down for lacking a vector. Vectors another
process wrote after this process loaded Chroma's index are scored from the catalog (``stale_since``).
"""

from __future__ import annotations

import math

import numpy as np
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from index.types import ChunkRecord, title_from_url
from index.catalog import Catalog
from index.types import to_epoch
from index.embedders import Embedder
from index.search import Bm25Search, ChunkFilter, WindowCounter, WindowShare
from index.store import ChunkStore
from index.vectors import WindowVectors
from rag.asked import mentions_key_terms
from rag.query import split_question
from rag.sentence_cache import SentenceVectors
from rag.text import query_terms
from rag.timeparse import TimeFilter
from rag.types import Evidence, first_per_article
from settings import RetrievalSettings


NEWER = "(a newer report)"  # the ``Evidence.query`` of what ``newer_reports`` found
LEAD = "(its lead)"  # the ``Evidence.query`` of an article's first chunk added by ``leads``


@dataclass
class _Fused:
    chunk_id: str
    query: str
    score: float = 0.0
    dense_rank: int | None = None
    bm25_rank: int | None = None


class HybridRetriever:
    """Question in, ranked ``Evidence`` out. Reads the catalog (BM25, text, window vectors) and Chroma."""

    def __init__(self, catalog: Catalog, store: ChunkStore, embedder: Embedder,
                 config: RetrievalSettings) -> None:
        self.catalog = catalog
        self.store = store
        self.embedder = embedder
        self.config = config
        self.windows = WindowCounter(catalog)
        self.bm25 = Bm25Search(catalog, config, self.windows)
        self.vectors = WindowVectors(catalog)
        self.vectors_cache = SentenceVectors.shared(embedder)
        # set by the reader (``NewsDesk.refresh``) when another process wrote vectors after its Chroma
        # index was loaded: the chunks embedded since this stamp are scored from the catalog instead
        self.stale_since: str | None = None

    def retrieve(self, question: str, k: int = 8, time_filter: TimeFilter | None = None,
                 sources: list[str] | None = None, reference: datetime | None = None,
                 queries: list[str] | None = None) -> list[Evidence]:
        time_filter = time_filter or TimeFilter()
        queries = queries or [question] + split_question(question)
        ranked_lists: list[list[_Fused]] = []
        for query in queries:
            ranked_lists.append(self._fused(query, time_filter, sources))
        records = self.catalog.chunk_records(list({f.chunk_id for ranked in ranked_lists for f in ranked}))
        reference = reference or datetime.now(timezone.utc)
        per_query = [self._to_evidence(ranked, records, time_filter, reference) for ranked in ranked_lists]
        return self._merge(per_query, k)

    def newer_reports(self, question: str, evidence: list[Evidence], time_filter: TimeFilter,
                      sources: list[str] | None, reference: datetime, limit: int) -> list[Evidence]:
        """Reports of the same story newer than the best-ranked evidence, which a question about the latest
        state needs even when they rank lower (a toll updated weeks later, in an article about something
        else): the best chunk of each of the ``limit`` best articles published after the top evidence that
        mention the question's names and numbers. Searched up to the window's wall (as-of, --until) only."""
        if not evidence or evidence[0].published_at is None:
            return []
        after = TimeFilter(since=evidence[0].published_at + timedelta(days=1), until=time_filter.bound)
        # a wire copy folded into the evidence is the same report, not a newer one
        seen = {e.article_id for e in evidence} | {r.article_id for e in evidence for r in e.also_reported_by}
        newer = []
        for item in self.retrieve(question, k=4 * limit, time_filter=after, sources=sources, reference=reference):
            if item.article_id not in seen and mentions_key_terms(question, item):
                seen.add(item.article_id)
                item.query = NEWER
                newer.append(item)
        return newer[:limit]

    def leads(self, evidence: list[Evidence], articles: int) -> list[Evidence]:
        """The first chunk of each of the first ``articles`` articles of the evidence when it was not retrieved:
        a news article tells its event in its lead ("Olivia Newton-John ... has died"), which the chunks that
        matched the question's words (a photo gallery's captions, a later paragraph) may not hold."""
        seen = {e.chunk_id for e in evidence}
        firsts = []
        for item in first_per_article(evidence, articles):
            ids = self.catalog.chunk_ids_of(item.article_id)[:1]
            if ids and ids[0] not in seen:
                firsts.append(ids[0])
        records = self.catalog.chunk_records(firsts)
        out = []
        for chunk_id in firsts:
            record = records.get(chunk_id)
            if record is not None:
                published = datetime.fromisoformat(record.published_at) if record.published_at else None
                out.append(Evidence(chunk_id, record.article_id, record.title or _fallback_title(record),
                                    record.source, record.url, published, record.text, record.start, record.end,
                                    query=LEAD))
        return out

    # --- the two retrievers and their fusion ------------------------------------------------
    def _fused(self, query: str, time_filter: TimeFilter, sources: list[str] | None) -> list[_Fused]:
        c = self.config
        vector = self.vectors_cache.embed([query])[0]  # the answerer scores sentences against the same vector
        terms = query_terms(query)
        since_ts, until_ts = to_epoch(time_filter.since), to_epoch(time_filter.until)
        passes = [(since_ts, until_ts, 1.0)]
        if time_filter.soft and (since_ts is not None or until_ts != to_epoch(time_filter.bound)):
            # the same search without the soft window (up to a wall: as-of, --until), weighted lower
            passes.append((None, to_epoch(time_filter.bound), 0.5))
        fused: dict[str, _Fused] = {}
        for number, (since, until, weight) in enumerate(passes):
            outside = number > 0
            where = ChunkFilter(since, until, tuple(sources or ()))
            window = self.windows.share(where) if where.narrows else None
            dense = self._dense(vector, c.candidates, where, window) \
                if not outside or c.soft_pass in ("both", "dense") else []
            sparse = self.bm25.search(terms, c.candidates, where, c.bm25_postings, window) \
                if not outside or c.soft_pass in ("both", "bm25") else []
            dense_ran = not outside or c.soft_pass in ("both", "dense")
            pending = self.catalog.pending_among([cid for cid, _ in sparse]) if dense_ran and sparse else set()
            for rank, (cid, _) in enumerate(dense, start=1):
                item = fused.setdefault(cid, _Fused(cid, query))
                item.score += weight * c.dense_weight / (c.rrf_k + rank)
                item.dense_rank = item.dense_rank or rank
            for rank, (cid, _) in enumerate(sparse, start=1):
                item = fused.setdefault(cid, _Fused(cid, query))
                item.score += weight * c.bm25_weight / (c.rrf_k + rank)
                item.bm25_rank = item.bm25_rank or rank
                if cid in pending:  # no vector yet: its BM25 rank stands in for the dense one it cannot have
                    item.score += weight * c.dense_weight / (c.rrf_k + rank)
        return sorted(fused.values(), key=lambda f: -f.score)

    def _dense(self, vector: np.ndarray, limit: int, where: ChunkFilter,
               window: WindowShare | None) -> list[tuple[str, float]]:
        """Nearest chunks within a filter (``window``: its share, None when it admits everything), by
        the cheaper of two routes (Chroma's own filtered search is never used: see ``index.vectors``).

        - exact: dot products over the catalog's copy of the window's vectors (about 3 us a chunk; with a remote
          catalog, this host's copy of them, ``index.vector_cache``);
        - post-filter: Chroma unfiltered for enough neighbours that ``limit`` of them should pass,
          then the filter here (about 18 us a neighbour), widened once if too few passed.
        """
        if window is None:
            return self._with_changed(self.store.query(vector, limit), vector, limit, where)
        if window.admitted == 0:
            return []
        c = self.config
        wanted = min(int(limit / window.share * 1.5) + limit, c.max_neighbours)
        if window.admitted <= min(c.exact_window, 6 * wanted):
            exact = self.vectors.nearest(vector, limit, where, window.admitted)
            if exact is not None:  # else vectors are still being backfilled
                return exact
        kept: list[tuple[str, float]] = []
        for attempt in range(2):
            hits = self.store.query(vector, wanted)
            inside = self.vectors.admitted([cid for cid, _ in hits], where)
            kept = [(cid, s) for cid, s in hits if cid in inside]
            if len(kept) >= limit or len(hits) < wanted or wanted >= c.max_neighbours:
                break
            wanted = min(wanted * 4, c.max_neighbours)
        return self._with_changed(kept, vector, limit, where)  # at worst fewer than ``limit``: BM25 still searches

    def _with_changed(self, hits: list[tuple[str, float]], vector: np.ndarray, limit: int,
                      where: ChunkFilter) -> list[tuple[str, float]]:
        """Chroma's neighbours, with the chunks embedded after its index was loaded (``stale_since``)
        scored exactly from the catalog's copy of their vectors, which also replaces any stale copy."""
        stale_since = self.stale_since
        if stale_since is None:
            return hits[:limit]
        ids, matrix = self.vectors.changed_since(stale_since, where)
        if not ids:
            return hits[:limit]
        changed = set(ids)
        scores = matrix @ vector
        merged = [(cid, s) for cid, s in hits if cid not in changed] + list(zip(ids, scores.tolist()))
        merged.sort(key=lambda hit: -hit[1])
        return merged[:limit]

    def _to_evidence(self, ranked: list[_Fused], records: dict[str, ChunkRecord], time_filter: TimeFilter,
                     reference: datetime) -> list[Evidence]:
        out: list[Evidence] = []
        for item in ranked:
            record = records.get(item.chunk_id)
            score = item.score
            if record is None:  # in Chroma but not (or no longer) in the catalog: an in-flight write
                continue
            published = datetime.fromisoformat(record.published_at) if record.published_at else None
            if time_filter.recency:
                age_days = max(0.0, (reference - published).total_seconds() / 86400) if published else 365.0
                score *= 0.5 + 0.5 * math.pow(0.5, age_days / self.config.recency_half_life_days)
            out.append(Evidence(
                chunk_id=item.chunk_id, article_id=record.article_id, title=record.title or _fallback_title(record),
                source=record.source, url=record.url, published_at=published, text=record.text,
                start=record.start, end=record.end, score=score, dense_rank=item.dense_rank,
                bm25_rank=item.bm25_rank, query=item.query))
        out.sort(key=lambda e: -e.score)
        return out

    def _merge(self, per_query: list[list[Evidence]], k: int) -> list[Evidence]:
        """Round-robin over the queries' lists, at most ``per_article`` chunks of one article."""
        chosen: list[Evidence] = []
        seen_chunks: set[str] = set()
        per_article: dict[str, int] = {}
        cursors = [0] * len(per_query)
        while len(chosen) < k and any(cursors[i] < len(lst) for i, lst in enumerate(per_query)):
            for i, lst in enumerate(per_query):
                while cursors[i] < len(lst):
                    evidence = lst[cursors[i]]
                    cursors[i] += 1
                    if evidence.chunk_id in seen_chunks or per_article.get(evidence.article_id, 0) >= self.config.per_article:
                        continue
                    chosen.append(evidence)
                    seen_chunks.add(evidence.chunk_id)
                    per_article[evidence.article_id] = per_article.get(evidence.article_id, 0) + 1
                    break
                if len(chosen) >= k:
                    break
        return chosen


def _fallback_title(record: ChunkRecord) -> str:
    return (title_from_url(record.url) if record.url else None) or record.text[:80]
