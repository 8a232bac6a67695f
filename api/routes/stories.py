"""Stories through HTTP: /v1/stories (newest first), /v1/stories/{id} and /v1/stories/{id}/timeline.

Read-only, like the questions: any key may read them. An unknown story id is 404 ``story_not_found``.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Request

router = APIRouter(prefix="/v1", tags=["stories"])


@router.get("/stories", summary="Stories (articles about one event, across outlets and days), newest first")
def list_stories(request: Request, since: date | None = Query(None, description="only stories reported on or after"),
                 limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0)) -> dict:
    return request.app.state.service.list_stories(since=since.isoformat() if since else None, limit=limit,
                                                  offset=offset)


@router.get("/stories/{story_id}", summary="One story: title, dates, outlets and its articles, oldest first")
def get_story(story_id: str, request: Request) -> dict:
    return request.app.state.service.get_story(story_id)


@router.get("/stories/{story_id}/timeline",
            summary="A story's timeline: dated entries with verbatim quotes, the facts that moved, the reports that "
                    "disagree")
def story_timeline(story_id: str, request: Request) -> dict:
    return request.app.state.service.story_timeline(story_id)
