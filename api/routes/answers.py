"""Endpoints that answer and search: /v1/chat/completions, /v1/models, /v1/ask, /v1/search."""

from __future__ import annotations

import functools
import time
from typing import Callable, Iterator, Literal

import anyio

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from api.chat import MODELS, ChatRequest, ChunkWriter, completion, sources_text
from api.errors import ApiError, error_type, newsdesk_error
from errors import NewsdeskError
from rag.types import Answer

router = APIRouter(prefix="/v1", tags=["answers"])
_END = object()


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    k: int | None = Field(None, ge=1, le=50, description="Evidence chunks (default NEWSDESK_TOP_K).")
    since: str | None = Field(None, description="Only articles published on or after this date.")
    until: str | None = Field(None, description="Only articles published on or before this date.")
    sources: list[str] | None = Field(None, description="Only these outlets.")
    as_of: str | None = Field(None, description="As of this date: later articles are ignored.")


class AskRequest(Filters):
    question: str = Field(..., min_length=1, max_length=2000)
    history: list[str] | None = Field(None, description="Earlier questions of the conversation, oldest first.")
    mode: Literal["llm", "extractive"] | None = None


class SearchRequest(Filters):
    query: str = Field(..., min_length=1, max_length=2000)


def _next(items: Iterator):
    return next(items, _END)


async def _answering(request: Request, ticket, fn: Callable, *args, **kwargs):
    """Runs answer work in a thread. Extractive answers (no model ticket) share a small limiter, so that 50
    of them queue without holding every worker thread and writes and searches still get one; a model's
    answer is bounded by its ticket instead (a limiter there could be held by streams waiting for the
    model while the stream that has it waits for a thread)."""
    limiter = None
    if ticket is None:
        state = request.app.state
        limiter = getattr(state, "answer_limiter", None)
        if limiter is None:
            limiter = state.answer_limiter = anyio.CapacityLimiter(state.settings.service.api_answer_threads)
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs), limiter=limiter)


@router.get("/models", summary="The models this server answers with")
def models() -> dict:
    return {"object": "list", "data": [{"id": name, "object": "model", "created": 0, "owned_by": "newsdesk"}
                                       for name in MODELS]}


@router.post("/ask", summary="One question, the `newsdesk ask --json` object back")
async def ask(body: AskRequest, request: Request) -> dict:
    service = request.app.state.service
    options = body.model_dump(exclude={"question", "history"})
    ticket = service.ticket_for(body.mode)
    answer = await _answering(request, ticket, service.ask, body.question, body.history, ticket, **options)
    return answer.to_dict()


@router.post("/search", summary="Retrieval only: ranked evidence with scores")
def search(body: SearchRequest, request: Request) -> dict:
    return request.app.state.service.search(body.query, **body.model_dump(exclude={"query"}))


@router.post("/chat/completions", summary="OpenAI-compatible chat completions (streaming or not)")
async def chat_completions(body: ChatRequest, request: Request):
    service = request.app.state.service
    if body.model not in MODELS:
        raise ApiError(404, "model_not_found", f"There is no model '{body.model}': use one of {', '.join(MODELS)}.")
    question, history = body.question_and_history()
    options = body.options()
    ticket = service.ticket_for(options["mode"])
    if not body.stream:
        answer = await _answering(request, ticket, service.ask, question, history, ticket, **options)
        return completion(answer, body.model)
    pieces = service.stream(question, history, ticket, **options)
    try:  # the first piece before the response starts: errors up to there keep their status code
        first = await _answering(request, ticket, _next, pieces)
    except BaseException:
        pieces.close()
        raise
    step = functools.partial(_answering, request, ticket, _next, pieces)
    return StreamingResponse(_events(pieces, first, body.model, step), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _events(pieces: Iterator, item, model: str, step: Callable):
    writer = ChunkWriter(model)
    started = time.perf_counter()
    try:
        yield writer.start()
        while item is not _END:
            if isinstance(item, Answer):
                tail = sources_text(item)
                if tail:
                    yield writer.text(tail)
                yield writer.final(item)
            elif isinstance(item, str):
                yield writer.text(item)
            item = await step()
        yield writer.done()
    except NewsdeskError as error:  # after the first byte a status code cannot change: an error event
        api = newsdesk_error(error)
        yield ChunkWriter.error(api.type, api.message)
        yield writer.done()
    except Exception as error:  # noqa: BLE001 - logged by type only, the client gets one sentence
        import logging

        logging.getLogger("newsdesk.api").exception("stream failed after %.1f s", time.perf_counter() - started)
        yield ChunkWriter.error(error_type(error), "The answer failed while streaming; the error is in the server log.")
        yield writer.done()
    finally:
        pieces.close()  # a client that went away frees its model slot here
