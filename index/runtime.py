"""Process-wide set-up that keeps newsdesk offline: tiktoken's BPE files and Chroma's telemetry."""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path


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
