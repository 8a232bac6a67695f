"""The ui and service groups: what the Streamlit app shows, and the HTTP API and MCP server."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from settings.base import ENV as _ENV


class UISettings(BaseSettings):
    """What the Streamlit app shows."""

    model_config = _ENV

    max_article_chars_shown: int = Field(200_000, ge=1_000, description="The 'whole article' expander shows at most "
                                                                        "this much (Streamlit slows on huge markdown).")
    paragraph_context_chars: int = Field(400, ge=50, description="Around a quote, when its paragraph is very long.")
    nearest_shown: int = Field(5, ge=1, description="Nearest articles listed under a refusal.")


class ServiceSettings(BaseSettings):
    """The HTTP API, the MCP server, API keys and limits for many users at once."""

    model_config = _ENV

    api_host: str = Field("127.0.0.1", description="Interface `newsdesk serve` binds (a choice: this machine only; "
                                                  "any other needs API keys: docs/guides/api-and-mcp.md).")
    api_port: int = Field(8700, ge=1, le=65535, description="Port of `newsdesk serve` (a choice: a free, memorable one).")
    api_workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes (a choice: one per 2 cores; "
                                                         "several share one index best through a Chroma server).")
    api_rate_per_minute: int = Field(120, ge=1, description="Requests per minute per API key (per client address "
                                                            "without keys), per worker: a choice, 2 a second, far above "
                                                            "a person asking and below what 2 cores answer in llm mode.")
    api_max_body_mb: float = Field(25.0, gt=0, description="Largest request body in MB (413 above it): a choice, room "
                                                           "for a few JSONL files of articles; larger batches go through "
                                                           "/v1/index/sync on the server.")
    api_answer_threads: int = Field(4, ge=1, description="Extractive answers computed at once per worker; the rest "
                                    "wait without holding a thread, so writes and searches are not queued behind "
                                    "them (bench api, 50 chat clients: 2 of 4 writes timed out at 120 s when answers "
                                    "could take all 40 of the pool's threads). 4 = two per core: a choice.")
    llm_concurrency: int = Field(1, ge=1, le=64, description="Answers written by a model at the same time: 1 because "
                                                             "the local model already uses every core (docs/benchmarks, "
                                                             "local models).")
    llm_queue_size: int = Field(8, ge=0, description="Answers that may wait for a model slot; one more is refused with "
                                                     "503 and Retry-After (a choice: 8 waiting x ~6 s each stays "
                                                     "under a minute at the measured 1.5B p50).")
    llm_retry_after_s: int = Field(10, ge=1, description="Retry-After seconds sent with a full queue's 503 (a choice: "
                                                         "about one local answer's p50).")
    sync_roots: str = Field("", description="Folders on the server that /v1/index/sync may index, separated by "
                                            "os.pathsep (':'); empty = none (a choice: safe by default).")
    ui_read_only: bool = Field(False, description="The Streamlit app hides the Library's write actions (upload, "
                                                  "paste, folder, re-index, delete): a choice for serving it beyond "
                                                  "this machine.")
    api_url: str | None = Field(None, description="The Streamlit chat asks this newsdesk API (e.g. "
                                                  "http://127.0.0.1:8700) instead of answering in its own process, so "
                                                  "many app processes share one service; unset = in process (a choice).")
    api_key: SecretStr | None = Field(None, description="The key the Streamlit chat sends to NEWSDESK_API_URL as a "
                                                        "Bearer token, when that service has keys (`newsdesk keys "
                                                        "create`); never logged or shown.")

    @property
    def sync_root_paths(self) -> list[Path]:
        """The configured sync roots, resolved (symlinks followed), empty entries dropped."""
        return [Path(p).expanduser().resolve() for p in self.sync_roots.split(os.pathsep) if p.strip()]
