"""The one settings tree: every setting and threshold newsdesk has, in seven groups.

``Settings()`` reads ``NEWSDESK_*`` environment variables and ``.env`` once; pass it down. Each value
is read from the environment variable named after its field (``NEWSDESK_TOP_K`` -> ``retrieval.top_k``),
so the names in the README are the names here. Each value says where it came from: a measurement
(with the command or README section that reproduces it), a limit of a model or library, or a choice.

- ``index``: where the index lives, how articles become chunks and vectors;
- ``retrieval``: how a question finds evidence (hybrid BM25 + dense, dates, sources);
- ``answer``: how evidence becomes a checked answer (extractive scoring, citation support);
- ``llm``: which model writes answers, and how it is reached;
- ``ui``: what the Streamlit app shows;
- ``ingest``: watched folders, feeds, the embedding queue, wire copies, what the status view reports;
- ``service``: the HTTP API, the MCP server, API keys, rate and size limits, the LLM queue.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from errors import BadInput

_ENV = SettingsConfigDict(env_prefix="NEWSDESK_", env_file=".env", env_file_encoding="utf-8", extra="ignore",
                          populate_by_name=True)


class IndexSettings(BaseSettings):
    """Files -> articles -> chunks -> Chroma + catalog."""

    model_config = _ENV

    home: Path = Field(Path("./.newsdesk"), description="Where all index data lives.")
    collection: str = Field("newsdesk", description="Chroma collection name.")
    chroma_host: str | None = Field(None, description="Chroma server host; unset = embedded store under home.")
    chroma_port: int | None = Field(None, description="Chroma server port (default 8000 when a host is set).")
    chroma_ssl: bool = Field(False, description="Use https to reach the Chroma server.")
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


class AnswerSettings(BaseSettings):
    """Evidence -> answer -> checked citations."""

    model_config = _ENV

    answer_mode: Literal["auto", "llm", "extractive"] = Field(
        "auto", description="auto = llm when an LLM is configured, else extractive.")
    context_tokens: int = Field(3000, ge=256, description="Token budget for the evidence sent to a remote LLM.")
    local_evidence_tokens: int = Field(
        300, ge=64, description="Token budget for the evidence a local model reads (the best articles' best sentences "
                                "and their neighbours). 300: on archive-qa's tuning half (odd ids) the 1.5B was right "
                                "on more questions than at 150 and about as often as at 600, with a first token p50 "
                                "within 8 s on 2 cores (docs/benchmarks, `newsdesk eval --suite archive-qa --split "
                                "odd` with NEWSDESK_LOCAL_EVIDENCE_TOKENS=150, 300, 600).")
    answer_format: Literal["auto", "sentences", "prose"] = Field(
        "auto", description="How a model answers: sentences = it picks the numbered evidence sentence that states "
                            "the answer and copies the answer, in JSON held to a schema (rag/reader.py); prose = it "
                            "writes sentences with [n] markers, checked as they stream (rag/generative.py). auto: "
                            "sentences for the local model (on archive-qa's tuning half the 1.5B answered 15 of 23 "
                            "one-article questions right so, 9 in prose: docs/benchmarks), prose for a remote one.")
    reader_articles: int = Field(3, ge=1, le=10, description="Local model: the most articles it reads (fewer "
                                                             "distract a small model less).")
    reader_margin: float = Field(0.15, ge=0, le=1, description="Local model: an article is read when its best "
                                                               "sentence scores within this of the best one.")
    evidence_anchors: int = Field(3, ge=0, description="LLM evidence: the best this many sentences bring their "
                                                       "neighbours along (README, 'Small-model prompts'). Set with "
                                                       "the compressed evidence of issue 10; not measured apart.")
    anchor_neighbours: int = Field(1, ge=0, description="LLM evidence: sentences kept on each side of an anchor "
                                                        "while the budget lasts (a choice of issue 10, like "
                                                        "evidence_anchors).")
    refuse_below: float = Field(
        0.38, ge=0, le=1, description="Extractive: a sentence scoring below this is never the answer. "
                                      "realtimeqa-gold accuracy / false refusals / refusal recall: 0.35: 0.481 / "
                                      "0.121 / 0.967; 0.38: 0.476 / 0.146 / 1.000; 0.40: 0.466 / 0.160 / 1.000 "
                                      "(`newsdesk eval --suite realtimeqa-gold --mode extractive`).")
    evidence_chunks: int = Field(8, ge=1, description="Extractive: sentences are read from this many best chunks "
                                                      "(the retrieval's top_k).")
    model_fallback: bool = Field(
        True, description="In llm mode, when nothing the model wrote can be verified (not when it declines), show "
                          "the extractive answer if a sentence of the evidence holds what is asked (else the "
                          "refusal stands). Measured in the README, 'When the model does not answer'.")
    model_check: bool | None = Field(
        None, description="In llm mode, a sentence that repeats words of the question which no retrieved article "
                          "text holds is shown only if the answering model, asked, says its quote states it "
                          "(rag/claim_check.py). Unset: on for remote endpoints and the local 1.5B, off for the "
                          "local 0.5B, which said no to all 50 such claims of both models, 46 of them right answers "
                          "(the 1.5B said yes to its 23 right ones, no to its wrong one and to the airline "
                          "question; README, 'The model's check').")
    cosine_weight: float = Field(0.6, ge=0, le=1, description="Extractive sentence score = this x cosine + the rest x "
                                                              "shared question stems (a choice, kept since the "
                                                              "first realtimeqa-gold runs).")
    answer_type_weight: float = Field(0.0, ge=0, le=1, description="Added to the score of an evidence sentence "
                                      "that holds what the question asks for (a name for 'who', a count for 'how "
                                      "many': rag.asked.holds).")
    support_lexical: float = Field(
        0.5, ge=0, le=1, description="A written sentence is supported by its quote when at least this share of its "
                                     "content stems is in it (and numbers and names agree). Measured with the other "
                                     "two as set (`python -m evals.calibrate_support`, MiniLM): precision 0.79 / "
                                     "recall 0.83 of 'supported' on the 44 hand-labelled pairs, false support 0.37% "
                                     "on 806 pairs of a claim and another sentence of its article and 1.47% on 1,500 "
                                     "pairs of sentences of one gold article; 0.4-0.6 keep the labelled figures (0.6: "
                                     "1.20%), 0.7 drops recall to 0.78, 0.3 raises false support to 0.62% / 2.20%.")
    support_semantic: float = Field(
        0.62, ge=0, le=1, description="... or when the embeddings are at least this close and the lexical share "
                                      "reaches support_lexical_floor. Measured as above: no labelled pair depends on "
                                      "it (the labelled figures are the same from 0.5 to off); false support on "
                                      "sentence pairs 2.13% at 0.5, 1.47% at 0.62, 1.07% at 0.7, 0.87% off.")
    support_lexical_floor: float = Field(
        0.2, ge=0, le=1, description="Below this share of shared stems even a similar embedding does not support a "
                                     "claim. Measured as above: the labelled figures are the same from 0 to 0.5; "
                                     "false support on sentence pairs 1.60% at 0-0.1, 1.47% at 0.2, 0.87% at 0.4.")


@functools.lru_cache(maxsize=None)
def _local_model_installed(name: str) -> bool:
    """Whether the packaged local model and llama.cpp are installed (asked once per process)."""
    from llm.models import installed

    return installed(name)


class LLMSettings(BaseSettings):
    """Which model writes answers, and how it is reached (one OpenAI-compatible path, local or remote)."""

    model_config = _ENV

    choice: Literal["none", "local", "remote"] | None = Field(
        None, validation_alias="NEWSDESK_LLM",
        description="none = extractive only; local = a packaged Qwen model served by llama.cpp on 127.0.0.1 "
                    "(NEWSDESK_LOCAL_MODEL); remote = NEWSDESK_LLM_BASE_URL/MODEL. Unset: remote when a model "
                    "is configured, else local when the local model is installed (`make run` installs it), "
                    "else none: the CLI, the API and the app answer alike.")
    local_model: Literal["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"] = Field(
        "qwen2.5-coder-1.5b", description="The local model NEWSDESK_LLM=local serves: the most accurate one whose "
                                          "whole answer p50 is <= 20 s on 2 cores (README, 'The default, measured').")
    models_dir: Path | None = Field(None, description="Where local models are assembled (default: the user's cache dir).")
    llm_threads: int | None = Field(None, ge=1, description="llama.cpp threads for the local model (default: every core).")
    local_ctx_tokens: int = Field(2048, ge=512, description="Context window of the local llama.cpp server: the "
                                                            "prompt p50 is about 535 tokens at the default budget.")
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint (falls back to OPENAI_BASE_URL).")
    llm_model: str | None = Field(None, description="Model name at the endpoint (e.g. gpt-4o-mini, llama3.1, gemma).")
    llm_api_key: SecretStr | None = Field(None, description="Key for the endpoint (falls back to OPENAI_API_KEY).")
    llm_api: Literal["chat", "completions"] = Field("chat", description="chat completions, or plain completions for "
                                                                        "base models.")
    llm_timeout: float = Field(60.0, gt=0, description="Seconds before one LLM request gives up.")
    llm_max_retries: int = Field(2, ge=0, le=10, description="Retries with backoff on 429, 5xx and connection errors.")
    llm_max_tokens: int = Field(300, ge=16, description="Longest answer, in tokens (answers are a few sentences).")

    @property
    def kind(self) -> str:
        """none, local or remote: which LLM answers (see ``choice``)."""
        if self.choice is not None:
            return self.choice
        if self.llm_model and (self.resolved_base_url() or self.resolved_key()):
            return "remote"
        return "local" if _local_model_installed(self.local_model) else "none"

    @property
    def configured(self) -> bool:
        return self.kind != "none"

    @property
    def name(self) -> str | None:
        """The model that answers in llm mode, as shown to people and written into eval runs."""
        kind = self.kind
        return self.local_model if kind == "local" else self.llm_model if kind == "remote" else None

    def resolved_key(self) -> str | None:
        if self.llm_api_key is not None:
            return self.llm_api_key.get_secret_value()
        return os.environ.get("OPENAI_API_KEY")

    def resolved_base_url(self) -> str | None:
        return self.llm_base_url or os.environ.get("OPENAI_BASE_URL")


class UISettings(BaseSettings):
    """What the Streamlit app shows."""

    model_config = _ENV

    max_article_chars_shown: int = Field(200_000, ge=1_000, description="The 'whole article' expander shows at most "
                                                                        "this much (Streamlit slows on huge markdown).")
    paragraph_context_chars: int = Field(400, ge=50, description="Around a quote, when its paragraph is very long.")
    nearest_shown: int = Field(5, ge=1, description="Nearest articles listed under a refusal.")


class IngestSettings(BaseSettings):
    """Watched folders, feeds, the embedding queue, wire-copy folding and what the status view reports."""

    model_config = _ENV

    # --- wire copies and versions (index/dedup.py, rag/wire.py) ---
    wire_threshold: float = Field(0.6, ge=0.1, le=0.9, description="Estimated Jaccard similarity of 5-word shingles from "
                                                               "which two articles are copies of one story (the LSH "
                                                               "threshold too). Measured on RealTime QA, 38 hand-"
                                                               "labelled pairs (`python -m evals.wire_report`): "
                                                               "precision 0.962, recall 0.844; 0.7 would miss three "
                                                               "labelled versions at 0.61-0.68.")
    wire_num_perm: int = Field(128, ge=64, le=1024, description="MinHash permutations per signature (datasketch's "
                                                                "default; a choice: +-0.04 on a Jaccard estimate; LSH "
                                                                "needs 2+ bands, so at most 0.9 for the threshold).")
    wire_shingle_words: int = Field(5, ge=1, le=20, description="Words per shingle (a choice: 5 keeps shared phrases "
                                                                "of one topic apart from shared passages of one copy).")
    wire_title_check_words: int = Field(300, ge=0, description="Texts shorter than this many words fold only when "
                                                               "their headlines agree too: identical site boilerplate "
                                                               "(35 The Week pages, 19 CNN ad forms in RealTime QA) "
                                                               "is that short.")
    wire_title_overlap: float = Field(0.6, gt=0, le=1, description="Headlines agree when they share two content "
                                                                   "words and this share of the shorter one's (0.5 "
                                                                   "folded The Week's boilerplate under 'Next Labour "
                                                                   "leader' and 'Next Tory leader').")
    wire_fold: bool = Field(True, description="Show one article per cluster in the evidence, the others as 'also "
                                              "reported by' (retrieval Hit@10 measured with and without it).")
    wire_listed: int = Field(10, ge=0, description="Most 'also reported by' entries kept per evidence (a choice).")
    # --- `newsdesk watch` (index/watch.py) ---
    watch_debounce_seconds: float = Field(1.0, gt=0, description="A file is read once this long has passed without "
                                                                 "an event for it and since its last write (a choice: "
                                                                 "editors and copies finish well within it).")
    watch_poll_seconds: float = Field(1.0, gt=0, description="How often the polling observer rescans, and how often "
                                                             "the watcher checks for folders that (re)appear (a choice).")
    watch_force_polling: bool = Field(False, description="Use watchdog's PollingObserver instead of OS file events "
                                                         "(network shares, containers without inotify); a choice.")
    watch_batch_files: int = Field(2000, ge=1, description="Most paths synced in one batch, so a burst is handled in "
                                                           "a few large syncs and SIGTERM is answered between them "
                                                           "(a choice).")
    watch_folder_files: int = Field(50, ge=1, description="When this many changed files share a folder, the folder is "
                                                          "synced as one path instead (a choice: one scan beats "
                                                          "thousands of per-file scopes).")
    watch_heartbeat_seconds: float = Field(5.0, gt=0, description="How often the watcher writes its heartbeat "
                                                                   "(catalog meta 'watcher'); a choice.")
    watch_retry_seconds: float = Field(30.0, gt=0, description="After a failed sync (disk full, store down) the "
                                                               "watcher retries after this long, doubling up to 10 "
                                                               "minutes (a choice).")
    # --- feeds (index/feeds.py, index/fetch.py) ---
    feed_interval_seconds: float = Field(900.0, ge=10, description="How often the watcher polls each feed: 15 minutes, "
                                                                   "the common RSS <ttl> and a polite default.")
    feed_timeout_seconds: float = Field(20.0, gt=0, description="Time allowed for one request: connecting and each "
                                                                "read wait at most this, and the whole body must "
                                                                "arrive within it too, not only each socket read "
                                                                "(a choice).")
    feed_max_mb: float = Field(5.0, gt=0, description="A feed or article page larger than this is refused and reading "
                                                      "stops there (a choice: large real feeds are under 2 MB).")
    feed_items_per_poll: int = Field(100, ge=1, description="Most new or changed items of one feed written per poll; "
                                                            "the rest wait for the next (a choice; feeds rarely list "
                                                            "more than 50).")
    feed_host_delay_seconds: float = Field(1.0, ge=0, description="Pause between two requests to the same host, one "
                                                                  "request at a time per host (a choice; a common "
                                                                  "crawl-delay).")
    feed_max_redirects: int = Field(5, ge=0, description="Redirects followed before a request is refused as a loop "
                                                         "(a choice; browsers allow about 20).")
    feed_user_agent: str = Field("newsdesk/0.1 (+https://github.com/newsdesk; feed reader)",
                                 description="User-Agent sent with every feed, page and robots.txt request (a choice: "
                                             "it names newsdesk).")
    feed_fetch_pages: bool = Field(True, description="Fetch each new item's article page and extract its text with "
                                                     "trafilatura (robots.txt permitting); off = feed text only.")
    feed_backoff_max_seconds: float = Field(21600.0, gt=0, description="Longest wait after repeated feed errors "
                                                                       "(6 hours; a choice).")

    watch_embed_threads: int | None = Field(None, ge=1, le=64, description="ONNX threads of a watcher's embedder "
                                            "(and `bench fresh`'s writer); unset: one per core. 1 (the other core "
                                            "left to questions) let the queue grow (bench fresh: 463 chunks "
                                            "waiting after 150 arrivals, against 271 with both cores).")
    watch_nice: int = Field(10, ge=0, le=19, description="How much lower the CPU priority of a watcher's (and `bench "
                            "fresh`'s writer's) embedding threads is than a reader's: its vectors take the cores "
                            "questions leave and yield them when a question comes, while its keyword commits keep "
                            "the normal priority (a choice, measured by bench fresh; 0: the same).")
    reader_reopen_chunks: int = Field(2000, ge=0, description="A reader (app, API, chat) scores the vectors another "
                                      "process committed since it loaded Chroma's index from the catalog, exactly "
                                      "(about 3 us a chunk), so no question waits for a reload; past this many "
                                      "such chunks it reloads the index in the background (about 0.3 s at 42,000 "
                                      "chunks, searches waiting). A choice: 2,000 is about 3 minutes of a one-"
                                      "article-a-second stream, a few ms a question.")
    embed_step_chunks: int = Field(16, ge=1, description="Pending chunks a watcher embeds between two checks for "
                                                         "new files (a new arrival waits for one step): 16 gave "
                                                         "keyword-answerable p50 5.4 s vs 18.0 s at 64 (`newsdesk "
                                                         "bench fresh --minutes 1 --rate 1 --base 300`, shared 2 cores).")
    stale_after_hours: float = Field(24.0, gt=0, description="The chat warns when the index was not updated for "
                                                             "longer than this (a choice: news goes stale in a day).")
    watcher_alive_seconds: float = Field(120.0, gt=0, description="A watcher whose heartbeat is older than this is "
                                                                  "shown as 'last seen' instead of running (a choice: "
                                                                  "several heartbeats missed).")
    lag_window_hours: float = Field(24.0, gt=0, description="The freshness view's publication-to-answerable lag "
                                                            "covers articles that arrived in this many hours "
                                                            "(the last day: a choice).")
    news_max_age_days: float = Field(7.0, gt=0, description="An article published more than this many days before "
                                                            "it arrived comes from an archive, not the news: it is "
                                                            "left out of the publication-to-answerable lag (a choice: "
                                                            "a feed's backlog is days old, an archive years).")


class ServiceSettings(BaseSettings):
    """The HTTP API, the MCP server, API keys and limits for many users at once (issue 12)."""

    model_config = _ENV

    api_host: str = Field("127.0.0.1", description="Interface `newsdesk serve` binds (a choice: this machine only; "
                                                  "any other needs API keys, see the README's Service section).")
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
                                                             "the local model already uses every core (README, 'Answers "
                                                             "from a local model').")
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


_GROUPS: dict[str, type[BaseSettings]] = {"index": IndexSettings, "retrieval": RetrievalSettings,
                                          "answer": AnswerSettings, "llm": LLMSettings, "ui": UISettings,
                                          "ingest": IngestSettings, "service": ServiceSettings}


def _flat_name(group: type[BaseSettings], field: str) -> str:
    """A setting's one flat name: its environment variable without ``NEWSDESK_``, lower case."""
    alias = group.model_fields[field].validation_alias
    return alias.lower().removeprefix("newsdesk_") if isinstance(alias, str) else field


