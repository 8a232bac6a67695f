"""The index and retrieval groups: files -> chunks -> store, and a question -> evidence."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from settings.base import ENV as _ENV


POSTGRES_NEEDS_CHROMA_SERVER = (
    "a PostgreSQL catalog is shared between hosts, and the embedded Chroma store is not: set NEWSDESK_CHROMA_HOST "
    "to a Chroma server, or unset NEWSDESK_CATALOG_URL to keep the SQLite catalog")

# Seconds a PostgreSQL catalog may take to give a connection (to connect, or to free one of its pool) before its
# server counts as unreachable. A stopped server refuses at once; this bounds a host that does not answer, so a
# question fails within a few seconds instead of hanging, and a query of the catalog takes milliseconds, so a
# busy pool frees a connection well within it. (libpq's connect_timeout takes whole seconds, at least 2.)
CATALOG_WAIT_S = 5


def catalog_is_postgres(url: str | None) -> bool:
    return bool(url) and url.strip().lower().startswith(("postgresql://", "postgres://"))


def redact_url(url: str) -> str:
    """``url`` without its password (the user name, host, port and database stay: they say where)."""
    parts = urlsplit(url.strip())
    if parts.password is None:
        return url.strip()
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def schema_for(collection: str) -> str:
    """``newsdesk_<collection>``: lower case letters, digits and '_' only (quoted nowhere, safe everywhere),
    within PostgreSQL's 63 characters (a long name keeps a hash of the whole so two never meet)."""
    name = "newsdesk_" + re.sub(r"[^a-z0-9_]", "_", collection.lower())
    if len(name) > 63:
        name = name[:54] + "_" + hashlib.sha256(collection.encode("utf-8")).hexdigest()[:8]
    return name


