"""Process-wide set-up: what keeps newsdesk offline (tiktoken's BPE files, Chroma's telemetry), and a
background writer's CPU priority."""

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


def lower_priority(niceness: int) -> int:
    """Run this process's threads (and those they start later) at ``niceness`` more than now, so that a
    background writer's embedding yields the CPU to questions and takes whatever they leave. Linux keeps
    the nice value per thread, so every thread of ``/proc/self/task`` is lowered (ONNX's pool exists
    already); elsewhere the process's. Returns the niceness reached (0 when nothing changed)."""
    if niceness <= 0:
        return 0
    tasks = Path("/proc/self/task")
    try:
        if tasks.is_dir():
            for task in tasks.iterdir():
                tid = int(task.name)
                try:
                    os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + niceness))
                except (ProcessLookupError, PermissionError):
                    continue  # a thread that ended meanwhile
            return os.getpriority(os.PRIO_PROCESS, 0)
        return os.nice(niceness)
    except (OSError, AttributeError):  # a platform without priorities: run as is
        return 0