_ROUTES: dict[str, tuple[str, str]] = {_flat_name(cls, f): (group, f) for group, cls in _GROUPS.items()
                                       for f in cls.model_fields}


def _invalid(error: ValidationError) -> BadInput:
    """A settings validation error as one sentence naming the environment variables."""
    problems = "; ".join(f"{env_name(str(e['loc'][0]).lower().removeprefix('newsdesk_'))}: {e['msg']}"
                         for e in error.errors())
    return BadInput(f"Invalid setting: {problems}.")


def _routed(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Flat names -> {group: {field: value}}."""
    by_group: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        if key not in _ROUTES:
            raise BadInput(f"There is no setting named '{key}'.")
        group, field = _ROUTES[key]
        by_group.setdefault(group, {})[field] = value
    return by_group


class Settings(BaseModel):
    """Every setting newsdesk has, grouped. ``Settings()`` reads the environment; keyword arguments
    set single values by their flat name (``Settings(home=..., top_k=3)``), or whole groups."""

    index: IndexSettings
    retrieval: RetrievalSettings
    answer: AnswerSettings
    llm: LLMSettings
    ui: UISettings
    ingest: IngestSettings
    service: ServiceSettings

    def __init__(self, _env_file: str | None = ".env", **values: Any) -> None:
        given = {name: values.pop(name) for name, cls in _GROUPS.items() if isinstance(values.get(name), cls)}
        by_group = _routed(values)
        try:
            groups = {name: given[name] if name in given else cls(_env_file=_env_file, **by_group.get(name, {}))
                      for name, cls in _GROUPS.items()}
        except ValidationError as error:
            raise _invalid(error) from None
        super().__init__(**groups)

    def updated(self, **changes: Any) -> Settings:
        """A copy with some values changed (by flat name), validated like the originals."""
        groups = {name: getattr(self, name) for name in _GROUPS}
        for name, fields in _routed(changes).items():
            current = groups[name]
            try:
                groups[name] = type(current).model_validate({**dict(current), **fields})
            except ValidationError as error:
                raise _invalid(error) from None
        return Settings(**groups)

    def answer_mode_for(self, requested: str | None = None) -> str:
        """The one mode rule: ``llm`` or ``extractive`` for a request (None or ``auto``: the setting's
        choice; auto means llm when an LLM is configured)."""
        mode = requested or self.answer.answer_mode
        if mode == "auto":
            return "llm" if self.llm.configured else "extractive"
        return mode


def env_name(flat: str) -> str:
    """The environment variable of a flat setting name (for messages)."""
    return f"NEWSDESK_{flat.upper()}"


__all__ = ["Settings", "IndexSettings", "RetrievalSettings", "AnswerSettings", "LLMSettings", "UISettings", "env_name"]
