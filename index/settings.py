"""The one configuration object: read from NEWSDESK_* environment variables and .env, once."""

from __future__ import annotations

import os
import re
from importlib.util import find_spec
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting newsdesk has. Create it once (``Settings()``) and pass it down."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSDESK_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    home: Path = Field(Path("./.newsdesk"), description="Where all index data lives.")
    collection: str = Field("newsdesk", description="Chroma collection name.")
    chroma_host: str | None = Field(None, description="Chroma server host; unset = embedded store under home.")
    chroma_port: int | None = Field(None, description="Chroma server port (default 8000 when a host is set).")
    chroma_ssl: bool = Field(False, description="Use https to reach the Chroma server.")
    embedder: Literal["minilm", "openai"] = Field("minilm", description="Embedding model: packaged offline MiniLM or OpenAI.")
    openai_embedding_model: str = Field("text-embedding-3-small", description="OpenAI embedding model name.")
    openai_api_key: SecretStr | None = Field(None, description="Key for OpenAI embeddings (falls back to OPENAI_API_KEY).")
    openai_base_url: str | None = Field(None, description="Base URL of an OpenAI-compatible embeddings endpoint (falls back to OPENAI_BASE_URL).")
    chunk_size: int = Field(224, ge=32, le=8192, description="Chunk size in tiktoken (cl100k_base) tokens; 224 keeps title + chunk within MiniLM's 256 word pieces.")
    chunk_overlap: int = Field(32, ge=0, description="Overlap between neighbouring chunks, in tokens.")
    embed_batch_size: int = Field(8, ge=1, le=1024, description="Texts per embedding call.")
    write_batch_chunks: int = Field(256, ge=1, description="Chunks embedded and committed together while indexing.")
    max_article_mb: float = Field(5.0, gt=0, description="Single-article files and JSON lines larger than this are skipped.")

    # answering
    answer_mode: Literal["auto", "llm", "extractive"] = Field("auto", description="auto = llm when an LLM is configured, else extractive.")
    llm: Literal["none", "local", "remote"] | None = Field(
        None, description="none = extractive only; local = a packaged Qwen model served by llama.cpp on 127.0.0.1 "
                          "(NEWSDESK_LOCAL_MODEL); remote = NEWSDESK_LLM_BASE_URL/MODEL. Unset: remote when a model "
                          "is configured, else none.")
    local_model: Literal["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"] = Field(
        "qwen2.5-coder-1.5b", description="The local model NEWSDESK_LLM=local serves.")
    models_dir: Path | None = Field(None, description="Where local models are assembled (default: the user's cache dir).")
    llm_threads: int | None = Field(None, ge=1, description="llama.cpp threads for the local model (default: every core).")
    local_evidence_tokens: int = Field(150, ge=64, description="Token budget for the evidence sent to a local model "
                                       "(the best sentences and their neighbours). 150: on 16 RealTime QA "
                                       "questions it lost no accuracy against 300 and 600 and gave the 1.5B a first "
                                       "token p50 of 5.7 s (300: 8.7 s); README, 'The default, measured'.")
    local_ctx_tokens: int = Field(2048, ge=512, description="Context window of the local llama.cpp server.")
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint (falls back to OPENAI_BASE_URL).")
    llm_model: str | None = Field(None, description="Model name at the endpoint (e.g. gpt-4o-mini, llama3.1, gemma).")
    llm_api_key: SecretStr | None = Field(None, description="Key for the endpoint (falls back to OPENAI_API_KEY).")
    llm_api: Literal["chat", "completions"] = Field("chat", description="chat completions, or plain completions for base models.")
    llm_timeout: float = Field(60.0, gt=0, description="Seconds before one LLM request gives up.")
    llm_max_retries: int = Field(2, ge=0, le=10, description="Retries with backoff on 429, 5xx and connection errors.")
    llm_max_tokens: int = Field(300, ge=16, description="Longest answer, in tokens.")
    context_tokens: int = Field(3000, ge=256, description="Token budget for the evidence sent to the LLM.")
    top_k: int = Field(8, ge=1, le=50, description="Evidence chunks per question.")
    as_of_window_days: int = Field(10, ge=0, description="With --as-of and no date in the question, prefer articles "
                                                         "of this many days before it (0: off).")

    @field_validator("collection")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]", value):
            raise ValueError("collection names are 3-512 characters of letters, digits, '.', '_' and '-'")
        return value

    @property
    def server_mode(self) -> bool:
        return bool(self.chroma_host)

    @property
    def store_location(self) -> str:
        if self.server_mode:
            scheme = "https" if self.chroma_ssl else "http"
            return f"{scheme}://{self.chroma_host}:{self.chroma_port or 8000} (collection {self.collection})"
        return f"{(self.home / 'chroma').resolve()} (collection {self.collection})"

    @property
    def catalog_path(self) -> Path:
        """The catalog belongs to one store and collection: one file each, all under home."""
        if self.server_mode:
            name = f"catalog-{self.chroma_host}-{self.chroma_port or 8000}-{self.collection}.sqlite"
        elif self.collection != "newsdesk":
            name = f"catalog-{self.collection}.sqlite"
        else:
            name = "catalog.sqlite"
        return self.home / re.sub(r"[^A-Za-z0-9._-]", "_", name)

    @property
    def llm_kind(self) -> str:
        """none, local or remote: which LLM answers (see ``llm``)."""
        if self.llm is not None:
            return self.llm
        return "remote" if self.llm_model and (self.resolved_llm_base_url() or self.resolved_llm_key()) else "none"

    @property
    def llm_configured(self) -> bool:
        return self.llm_kind != "none"

    @property
    def llm_name(self) -> str | None:
        """The model that answers in llm mode, as shown to people and written into eval runs."""
        kind = self.llm_kind
        return self.local_model if kind == "local" else self.llm_model if kind == "remote" else None

    def resolved_llm_key(self) -> str | None:
        if self.llm_api_key is not None:
            return self.llm_api_key.get_secret_value()
        return os.environ.get("OPENAI_API_KEY")

    def resolved_llm_base_url(self) -> str | None:
        return self.llm_base_url or os.environ.get("OPENAI_BASE_URL")

    def resolved_openai_key(self) -> str | None:
        if self.openai_api_key is not None:
            return self.openai_api_key.get_secret_value()
        return os.environ.get("OPENAI_API_KEY")

    def resolved_openai_base_url(self) -> str | None:
        return self.openai_base_url or os.environ.get("OPENAI_BASE_URL")


def tiktoken_cache_dir() -> Path:
    """llama-index-core ships the cl100k_base and o200k_base BPE files; tiktoken would download them."""
    spec = find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llama-index-core is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "_static" / "tiktoken_cache"


def configure_runtime() -> None:
    """Process-wide set-up that must happen before the first tiktoken call. Idempotent."""
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(tiktoken_cache_dir()))
    # Chroma's client would otherwise try to send telemetry over the network.
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
