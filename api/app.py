"""The FastAPI application: ``create_app(settings)`` (importable, for tests, benchmarks and other faces).

Routes live in ``api/routes``; the MCP server's streamable HTTP transport is served at ``/mcp`` of the
same app (stateless JSON responses, so any worker can answer any request); ``api.guard`` checks keys,
sizes and rates in front of both. ``create_app_from_env`` is the factory ``uvicorn --workers N`` calls
in each worker process.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from mcp.server.transport_security import TransportSecuritySettings

from api.errors import install_error_handlers
from api.guard import GuardMiddleware, is_loopback
from api.limits import RateLimiter
from api.mcp_server import build_mcp
from api.routes import answers, articles, health, stories
from api.service import Service
from errors import BadInput
from settings import Settings

DESCRIPTION = """Cited answers from your news articles. OpenAI-compatible chat at `/v1/chat/completions`
(models `newsdesk` and `newsdesk-extractive`), the MCP server at `/mcp`. Send `Authorization: Bearer KEY`
when the server has API keys (`newsdesk keys create NAME`). Every error is `{"error": {"type", "message"}}`."""


def create_app(settings: Settings, service: Service | None = None, host: str | None = None) -> FastAPI:
    """The app for these settings. ``host``: the interface it will listen on (default the setting), which
    decides whether the MCP transport checks Host headers against DNS rebinding (on this machine only)."""
    service = service or Service(settings)
    host = host or settings.service.api_host
    max_body = int(settings.service.api_max_body_mb * 1024 * 1024)
    mcp = build_mcp(service)
    local = is_loopback(host)
    security = None if local else TransportSecuritySettings(enable_dns_rebinding_protection=False)  # keys required
    mcp_app = mcp.streamable_http_app(streamable_http_path="/mcp", stateless_http=True, json_response=True,
                                      max_request_body_size=max_body, transport_security=security,
                                      host="127.0.0.1" if local else host)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with mcp.session_manager.run():
            yield
        service.close()

    app = FastAPI(title="newsdesk", version="1", description=DESCRIPTION, lifespan=lifespan)
    app.state.service = service
    app.state.settings = settings
    install_error_handlers(app)
    for router in (health.router, answers.router, articles.router, stories.router):
        app.include_router(router)
    app.router.routes.extend(mcp_app.routes)
    app.add_middleware(GuardMiddleware, keys=service.keys, limiter=RateLimiter(settings.service.api_rate_per_minute),
                       max_body_bytes=max_body)
    return app


def create_app_from_env() -> FastAPI:
    """The app of ``Settings()`` (environment and .env): what each uvicorn worker process builds."""
    from index.runtime import configure_runtime

    configure_runtime()
    return create_app(Settings())


def check_bind(host: str, service: Service) -> str | None:
    """Refuses a public bind without keys; returns a note to print (or None)."""
    if service.keys.any_active():
        return None
    if not is_loopback(host):
        raise BadInput(f"Refusing to listen on {host} without API keys: anyone who can reach it could add and "
                       "remove articles. Create a key with `newsdesk keys create NAME`, or listen on 127.0.0.1.")
    return (f"No API keys are configured: listening on {host} only, for this machine "
            "(create one with `newsdesk keys create NAME` to serve others).")
