"""The chat's answers from a newsdesk API service (``NEWSDESK_API_URL``) instead of a ``NewsDesk`` in this process,
so that many app processes share one service (one model, one embedder, one queue).

``ApiDesk`` offers what the Chat page reads of a ``NewsDesk``: ``stream()`` (pieces of text as the server streams
them, then the ``Answer``), ``catalog.article_text()`` and ``settings``; the answer is rebuilt from the
OpenAI-compatible stream of ``POST /v1/chat/completions`` (its final chunk carries the citations and the
``newsdesk`` extras). An error the server answers becomes the same ``errors`` class it came from.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Iterator

import httpx

import errors
from rag.types import AlsoReported, Answer, Citation, Evidence
from settings import Settings

# the server appends a plain "Sources" list for clients that show text only; the chat renders its own
_SOURCES_TAIL = "\n\nSources:"
# seconds: connecting is quick on one machine; an answer streams its first piece after retrieval, and an llm
# answer may wait in the server's queue (NEWSDESK_LLM_QUEUE_SIZE x about one answer)
_TIMEOUT = httpx.Timeout(300.0, connect=10.0)
_ERRORS = {name: cls for name, cls in vars(errors).items()
           if isinstance(cls, type) and issubclass(cls, errors.NewsdeskError)}


def _error_class(type_: str) -> type[errors.NewsdeskError]:
    """``index_empty`` -> ``IndexEmpty`` (the API names its errors after the class); else ``NewsdeskError``."""
    return _ERRORS.get("".join(part.capitalize() for part in type_.split("_")), errors.NewsdeskError)


class ApiCatalog:
    """The one catalog read the chat makes: an article's text, for the quote in its paragraph."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def article_text(self, article_id: str) -> str | None:
        response = self._client.get(f"/v1/articles/{article_id}")
        if response.status_code == 404:
            return None
        return _checked(response).json().get("text")


class ApiDesk:
    """A ``NewsDesk`` look-alike that asks the API at ``settings.service.api_url``."""

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self.url = (settings.service.api_url or "").rstrip("/")
        key = settings.service.api_key
        headers = {"Authorization": f"Bearer {key.get_secret_value()}"} if key else None
        self._client = httpx.Client(base_url=self.url, timeout=_TIMEOUT, transport=transport, headers=headers)
        self.catalog = ApiCatalog(self._client)

    def close(self) -> None:
        self._client.close()

    def stream(self, question: str, history: list[str] | None = None, k: int | None = None, since: str | None = None,
               until: str | None = None, sources: list[str] | None = None, as_of: str | None = None,
               mode: str | None = None, preview: bool = False) -> Iterator[str | Answer]:
        """Pieces of the answer as the server streams them, then the ``Answer`` (``preview`` is not served
        by the API: the sources come with the answer)."""
        options = {key: value for key, value in {"k": k, "since": since, "until": until, "sources": sources,
                                                  "as_of": as_of, "mode": mode}.items() if value is not None}
        messages = [{"role": "user", "content": text} for text in (history or [])] + \
                   [{"role": "user", "content": question}]
        body = {"model": "newsdesk", "messages": messages, "stream": True, "newsdesk": options}
        written: list[str] = []
        try:
            with self._client.stream("POST", "/v1/chat/completions", json=body) as response:
                if response.status_code != 200:
                    response.read()
                    _checked(response)
                for line in response.iter_lines():
                    if not line.startswith("data: ") or line == "data: [DONE]":
                        continue
                    chunk = json.loads(line[6:])
                    if "error" in chunk:
                        raise _error_class(chunk["error"].get("type", ""))(chunk["error"].get("message", ""))
                    choice = chunk["choices"][0]
                    piece = choice["delta"].get("content")
                    if piece and not piece.startswith(_SOURCES_TAIL):
                        written.append(piece)
                        yield piece
                    if choice.get("finish_reason") == "stop":
                        yield answer_from_chunk(question, "".join(written), chunk)
                        return
        except httpx.HTTPError as error:
            raise errors.NewsdeskError(f"The newsdesk API at {self.url} could not be reached "
                                       f"({type(error).__name__}); is `newsdesk serve` running?") from None
        raise errors.NewsdeskError(f"The newsdesk API at {self.url} ended the answer before its sources.")


def _checked(response: httpx.Response) -> httpx.Response:
    """The response, or its ``{"error": {"type", "message"}}`` raised as the matching newsdesk error."""
    if response.status_code < 400:
        return response
    try:
        error = response.json()["error"]
        type_, message = str(error["type"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        raise errors.NewsdeskError(f"The newsdesk API answered HTTP {response.status_code}.") from None
    raise _error_class(type_)(message)


def answer_from_chunk(question: str, text: str, chunk: dict) -> Answer:
    """The ``Answer`` of a stream's final chunk (citations and ``newsdesk`` extras) and the text written."""
    extra = chunk.get("newsdesk", {})
    citations = [Citation(**{k: v for k, v in c.items() if k != "also_reported_by"},
                          also_reported_by=[AlsoReported(**a) for a in c.get("also_reported_by", [])])
                 for c in chunk.get("citations", [])]
    retrieved = [Evidence(chunk_id="", article_id=r["article_id"], title=r.get("title") or "", source=r.get("source"),
                          url=r.get("url"), published_at=_date(r.get("published_at")), text="", start=0, end=0,
                          score=r.get("score", 0.0))
                 for r in extra.get("retrieved", [])]
    return Answer(question, text, bool(extra.get("refused")), extra.get("mode", ""), citations, retrieved,
                  timings_ms=extra.get("timings_ms", {}), standalone_question=extra.get("standalone_question"),
                  notes=extra.get("notes", []))


def _date(value: str | None) -> datetime | None:
    """A retrieved article's ISO date as the ``Evidence`` in process carries it."""
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
