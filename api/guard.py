"""The ASGI middleware in front of every request: API key, body size and rate limit.

It runs before FastAPI and before the MCP transport mounted at ``/mcp``, so both get the same rules:

- ``/v1/...`` and ``/mcp`` need a valid key once a key was created (``Authorization: Bearer KEY`` or
  ``X-API-Key: KEY``); with no key configured only clients on this machine are served;
- a body larger than ``NEWSDESK_API_MAX_BODY_MB`` is refused with 413 (by its Content-Length, or while
  it streams in);
- more than ``NEWSDESK_API_RATE_PER_MINUTE`` requests a minute from one key (or address) get 429 with
  Retry-After.

The key itself is never logged or echoed: messages name the key only by its name.
"""

from __future__ import annotations

import ipaddress
from typing import Callable

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response
from api.keys import ApiKey, KeyStore
from api.limits import RateLimiter

PROTECTED = ("/v1", "/mcp")
LOCAL_KEY = ApiKey("local", "", "", read_only=False, created="")  # who you are with no keys configured


def is_loopback(host: str | None) -> bool:
    if host in ("localhost", "testclient"):
        return True
    try:
        return ipaddress.ip_address((host or "").strip("[]")).is_loopback
    except ValueError:
        return False


def presented_key(headers: Headers) -> str | None:
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return headers.get("x-api-key") or None


class _TooLarge(HTTPException):
    """Raised while a body streams in past the limit; FastAPI's handlers answer it as 413."""

    def __init__(self, max_body: int) -> None:
        super().__init__(413, f"The request body is larger than {max_body / 1024 / 1024:g} MB "
                              "(NEWSDESK_API_MAX_BODY_MB); index large batches with /v1/index/sync.")


class GuardMiddleware:
    def __init__(self, app: ASGIApp, keys: KeyStore, limiter: RateLimiter, max_body_bytes: int) -> None:
        self.app, self.keys, self.limiter, self.max_body = app, keys, limiter, max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PROTECTED):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self._within_size(scope, receive, send, headers)

    def _refusal(self, scope: Scope, headers: Headers) -> Callable | None:
        client = (scope.get("client") or ("", 0))[0]
        if self.keys.configured():
            key = self.keys.check(presented_key(headers))
            if key is None:
                given = presented_key(headers) is not None
                message = ("The API key is not valid (unknown or revoked)." if given else
                           "An API key is required: send 'Authorization: Bearer KEY' (create one with "
                           "`newsdesk keys create NAME`).")
                return error_response(401, "invalid_api_key" if given else "missing_api_key", message,
                                      {"WWW-Authenticate": "Bearer"})
            identity = f"key:{key.name}"
        elif not is_loopback(client):
            return error_response(403, "keys_required", "This server has no API keys, so it serves this machine "
                                  "only: create one with `newsdesk keys create NAME`.")
        else:
            key, identity = LOCAL_KEY, f"addr:{client}"
        scope.setdefault("state", {})["api_key"] = key
        length = headers.get("content-length")
        if length and length.isdigit() and int(length) > self.max_body:
            return self._too_large()
        retry = self.limiter.retry_after(identity)
        if retry is not None:
            return error_response(429, "rate_limited", f"Too many requests for '{key.name}': at most "
                                  f"{self.limiter.per_minute} a minute; try again in {retry} s.",
                                  {"Retry-After": str(retry)})
        return None

    def _too_large(self):
        megabytes = self.max_body / 1024 / 1024
        return error_response(413, "body_too_large", f"The request body is larger than {megabytes:g} MB "
                              "(NEWSDESK_API_MAX_BODY_MB); index large batches with /v1/index/sync.")

    async def _within_size(self, scope: Scope, receive: Receive, send: Send, headers: Headers) -> None:
        """Counts a body sent without Content-Length (chunked) and stops it at the limit."""
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _TooLarge(self.max_body)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await self._too_large()(scope, receive, send)
