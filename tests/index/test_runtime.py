"""A background writer's lowered CPU priority: only its embedding threads, ONNX's pool included."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# in a child process: a thread's priority cannot be raised back, and pytest's threads must keep theirs
LOWER = """
import os, sys, threading
from pathlib import Path
from index.embedders import LowPriorityEmbedder, MiniLMEmbedder

def priorities():
    return {int(t.name): os.getpriority(os.PRIO_PROCESS, int(t.name)) for t in Path("/proc/self/task").iterdir()}

before = os.getpriority(os.PRIO_PROCESS, 0)
plain = MiniLMEmbedder(threads=2)
expected = plain.embed(["North Korea fired two missiles.", "Seoul said so."])
threads_before = set(priorities())
low = LowPriorityEmbedder(MiniLMEmbedder(threads=2), int(sys.argv[1]))
tokens = low.count_tokens("North Korea fired two missiles.")  # the model loads in the lowered thread first
got = low.embed(["North Korea fired two missiles.", "Seoul said so."])
after = priorities()
new = {tid: p for tid, p in after.items() if tid not in threads_before}
print(before, os.getpriority(os.PRIO_PROCESS, threading.get_native_id()), sorted(set(new.values())), len(new),
      sorted({p for tid, p in after.items() if tid in threads_before}), tokens, float(abs(got - expected).max()))
"""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="per-thread priorities are read from /proc")
def test_the_low_priority_embedder_lowers_its_own_threads_only_and_embeds_the_same():
    out = subprocess.run([sys.executable, "-c", LOWER, "7"], cwd=REPO, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, check=True).stdout.split()
    before, caller = int(out[0]), int(out[1])
    expected = min(19, before + 7)
    assert caller == before  # the caller (a watcher's keyword commits) keeps its priority
    assert out[2] == f"[{expected}]"  # every thread it added: its worker and ONNX's pool, loaded there
    assert int(out[3]) >= 2  # the worker and at least one pool thread (threads=2)
    assert out[4] == f"[{before}]"  # the threads that were there before are untouched
    assert int(out[5]) > 0
    assert float(out[6]) < 1e-5  # the same vectors as the embedder it wraps


def test_zero_leaves_the_priority_alone():
    from index.runtime import lower_thread_priority

    before = os.getpriority(os.PRIO_PROCESS, 0)
    assert lower_thread_priority(0) == 0
    assert os.getpriority(os.PRIO_PROCESS, 0) == before
