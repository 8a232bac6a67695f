"""The OpenAI-compatible chat schema: requests in, ``chat.completion`` objects and SSE chunks out.

The last user message is the question; earlier user messages are the conversation (``NewsDesk``
rewrites a follow-up with them). The answer keeps its inline ``[n]`` markers; its citations come back
in a ``citations`` field of the message (and of the final stream chunk), and a "Sources" list is
appended to the text so that a plain client shows where each claim came from.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from errors import BadInput
from rag.types import Answer

MODELS = {"newsdesk": None, "newsdesk-extractive": "extractive"}  # model name -> answer mode (None: the setting's)


class NewsdeskOptions(BaseModel):
    """The optional ``newsdesk`` object of a chat request: filters and the answerer."""

    model_config = ConfigDict(extra="forbid")

    as_of: str | None = Field(None, description="Answer as of this date: later articles are ignored.")
    since: str | None = Field(None, description="Only articles published on or after this date.")
    until: str | None = Field(None, description="Only articles published on or before this date.")
    sources: list[str] | None = Field(None, description="Only these outlets, e.g. ['cnn.com'].")
    k: int | None = Field(None, ge=1, le=50, description="Evidence chunks (default NEWSDESK_TOP_K).")
    mode: Literal["llm", "extractive"] | None = Field(None, description="The answerer (default: the model's).")


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: keep the text ones
            return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """OpenAI's chat request; sampling fields (temperature, max_tokens, ...) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = Field("newsdesk", description="newsdesk (the configured answerer) or newsdesk-extractive.")
    messages: list[ChatMessage] = Field(..., min_length=1)
    stream: bool = False
    newsdesk: NewsdeskOptions | None = None

    def question_and_history(self) -> tuple[str, list[str]]:
        users = [m.text().strip() for m in self.messages if m.role == "user"]
        users = [u for u in users if u]
        if not users:
            raise BadInput("The messages hold no user message with text: the last one is the question.")
        return users[-1], users[:-1]

    def options(self) -> dict:
        options = (self.newsdesk or NewsdeskOptions()).model_dump()
        if options["mode"] is None:
            options["mode"] = MODELS.get(self.model)
        return options


def sources_text(answer: Answer) -> str:
    """The "Sources" list a plain client shows under the answer."""
    if not answer.citations:
        return ""
    lines = ["", "", "Sources:"]
    for c in answer.citations:
        date = c.published_at[:10] if c.published_at else "date unknown"
        where = f"{c.source or 'unknown outlet'}, {date}"
        lines.append(f"[{c.n}] {c.title} ({where})" + (f" {c.url}" if c.url else ""))
    return "\n".join(lines)


def newsdesk_extra(answer: Answer) -> dict:
    data = answer.to_dict()
    return {"refused": answer.refused, "mode": answer.mode, "retrieved": data["retrieved"], "notes": answer.notes,
            "standalone_question": answer.standalone_question, "timings_ms": data["timings_ms"]}


def _usage(answer: Answer) -> dict | None:
    if not answer.usage:
        return None
    prompt, completion = answer.usage.get("prompt_tokens", 0), answer.usage.get("completion_tokens", 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion(answer: Answer, model: str) -> dict:
    citations = [c.to_dict() for c in answer.citations]
    body = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": answer.answer + sources_text(answer),
                                     "citations": citations}}],
            "citations": citations, "newsdesk": newsdesk_extra(answer)}
    usage = _usage(answer)
    if usage:
        body["usage"] = usage
    return body


class ChunkWriter:
    """SSE ``chat.completion.chunk`` events of one streamed answer."""

    def __init__(self, model: str) -> None:
        self.id, self.model, self.created = f"chatcmpl-{uuid.uuid4().hex}", model, int(time.time())

    def _event(self, delta: dict, finish: str | None = None, **extra) -> bytes:
        chunk = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode("utf-8")

    def start(self) -> bytes:
        return self._event({"role": "assistant", "content": ""})

    def text(self, piece: str) -> bytes:
        return self._event({"content": piece})

    def final(self, answer: Answer) -> bytes:
        extra = {"citations": [c.to_dict() for c in answer.citations], "newsdesk": newsdesk_extra(answer)}
        usage = _usage(answer)
        if usage:
            extra["usage"] = usage
        return self._event({}, "stop", **extra)

    @staticmethod
    def error(type_: str, message: str) -> bytes:
        """An error after the stream began: OpenAI's clients raise it as an APIError."""
        return f"data: {json.dumps({'error': {'type': type_, 'message': message}})}\n\n".encode("utf-8")

    @staticmethod
    def done() -> bytes:
        return b"data: [DONE]\n\n"
