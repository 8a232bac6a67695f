"""Process-wide set-up: what keeps newsdesk offline (tiktoken's BPE files, Chroma's telemetry), and the
lower CPU priority of a background writer's embedding thread."""

from __future__ import annotations

import os
import threading
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


def lower_thread_priority(niceness: int) -> int:
    """Run the calling thread (and the threads it starts later, which take its priority) at ``niceness``
    more than now; the process's other threads keep theirs. Linux keeps the nice value per thread; elsewhere
    the whole process is lowered. Returns the niceness reached (0 when nothing changed)."""
    if niceness <= 0:
        return 0
    try:
        if Path("/proc/self/task").is_dir():
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + niceness))
            return os.getpriority(os.PRIO_PROCESS, tid)
        return os.nice(niceness)
    except (OSError, AttributeError):  # a platform without priorities: run as is
        return 0
