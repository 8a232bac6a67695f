"""The index through HTTP: /v1/articles (list, get, add, remove), /v1/index/sync and /v1/status.

Adding, removing and syncing need a key that is not read-only (403 otherwise).
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from api.errors import ApiError
from errors import BadInput

router = APIRouter(prefix="/v1", tags=["articles"])


def writer(request: Request) -> None:
    """A dependency of every write: read-only keys may ask and search, nothing more."""
    key = getattr(request.state, "api_key", None)
    if key is not None and key.read_only:
        raise ApiError(403, "read_only_key", f"The API key '{key.name}' is read-only: it can ask and search but "
                                             "not add, remove or sync articles.")


class SyncRequest(BaseModel):
    paths: list[str] = Field(..., min_length=1, description="Files or folders on the server, under NEWSDESK_SYNC_ROOTS.")


class _File:
    """An uploaded part as ``ingest.uploads`` expects it (name, size, getvalue())."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name, self.size, self._data = name, len(data), data

    def getvalue(self) -> bytes:
        return self._data


@router.get("/articles", summary="List articles, newest first; q narrows to titles and outlets")
def list_articles(request: Request, limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0),
                  source: str | None = None, q: str | None = None) -> dict:
    return request.app.state.service.list_articles(limit=limit, offset=offset, source=source, q=q)


@router.get("/articles/{article_id}", summary="One article: text and metadata")
def get_article(article_id: str, request: Request) -> dict:
    return request.app.state.service.get_article(article_id)


_ADD_BODY = {"requestBody": {"content": {
    "application/json": {"schema": {"oneOf": [
        {"type": "object", "description": "one article: title, text, url, source, published_at, authors"},
        {"type": "array", "items": {"type": "object"}},
        {"type": "object", "properties": {"articles": {"type": "array", "items": {"type": "object"}}}}]}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}}}


@router.post("/articles", summary="Add one or many articles (JSON, or files as multipart/form-data)",
             dependencies=[Depends(writer)], openapi_extra=_ADD_BODY)
async def add_articles(request: Request) -> dict:
    from starlette.concurrency import run_in_threadpool

    service = request.app.state.service
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data"):
        form = await request.form()
        files = [_File(part.filename or "upload", await part.read()) for _, part in form.multi_items()
                 if hasattr(part, "filename")]
        if not files:
            raise BadInput("The form holds no files: send them as 'files' parts.")
        return await run_in_threadpool(service.add_files, files)
    try:
        data = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.") from None
    records = data.get("articles") if isinstance(data, dict) and "articles" in data else data
    records = [records] if isinstance(records, dict) else records
    if not isinstance(records, list):
        raise BadInput("Send an article object, a list of them, or {\"articles\": [...]}.")
    return await run_in_threadpool(service.add_json, records)


@router.delete("/articles/{article_id}", summary="Remove one article", dependencies=[Depends(writer)])
def remove_article(article_id: str, request: Request) -> dict:
    result = request.app.state.service.remove([article_id])
    if result["unknown"]:
        raise ApiError(404, "article_not_found", f"There is no article with id '{article_id}'.")
    return result


@router.delete("/articles", summary="Remove articles by id (?id=...&id=...)", dependencies=[Depends(writer)])
def remove_articles(request: Request, id: list[str] = Query(..., min_length=1)) -> dict:  # noqa: A002
    return request.app.state.service.remove(id)


@router.post("/index/sync", summary="Index paths on the server, as `newsdesk index` does",
             dependencies=[Depends(writer)])
def sync(body: SyncRequest, request: Request) -> dict:
    return request.app.state.service.sync(body.paths)


@router.get("/status", summary="The `newsdesk status --json` object")
def status(request: Request) -> dict:
    return request.app.state.service.status()
