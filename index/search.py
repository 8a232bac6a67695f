"""The question side of the catalog's keyword index: BM25 over the chunks, within a date/source filter.

``ChunkFilter`` (``index.types``) is a question's date/source filter; ``WindowCounter`` says how many chunks
it admits (cheap: from the articles' chunk counts); ``Bm25Search`` ranks the chunks matching a question's
terms, searching only the rarest terms on a large corpus; the catalog runs the ranking
(``CatalogInterface.bm25``) without joining every match to its article.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from index.catalog import CatalogInterface
from index.types import Bm25Query, ChunkFilter
from settings import RetrievalSettings

__all__ = ["Bm25Search", "ChunkFilter", "WindowCounter", "WindowShare"]


@dataclass(frozen=True)
class WindowShare:
    """How many chunks a filter admits, and their share of all chunks."""

    admitted: int
    share: float


class WindowCounter:
    """Counts the chunks a filter admits (the catalog's ``window_chunk_count``)."""

    def __init__(self, catalog: CatalogInterface) -> None:
        self.catalog = catalog
        self._total: tuple[str | None, int] | None = None  # (writer marker, chunk count), see total

    def size(self, where: ChunkFilter) -> int:
        return self.catalog.window_chunk_count(where)

    def total(self) -> int:
        """All chunks, recounted only after a writer finished a run (one meta read per call)."""
        marker = self.catalog.get_meta("writer")
        if self._total is None or self._total[0] != marker:
            self._total = (marker, self.size(ChunkFilter()))
        return self._total[1]

    def share(self, where: ChunkFilter) -> WindowShare:
        admitted = self.size(where)
        return WindowShare(admitted, admitted / max(self.total(), admitted, 1))


class Bm25Search:
    """(chunk id, BM25 score) for the chunks matching any of a question's terms, best first.

    Column weights, and when a filter counts as broad, come from ``RetrievalSettings``.
    """

    def __init__(self, catalog: CatalogInterface, config: RetrievalSettings,
                 counter: WindowCounter | None = None) -> None:
        self.catalog = catalog
        self.config = config
        self.counter = counter or WindowCounter(catalog)

    def search(self, terms: list[str], limit: int, where: ChunkFilter | None = None,
               max_postings: int | None = None, window: WindowShare | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score, higher is better) for chunks matching any of ``terms``.

        An OR query costs one score per matching chunk, so on a large corpus a question's common
        words ("said", "group", "show": tens of thousands of chunks each) dominate its cost while
        adding little to the ranking (their IDF is low). With ``max_postings``, only the rarest terms
        whose document counts add up to that budget are searched (at least the rarest one), like
        Lucene's cutoff frequency: the cost stays bounded as the corpus grows.
        ``window`` is the filter's ``WindowCounter.share`` when the caller has it already.
        """
        if max_postings is not None:
            terms = self.rarest_terms(terms, max_postings)
        if not terms:
            return []
        c = self.config
        query = Bm25Query(tuple(terms), limit, c.bm25_title_weight, broad_window_share=c.broad_window_share,
                          broad_window_ranks=c.broad_window_ranks)
        if where is None or not where.narrows:
            return self.catalog.bm25(query)
        window = window or self.counter.share(where)
        if window.admitted == 0:
            return []
        return self.catalog.bm25(replace(query, where=where, window_share=window.share))

    def document_counts(self, terms: list[str]) -> dict[str, int]:
        """How many chunks contain each term."""
        return self.catalog.term_document_counts(terms)

    def rarest_terms(self, terms: list[str], max_postings: int) -> list[str]:
        """The rarest of ``terms`` whose document counts add up to at most ``max_postings`` (at least one)."""
        counts = self.document_counts(terms)
        chosen, postings = [], 0
        for term in sorted((t for t in terms if counts[t]), key=lambda t: counts[t]):
            if chosen and postings + counts[term] > max_postings:
                break
            chosen.append(term)
            postings += counts[term]
        return chosen
