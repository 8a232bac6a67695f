"""/healthz (the process answers) and /readyz (a question can be answered now)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.errors import ApiError, error_type
from errors import NewsdeskError

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The server process is up")
def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz", summary="The index opens and the vector store answers (503 with the reason if not)")
def readyz(request: Request) -> dict:
    try:
        return request.app.state.service.ready()
    except NewsdeskError as error:  # not ready, whatever the reason: 503 with it
        raise ApiError(503, error_type(error), str(error), {"Retry-After": "5"}) from None
