"""``Verbatim``: every quote is, character for character, its article's text; the last check of every answer."""

from __future__ import annotations

from typing import Callable

from rag.checks import Verdict
from rag.citations import MARKER
from rag.types import Answer, Citation


def quote_in_article(quote: str, article_text: str, start: int, end: int) -> tuple[int, int] | None:
    """The quote's span if it is verbatim in the article (at its offsets, or anywhere), else None."""
    if not quote.strip():
        return None
    if 0 <= start < end <= len(article_text) and article_text[start:end] == quote:
        return start, end
    found = article_text.find(quote)
    return (found, found + len(quote)) if found >= 0 else None


class Verbatim:
    """Reads each quote against the article it cites (``article_text(article_id)``, the catalog's copy)."""

    def __init__(self, article_text: Callable[[str], str | None]) -> None:
        self.article_text = article_text

    def check(self, citation: Citation) -> Verdict:
        span = quote_in_article(citation.quote, self.article_text(citation.article_id) or "", citation.start,
                                citation.end)
        if span is None:
            return Verdict(False, reason="its quote is not in the article")
        citation.start, citation.end = span  # the quote's offsets in the article as stored now
        return Verdict(True)

    def keep(self, answer: Answer) -> Answer:
        """The answer with only its verbatim citations (the others dropped with their markers); an answer left
        without citations is refused."""
        valid = [c for c in answer.citations if self.check(c).kept]
        if len(valid) != len(answer.citations):
            keep = {c.n for c in valid}
            answer.answer = MARKER.sub(lambda m: m.group(0) if int(m.group(1)) in keep else "", answer.answer)
            answer.citations = valid
        if not answer.citations:
            answer.refused = True
        return answer


__all__ = ["Verbatim", "quote_in_article"]
