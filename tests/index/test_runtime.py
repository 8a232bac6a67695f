"""Process-wide set-up: a background writer's lowered CPU priority reaches every thread."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# in a child process: lowering pytest's own threads would slow every test after this one
LOWER = """
import os, sys, threading
from pathlib import Path
from index.runtime import lower_priority
before = os.getpriority(os.PRIO_PROCESS, 0)
started = threading.Event()
worker = threading.Thread(target=lambda: (started.set(), threading.Event().wait(30)), daemon=True)
worker.start()  # a thread that exists before (like ONNX's pool)
started.wait()
reached = lower_priority(int(sys.argv[1]))
later = []
late = threading.Thread(target=lambda: later.append(os.getpriority(os.PRIO_PROCESS, 0)))
late.start(); late.join()  # and one started after
tasks = {os.getpriority(os.PRIO_PROCESS, int(t.name)) for t in Path("/proc/self/task").iterdir()}
print(before, reached, sorted(tasks), later[0])
"""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="per-thread priorities are read from /proc")
def test_lower_priority_reaches_threads_that_exist_and_threads_started_later():
    out = subprocess.run([sys.executable, "-c", LOWER, "7"], cwd=REPO, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, check=True).stdout.split()
    before = int(out[0])
    expected = min(19, before + 7)
    assert int(out[1]) == expected
    assert out[2] == f"[{expected}]"  # every thread, the one started before included
    assert int(out[3]) == expected


def test_zero_leaves_the_priority_alone():
    from index.runtime import lower_priority

    before = os.getpriority(os.PRIO_PROCESS, 0)
    assert lower_priority(0) == 0
    assert os.getpriority(os.PRIO_PROCESS, 0) == before
