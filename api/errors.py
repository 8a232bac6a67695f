"""Every error the HTTP API answers is JSON ``{"error": {"type", "message"}}`` with its status code.

newsdesk's own errors (``errors.NewsdeskError``) keep their one-sentence message; FastAPI's validation
errors become one sentence naming the fields; anything unexpected is a 500 whose message says nothing
about the request (the traceback goes to the server's log, never to the client).
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from errors import (BadInput, BadUpload, DiskFull, EmbedderMismatch, IndexBusy, IndexEmpty, LLMError, NewsdeskError,
                    NotFound, RunInProgress, StoreUnavailable)

log = logging.getLogger("newsdesk.api")

# (status, Retry-After seconds or None), most specific class first
_STATUS: list[tuple[type[NewsdeskError], int, int | None]] = [
    (BadUpload, 400, None), (NotFound, 404, None), (BadInput, 400, None), (IndexBusy, 409, 5),
    (IndexEmpty, 409, None), (StoreUnavailable, 503, 5), (DiskFull, 507, None), (EmbedderMismatch, 409, None),
    (LLMError, 502, None), (RunInProgress, 409, None),
]


class ApiError(Exception):
    """An error the API answers as it is: status, machine-readable type, one-sentence message."""

    def __init__(self, status: int, type_: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.type, self.message, self.headers = status, type_, message, headers or {}


def error_response(status: int, type_: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"type": type_, "message": message}}, status_code=status, headers=headers)


def error_type(error: BaseException) -> str:
    """``StoreUnavailable`` -> ``store_unavailable``, ``LLMError`` -> ``llm_error`` (an acronym is one word)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", type(error).__name__).lower()


def newsdesk_error(error: NewsdeskError) -> ApiError:
    for cls, status, retry in _STATUS:
        if isinstance(error, cls):
            return ApiError(status, error_type(error), str(error), {"Retry-After": str(retry)} if retry else None)
    return ApiError(500, error_type(error), str(error))


def _validation_message(error: RequestValidationError) -> tuple[int, str, str]:
    problems = error.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        return 400, "invalid_json", "The request body is not valid JSON."
    parts = []
    for p in problems[:5]:
        where = ".".join(str(x) for x in p.get("loc", ()) if x != "body") or "body"
        parts.append(f"{where}: {p.get('msg', 'invalid')}")
    return 422, "invalid_request", "Invalid request: " + "; ".join(parts) + "."


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> JSONResponse:
        return error_response(error.status, error.type, error.message, error.headers)

    @app.exception_handler(NewsdeskError)
    async def _newsdesk_error(request: Request, error: NewsdeskError) -> JSONResponse:
        api = newsdesk_error(error)
        return error_response(api.status, api.type, api.message, api.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        status, type_, message = _validation_message(error)
        return error_response(status, type_, message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        types = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}
        message = error.detail if isinstance(error.detail, str) else "The request could not be served."
        if error.status_code == 404 and message == "Not Found":
            message = f"There is no endpoint at {request.url.path}; see /docs."
        return error_response(error.status_code, types.get(error.status_code, "http_error"), message,
                              dict(error.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error serving %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "The server failed on this request; the error is in its log.")