class IndexSettings(BaseSettings):
    """Files -> articles -> chunks -> Chroma + catalog."""

    # a catalog URL may carry a password: validation errors never echo the values given
    model_config = SettingsConfigDict(**_ENV, hide_input_in_errors=True)

    home: Path = Field(Path("./.newsdesk"), description="Where all index data lives.")
    collection: str = Field("newsdesk", description="Chroma collection name.")
    chroma_host: str | None = Field(None, description="Chroma server host; unset = embedded store under home.")
    chroma_port: int | None = Field(None, description="Chroma server port (default 8000 when a host is set).")
    chroma_ssl: bool = Field(False, description="Use https to reach the Chroma server.")
    catalog_url: SecretStr | None = Field(
        None, description="Where the catalog lives: unset = a SQLite file under home; a postgresql:// URL = a "
                          "PostgreSQL database, one schema per collection (newsdesk_<collection>, made when "
                          "missing), shared by every host that names it; needs a Chroma server "
                          "(NEWSDESK_CHROMA_HOST). Shown without its password.")
    embedder: Literal["minilm", "openai"] = Field("minilm", description="Embedding model: packaged offline MiniLM or OpenAI.")
    openai_embedding_model: str = Field("text-embedding-3-small", description="OpenAI embedding model name.")
    openai_api_key: SecretStr | None = Field(None, description="Key for OpenAI embeddings (falls back to OPENAI_API_KEY).")
    openai_base_url: str | None = Field(None, description="Base URL of an OpenAI-compatible embeddings endpoint "
                                                         "(falls back to OPENAI_BASE_URL).")
    chunk_size: int = Field(224, ge=32, le=8192, description="Chunk size in tiktoken (cl100k_base) tokens; 224 keeps "
                                                            "title + chunk within MiniLM's 256 word pieces.")
    chunk_overlap: int = Field(32, ge=0, description="Overlap between neighbouring chunks, in tokens (a sentence "
                                                     "cut at a chunk edge is whole in one of the two).")
    embed_batch_size: int = Field(8, ge=1, le=1024, description="Texts per embedding call: small length-sorted "
                                                               "batches were fastest on 2 cores (`newsdesk bench index`).")
    embed_threads: int | None = Field(None, ge=1, le=64, description="ONNX threads of the packaged embedder "
                                      "(unset: one per core, onnxruntime's default).")
    write_batch_chunks: int = Field(256, ge=1, description="Chunks embedded and committed together while indexing: "
                                                           "bounds memory to one batch, not the corpus.")
    max_article_mb: float = Field(5.0, gt=0, description="Single-article files and JSON lines larger than this are "
                                                         "skipped (a choice: no news article is near it).")
    bulk_max_mb: float = Field(200.0, gt=0, description="Uploaded JSONL files of many articles may be this large: "
                                                        "Streamlit's default server.maxUploadSize.")

    @field_validator("collection")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]", value):
            raise ValueError("collection names are 3-512 characters of letters, digits, '.', '_' and '-'")
        return value

    @field_validator("catalog_url")
    @classmethod
    def _catalog_url(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not catalog_is_postgres(value.get_secret_value()):
            raise ValueError("the catalog URL must start with postgresql:// (unset: the SQLite file under home)")
        if not info.data.get("chroma_host"):
            raise ValueError(POSTGRES_NEEDS_CHROMA_SERVER)
        return value

    @property
    def catalog_dsn(self) -> str | None:
        """The PostgreSQL URL of the catalog, password included (for connecting only; None: SQLite)."""
        return self.catalog_url.get_secret_value() if self.catalog_url is not None else None

    @property
    def catalog_schema(self) -> str:
        """The PostgreSQL schema of this collection's catalog: a safe identifier made from the collection."""
        return schema_for(self.collection)

    @property
    def catalog_location(self) -> str:
        """Where the catalog is, for people and logs (a PostgreSQL URL without its password)."""
        if self.catalog_dsn is None:
            return str(self.catalog_path.resolve())
        return f"{redact_url(self.catalog_dsn)} (schema {self.catalog_schema})"

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

    def resolved_openai_key(self) -> str | None:
        if self.openai_api_key is not None:
            return self.openai_api_key.get_secret_value()
        return os.environ.get("OPENAI_API_KEY")

    def resolved_openai_base_url(self) -> str | None:
        return self.openai_base_url or os.environ.get("OPENAI_BASE_URL")


class RetrievalSettings(BaseSettings):
    """Question -> ranked evidence: BM25 and dense lists fused, dates and sources filtered."""

    model_config = _ENV

    top_k: int = Field(8, ge=1, le=50, description="Evidence chunks per question (Hit@10 0.976 on realtimeqa-gold "
                                                   "with 8; the extractive answerer reads these).")
    as_of_window_days: int = Field(10, ge=0, description="With --as-of and no date in the question, prefer articles "
                                                         "of this many days before it (0: off). Hit@10 0.898 -> 0.956 "
                                                         "on realtimeqa-gold (`python -m evals.retrieval_report`).")
    question_windows: Literal["soft", "hard"] = Field(
        "hard", description="The date window a question's own words give ('in June 2022', 'on July 5'): soft "
                            "prefers it (articles outside rank lower), hard keeps only articles inside it. A "
                            "window given as an option (--since, --until) is always hard.")
    newer_reports: int = Field(3, ge=0, le=10, description="A question about the latest state of a story also reads "
                                                          "this many of the best articles newer than its top "
                                                          "evidence (rag.retriever.newer_reports).")
    candidates: int = Field(40, ge=1, description="Candidates per list (BM25, dense) and per query part before fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant: 60, the value of Cormack et al. (2009).")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense list in fusion (equal weights: a choice).")
    bm25_weight: float = Field(1.0, ge=0, description="Weight of the BM25 list in fusion.")
    per_article: int = Field(3, ge=1, description="Most chunks of one article in the evidence, so that k chunks "
                                                  "cover several articles.")
    recency_half_life_days: float = Field(21.0, gt=0, description="Recency boost of a dated chunk halves every this "
                                                                  "many days before the reference date.")
    soft_pass: Literal["both", "dense", "bm25"] = Field(
        "dense", description="What searches outside a soft date window: dense alone ranked as well as both on "
                             "realtimeqa-gold and costs one list less.")
    exact_window: int = Field(30_000, ge=0, description="Chunks: a filtered dense search scores at most this many "
                                                        "exactly from the catalog (about 3 us a chunk; "
                                                        "`newsdesk bench scale`).")
    max_neighbours: int = Field(8_000, ge=1, description="The most Chroma neighbours a post-filtered search asks for.")
    bm25_postings: int | None = Field(25_000, ge=1, description="BM25 searches the rarest question terms up to this "
                                                                "many matching chunks (Hit@k unchanged on RealTime QA; "
                                                                "bounded cost at 600k chunks, `newsdesk bench scale`).")
    bm25_title_weight: float = Field(0.6, ge=0, description="FTS5 bm25() weight of the title column (the body is 1.0): "
                                                            "titles repeat in every chunk of an article.")
    broad_window_share: float = Field(0.2, gt=0, le=1, description="A filter admitting at least this share of chunks "
                                                                   "is 'broad': BM25 ranks first and filters after.")
    broad_window_ranks: int = Field(2_000, ge=1, description="How deep a broad filtered BM25 looks before walking "
                                                             "the whole ranking.")
