"""A sheet of numbered sentences, numbered sources and an endpoint that replies one word, for the checks' tests."""

from __future__ import annotations

from datetime import datetime, timezone

from errors import LLMError
from rag.selection import Numbered, Sheet
from rag.types import Evidence, Source


def evidence_of(text: str, article: str = "a1", published: str = "2022-11-08", title: str = "Title") -> Evidence:
    return Evidence(f"{article}-c1", article, title, "example.com", None,
                    datetime.fromisoformat(published).replace(tzinfo=timezone.utc), text, 0, len(text))


def sheet_of(*texts: str, published: str = "2022-11-08", title: str = "Title") -> Sheet:
    """One article whose sentences are ``texts``, numbered from 1."""
    evidence = evidence_of(" ".join(texts), published=published, title=title)
    numbered, at = [], 0
    for n, text in enumerate(texts, start=1):
        numbered.append(Numbered(n, evidence, at, at + len(text), text))
        at += len(text) + 1
    return Sheet([(evidence, numbered)])


def articles_sheet(*articles: tuple[str, list[str]]) -> Sheet:
    """Articles given as (published day, sentences), in that order, their sentences numbered on from 1."""
    parts, n = [], 0
    for i, (published, texts) in enumerate(articles, start=1):
        evidence = evidence_of(" ".join(texts), f"a{i}", published=published)
        numbered, at = [], 0
        for text in texts:
            n += 1
            numbered.append(Numbered(n, evidence, at, at + len(text), text))
            at += len(text) + 1
        parts.append((evidence, numbered))
    return Sheet(parts)


def source_of(number: int, *texts: str, article: str | None = None) -> Source:
    """Source ``number``: one article whose sentences are ``texts``, as the model was shown them."""
    evidence = evidence_of(" ".join(texts), article or f"a{number}")
    source = Source(number, evidence)
    at = 0
    for text in texts:
        source.spans.append((at, at + len(text), text))
        at += len(text) + 1
    return source


class Replies:
    """An answering endpoint that replies ``word`` to every check (or fails)."""

    def __init__(self, word: str | None) -> None:
        self.word = word
        self.asked: list[str] = []

    def complete(self, system, user, **kwargs) -> str:
        self.asked.append(user)
        if self.word is None:
            raise LLMError("the endpoint is down")
        return self.word
